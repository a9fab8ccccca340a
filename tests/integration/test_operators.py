"""Role operators against the local control plane: the HelmCharts are validated by the real helm.cattle.io CRD."""

import pytest
import yaml
from harness import helm_chart

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

pytestmark = pytest.mark.cluster

CHARTS = {
    "cloudnative-pg": ("cloudnative-pg", "0.29.0", "cnpg-system"),
    "mongodb-kubernetes": ("mongodb-kubernetes", "1.10.0", "mongodb-operator"),
    "minio-operator": ("operator", "7.1.1", "minio-operator"),
}


@pytest.fixture(scope="module")
def runs(playbooks, kube):
    for name in CHARTS:
        if helm_chart(kube, name):
            kube.request("DELETE", f"/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/{name}")
    checked = playbooks.role("operators", check=True)
    in_check = [name for name in CHARTS if helm_chart(kube, name)]
    return (
        checked,
        in_check,
        playbooks.role("operators"),
        playbooks.role("operators"),
        playbooks.role("operators", check=True),
    )


def test_converges_idempotent_and_check_mode_creates_nothing(runs):
    checked, in_check, first, second, checked_again = runs
    assert checked.rc == 0 and checked.changed > 0, checked
    assert in_check == []
    assert first.rc == 0 and first.changed > 0, first
    assert second.rc == 0 and second.changed == 0, second
    assert checked_again.rc == 0 and checked_again.changed == 0, checked_again


def test_charts_are_pinned_scoped_and_budgeted(runs, kube):
    for name, (chart, version, namespace) in CHARTS.items():
        spec = helm_chart(kube, name)["spec"]
        assert (spec["chart"], spec["version"], spec["targetNamespace"]) == (chart, version, namespace)
        assert spec["repo"].startswith("https://")
    cnpg = yaml.safe_load(helm_chart(kube, "cloudnative-pg")["spec"]["valuesContent"])
    assert cnpg["priorityClassName"] == "platform-critical"
    assert cnpg["resources"]["limits"]["memory"] == "256Mi"
    assert "WATCH_NAMESPACE" not in cnpg["config"]["data"]
    mongodb = yaml.safe_load(helm_chart(kube, "mongodb-kubernetes")["spec"]["valuesContent"])["operator"]
    assert mongodb["watchNamespace"] == "*" and mongodb["watchedResources"] == ["mongodbcommunity"]
    assert mongodb["resources"]["limits"] == {"cpu": "500m", "memory": "384Mi"}
    minio = yaml.safe_load(helm_chart(kube, "minio-operator")["spec"]["valuesContent"])
    assert minio["operator"]["priorityClassName"] == "platform-critical"
    assert minio["operator"]["replicaCount"] == 1


def test_the_crd_schema_is_enforced(kube):
    bad = {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "broken", "namespace": "kube-system"},
        "spec": {"chart": "x", "timeout": {"not": "a duration"}},
    }
    with pytest.raises(KubeError) as caught:
        kube.request("POST", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts", body=bad)
    assert caught.value.status == 422


def test_switching_an_operator_off_removes_its_chart(runs, playbooks, kube):
    off = playbooks.role("operators", operators_minio_enabled=False)
    assert off.rc == 0 and off.changed > 0, off
    assert helm_chart(kube, "minio-operator") is None
    assert helm_chart(kube, "cloudnative-pg") is not None
    back = playbooks.role("operators")
    assert back.rc == 0 and helm_chart(kube, "minio-operator") is not None


def test_resources_without_a_memory_limit_are_refused(runs, playbooks, kube):
    before = helm_chart(kube, "cloudnative-pg")["metadata"]["resourceVersion"]
    run = playbooks.role("operators", operators_cloudnative_pg_resources={"requests": {"cpu": "50m", "memory": "1Gi"}})
    assert run.rc != 0
    assert any("operators_cloudnative_pg_resources" in f and "limits.memory" in f for f in run.failures()), run
    assert helm_chart(kube, "cloudnative-pg")["metadata"]["resourceVersion"] == before
