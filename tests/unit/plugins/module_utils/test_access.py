import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils._access import decide


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
        ("mode: allowlist\norgs: [acme]\n", "unknown key(s) orgs"),
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
