import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

REPO = pathlib.Path(__file__).resolve().parents[4]
TOP_LEVEL = "app, databases, env, envFrom, image, ingress, metrics, projectId, resources, trigger"
CASES = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "config_errors.yaml").read_text())

DEFAULTS = {
    "projectId": "shop",
    "trigger": "automatic",
    "app": {
        "port": 3000,
        "healthPath": "/health",
        "metricsPath": "/metrics",
        "replicas": 1,
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "384Mi"}},
        "env": {},
        "envFrom": [],
        "writableDirs": [],
    },
    "image": {"context": ".", "dockerfile": "Dockerfile"},
    "databases": {
        "postgresql": {
            "enabled": False,
            "version": "16",
            "storage": "1Gi",
            "bootstrap": {"initSQL": [], "postInitApplicationSQL": []},
        },
        "mongodb": {"enabled": False, "version": "7.0.21", "storage": "1Gi"},
        "redis": {"enabled": False, "version": "7.4"},
        "minio": {"enabled": False, "version": "RELEASE.2025-04-22T22-12-26Z", "storage": "1Gi"},
        "mariadb": {"enabled": False, "version": "11.4", "storage": "1Gi"},
    },
    "ingress": {"enabled": True, "annotations": {}},
    "metrics": {"enabled": False, "interval": "30s"},
}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_rule_has_its_message(case):
    assert _config.validate(case["config"]) == case["errors"]
    with pytest.raises(_config.ConfigError) as raised:
        _config.normalise(case["config"])
    assert raised.value.errors == case["errors"]


def test_defaults():
    assert _config.normalise({"projectId": "shop"}) == DEFAULTS


def test_normalise_is_idempotent_and_keeps_the_input():
    data = {"projectId": "shop", "databases": {"postgresql": True, "mongodb": {"storage": "2Gi"}}}
    before = json.dumps(data, sort_keys=True)
    config = _config.normalise(data)
    assert json.dumps(data, sort_keys=True) == before
    assert _config.normalise(config) == config


def test_database_forms():
    config = _config.normalise(
        {
            "projectId": "shop",
            "databases": {
                "postgresql": True,
                "mongodb": {"storage": "2Gi"},
                "redis": {"enabled": False},
                "mariadb": {},
                "minio": False,
            },
        }
    )
    dbs = config["databases"]
    assert dbs["postgresql"]["enabled"] is True and dbs["postgresql"]["storage"] == "1Gi"
    assert dbs["mongodb"] == {"enabled": True, "version": "7.0.21", "storage": "2Gi"}
    assert dbs["redis"]["enabled"] is False
    assert dbs["mariadb"]["enabled"] is True
    assert _config.enabled_databases(config) == ["postgresql", "mongodb", "mariadb"]


def test_given_values_are_kept():
    data = {
        "projectId": "shop",
        "trigger": "on-demand",
        "app": {
            "port": 8080,
            "env": {"LOG_LEVEL": "debug"},
            "envFrom": [{"secretRef": {"name": "extra"}}],
            "writableDirs": ["/app/cache"],
            "resources": {"limits": {"cpu": "1"}},
        },
        "ingress": {"enabled": False, "annotations": {"a.b/c": "d"}},
        "metrics": {"enabled": True, "interval": "1m"},
        "databases": {"postgresql": {"bootstrap": {"initSQL": ["CREATE EXTENSION vector"]}}},
    }
    config = _config.normalise(data)
    assert config["trigger"] == "on-demand"
    assert config["app"]["port"] == 8080
    assert config["app"]["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "384Mi"},
    }
    assert config["app"]["env"] == {"LOG_LEVEL": "debug"}
    assert config["ingress"] == {"enabled": False, "annotations": {"a.b/c": "d"}}
    assert config["metrics"] == {"enabled": True, "interval": "1m"}
    assert config["databases"]["postgresql"]["bootstrap"] == {
        "initSQL": ["CREATE EXTENSION vector"],
        "postInitApplicationSQL": [],
    }


