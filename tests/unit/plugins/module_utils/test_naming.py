import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("feat/Add FOO__bar..baz", "feat-Add-FOO-bar-baz"),  # docs/configuration.md's example
        ("main", "main"),
        ("release_1.2", "release_1.2"),  # a single _ or . stays
        ("a--b", "a-b"),
        ("a-_.b", "a-b"),
        ("-leading/and/trailing-", "leading-and-trailing"),
        ("__init__", "init"),
        ("fix/ünïcödé-branch", "fix-n-c-d-branch"),  # every non-ASCII character is one '-'
        ("日本語", "unknown"),
        ("///...___", "unknown"),  # only symbols
        ("", "unknown"),
        (None, "unknown"),
        ("x" * 200, "x" * 63),  # cut to 63
        ("a" * 62 + "/b", "a" * 62),  # the cut leaves a '-' that is trimmed
        ("a" * 61 + "..b", "a" * 61 + "-b"),
        ("😀feature😀", "feature"),
        (12345, "12345"),
    ],
)
def test_label_value(text, label):
    assert _naming.label_value(text) == label
    assert len(label) <= 63


@pytest.mark.parametrize("text", ["x" * 200, "a.b_c-d/" * 30, "-" * 100 + "z", "Ω" * 80])
def test_label_value_is_always_a_valid_label(text):
    import re

    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]", _naming.label_value(text))


@pytest.mark.parametrize(
    ("project", "number", "namespace"),
    [
        ("shop", 42, "shop-pr-42"),
        ("a", "7", "a-pr-7"),
        ("my-app-2", " 156 ", "my-app-2-pr-156"),
        ("a" * 20, 1, "a" * 20 + "-pr-1"),
    ],
)
def test_env_namespace(project, number, namespace):
    assert _naming.env_namespace(project, number) == namespace


@pytest.mark.parametrize(
    ("project", "number", "message"),
    [
        ("shop", 0, "pr_number: 0 is not a pull request number; it must be 1 or greater"),
        ("shop", -3, "pr_number: -3 is not a pull request number; it must be 1 or greater"),
        ("shop", "4x", "pr_number: '4x' is not a pull request number; give a positive integer such as 42"),
        ("shop", True, "pr_number: True is not a pull request number; give a positive integer such as 42"),
        ("shop", 1.5, "pr_number: 1.5 is not a pull request number; give a positive integer such as 42"),
        ("Shop", 1, "projectId: 'Shop' is not valid"),
        ("a" * 21, 1, "projectId: 'aaaaaaaaaaaaaaaaaaaaa' is not valid"),
        ("-a", 1, "projectId: '-a' is not valid"),
    ],
)
def test_env_namespace_errors(project, number, message):
    with pytest.raises(_naming.InputError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        _naming.env_namespace(project, number)


def test_env_host_and_url():
    host = _naming.env_host("shop-pr-42", "Preview.Example.com.")
    assert host == "shop-pr-42.preview.example.com"
    assert _naming.env_url(host) == "https://shop-pr-42.preview.example.com"


@pytest.mark.parametrize(
    ("namespace", "domain", "field"),
    [
        ("shop-pr-42", "", "domain"),
        ("shop-pr-42", "exa mple.com", "domain"),
        ("shop-pr-42", "-x.com", "domain"),
        ("Shop", "example.com", "namespace"),
        ("a.b", "example.com", "namespace"),
        ("shop-pr-42", ("a" * 60 + ".") * 4 + "com", "domain"),
    ],
)
def test_env_host_errors(namespace, domain, field):
    with pytest.raises(_naming.InputError, match=f"^{field}: "):
        _naming.env_host(namespace, domain)


def test_repository():
    assert _naming.repository("acme/shop.web") == "acme/shop.web"
    assert _naming.same_repository("Acme/Shop", "acme/shop")
    assert not _naming.same_repository("acme/shop", None)
    for bad in ("acme", "acme/shop/x", "/shop", "", None):
        with pytest.raises(_naming.InputError, match=r"^repository: "):
            _naming.repository(bad)
