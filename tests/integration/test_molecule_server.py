"""The server roles' molecule scenarios (host, k3s) in Debian bookworm systemd containers.

They need no Kubernetes. The k3s scenario gets its release files from a local HTTP server on loopback (its containers
share this machine's network) and from a directory on the controller (air-gapped). The files are an honest test
artefact, a shell script that says it is not k3s, so the role installs and configures but never starts it. The parts
that need a running k3s (service start, node Ready, the fetched kubeconfig) run only when K8S_EE_K3S_BINARY names a
real k3s binary, which is then served instead.
"""

import functools
import hashlib
import http.server
import os
import pathlib
import platform
import re
import secrets
import shutil
import subprocess
import threading

import pytest
from harness import run_molecule

REPO = pathlib.Path(__file__).resolve().parents[2]
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
BINARY = "k3s" if ARCH == "amd64" else f"k3s-{ARCH}"
TEST_VERSION = "v0.0.0-test+k3s1"


@pytest.fixture(autouse=True)
def no_leftover_namespaces():
    """These scenarios need no Kubernetes: the suite's namespace check (and with it the local cluster) is not used."""
    yield


def test_host_role_in_a_systemd_container():
    output = run_molecule("host")
    assert "idempotence" in output


def artefact(version):
    """An executable that is plainly not k3s: it says so and fails."""
    return (
        f"#!/bin/sh\n# k8s-ee test artefact for the k3s role's install path ({version}); this is not k3s.\n"
        "echo 'k8s-ee test artefact: not k3s' >&2\nexit 1\n"
    ).encode()


def publish(root, version, payload, listed=None):
    """Lay out <version>/<binary> and <version>/sha256sum-<arch>.txt as a k3s release does."""
    folder = root / version
    folder.mkdir(parents=True)
    (folder / BINARY).write_bytes(payload)
    digest = hashlib.sha256(listed if listed is not None else payload).hexdigest()
    other = "0" * 64
    (folder / f"sha256sum-{ARCH}.txt").write_text(
        f"{other}  k3s-airgap-images-{ARCH}.tar.zst\n{digest}  {BINARY}\n{other}  e2e-passed\n"
    )
    return folder


@pytest.fixture
def release_server(tmp_path):
    """Serve tmp_path/release on 127.0.0.1; yields (url, release dir)."""
    root = tmp_path / "release"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def k3s_scenario(release_server, tmp_path, version, payload, start):
    url, root = release_server
    served = publish(root, version, payload)
    publish(root, "v0.0.0-test2+k3s1", artefact("v0.0.0-test2+k3s1"))
    good = artefact("v0.0.0-corrupt+k3s1")
    publish(root, "v0.0.0-corrupt+k3s1", good + b"\n# flipped in transit\n", listed=good)
    airgap = tmp_path / "airgap"
    shutil.copytree(served, airgap)
    corrupt = tmp_path / "airgap-corrupt"
    shutil.copytree(served, corrupt)
    (corrupt / BINARY).write_bytes(payload + b"\0")
    token = secrets.token_hex(24)
    output = run_molecule(
        "k3s",
        MOLECULE_K8S_EE_K3S_VERSION=version,
        MOLECULE_K8S_EE_K3S_RELEASE_URL=url,
        MOLECULE_K8S_EE_K3S_AIRGAP_DIR=str(airgap),
        MOLECULE_K8S_EE_K3S_ARCH=ARCH,
        MOLECULE_K8S_EE_K3S_TOKEN=token,
        MOLECULE_K8S_EE_K3S_START="true" if start else "false",
        MOLECULE_K8S_EE_WORKDIR=str(tmp_path),
    )
    assert "idempotence" in output
    assert token not in output
    return output


def test_k3s_role_download_airgap_and_refusals(release_server, tmp_path):
    """Download and air-gapped install of a test artefact, config.yaml, unit, token, refused corrupt files, upgrade."""
    k3s_scenario(release_server, tmp_path, TEST_VERSION, artefact(TEST_VERSION), start=False)


@pytest.mark.skipif(
    not os.environ.get("K8S_EE_K3S_BINARY"),
    reason="no k3s release can be downloaded here: set K8S_EE_K3S_BINARY=/path/to/k3s to start a real server, "
    "wait for the node Ready and use the fetched kubeconfig",
)
def test_k3s_role_with_a_real_k3s(release_server, tmp_path):
    binary = pathlib.Path(os.environ["K8S_EE_K3S_BINARY"])
    reported = subprocess.run([str(binary), "--version"], check=True, capture_output=True, text=True).stdout
    version = re.search(r"k3s version (v\S+\+k3s\d+)", reported)[1]
    k3s_scenario(release_server, tmp_path, version, binary.read_bytes(), start=True)
    assert (tmp_path / "kubeconfig").stat().st_mode & 0o777 == 0o600
