"""The database registry (plugins/module_utils/_databases/) against everything that must stay literal: the JSON
Schema, role operators' and role platform's YAML (RBAC and CEL), and the docs' tables. A new database that is
registered but missing in one of them fails here, with the place to change (docs/adding-a-database.md)."""

import json
import pathlib
import re

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _kube, _quota, _render
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import (
    CREDENTIAL_HOLDERS,
    CREDENTIAL_SECRETS,
    NAMES,
    REGISTRY,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

ROOT = pathlib.Path(__file__).resolve().parents[4]
PACKAGE = ROOT / "plugins" / "module_utils" / "_databases"
PLATFORM = (ROOT / "roles" / "platform" / "templates" / "objects.yml.j2").read_text()
DOCS = ROOT / "docs"
PR = {"repository": "acme/shop", "number": 7, "head_sha": "c" * 40, "branch": "b", "now": "2026-01-01T00:00:00Z"}
DATABASES = sorted(NAMES)


def rendered(name):
    """The objects of database `name` alone, as pr_up renders them."""
    config = _config.normalise({"projectId": "shop", "databases": {name: True}})
    creds = _render.credentials([name], {})
    return REGISTRY[name].render("shop-pr-7", config["databases"][name], creds.get(name), _render.DEFAULT_SETTINGS)


def template_document(kind, name):
    """The YAML document of role platform's objects.yml.j2 that defines `kind` `name`, as text."""
    (document,) = [d for d in PLATFORM.split("\n---\n") if f"\nkind: {kind}\nmetadata:\n  name: {name}\n" in d]
    return document


def resource_of(kind):
    api_version, plural, _namespaced = _kube.KINDS[kind]
    return api_version.rpartition("/")[0], plural


# ---------------------------------------------------------------- the package


def test_every_file_of_the_package_is_registered():
    files = {path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_")}
    assert files == set(NAMES), "add the module to REGISTRY in plugins/module_utils/_databases/__init__.py"


@pytest.mark.parametrize("name", DATABASES)
def test_the_description_matches_what_the_database_renders(name):
    db = REGISTRY[name]
    objects = rendered(name)
    (waited,) = [o for o in objects if o["kind"] == db.kind and o["metadata"]["name"] == name]
    assert waited["apiVersion"] == db.api_version
    assert _kube.KINDS[db.kind] == (db.api_version, db.plural, True)
    secrets = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    # rendered Secrets hold credentials, so pr_up must know them (CREDENTIAL_HOLDERS) to mask them
    assert secrets <= {db.credentials_name, *db.other_secrets}
    if db.credentials_name:
        (secret,) = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == db.credentials_name]
        assert set(db.generated_keys) <= set(secret["stringData"])
        assert _render.is_credential_secret(secret)
    assert db.ready(None) is False
    assert all(o["metadata"]["namespace"] == "shop-pr-7" for o in objects)


@pytest.mark.parametrize("name", DATABASES)
def test_every_kind_a_database_renders_has_an_api_path(name):
    for obj in rendered(name):
        assert obj["kind"] in _kube.KINDS, f"{obj['kind']}: add it to _kube.KINDS"
        assert _kube.KINDS[obj["kind"]][0] == obj["apiVersion"]


@pytest.mark.parametrize("name", DATABASES)
def test_the_app_reads_only_secrets_the_environment_has(name):
    db = REGISTRY[name]
    for _variable, secret, _key in db.secret_env:
        assert secret in (db.credentials_name, *db.other_secrets)


def test_the_secrets_read_for_masking_are_every_credential_secret():
    assert set(CREDENTIAL_HOLDERS) == {
        name for db in REGISTRY.values() for name in (*db.other_secrets, db.credentials_name) if name
    }
    assert set(CREDENTIAL_SECRETS.values()) <= set(CREDENTIAL_HOLDERS)


# ---------------------------------------------------------------- the JSON Schema


SHIPPED = json.loads((ROOT / "schemas" / "k8s-ee.schema.json").read_text())


def test_the_schema_lists_the_databases_in_the_registrys_order():
    for schema in (SHIPPED, SCHEMA):
        assert tuple(schema["properties"]["databases"]["properties"]) == NAMES


@pytest.mark.parametrize("name", DATABASES)
def test_the_schema_has_storage_exactly_for_databases_with_a_volume(name):
    properties = SCHEMA["properties"]["databases"]["properties"][name]["properties"]
    assert ("storage" in properties) == (REGISTRY[name].budget.pvcs > 0)
    assert "version" in properties


def test_the_schema_reserves_exactly_the_variables_the_platform_sets():
    assert SHIPPED["$defs"]["reservedEnv"] == SCHEMA["$defs"]["reservedEnv"]  # make schema
    reserved = SCHEMA["$defs"]["reservedEnv"]["enum"]
    plain = _render.app_environment(_config.normalise({"projectId": "x"}), PR, "u")
    from_databases = [name for db in REGISTRY.values() for name in (*db.app_env, *(v for v, _s, _k in db.secret_env))]
    assert sorted(reserved) == sorted([*plain, *from_databases])


# ---------------------------------------------------------------- role platform: RBAC and CEL


def test_the_ci_identity_may_write_every_object_a_database_renders():
    allowed = set()
    for name in ("k8s-ee-environment", "k8s-ee-ci"):  # in environments, and cluster-wide (RoleBindings)
        role = yaml.safe_load(template_document("ClusterRole", name).replace("{{ full | to_json }}", "[create, patch]"))
        allowed |= {
            (group, resource)
            for rule in role["rules"]
            if {"create", "patch"} <= set(rule["verbs"]) and not rule.get("resourceNames")
            for group in rule["apiGroups"]
            for resource in rule["resources"]
        }
    for name in DATABASES:
        for obj in rendered(name):
            assert resource_of(obj["kind"]) in allowed, f"ClusterRole k8s-ee-environment: add {obj['kind']} ({name})"


def test_the_environment_role_names_exactly_the_registrys_custom_resources():
    document = template_document("ClusterRole", "k8s-ee-environment")
    role = yaml.safe_load(document.replace("{{ full | to_json }}", "[create, patch]"))
    custom = {
        (group, resource)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        if group not in ("", "apps", "rbac.authorization.k8s.io", "networking.k8s.io", "traefik.io")
        and group != "monitoring.coreos.com"
    }
    assert custom == {(db.group, db.plural) for db in REGISTRY.values() if db.custom}


def test_policy_environments_checks_exactly_the_resources_that_make_services():
    document = template_document("ValidatingAdmissionPolicy", "k8s-ee-environments")
    rules = re.findall(r"- apiGroups: \[([^\]]*)\]\n.*\n.*\n\s+resources: \[([^\]]*)\]", document)
    checked = {(group, resource) for group, resource in rules if group not in ('""', "networking.k8s.io", "traefik.io")}
    wanted = {(db.group, db.plural) for db in REGISTRY.values() if db.makes_services}
    assert checked == wanted
    for group, plural in wanted:
        assert f"variables.resource != '{group}/{plural}'" in document, f"k8s-ee-environments: a rule for {plural}"


def test_policy_ci_scope_admits_exactly_the_registrys_service_accounts():
    document = template_document("ValidatingAdmissionPolicy", "k8s-ee-ci-scope")
    named = set(re.findall(r"object\.roleRef\.name == '([a-z0-9-]+)'", document)) - {"k8s-ee-environment"}
    assert named == {db.service_account for db in REGISTRY.values() if db.service_account}
    for db in REGISTRY.values():
        if db.service_account:
            assert f"s.name == '{db.service_account}'" in document
            (binding,) = [o for o in rendered(db.name) if o["kind"] == "RoleBinding"]
            assert binding["roleRef"] == {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": db.service_account,
            }
            assert binding["subjects"] == [
                {"kind": "ServiceAccount", "name": db.service_account, "namespace": "shop-pr-7"}
            ]


def test_a_database_without_a_service_account_renders_no_role_binding():
    for db in REGISTRY.values():
        if not db.service_account:
            assert not [o for o in rendered(db.name) if o["kind"] in ("RoleBinding", "Role", "ServiceAccount")]


# ---------------------------------------------------------------- roles operators and platform


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())


