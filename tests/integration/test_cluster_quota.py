"""The local cluster enforces what an environment relies on: quota, limit range, namespace deletion."""

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _manifests, _render

PR = {
    "repository": "acme/shop",
    "number": 1,
    "head_sha": "0" * 40,
    "branch": "feat/x",
    "author": "dev",
    "now": "2026-01-01T00:00:00Z",
}
IMAGE = "registry.example/app@sha256:" + "0" * 64


def apply(api, manifest):
    """Server-side apply with the collection's field manager."""
    kind = manifest["kind"]
    core = client.CoreV1Api(api)
    name = manifest["metadata"]["name"]
    if kind == "Namespace":
        return core.patch_namespace(
            name, manifest, field_manager="k8s-ee", force=True, _content_type="application/apply-patch+yaml"
        )
    namespace = manifest["metadata"]["namespace"]
    method = {
        "ResourceQuota": core.patch_namespaced_resource_quota,
        "LimitRange": core.patch_namespaced_limit_range,
        "NetworkPolicy": client.NetworkingV1Api(api).patch_namespaced_network_policy,
    }[kind]
    return method(
        name, namespace, manifest, field_manager="k8s-ee", force=True, _content_type="application/apply-patch+yaml"
    )


def pod(name, cpu_request, cpu_limit="200m", memory="128Mi"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": IMAGE,
                    "resources": {
                        "requests": {"cpu": cpu_request, "memory": memory},
                        "limits": {"cpu": cpu_limit, "memory": memory},
                    },
                }
            ]
        },
    }


@pytest.fixture
def environment(api):
    name = f"shop-pr-{uuid.uuid4().int % 10**6}"
    config = _config.normalise({"projectId": "shop"})
    for manifest in (
        _manifests.namespace(name, config, PR),
        _manifests.resource_quota(name, config),
        _manifests.limit_range(name),
        # role platform's admission lets no pod start in an environment without its default-deny policy
        *_render.network_policies(name, config, dict(_render.DEFAULT_SETTINGS), []),
    ):
        apply(api, manifest)
    yield name
    core = client.CoreV1Api(api)
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def wait_quota_counted(core, namespace):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        quota = core.read_namespaced_resource_quota("environment-quota", namespace)
        if quota.status and quota.status.hard:
            return quota
        time.sleep(0.2)
    raise AssertionError("the quota controller never filled status.hard")


@pytest.mark.cluster
def test_quota_admits_within_and_rejects_beyond(api, environment):
    core = client.CoreV1Api(api)
    quota = wait_quota_counted(core, environment)
    assert quota.spec.hard["requests.cpu"] == "200m"
    assert quota.spec.hard["limits.memory"] == "1178Mi"

    core.create_namespaced_pod(environment, pod("within", "150m"))
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod(environment, pod("beyond", "100m"))  # 150m + 100m > 200m
    assert rejected.value.status == 403
    assert "exceeded quota: environment-quota" in rejected.value.body
    assert "requests.cpu" in rejected.value.body

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = core.read_namespaced_pod("within", environment).status
        if status.phase == "Running" and all(c.ready for c in status.container_statuses or []):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"admitted pod never became Ready: {status}")


@pytest.mark.cluster
def test_limit_range_defaults_and_bounds(api, environment):
    core = client.CoreV1Api(api)
    wait_quota_counted(core, environment)
    bare = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bare"},
        "spec": {"containers": [{"name": "app", "image": IMAGE}]},
    }
    created = core.create_namespaced_pod(environment, bare)
    resources = created.spec.containers[0].resources
    assert resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert resources.limits == {"cpu": "500m", "memory": "512Mi"}
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod(environment, pod("huge", "10m", cpu_limit="1500m"))
    assert rejected.value.status == 403
    assert "maximum cpu usage per Container is 1" in rejected.value.body


@pytest.mark.cluster
def test_namespace_deletion_finishes(api, environment):
    core = client.CoreV1Api(api)
    wait_quota_counted(core, environment)
    core.create_namespaced_pod(environment, pod("app", "50m"))
    core.delete_namespace(environment)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            core.read_namespace(environment)
        except ApiException as exc:
            assert exc.status == 404
            return
        time.sleep(0.5)
    raise AssertionError(f"namespace {environment} still exists after 120s")


@pytest.mark.cluster
def test_namespace_labels(api, environment):
    labels = client.CoreV1Api(api).read_namespace(environment).metadata.labels
    assert labels["app.kubernetes.io/managed-by"] == "k8s-ee"
    assert labels["k8s-ee/type"] == "ephemeral"
    assert labels["k8s-ee/branch"] == "feat-x"
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


@pytest.mark.cluster
def test_cluster_shape(cluster, api):
    """The simulated node is the reference server; claims bind through the controller-manager."""
    core = client.CoreV1Api(api)
    (node,) = core.list_node().items
    assert node.status.allocatable["cpu"] == "4"
    assert node.status.allocatable["memory"] == "24Gi"
    assert core.get_api_resources() is not None
    version = client.VersionApi(api).get_code()
    assert version.git_version == "v1.34.3"
    crds = {c.metadata.name for c in client.ApiextensionsV1Api(api).list_custom_resource_definition().items}
    assert {
        "clusters.postgresql.cnpg.io",
        "mongodbcommunity.mongodbcommunity.mongodb.com",
        "tenants.minio.min.io",
        "servicemonitors.monitoring.coreos.com",
    } <= crds

    name = f"pvc-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    core.create_namespaced_persistent_volume_claim(
        name,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        claim = core.read_namespaced_persistent_volume_claim("data", name)
        if claim.status.phase == "Bound":
            break
        time.sleep(0.3)
    assert claim.status.phase == "Bound"
    assert claim.spec.storage_class_name == "standard"
    core.delete_namespace(name)
