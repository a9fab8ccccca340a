"""The example inventory sets only variables the roles declare (a typo would silently do nothing)."""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]


def role_variables():
    names = set()
    for spec in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        names |= set(yaml.safe_load(spec.read_text())["argument_specs"]["main"]["options"])
    return names


def test_group_vars_are_role_variables():
    known = role_variables()
    files = sorted((ROOT / "inventory" / "group_vars").rglob("*.yml"))
    assert files
    for path in files:
        for name in yaml.safe_load(path.read_text()) or {}:
            if path.name == "vault.example.yml":
                assert name.startswith("vault_"), (path.name, name)
            else:
                # role variables, connection settings and the playbooks' k8s_ee_* variables (docs/pr-lifecycle.md)
                assert name in known or name.startswith(("ansible_", "k8s_ee_")), (path.name, name)


def test_site_playbook_plays_in_order():
    plays = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())
    roles = [role["role"].rsplit(".", 1)[1] for play in plays for role in play["roles"]]
    assert roles == ["host", "k3s", "k3s", "platform", "operators", "observability", "arc", "schedules"]
    assert [play["hosts"] for play in plays[1:4]] == ["k8s_ee_servers", "k8s_ee_agents", "localhost"]


def test_every_knob_of_the_server_roles_is_in_the_inventory():
    text = "\n".join(p.read_text() for p in (ROOT / "inventory" / "group_vars").rglob("*.yml"))
    for role in ("host", "k3s", "platform", "operators", "observability", "arc", "schedules"):
        spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        for name in spec["argument_specs"]["main"]["options"]:
            if name != "k3s_role":  # site.yml sets it per play
                assert re.search(rf"^(# )?{name}:", text, re.MULTILINE), name
