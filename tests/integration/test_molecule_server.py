"""The server roles' molecule scenarios (host, k3s) in Debian bookworm systemd containers.

They need no Kubernetes: the k3s scenario downloads its release files from a local HTTP server on loopback (the
container shares the host's network) that serves an honest test artefact, never a stand-in for k3s. The parts that
need a running k3s run only when K8S_EE_K3S_BINARY names a real k3s binary.
"""

import os
import pathlib
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]


def molecule(scenario, **extra_env):
    subprocess.run([str(REPO / "extensions" / "molecule" / "prepare-host.sh")], check=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"), **extra_env)
    started = time.monotonic()
    proc = subprocess.run(
        ["molecule", "test", "-s", scenario],
        cwd=REPO / "extensions",
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = proc.stdout + proc.stderr
    failures = [line for line in output.splitlines() if "fatal" in line or "FAILED" in line or "msg" in line]
    assert proc.returncode == 0, "\n".join(failures[-40:]) or output[-6000:]
    print(f"molecule test -s {scenario}: {time.monotonic() - started:.0f} s")
    return output


def test_host_role_in_a_systemd_container():
    output = molecule("host")
    assert "idempotence" in output