def test_postgresql_and_mariadb_together_are_allowed():
    assert _config.validate({"projectId": "shop", "databases": {"postgresql": True, "mariadb": True}}) == []


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(_config.ConfigError) as raised:
        _config.load_yaml("projectId: shop\napp:\n  port: [1\n")
    assert raised.value.errors[0].startswith("(YAML): line 4, column 1:")


def test_schema_module_is_generated_from_the_json_file():
    assert json.loads((REPO / "schemas" / "k8s-ee.schema.json").read_text()) == SCHEMA
    subprocess.run([sys.executable, str(REPO / "hack" / "sync_schema.py"), "--check"], check=True)


def test_schema_is_a_valid_draft_2020_12_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_default_in_the_schema_is_valid():
    """An editor using the schema and the collection agree on what the defaults are."""
    assert _config.validate(DEFAULTS) == []


# ------------------------------------------------------------------ the file is untrusted (docs/security.md)


def yaml_errors(text):
    with pytest.raises(_config.ConfigError) as raised:
        _config.load_yaml(text)
    return raised.value.errors


ANCHORS = "anchors and aliases (&name, *name) are not allowed in k8s-ee.yaml: write the value out"


def test_yaml_anchors_and_aliases_are_refused():
    assert yaml_errors("projectId: shop\napp: &app {port: 3000}\n") == [
        f"(YAML): line 2, column 6: found the anchor &app; {ANCHORS}"
    ]
    # the alias is refused even where its anchor would be (the anchor is refused first)
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    assert yaml_errors(bomb) == [f"(YAML): line 1, column 4: found the anchor &a; {ANCHORS}"]
    assert yaml_errors("projectId: *x\n") == [f"(YAML): line 1, column 12: found the alias *x; {ANCHORS}"]


def test_yaml_merge_keys_are_refused():
    assert yaml_errors("projectId: shop\napp:\n  <<: {port: 3000}\n") == [
        "(YAML): line 3, column 3: merge keys (<<) are not allowed in k8s-ee.yaml; write the keys out"
    ]


def test_yaml_nesting_is_bounded():
    assert yaml_errors("projectId: shop\nx: " + "[" * 10000 + "]" * 10000 + "\n") == [
        "(YAML): line 2, column 24: nested more than 20 levels deep"
    ]
    assert yaml_errors("projectId: shop\napp: {env: {A: [[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]}}\n") == [
        "(YAML): line 2, column 34: nested more than 20 levels deep"
    ]
    nested = "".join(" " * depth + "a:\n" for depth in range(30))
    assert yaml_errors(nested) == ["(YAML): line 21, column 21: nested more than 20 levels deep"]


def test_yaml_values_are_counted():
    text = "projectId: shop\napp:\n  env:\n" + "".join(f"    K{index}: v\n" for index in range(1000))
    assert yaml_errors(text) == [
        "(YAML): line 1000, column 11: more than 2000 values in the file; k8s-ee.yaml is a short description"
    ]


def test_yaml_keys_are_strings_given_once():
    assert yaml_errors("projectId: shop\nprojectId: evil\n") == [
        '(YAML): line 2, column 1: the key "projectId" is given twice in this mapping; keep one'
    ]
    assert yaml_errors("projectId: shop\napp:\n  env:\n    on: x\n") == [
        "(YAML): line 4, column 5: the key true is not a string; quote it"
    ]
    assert yaml_errors("projectId: shop\n? [a, b]\n: c\n") == [
        '(YAML): line 2, column 3: the key ["a", "b"] is not a string; quote it'
    ]


def test_yaml_numbers_are_bounded():
    # int() of 5000 digits raises ValueError (Python's digit limit); "1:2:...:9" is a quadratic base-60 integer
    assert yaml_errors("projectId: shop\napp:\n  port: " + "9" * 5000 + "\n") == [
        "(YAML): line 3, column 9: a number of 5000 characters; numbers here have at most 100"
    ]
    assert yaml_errors("projectId: 1" + ":1" * 20000 + "\n") == [
        "(YAML): line 1, column 12: a number of 40001 characters; numbers here have at most 100"
    ]


