import pathlib

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _quota
from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import limit_range_spec

CASES = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "quota_cases.yaml").read_text())
COLUMNS = (
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "requests.storage",
    "persistentvolumeclaims",
    "pods",
    "services",
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_quota(case):
    config = _config.normalise({"projectId": "shop", **case["config"]})
    expected = dict(zip(COLUMNS, map(str, case["hard"]), strict=True))
    expected.update(configmaps="15", secrets="25", replicationcontrollers="5")
    assert _quota.env_quota(config) == expected


def test_quota_keys_are_exactly_the_spec_hard_keys():
    config = _config.normalise({"projectId": "shop"})
    assert sorted(_quota.env_quota(config)) == sorted([*COLUMNS, "configmaps", "secrets", "replicationcontrollers"])


def test_limit_range():
    assert limit_range_spec() == {
        "limits": [
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "512Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                "max": {"cpu": "1", "memory": "1Gi"},
                "min": {"cpu": "10m", "memory": "32Mi"},
            },
            {"type": "Pod", "max": {"cpu": "2", "memory": "2Gi"}},
            {"type": "PersistentVolumeClaim", "min": {"storage": "100Mi"}, "max": {"storage": "5Gi"}},
        ]
    }
