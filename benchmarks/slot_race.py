"""How many concurrent creates of environment namespaces in one slot pass admission. Prints JSON.

    python3 benchmarks/slot_race.py [--concurrent 50] [--trials 10]

Starts the local cluster, applies role platform (one CI identity, project `race`, cap 1000), then, as that CI
identity, sends `--concurrent` creates of environment namespaces that all hold the same k8s-ee/slot at the same moment
(one connection each, released together by a barrier), `--trials` times with a new slot each time: first with the API
Priority and Fairness lane the role installs (FlowSchema k8s-ee-ci-namespaces), then with the FlowSchema deleted.
Without a race exactly one create per trial would pass; every further one is an environment beyond the cap.
"""

from __future__ import annotations

import argparse
import base64
import json
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from localcluster import LocalCluster  # noqa: E402

FLOW_SCHEMA = "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/k8s-ee-ci-namespaces"


def namespace(number: int, slot: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": f"race-pr-{number}",
            "labels": {
                "app.kubernetes.io/managed-by": "k8s-ee",
                "k8s-ee/type": "ephemeral",
                "k8s-ee/project-id": "race",
                "k8s-ee/pr-number": str(number),
                "pod-security.kubernetes.io/enforce": "baseline",
                "k8s-ee/slot": str(slot),
            },
            "annotations": {"k8s-ee/repository": "acme/race"},
        },
    }


def burst(kube, clients, slot: int, first_number: int) -> tuple[int, list[str]]:
    """All clients create a namespace with `slot` at once; returns how many namespaces hold the slot afterwards (a
    create that timed out on a busy machine may still have happened) and the unexpected errors."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

    barrier = threading.Barrier(len(clients))
    errors = []

    def create(index):
        body = namespace(first_number + index, slot)
        barrier.wait()
        try:
            clients[index].create(body)
        except KubeError as exc:
            if "is held by" not in str(exc):
                errors.append(f"{exc.status}: {exc}")

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(create, range(len(clients))))
    holders = kube.list("Namespace", label_selector=f"k8s-ee/project-id=race,k8s-ee/slot={slot}")
    return len(holders), errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "bench-cluster"))
    args = parser.parse_args()

    from harness import playbook_env
    from kubernetes import client

    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    cluster = LocalCluster(args.cluster_dir)
    cluster.start()
    try:
        kube = Kube(kubeconfig=str(cluster.kubeconfig))
        with tempfile.TemporaryDirectory() as tmp:
            variables = pathlib.Path(tmp) / "vars.json"
            variables.write_text(
                json.dumps(
                    {
                        "k8s_ee_test_role": "platform",
                        "platform_acme_email": "ops@example.com",
                        "platform_ci_projects": ["race"],
                        "platform_ci_max_environments": 1000,
                        "platform_sealed_secrets_enabled": False,
                    }
                )
            )
            subprocess.run(
                [
                    "ansible-playbook",
                    str(REPO / "tests" / "integration" / "playbooks" / "role.yml"),
                    "-e",
                    f"@{variables}",
                ],
                env=playbook_env(cluster.kubeconfig, json_output=False),
                check=True,
                capture_output=True,
            )
        deadline = time.monotonic() + 30
        while True:
            secret = kube.get("Secret", "k8s-ee-ci-race-token", "arc-runners")
            if secret and (secret.get("data") or {}).get("token"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the token controller did not fill k8s-ee-ci-race-token")
            time.sleep(0.5)
        token = base64.b64decode(secret["data"]["token"]).decode()

        def ci_client():
            configuration = client.Configuration()
            configuration.host = kube.configuration.host
            configuration.ssl_ca_cert = kube.configuration.ssl_ca_cert
            configuration.api_key = {"authorization": f"Bearer {token}"}
            ci = Kube(configuration=configuration)
            ci.whoami()  # connect before the burst
            return ci

        clients = [ci_client() for _client in range(args.concurrent)]
        results = {}
        slot = 0
        for lane in ("with the flow schema", "without the flow schema"):
            if lane.startswith("without"):
                kube.request("DELETE", FLOW_SCHEMA)
                time.sleep(2)  # the API server's flow control picks up the change
            passed, errors = [], []
            for _trial in range(args.trials):
                count, unexpected = burst(kube, clients, slot, 1000 * (slot + 1))
                passed.append(count)
                errors += unexpected
                slot += 1
            results[lane] = {
                "passed per trial": passed,
                "max": max(passed),
                "mean": round(sum(passed) / len(passed), 1),
                "unexpected errors": len(errors),
                "first unexpected errors": errors[:3],
            }
        print(json.dumps({"concurrent creates per trial": args.concurrent, "trials": args.trials, "results": results}))
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