def test_yaml_control_characters_are_refused_with_their_place():
    assert yaml_errors('projectId: shop\napp:\n  env: {A: "a\x00b"}\n') == [
        "(YAML): line 3, column 14: the character #x0000 is not allowed in YAML text"
    ]


def test_yaml_escapes_of_nul_and_lone_surrogates_are_refused():
    assert yaml_errors('projectId: shop\napp:\n  env: {A: "a\\0b"}\n') == [
        "(YAML): line 3, column 12: the text holds U+0000, which no environment variable, label or UTF-8 text can "
        "carry; remove the escape"
    ]
    assert yaml_errors('projectId: "\\udfff"\n') == [
        "(YAML): line 1, column 12: the text holds U+DFFF, which no environment variable, label or UTF-8 text can "
        "carry; remove the escape"
    ]


def test_yaml_problems_do_not_quote_long_text():
    errors = yaml_errors("projectId: !" + "t" * 5000 + " shop\n")
    assert errors == ["(YAML): line 1, column 12: could not determine a constructor for the tag '!" + "t" * 69 + "..."]


def test_values_shown_in_messages_are_cut_to_80_characters():
    secret = "S" * 5000
    assert _config.show(secret) == '"' + "S" * 76 + "..."
    assert _config.show({"a": secret}) == '{"a": "' + "S" * 70 + "..."
    assert _config.show(10**4000).endswith("...") and len(_config.show(10**4000)) == 80
    errors = _config.validate({"projectId": secret, "app": {"env": {"A": 7}, "healthPath": secret}})
    assert all(len(error) < 400 for error in errors), errors
    assert not any("S" * 81 in error for error in errors)


def test_unknown_keys_are_shown_cut_and_escaped_one_message_each():
    long_key = "k" * 500
    errors = _config.validate({"projectId": "shop", long_key: 1, "bad\u202ename\n": 2})
    assert errors == [
        f'"bad\\u202ename\\n": unknown key (allowed here: {TOP_LEVEL})',
        '"' + "k" * 76 + f"...: unknown key (allowed here: {TOP_LEVEL})",
    ]
    errors = _config.validate({"projectId": "shop", "app": {"env": {long_key: "x"}}})
    assert errors == [f'app.env."{"k" * 76}...: key "{"k" * 76}... is longer than 256 characters']


def test_collections_have_bounded_sizes():
    config = {
        "projectId": "shop",
        "app": {
            "env": {f"VAR_{index}": "x" for index in range(201)},
            "envFrom": [{"secretRef": {"name": f"s{index}"}} for index in range(21)],
            "writableDirs": [f"/data/{index}" for index in range(21)],
        },
        "ingress": {"annotations": {f"example.com/a{index}": "x" for index in range(51)}},
        "databases": {"postgresql": {"bootstrap": {"initSQL": ["SELECT 1"] * 51}}},
    }
    assert _config.validate(config) == [
        "app.env: has 201 entries, more than the 200 allowed",
        "app.envFrom: has 21 entries, more than the 20 allowed",
        "app.writableDirs: has 21 entries, more than the 20 allowed",
        "databases.postgresql.bootstrap.initSQL: has 51 entries, more than the 50 allowed",
        "ingress.annotations: has 51 entries, more than the 50 allowed",
    ]
    config["app"]["env"].pop("VAR_200")
    config["app"]["envFrom"].pop()
    config["app"]["writableDirs"].pop()
    config["ingress"]["annotations"].pop("example.com/a50")
    config["databases"]["postgresql"]["bootstrap"]["initSQL"].pop()
    assert _config.validate(config) == []


