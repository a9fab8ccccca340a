"""The environment really runs: pr_up on the local cluster's real node (tests/cluster/realnode.py).

A cluster of its own (no simulated nodes, so every pod lands on the real node): kubelet, containerd,
runc and the CNI plugins run the pods, kube-proxy serves ClusterIPs, CoreDNS answers, kube-router
enforces the NetworkPolicies and local-path-provisioner gives volumes. The last test stops it and
compares the host with how it was before the first.
"""

import pathlib
import subprocess
import sys

import pytest
from conftest import Playbooks

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "cluster"))

import images
import realnode
from harness import ensure_priority_classes
from localcluster import LocalCluster, binaries

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

pytestmark = [pytest.mark.cluster, pytest.mark.real_node]
REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-app"


@pytest.fixture(scope="module")
def host_before():
    return realnode.host_snapshot()


@pytest.fixture(scope="module")
def node_cluster(host_before, tmp_path_factory):
    local = LocalCluster(tmp_path_factory.mktemp("real-node"), nodes=0, real_node=True)
    local.start()
    try:
        local.real_node.install_addons()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def node_kube(node_cluster):
    client = Kube(kubeconfig=str(node_cluster.kubeconfig))
    ensure_priority_classes(client)
    return client


@pytest.fixture(scope="module")
def node_playbooks(node_cluster, node_kube, github, allowlist, tmp_path_factory):
    return Playbooks(node_cluster, github, allowlist, tmp_path_factory.mktemp("real-node-playbooks"))


@pytest.fixture(autouse=True)
def no_leftover_namespaces():
    """Environments of this module live on its own cluster and are shared between its tests."""
    yield


def kubectl(cluster, *args, check=True, **kwargs):
    return subprocess.run(
        [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=check,
        **kwargs,
    )


def proxy_get(cluster, namespace, path, service="app:http"):
    """GET through the API server's service proxy: the API server dials the pod, as the health check does."""
    result = kubectl(
        cluster, "get", "--raw", f"/api/v1/namespaces/{namespace}/services/{service}/proxy{path}", check=False
    )
    return result.returncode, result.stdout, result.stderr


class Environments:
    """The pull requests this module deploys, each once (pr_up of app + Redis + MariaDB)."""

    def __init__(self, cluster, kube, playbooks, tmp):
        self.cluster, self.kube, self.playbooks, self.tmp = cluster, kube, playbooks, tmp
        self.up = {}

    def ensure(self, number):
        if number not in self.up:
            result = self.playbooks.run(
                "pr_up",
                k8s_ee_pr_number=number,
                k8s_ee_config_path=str(SAMPLE / "k8s-ee.yaml"),
                k8s_ee_image=images.SAMPLE_APP_IMAGE,
                k8s_ee_health_check=True,
                k8s_ee_timeout=300,
            )
            assert result.rc == 0, result
            self.up[number] = result
        return f"sample-pr-{number}"


@pytest.fixture(scope="module")
def environments(node_cluster, node_kube, node_playbooks, tmp_path_factory):
    return Environments(node_cluster, node_kube, node_playbooks, tmp_path_factory.mktemp("environments"))


# ------------------------------------------------------------------ the node


def test_node_is_real_and_ready(node_cluster, node_kube):
    (node,) = node_kube.list("Node")
    assert node["metadata"]["name"] == realnode.NODE_NAME
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.6")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.3"
    assert {a["type"]: a["address"] for a in node["status"]["addresses"]}["InternalIP"] == realnode.NODE_ADDRESS
    assert node["spec"]["podCIDR"] == realnode.POD_CIDR
    classes = {c["metadata"]["name"]: c for c in node_kube.list("StorageClass")}
    default = [
        n
        for n, c in classes.items()
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert default == ["local-path"]


# ------------------------------------------------------------------ teardown (last)


def test_teardown_returns_the_host_to_how_it_was(node_cluster, host_before):
    node_cluster.stop()
    after = realnode.host_snapshot()
    assert after == host_before
