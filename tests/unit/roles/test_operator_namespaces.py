"""One name per database operator namespace: where role operators installs an operator, where role platform creates
its namespace, and where pr_up's NetworkPolicy allow-operators admits it from are the same
(docs/security.md, "Network policies are what pr_up renders")."""

import pathlib
import re

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _render
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parents[3]
# database -> the role operators variable that names its operator's namespace
# what pr_up uses when the operator sets nothing
ADMITTED = _render.DEFAULT_SETTINGS["operator_namespaces"]
ROLE_VARIABLES = {
    "postgresql": "operators_cloudnative_pg_namespace",
    "mongodb": "operators_mongodb_namespace",
    "minio": "operators_minio_namespace",
}


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


def test_every_database_with_an_operator_has_one_namespace():
    assert set(ADMITTED) == {name for name, db in REGISTRY.items() if db.operator} == set(ROLE_VARIABLES)


@pytest.mark.parametrize("database", sorted(ROLE_VARIABLES))
def test_role_operators_installs_where_pr_up_admits(database):
    assert defaults("operators")[ROLE_VARIABLES[database]] == ADMITTED[database]


@pytest.mark.parametrize("database", sorted(ROLE_VARIABLES))
def test_role_platform_creates_the_namespace(database):
    assert ADMITTED[database] in defaults("platform")["platform_namespaces"]


@pytest.mark.parametrize("database", sorted(ROLE_VARIABLES))
def test_allow_operators_admits_the_installed_namespace(database):
    config = _config.normalise({"projectId": "shop", "databases": {database: True}})
    settings = {**_render.DEFAULT_SETTINGS, "operator_namespaces": ADMITTED}
    policies = _render.network_policies("shop-pr-1", config, settings, [])
    (policy,) = [p for p in policies if p["metadata"]["name"] == "allow-operators"]
    sources = [peer["namespaceSelector"]["matchLabels"] for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sources == [{"kubernetes.io/metadata.name": defaults("operators")[ROLE_VARIABLES[database]]}]


def test_the_settings_table_shows_the_defaults():
    text = (ROOT / "docs" / "pr-lifecycle.md").read_text()
    (row,) = [line for line in text.splitlines() if line.startswith("| `operator_namespaces` |")]
    shown = dict(re.findall(r"([a-z]+): ([a-z0-9-]+)", row.split("|")[2]))
    assert shown == ADMITTED


def test_naming_one_operator_namespace_keeps_the_others():
    config = _config.normalise({"projectId": "shop", "databases": {"postgresql": True, "mongodb": True}})
    creds = _render.credentials(_config.enabled_databases(config), {})
    pr = {"repository": "acme/shop", "number": 1, "now": "2026-01-01T00:00:00Z"}
    settings = {"operator_namespaces": {"mongodb": "mongo-ops"}}
    objects = _render.render("shop-pr-1", config, pr, "i@sha256:" + "0" * 64, "h", settings, [], creds)
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "allow-operators"]
    sources = [peer["namespaceSelector"]["matchLabels"] for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sources == [
        {"kubernetes.io/metadata.name": ADMITTED["postgresql"]},
        {"kubernetes.io/metadata.name": "mongo-ops"},
    ]