def test_strings_have_bounded_lengths():
    config = {
        "projectId": "shop",
        "app": {"env": {"BIG": "v" * 8193}, "healthPath": "/" + "a" * 256},
        "image": {"context": "c" * 257},
        "ingress": {"annotations": {"example.com/a": "v" * 4097}},
        "databases": {"postgresql": {"bootstrap": {"postInitApplicationSQL": ["s" * 16385]}}},
    }
    assert _config.validate(config) == [
        f'app.env.BIG: "{"v" * 76}... is longer than 8192 characters',
        f'app.healthPath: "/{"a" * 75}... is longer than 256 characters',
        f'databases.postgresql.bootstrap.postInitApplicationSQL[0]: "{"s" * 76}... is longer than 16384 characters',
        f'image.context: "{"c" * 76}... is longer than 256 characters',
        f'ingress.annotations.example.com/a: "{"v" * 76}... is longer than 4096 characters',
    ]


def test_what_stays_allowed():
    config = {
        "projectId": "shop",
        "app": {
            "healthPath": "/api/v1/health:ready;full=1",
            "metricsPath": "/-/metrics",
            "writableDirs": ["/dev/shm", "/app/.cache", "/var/run/app"],
        },
        "image": {"context": "services/api", "dockerfile": "docker/Dockerfile.preview"},
        "ingress": {
            "annotations": {
                "traefik.ingress.kubernetes.io/router.priority": "10",
                "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
                "traefik.ingress.kubernetes.io/service.serversscheme": "h2c",
                "example.com/team": "shop",
            }
        },
    }
    assert _config.validate(config) == []


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("/health", True),
        ("/", True),
        ("/a/b.c/..d", True),
        ("/..", False),
        ("/a/../b", False),
        ("/./a", False),
        ("/a%2e%2e", False),
        ("/a?b", False),
        ("/a#b", False),
        ("/a\\b", False),
        ("a", False),
        ("/a b", False),
        ("/" + "a" * 256, False),
        (None, False),
    ],
)
def test_safe_http_path(path, safe):
    assert _config.safe_http_path(path) is safe


def test_show_stops_early_on_a_shared_structure():
    """A structure that shares its parts (what YAML aliases build) is never expanded in full to be shown."""
    bomb = ["lol"] * 9
    for _level in range(12):  # 9**13 strings if written out
        bomb = [bomb] * 9
    assert _config.show(bomb) == '[[[[[[[[[[[[["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"], ...'


# ------------------------------------------------------ the reference platform's spelling (docs/configuration.md)

