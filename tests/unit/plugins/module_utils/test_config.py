import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

REPO = pathlib.Path(__file__).resolve().parents[4]
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


# ------------------------------------------------------------------ the file is untrusted (SPEC 7)


def yaml_errors(text):
    with pytest.raises(_config.ConfigError) as raised:
        _config.load_yaml(text)
    return raised.value.errors


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
        '"bad\\u202ename\\n": unknown key (allowed here: app, databases, image, ingress, metrics, projectId, trigger)',
        '"' + "k" * 76 + "...: unknown key (allowed here: app, databases, image, ingress, metrics, projectId, trigger)",
    ]
