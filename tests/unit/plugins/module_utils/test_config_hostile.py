"""A small, fixed subset of benchmarks/config_hostile.py: each hostile file is refused with its message.

The benchmark measures time and memory over a thousand generated files; this checks, without timing,
that the same kinds of input are refused the way a developer can act on, through the reader pr_up uses.
"""

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils._environment import EnvironmentInputError, describe

Q = (
    "a Kubernetes quantity such as 250m, 0.5, 512Mi or 1Gi (at most 20 digits before and after the point, "
    "exponents up to e99)"
)
TOP_LEVEL = "app, databases, env, envFrom, image, ingress, metrics, projectId, resources, trigger"
ANCHORS = "anchors and aliases (&name, *name) are not allowed in k8s-ee.yaml: write the value out"
BOMB = "".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    + [f"a{n}: &a{n} [{','.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 9)]
)  # 369 bytes; 9**9 strings when expanded

CASES = [
    ("billion laughs", BOMB.encode(), [f"(YAML): line 1, column 5: found the anchor &a0; {ANCHORS}"]),
    (
        "alias through a merge key",
        b"projectId: shop\napp: {port: 3000}\nimage:\n  <<: *base\n",
        [f"(YAML): line 4, column 7: found the alias *base; {ANCHORS}"],
    ),
    (
        "flow nesting 30000 deep",
        b"projectId: shop\nx: " + b"[" * 30000,
        ["(YAML): line 2, column 24: nested more than 20 levels deep"],
    ),
    (
        "exponent of eight digits",
        b"projectId: shop\napp:\n  resources:\n    limits:\n      cpu: 1e10000000\n",
        [f'app.resources.limits.cpu: "1e10000000" is not valid: must be {Q}'],
    ),
    (
        "integer of 5000 digits",
        b"projectId: shop\napp:\n  port: " + b"9" * 5000 + b"\n",
        ["(YAML): line 3, column 9: a number of 5000 characters; numbers here have at most 100"],
    ),
    (
        "base-60 integer",
        b"projectId: 1" + b":59" * 10000 + b"\n",
        ["(YAML): line 1, column 12: a number of 30001 characters; numbers here have at most 100"],
    ),
    (
        "long secret-looking value",
        b"projectId: " + b"ghp_" + b"x" * 60000 + b"\n",
        [
            'projectId: "ghp_' + "x" * 72 + "... is not valid: must be 1-20 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        ],
    ),
    (
        "many unknown keys",
        b"projectId: shop\n" + b"".join(b"k%d: 1\n" % n for n in range(900)),
        [f"k{n}: unknown key (allowed here: {TOP_LEVEL})" for n in sorted(range(900), key=str)[:40]]
        + ["(more): 860 more problems not shown; fix these first"],
    ),
    (
        "right-to-left override in a key",
        "projectId: shop\n\u202egnp.exe: 1\n".encode(),
        [f'"\\u202egnp.exe": unknown key (allowed here: {TOP_LEVEL})'],
    ),
    (
        "lone surrogate escape",
        b'projectId: shop\napp:\n  env:\n    A: "\\ud800"\n',
        [
            "(YAML): line 4, column 8: the text holds U+D800, which no environment variable, label or UTF-8 text "
            "can carry; remove the escape"
        ],
    ),
    (
        "invalid UTF-8",
        b"projectId: shop\n\xc0\xaf: 1\n",
        [
            'config_path: "pr/k8s-ee.yaml" is not UTF-8 text (byte 0xc0 at offset 16); save k8s-ee.yaml as UTF-8',
        ],
    ),
    (
        "UTF-16",
        "\ufeffprojectId: shop\n".encode("utf-16-le"),
        ['config_path: "pr/k8s-ee.yaml" is not UTF-8 text (byte 0xff at offset 0); save k8s-ee.yaml as UTF-8'],
    ),
    (
        "NUL bytes",
        b"\x00" * 1000,
        ["(YAML): line 1, column 1: the character #x0000 is not allowed in YAML text"],
    ),
    (
        "pathological writableDirs",
        b'projectId: shop\napp:\n  writableDirs: ["' + b"/a" * 15000 + b'/!"]\n',
        [
            'app.writableDirs[0]: "' + "/a" * 38 + "... is longer than 256 characters",
            'app.writableDirs[0]: "' + "/a" * 38 + "... is not valid: must be an absolute path such as /app/cache, "
            "without '.', '..' or whitespace",
        ],
    ),
    (
        "pathological annotation key",
        b'projectId: shop\ningress:\n  annotations:\n    ? "' + b"a-" * 15000 + b'/x"\n    : "1"\n',
        [
            'ingress.annotations."'
            + "a-" * 38
            + '...: key "'
            + "a-" * 38
            + "... is not valid: must be an annotation key such as traefik.ingress.kubernetes.io/router.priority"
        ],
    ),
    (
        "over 64 KiB",
        b"projectId: shop\n" + b"#" * (64 * 1024),
        [
            'config_path: "pr/k8s-ee.yaml" has 65552 bytes, more than the 64 KiB allowed; k8s-ee.yaml describes an '
            "environment in a few lines: keep it under 64 KiB"
        ],
    ),
]


@pytest.mark.parametrize(("text", "errors"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_file_is_refused(tmp_path, monkeypatch, text, errors):
    (tmp_path / "pr").mkdir()
    (tmp_path / "pr" / "k8s-ee.yaml").write_bytes(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EnvironmentInputError) as raised:
        describe(42, "preview.example.com", path="pr/k8s-ee.yaml")
    assert raised.value.errors == errors
    assert len(str(raised.value)) < 10_000


# The reference platform's spelling (resources, env, envFrom at the top level) and image.repository, read as pr_build
# reads them: with the operator's image repository (docs/configuration.md, "The reference platform's spelling").
OPERATOR = "ghcr.io/acme/shop/preview"
REPOSITORY_RULE = (
    "an image repository such as ghcr.io/acme/shop (registry host, owner and name in lower case, at most 255 "
    "characters, no :tag or @digest)"
)


def _pattern(shown):
    return f"image.repository: {shown} is not valid: must be {REPOSITORY_RULE}"


def _elsewhere(shown):
    return (
        f"image.repository: {shown} is not under ghcr.io/acme/, where this repository's images are pushed (the "
        f"operator's image repository is {OPERATOR}); name an image under ghcr.io/acme/, such as ghcr.io/acme/app, "
        f"or remove image.repository to push to {OPERATOR}"
    )


BUILD_CASES = [
    (
        "both spellings of env",
        b"projectId: shop\nenv: {A: a}\napp:\n  env: {A: a}\n",
        [
            "env: is the same setting as app.env (env at the top level is the reference platform's spelling) and both "
            "are given; keep one of env and app.env"
        ],
    ),
    (
        "shell and template text in a top-level env key",
        b"projectId: shop\nenv:\n  \"$(touch x){{ lookup('pipe','id') }}\": v\n",
        [
            "env.$(touch x){{ lookup('pipe','id') }}: key \"$(touch x){{ lookup('pipe','id') }}\" is not valid: "
            "must be letters, digits and '_', not starting with a digit"
        ],
    ),
    (
        "a top-level envFrom that is not a name",
        b"projectId: shop\nenvFrom:\n  - secretRef: {name: '{% raw %}../x'}\n",
        [
            'envFrom[0].secretRef.name: "{% raw %}../x" is not valid: must be a DNS-1123 name: lowercase letters, '
            "digits, '-' and '.'"
        ],
    ),
    (
        "a top-level quantity of eight exponent digits",
        b"projectId: shop\nresources:\n  limits: {cpu: 1e10000000}\n",
        [
            'resources.limits.cpu: "1e10000000" is not valid: must be a Kubernetes quantity such as 250m, 0.5, 512Mi '
            "or 1Gi (at most 20 digits before and after the point, exponents up to e99)"
        ],
    ),
    (
        "a long top-level env value",
        b"projectId: shop\nenv:\n  A: " + b"ghp_" + b"x" * 60000 + b"\n",
        ['env.A: "ghp_' + "x" * 72 + "... is longer than 8192 characters"],
    ),
    (
        "an image repository of another owner",
        b"projectId: shop\nimage:\n  repository: ghcr.io/evil/shop\n",
        [_elsewhere('"ghcr.io/evil/shop"')],
    ),
    (
        "an image repository on another registry",
        b"projectId: shop\nimage:\n  repository: evil.example/acme/shop\n",
        [_elsewhere('"evil.example/acme/shop"')],
    ),
    (
        "dot-dot segments in the image repository",
        b"projectId: shop\nimage:\n  repository: ghcr.io/acme/../../evil/shop\n",
        [_pattern('"ghcr.io/acme/../../evil/shop"')],
    ),
    (
        "a tag in the image repository",
        b"projectId: shop\nimage:\n  repository: ghcr.io/acme/shop:latest\n",
        [_pattern('"ghcr.io/acme/shop:latest"')],
    ),
    (
        "a new output line in the image repository",
        b'projectId: shop\nimage:\n  repository: "ghcr.io/acme/shop\\nbuild=true"\n',
        [_pattern('"ghcr.io/acme/shop\\nbuild=true"')],
    ),
    (
        "a long image repository",
        b"projectId: shop\nimage:\n  repository: ghcr.io/acme/" + b"a" * 60000 + b"\n",
        [
            'image.repository: "ghcr.io/acme/' + "a" * 63 + "... is longer than 255 characters",
            _pattern('"ghcr.io/acme/' + "a" * 63 + "..."),
        ],
    ),
    (
        "non-ASCII in the image repository",
        "projectId: shop\nimage:\n  repository: ghcr.io/acme/\u0455hop\n".encode(),
        [_pattern('"ghcr.io/acme/\\u0455hop"')],
    ),
]


@pytest.mark.parametrize(("text", "errors"), [case[1:] for case in BUILD_CASES], ids=[case[0] for case in BUILD_CASES])
def test_hostile_build_settings_are_refused(tmp_path, monkeypatch, text, errors):
    (tmp_path / "pr").mkdir()
    (tmp_path / "pr" / "k8s-ee.yaml").write_bytes(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EnvironmentInputError) as raised:
        describe(42, "preview.example.com", path="pr/k8s-ee.yaml", image_repository=OPERATOR)
    assert raised.value.errors == errors
    assert len(str(raised.value)) < 10_000


# A final newline: JSON Schema's `$` ends the text, Python's would also match before a last "\n" (a label value, an
# env name, a path or a step output line with a newline in it).
NEWLINE_CASES = [
    ({"projectId": "shop\n"}, "projectId"),
    ({"app": {"env": {"A\n": "x"}}}, "app.env"),
    ({"env": {"A\n": "x"}}, "env"),
    ({"app": {"healthPath": "/health\n"}}, "app.healthPath"),
    ({"app": {"envFrom": [{"secretRef": {"name": "keys\n"}}]}}, "app.envFrom[0].secretRef.name"),
    ({"image": {"context": "web\n"}}, "image.context"),
    ({"image": {"repository": "ghcr.io/acme/shop\n"}}, "image.repository"),
    ({"databases": {"postgresql": {"version": "16\n"}}}, "databases.postgresql.version"),
    ({"metrics": {"interval": "30s\n"}}, "metrics.interval"),
    ({"ingress": {"annotations": {"example.com/x\n": "y"}}}, "ingress.annotations"),
]


@pytest.mark.parametrize("data, field", NEWLINE_CASES, ids=[field for _data, field in NEWLINE_CASES])
def test_a_final_newline_does_not_pass_a_rule(data, field):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._config import safe_http_path, validate

    errors = validate({"projectId": "shop", **data})
    assert [e for e in errors if e.startswith(field)], errors
    assert not safe_http_path("/health\n") and safe_http_path("/health")
