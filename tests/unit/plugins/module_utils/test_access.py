import json
import pathlib
import socket

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils._access import decide

# The reference platform's (k8s-ephemeral-environments) allowlist file, with its $schema and description keys.
REFERENCE = pathlib.Path(__file__).resolve().parents[2] / "data" / "reference_platform" / "allowed-orgs.json"


@pytest.fixture
def allowlist(tmp_path):
    def write(text, name="allowlist.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_allowlist_by_organization_and_repository_case_insensitive(allowlist):
    path = allowlist("mode: allowlist\norganizations: [Acme]\nrepositories: [Other/Shop]\n")
    assert decide(path, "acme/web", "MEMBER")["allowed"]
    assert decide(path, "other/shop", "OWNER")["allowed"]
    denied = decide(path, "other/web", "OWNER")
    assert not denied["allowed"] and not denied["wait_for_maintainer"]
    assert "not on the operator's allowlist" in denied["reason"]


def test_denylist(allowlist):
    path = allowlist('{"mode": "denylist", "repositories": ["bad/repo"]}', "allowlist.json")
    assert not decide(path, "Bad/Repo", "OWNER")["allowed"]
    assert decide(path, "good/repo", "OWNER")["allowed"]


def test_disabled_allows_everyone(allowlist):
    assert decide(allowlist("mode: disabled\n"), "any/repo", "COLLABORATOR")["allowed"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot be read"),
        ("mode: [", "not valid YAML or JSON"),
        ("- a\n", "expected a mapping"),
        ("mode: open\n", "mode: 'open' is not one of allowlist, denylist, disabled"),
        ("mode: allowlist\nrepositories: acme/shop\n", "repositories: must be a list of strings"),
        ("mode: allowlist\norgs: [acme]\n", "unknown key(s) orgs (allowed: mode, organizations, repositories, "),
        ('{"mode": "allowlist", "$id": "x", "$schema": "y"}', "unknown key(s) $id"),
        ('{"mode": "allowlist", "$schema": 1}', "$schema: must be a string (it is documentation, never read)"),
        ('{"mode": "allowlist", "$schema": {"$ref": "x"}}', "$schema: must be a string"),
        ('{"mode": "allowlist", "$schema": null}', "$schema: must be a string"),
        ("mode: allowlist\ndescription: [a]\n", "description: must be a string"),
        ("mode: allowlist\n1: a\nnull: b\n", "unknown key(s) 1, None"),
    ],
)
def test_fails_closed_with_the_fix(allowlist, tmp_path, text, message):
    path = allowlist(text) if text is not None else str(tmp_path / "missing.yaml")
    result = decide(path, "acme/shop", "OWNER")
    assert not result["allowed"]
    assert message in result["reason"]
    assert "mode: disabled allows every repository" in result["reason"]


def test_no_path_denies():
    assert "allowlist_path: not set" in decide(None, "acme/shop", "OWNER")["reason"]


@pytest.mark.parametrize(
    ("association", "allowed"),
    [
        ("OWNER", True),
        ("MEMBER", True),
        ("COLLABORATOR", True),
        ("member", True),
        ("CONTRIBUTOR", False),
        ("FIRST_TIME_CONTRIBUTOR", False),
        ("NONE", False),
        (None, False),
    ],
)
def test_author_trust(allowlist, association, allowed):
    result = decide(allowlist("mode: disabled\n"), "acme/shop", association)
    assert result["allowed"] is allowed
    assert result["wait_for_maintainer"] is (not allowed)


def test_maintainer_approval_overrides_author_trust(allowlist):
    assert decide(allowlist("mode: disabled\n"), "acme/shop", "NONE", approved_by_maintainer=True)["allowed"]


def test_the_reference_platforms_allowlist_file_is_honoured_as_is(monkeypatch):
    """Its $schema and description are documentation: accepted as strings, and the $schema is never fetched."""
    assert set(json.loads(REFERENCE.read_text())) == {"$schema", "mode", "description", "organizations", "repositories"}

    def no_network(*args, **kwargs):
        raise AssertionError("the allowlist's $schema was fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert decide(str(REFERENCE), "acme/shop", "MEMBER")["allowed"]
    assert decide(str(REFERENCE), "Acme/Other", "OWNER")["allowed"]
    refused = decide(str(REFERENCE), "evil/shop", "OWNER")
    assert not refused["allowed"] and not refused["wait_for_maintainer"]
    assert "evil/shop is not on the operator's allowlist" in refused["reason"]


def test_a_schema_address_is_never_read(allowlist, tmp_path):
    target = tmp_path / "allowed-orgs.schema.json"  # were it read, it would be invalid JSON
    target.write_text("{not json")
    path = allowlist(
        json.dumps({"$schema": str(target), "mode": "denylist", "description": "", "repositories": ["bad/repo"]}),
        "allowed-orgs.json",
    )
    assert decide(path, "good/repo", "OWNER")["allowed"]
    assert not decide(path, "bad/repo", "OWNER")["allowed"]
