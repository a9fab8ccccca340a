"""The host roles' molecule scenarios, run against the local cluster and the local GitHub.

The scenario's container (systemd, Debian bookworm, podman) shares the host's network, so the timers'
services run the collection's playbooks against this session's control plane on loopback.
"""

import base64
import pathlib
import subprocess

import pytest
import yaml
from harness import environment_namespace, run_molecule

REPO = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cluster


def flattened_kubeconfig(cluster, path):
    """The cluster's kubeconfig with its certificates inline (the container has no access to the files)."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())

    def inline(name):
        return base64.b64encode((cluster.pki / name).read_bytes()).decode()

    config["clusters"][0]["cluster"] = {
        "server": config["clusters"][0]["cluster"]["server"],
        "certificate-authority-data": inline("ca.crt"),
    }
    config["users"][0]["user"] = {
        "client-certificate-data": inline("admin.crt"),
        "client-key-data": inline("admin.key"),
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    out = tmp_path_factory.mktemp("collection")
    subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(out), str(REPO)], check=True, capture_output=True
    )
    (tarball,) = out.glob("k8s_ee-platform-*.tar.gz")
    return tarball


def test_schedules_role_in_a_systemd_container(cluster, kube, github, collection, tmp_path):
    name = environment_namespace(kube, 900)
    github.set_pull("acme/shop", 900, state="closed", closed_at="2026-01-01T00:00:00Z")
    output = run_molecule(
        "schedules",
        timeout=1200,
        MOLECULE_K8S_EE_GITHUB_URL=github.url,
        MOLECULE_K8S_EE_GITHUB_TOKEN=github.token,
        MOLECULE_K8S_EE_COLLECTION=str(collection),
        MOLECULE_K8S_EE_KUBECONFIG=str(flattened_kubeconfig(cluster, tmp_path / "kubeconfig")),
    )
    assert "idempotence" in output
    # the cleanup service (started in verify) asked GitHub with the token and deleted the orphan
    assert any(r["path"] == "/repos/acme/shop/pulls/900" and r["authorized"] for r in github.requests)
    namespace = kube.get("Namespace", name)
    assert namespace is None or namespace["metadata"].get("deletionTimestamp")
    assert github.token not in output
