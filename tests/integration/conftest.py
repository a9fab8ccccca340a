"""The local Kubernetes control plane, started once per test session (tests/cluster/localcluster.py)."""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "cluster"))

from localcluster import LocalCluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    local = LocalCluster(tmp_path_factory.mktemp("cluster"))
    local.start()
    os.environ["K8S_AUTH_KUBECONFIG"] = str(local.kubeconfig)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def api(cluster):
    """A kubernetes ApiClient authenticated as the cluster's admin."""
    return cluster.client()