@pytest.mark.parametrize("name", [n for n in DATABASES if REGISTRY[n].operator])
def test_role_operators_installs_the_operator_where_pr_up_admits_it(name):
    operator = REGISTRY[name].operator
    role = defaults("operators")
    assert role[f"operators_{operator.role_name}_namespace"] == operator.namespace
    assert f"operators_{operator.role_name}_enabled" in role
    assert operator.namespace in defaults("platform")["platform_namespaces"]


# ---------------------------------------------------------------- docs


def table(path, header):
    """The rows of the Markdown table in docs/`path` whose header row starts with `header`, as lists of cells."""
    lines = (DOCS / path).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_quota_table_shows_each_budget():
    def cpu(value):
        return f"{value}m"

    def memory(value):
        return f"{value}Mi"

    def storage(value):
        return f"{value // 1024}Gi" if value else "0"

    rows = {row[0]: row[1:] for row in table("quota.md", "| component |")}
    for name, budget in [("app (base)", _quota.APP), *((n, db.budget) for n, db in REGISTRY.items())]:
        assert rows.pop(name) == [
            cpu(budget.cpu_request),
            cpu(budget.cpu_limit),
            memory(budget.memory_request),
            memory(budget.memory_limit),
            storage(budget.storage),
            str(budget.pvcs),
            str(budget.pods),
            str(budget.services),
        ], name
    assert rows == {}


