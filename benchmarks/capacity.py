"""Ten pr_up runs of new environments started at the same moment, with room for five. Prints JSON.

    python3 benchmarks/capacity.py [--runs 10] [--room 5]

On the local cluster (one simulated node of 4 CPU / 24 GiB) a pod outside environments takes all but room for
`--room` environments of app + PostgreSQL (450m CPU / 768Mi each, docs/quota.md) and half of one more. Then
`--runs` pr_up playbooks start together. Capacity admission holds the Lease platform/k8s-ee-capacity from measuring
until the new quota exists (docs/pr-lifecycle.md), so exactly `--room` are admitted and the others refused.
Reported: the time from the start until every admitted environment was ready (pr_up returns once it is), each run's
time, outcome and Kubernetes API requests (the environment task's own count, refused runs included), and
whether the cluster was overcommitted. The stand-in operators of tests/fake_operators.py make PostgreSQL ready.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from _playbook import event, playbook, settings  # noqa: E402
from localcluster import LocalCluster  # noqa: E402

NEED_CPU = 450  # millicores: the quota's requests.cpu of app + PostgreSQL
IMAGE = "registry.example/bench@sha256:" + "4" * 64
APPLY_TASK = "Apply the environment and wait until it is ready"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "bench-capacity-cluster"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--room", type=int, default=5)
    args = parser.parse_args()

    from fake_operators import FakeOperators
    from github_fake import FakeGitHub
    from harness import ensure_platform_prerequisites, occupy, playbook_env

    from ansible_collections.k8s_ee.platform.plugins.module_utils import _capacity
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    cluster = LocalCluster(args.cluster_dir)
    cluster.start()
    try:
        kube = Kube(kubeconfig=str(cluster.kubeconfig))
        ensure_platform_prerequisites(kube)
        operators = FakeOperators(kube)
        operators.thread.start()
        free = _capacity.measure_capacity(kube).free_cpu
        occupy(kube, "hog", {"cpu": f"{free - args.room * NEED_CPU - NEED_CPU // 2}m"})
        work = pathlib.Path(tempfile.mkdtemp())
        (work / "k8s-ee.yaml").write_text(json.dumps({"projectId": "bench", "databases": {"postgresql": True}}))
        (work / "allowlist.yaml").write_text("mode: disabled\n")
        with FakeGitHub() as github:
            runs, threads = {}, []
            started = time.monotonic()
            for number in range(1, args.runs + 1):
                env = {**playbook_env(cluster.kubeconfig, github.token), **event(number, IMAGE)}
                variables = settings(work, github.url)
                thread = threading.Thread(
                    target=lambda n=number, v=variables, e=env: runs.__setitem__(
                        n, (playbook("pr_up", v, e), time.monotonic())
                    )
                )
                threads.append(thread)
                thread.start()
            for thread in threads:
                thread.join()
            each = []
            for number in sorted(runs):
                run, finished = runs[number]
                (apply,) = [result for name, result, _seconds in run.tasks() if name == APPLY_TASK]
                each.append(
                    {
                        "pr": number,
                        "admitted": run.returncode == 0,
                        "seconds": round(finished - started, 2),
                        "api_requests": apply.get("api_requests"),
                    }
                )
            after = _capacity.measure_capacity(kube)
            for entry in each:
                if entry["admitted"]:
                    playbook("pr_down", {**variables, "k8s_ee_pr_number": entry["pr"]}, env).check()
        operators.stop.set()
    finally:
        cluster.stop()
    admitted = [entry for entry in each if entry["admitted"]]
    report = {
        "benchmark": "capacity",
        "environment": f"{args.runs} pr_up runs of app + PostgreSQL at once, room for {args.room} "
        "(1 simulated 4 CPU / 24 GiB node)",
        "admitted": len(admitted),
        "refused": len(each) - len(admitted),
        "seconds_until_all_admitted_ready": max((entry["seconds"] for entry in admitted), default=None),
        "overcommitted": after.free_cpu < 0 or after.free_memory < 0,
        "runs": each,
        "met": {"admitted_exactly_the_room": len(admitted) == args.room, "no_overcommit": after.free_cpu >= 0},
    }
    print(json.dumps(report, indent=2))
    return 0 if all(report["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