SPELLINGS = [
    ("resources", {"requests": {"memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}),
    ("env", {"NODE_ENV": "production", "TEMPLATE": "{{ lookup('pipe', 'id') }} {% raw %} $(id) `id` ;|&"}),
    ("envFrom", [{"secretRef": {"name": "stripe-test-keys"}}, {"configMapRef": {"name": "flags"}}]),
]


def both_given(key):
    return (
        f"{key}: is the same setting as app.{key} ({key} at the top level is the reference platform's spelling) "
        f"and both are given; keep one of {key} and app.{key}"
    )


@pytest.mark.parametrize(("key", "value"), SPELLINGS, ids=[key for key, _value in SPELLINGS])
def test_a_top_level_setting_is_the_same_as_under_app(key, value):
    """The top-level spelling is moved under app: downstream (render, quota, comment) sees only app.<key>; template
    markers and shell text in values stay data, verbatim."""
    reference = _config.normalise({"projectId": "shop", key: value})
    assert reference == _config.normalise({"projectId": "shop", "app": {key: value}})
    assert reference["app"][key] == (
        {kind: {**DEFAULTS["app"][key][kind], **value[kind]} for kind in value} if key == "resources" else value
    )
    assert key not in reference
    assert _config.normalise(reference) == reference


def test_every_top_level_setting_at_once():
    settings = dict(SPELLINGS)
    assert _config.normalise({"projectId": "shop", **settings}) == _config.normalise(
        {"projectId": "shop", "app": settings}
    )


@pytest.mark.parametrize(("key", "value"), SPELLINGS, ids=[key for key, _value in SPELLINGS])
def test_both_spellings_at_once_are_refused_naming_both(key, value):
    assert _config.validate({"projectId": "shop", key: value, "app": {key: value}}) == [both_given(key)]
    # decided on the file as written: an empty app.<key> is given too (defaults fill it in only later)
    empty = {} if isinstance(value, dict) else []
    assert _config.validate({"projectId": "shop", key: value, "app": {key: empty}}) == [both_given(key)]
    with pytest.raises(_config.ConfigError) as raised:
        _config.normalise({"projectId": "shop", key: empty, "app": {key: value}})
    assert raised.value.errors == [both_given(key)]


def test_both_spellings_of_everything_are_every_problem_at_once():
    settings = dict(SPELLINGS)
    errors = _config.validate(
        {"projectId": "shop", **settings, "resources": {"limits": {"cpu": "2"}}, "app": {**settings, "port": 0}}
    )
    assert errors == [
        "app.port: 0 is less than 1",
        both_given("env"),
        both_given("envFrom"),
        both_given("resources"),
        'resources.limits.cpu: "2" is greater than the maximum 1 a container may use',
    ]


def test_errors_name_the_field_as_the_file_spells_it():
    data = {
        "projectId": "shop",
        "resources": {"requests": {"cpu": "5m"}, "limits": {"memory": "2Gi", "cpu": 2}},
        "env": {"PORT": "1", "1A": "x", "B": 7, "C\u00e9": "v", "D": "v" * 8193},
        "envFrom": [{"secretRef": {"name": "Bad_Name"}}, {}],
    }
    assert _config.validate(data) == [
        'env."C\\u00e9": key "C\\u00e9" is not valid: must be letters, digits and \'_\', not starting with a digit',
        "env.1A: key \"1A\" is not valid: must be letters, digits and '_', not starting with a digit",
        "env.B: 7 is not a string (quote it: '7')",
        f'env.D: "{"v" * 76}... is longer than 8192 characters',
        "env.PORT: this name is set by the platform and cannot be overridden; choose another name",
        'envFrom[0].secretRef.name: "Bad_Name" is not valid: must be a DNS-1123 name: lowercase letters, digits, '
        "'-' and '.'",
        "envFrom[1]: {} must have exactly one of configMapRef, secretRef",
        "resources.limits.cpu: 2 is not a string (quote it: '2')",
        'resources.limits.memory: "2Gi" is greater than the maximum 1Gi a container may use',
        'resources.requests.cpu: "5m" is less than the minimum 10m a container may request',
    ]
    limit_below_request = {"requests": {"memory": "64Mi"}, "limits": {"memory": "48Mi"}}
    assert _config.validate({"projectId": "shop", "resources": limit_below_request}) == [
        'resources.limits.memory: "48Mi" is less than resources.requests.memory "64Mi"'
    ]
    # a default is compared under the name of the setting it fills in
    assert _config.validate({"projectId": "shop", "resources": {"requests": {"memory": "512Mi"}}}) == [
        'resources.limits.memory: "384Mi" is less than resources.requests.memory "512Mi"'
    ]
    assert _config.validate({"projectId": "shop", "resources": "big", "env": ["A"], "envFrom": {"secretRef": {}}}) == [
        'env: ["A"] is not a mapping',
        'envFrom: {"secretRef": {}} is not a list',
        'resources: "big" is not a mapping',
    ]


def test_collections_have_bounded_sizes_in_either_spelling():
    assert _config.validate(
        {
            "projectId": "shop",
            "env": {f"VAR_{index}": "x" for index in range(201)},
            "envFrom": [{"secretRef": {"name": f"s{index}"}} for index in range(21)],
        }
    ) == ["env: has 201 entries, more than the 200 allowed", "envFrom: has 21 entries, more than the 20 allowed"]


def test_the_schema_gives_both_spellings_one_definition():
    """Editors know both spellings, from one definition each, and say which is the reference platform's."""
    for key in _config.TOP_LEVEL_APP_KEYS:
        top, app = SCHEMA["properties"][key], SCHEMA["properties"]["app"]["properties"][key]
        assert top["$ref"] == app["$ref"] == f"#/$defs/{key}"
        assert "default" not in top and "default" not in SCHEMA["$defs"][key]  # defaults fill in app.<key> only
        assert (
            f"reference platform's (k8s-ephemeral-environments) spelling of app.{key}: the same setting"
            in (top["description"])
        )
        assert f"The same setting as top-level '{key}' (the reference platform's spelling)" in app["description"]


# ------------------------------------------------------ image.repository is untrusted (docs/configuration.md)

OPERATOR = "ghcr.io/acme/shop/preview"  # the example workflows' default for acme/shop
REPOSITORY_RULE = (
    "an image repository such as ghcr.io/acme/shop (registry host, owner and name in lower case, at most 255 "
    "characters, no :tag or @digest)"
)


def not_under(shown, owner="ghcr.io/acme", operator=OPERATOR):
    return (
        f"image.repository: {shown} is not under {owner}/, where this repository's images are pushed (the operator's "
        f"image repository is {operator}); name an image under {owner}/, such as {owner}/app, or remove "
        f"image.repository to push to {operator}"
    )


@pytest.mark.parametrize(
    "repository",
    [
        "ghcr.io/acme/shop",
        "ghcr.io/acme/shop/preview",
        "ghcr.io/acme/shop-api",
        "ghcr.io/acme/a.b_c__d--e/f",
        "ghcr.io/acme/" + "a" * 242,  # 255 characters
    ],
)
def test_image_repository_under_the_operators_owner(repository):
    data = {"projectId": "shop", "image": {"repository": repository}}
    assert _config.validate(data) == []
    assert _config.image_repository_problems(data, OPERATOR) == []
    assert _config.image_repository(_config.normalise(data), OPERATOR) == repository


@pytest.mark.parametrize(
    ("repository", "shown"),
    [
        ("ghcr.io/acme/$(touch pwned)", '"ghcr.io/acme/$(touch pwned)"'),
        ("ghcr.io/acme/x;id", '"ghcr.io/acme/x;id"'),
        ("ghcr.io/acme/`id`", '"ghcr.io/acme/`id`"'),
        ("ghcr.io/acme/x|sh", '"ghcr.io/acme/x|sh"'),
        ("ghcr.io/acme/x y", '"ghcr.io/acme/x y"'),
        ("ghcr.io/acme/{{ lookup('pipe', 'id') }}", "\"ghcr.io/acme/{{ lookup('pipe', 'id') }}\""),
        ("ghcr.io/acme/{% raw %}x", '"ghcr.io/acme/{% raw %}x"'),
        ("ghcr.io/acme/${{ github.token }}", '"ghcr.io/acme/${{ github.token }}"'),
        ("ghcr.io/acme/x\nbuild=true", '"ghcr.io/acme/x\\nbuild=true"'),
        ("ghcr.io/acme/x\n", '"ghcr.io/acme/x\\n"'),  # Python's `$` matches before a final newline
        ("ghcr.io/acme/caf\u00e9", '"ghcr.io/acme/caf\\u00e9"'),
        ("ghcr.io/acme/\u202eexe", '"ghcr.io/acme/\\u202eexe"'),
        ("ghcr.io/acme/../evil/x", '"ghcr.io/acme/../evil/x"'),
        ("ghcr.io/acme/./x", '"ghcr.io/acme/./x"'),
        ("ghcr.io/acme//x", '"ghcr.io/acme//x"'),
        ("ghcr.io/acme/x/", '"ghcr.io/acme/x/"'),
        ("GHCR.IO/acme/x", '"GHCR.IO/acme/x"'),
        ("ghcr.io/Acme/x", '"ghcr.io/Acme/x"'),
        ("ghcr.io/acme/x:latest", '"ghcr.io/acme/x:latest"'),
        ("ghcr.io/acme/x@sha256:" + "a" * 64, '"ghcr.io/acme/x@sha256:' + "a" * 54 + "..."),
        ("https://ghcr.io/acme/x", '"https://ghcr.io/acme/x"'),
        ("ghcr.io/acme", '"ghcr.io/acme"'),  # an owner, no image
        ("acme/shop/x", '"acme/shop/x"'),  # no registry host (Docker Hub)
        ("-ghcr.io/acme/x", '"-ghcr.io/acme/x"'),
        ("", '""'),
    ],
)
def test_image_repository_is_a_strict_pattern(repository, shown):
    data = {"projectId": "shop", "image": {"repository": repository}}
    assert _config.validate(data) == [f"image.repository: {shown} is not valid: must be {REPOSITORY_RULE}"]
    assert _config.image_repository_problems(data, OPERATOR) == []  # validate's to report


def test_image_repository_is_bounded():
    long = "ghcr.io/acme/" + "a" * 243
    assert _config.validate({"projectId": "shop", "image": {"repository": long}}) == [
        f'image.repository: "{long[:76]}... is longer than 255 characters',
        f'image.repository: "{long[:76]}... is not valid: must be {REPOSITORY_RULE}',  # the pattern bounds its work
    ]
    assert _config.validate({"projectId": "shop", "image": {"repository": 7}}) == [
        "image.repository: 7 is not a string (quote it: '7')"
    ]
    errors = _config.validate({"projectId": "shop", "image": {"repository": "ghcr.io/acme/" + "a-" * 30000 + "!"}})
    assert len(errors) == 2 and all(len(error) < 400 for error in errors), errors


@pytest.mark.parametrize(
    "repository",
    [
        "ghcr.io/evil/shop",  # another owner
        "ghcr.io/acme-evil/shop",  # an owner whose name starts with the owner's
        "ghcr.io/acmex/shop",
        "docker.io/acme/shop",  # another registry
        "ghcr.io.evil.example/acme/shop",  # a registry whose name starts with the registry's
        "evil.example/ghcr.io/acme/shop",
        "localhost:5000/acme/shop",
        "ghcr.io:443/acme/shop",
    ],
)
def test_image_repository_stays_under_the_operators_registry_and_owner(repository):
    data = {"projectId": "shop", "image": {"repository": repository}}
    assert _config.validate(data) == []
    assert _config.image_repository_problems(data, OPERATOR) == [not_under(f'"{repository}"')]
    with pytest.raises(_config.ConfigError):
        _config.image_repository(_config.normalise(data), OPERATOR)


def test_image_repository_owner_is_compared_without_regard_to_case():
    """GitHub's owner names are case-insensitive; pr_build lowers the operator's repository (ghcr.io/Acme/Shop/preview
    for github.repository Acme/Shop), image names are lower case."""
    data = {"projectId": "shop", "image": {"repository": "ghcr.io/acme/web"}}
    assert _config.image_repository_problems(data, "ghcr.io/Acme/Shop/preview") == []
    assert _config.image_repository(_config.normalise({"projectId": "shop"}), "ghcr.io/Acme/Shop/preview") == OPERATOR
    other = {"projectId": "shop", "image": {"repository": "ghcr.io/evil/web"}}
    assert _config.image_repository_problems(other, "ghcr.io/Acme/Shop/preview") == [not_under('"ghcr.io/evil/web"')]


def test_image_repository_follows_the_operators_registry():
    operator = "registry.example.com:5000/previews/shop"
    data = {"projectId": "shop", "image": {"repository": "registry.example.com:5000/previews/web"}}
    assert _config.image_repository(_config.normalise(data), operator) == "registry.example.com:5000/previews/web"
    data["image"]["repository"] = "ghcr.io/acme/shop"
    assert _config.image_repository_problems(data, operator) == [
        not_under('"ghcr.io/acme/shop"', "registry.example.com:5000/previews", operator)
    ]


@pytest.mark.parametrize(
    "operator", ["", "ghcr.io/acme/shop:latest", "ghcr.io", "{{ lookup('pipe', 'id') }}", "ghcr.io/acme/" + "a" * 300]
)
def test_the_operators_image_repository_is_checked_too(operator):
    (problem,) = _config.image_repository_problems({"projectId": "shop"}, operator)
    assert problem.startswith("image_repository: ") and problem.endswith(
        "is not an image repository; give the operator's, such as ghcr.io/acme/shop/preview (registry host and path, "
        "no tag or digest)"
    )