def test_the_adopting_table_lists_each_databases_variables():
    rows = table("adopting.md", "| variable |")
    for db in REGISTRY.values():
        (row,) = [r for r in rows if r[1].startswith(db.title + " ")]
        variables = [*db.app_env, *(variable for variable, _secret, _key in db.secret_env)]
        assert sorted(re.findall(r"`([A-Z0-9_]+)`", row[0])) == sorted(variables), db.name


def test_the_migrations_guide_names_each_variable_with_its_source():
    """docs/database-migrations.md tells an app where each variable comes from: a Secret and key, or a literal."""
    rows = {row[0]: row for row in table("database-migrations.md", "| database |")}
    for db in REGISTRY.values():
        row = rows.pop(db.title)
        from_secrets = re.findall(r"`([A-Z0-9_]+)` \(`([a-z0-9-]+)`/`([A-Za-z0-9.]+)`\)", row[1])
        assert from_secrets == [tuple(entry) for entry in db.secret_env], db.name
        assert re.findall(r"`([A-Z0-9_]+)` \(`([^`]*)`\)", row[2]) == list(db.app_env.items()), db.name
    assert rows == {}


def test_the_configuration_reference_names_every_database():
    (row,) = [r for r in table("configuration.md", "| field |") if r[0] == "`databases.<db>`"]
    assert row[3] == f"`<db>` ∈ {', '.join(NAMES)}"


def test_pr_lifecycle_names_every_generated_secret_and_wait():
    text = (DOCS / "pr-lifecycle.md").read_text()
    (sentence,) = re.findall(r"The credentials the platform generates \(Secrets ([^;]*);", text)
    assert sorted(re.findall(r"`([a-z-]+)`", sentence)) == sorted(CREDENTIAL_SECRETS.values())
    (waits,) = re.findall(r"waits\s+for the databases \(([^)]*)\)", text)
    for db in REGISTRY.values():
        assert db.title in waits, f"docs/pr-lifecycle.md: say what pr_up waits for on {db.title}"


def test_platform_docs_name_each_operators_namespace():
    rows = table("platform.md", "| operator |")
    namespaces = {row[2].strip("`") for row in rows}
    assert namespaces == {db.operator.namespace for db in REGISTRY.values() if db.operator}


def test_the_guide_to_adding_a_database_names_the_tests_that_check_it():
    guide = (DOCS / "adding-a-database.md").read_text()
    assert "tests/unit/plugins/module_utils/test_databases.py" in guide
