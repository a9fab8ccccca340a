import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.filter.env import FilterModule

FILTERS = FilterModule().filters()


def test_exports_the_public_filters():
    assert sorted(FILTERS) == ["env_host", "env_namespace", "env_quota", "label_value"]


def test_env_namespace_and_host():
    namespace = FILTERS["env_namespace"]("shop", 42)
    assert namespace == "shop-pr-42"
    assert FILTERS["env_host"](namespace, "preview.example.com") == "shop-pr-42.preview.example.com"


def test_label_value():
    assert FILTERS["label_value"]("feat/Add FOO__bar..baz") == "feat-Add-FOO-bar-baz"


def test_env_quota_raw_and_normalised_agree():
    from ansible_collections.k8s_ee.platform.plugins.module_utils._config import normalise

    raw = {"projectId": "shop", "databases": {"postgresql": True}}
    assert FILTERS["env_quota"](raw) == FILTERS["env_quota"](normalise(raw))
    assert FILTERS["env_quota"](raw)["limits.cpu"] == "1265m"


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("env_namespace", ("shop", "x"), "env_namespace: pr_number: 'x' is not a pull request number"),
        ("env_namespace", ("Shop", 1), "env_namespace: projectId: 'Shop' is not valid"),
        ("env_host", ("shop-pr-1", "bad domain"), "env_host: domain: 'bad domain' is not a DNS domain"),
        ("env_quota", ("shop",), "env_quota: expects the k8s-ee.yaml mapping, got 'shop'"),
        ("env_quota", ({"projectId": "shop", "app": {"replicas": 5}},), "app.replicas: 5 is greater than 3"),
    ],
)
def test_errors_name_the_value(name, args, message):
    with pytest.raises(AnsibleFilterError, match=message.replace(".", r"\.")):
        FILTERS[name](*args)
