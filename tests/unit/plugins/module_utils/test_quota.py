import pathlib
import random

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


def test_quota_ceiling_is_the_quota_of_the_largest_valid_config():
    largest = _config.largest_config()
    assert _config.validate(largest) == []
    assert _quota.quota_ceiling() == _quota.env_quota(largest)
    assert _config.enabled_databases(largest) == list(_config.DATABASES)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("app", "replicas"), 4),
        (("app", "resources", "requests", "cpu"), "1001m"),
        (("app", "resources", "limits", "memory"), "1025Mi"),
        (("databases", "postgresql", "storage"), "5121Mi"),
        (("databases", "mongodb", "storage"), "6Gi"),
    ],
)
def test_the_largest_config_cannot_grow_and_stay_valid(path, value):
    config = _config.largest_config()
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert _config.validate(config), f"{'.'.join(path)}={value} should be invalid"


def test_no_valid_config_has_a_quota_above_the_ceiling():
    """Random valid configurations (seeded): every key of their quota is at most the ceiling."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
    from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import (
        CONTAINER_MAX,
        CONTAINER_MIN,
        PVC_MAX_MIB,
        PVC_MIN_MIB,
    )

    rng = random.Random(20260601)  # noqa: S311 - seeded test data, not secrets
    ceiling = {key: q.parse(value) for key, value in _quota.quota_ceiling().items()}
    for _sample in range(300):
        cpu_request = rng.randint(CONTAINER_MIN["cpu"], CONTAINER_MAX["cpu"])
        memory_request = rng.randint(CONTAINER_MIN["memory"], CONTAINER_MAX["memory"])
        data = {
            "projectId": "shop",
            "app": {
                "replicas": rng.randint(1, 3),
                "resources": {
                    "requests": {"cpu": f"{cpu_request}m", "memory": f"{memory_request}Mi"},
                    "limits": {
                        "cpu": f"{rng.randint(cpu_request, CONTAINER_MAX['cpu'])}m",
                        "memory": f"{rng.randint(memory_request, CONTAINER_MAX['memory'])}Mi",
                    },
                },
            },
            "databases": {
                name: ({"storage": f"{rng.randint(PVC_MIN_MIB, PVC_MAX_MIB)}Mi"} if name != "redis" else True)
                for name in _config.DATABASES
                if rng.random() < 0.5
            },
        }
        quota = _quota.env_quota(_config.normalise(data))
        over = {key: value for key, value in quota.items() if q.parse(value) > ceiling[key]}
        assert over == {}, data


def test_the_ceiling_in_the_docs_is_the_computed_one():
    ceiling = _quota.quota_ceiling()
    for doc in ("quota.md", "security.md"):
        text = " ".join((pathlib.Path(__file__).resolve().parents[4] / "docs" / doc).read_text().split())
        for key in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "requests.storage"):
            assert f"{key} {ceiling[key]}" in text, (doc, key)
        for key, word in (("persistentvolumeclaims", "PVCs"), ("pods", "pods"), ("services", "services")):
            assert f"{ceiling[key]} {word}" in text, (doc, key)
