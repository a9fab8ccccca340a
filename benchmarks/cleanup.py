"""Benchmark of the cleanup playbook over 200 environments on the local cluster. Prints JSON.

    python3 benchmarks/cleanup.py [--environments 200]

A mix of environments whose pull requests are open, closed (past the grace period), merged, gone
(404 on a readable repository), preserved, and unknown (the local GitHub answers 403), two projects
sharing some pull requests. Reports the seconds of one `ansible-playbook cleanup` run, the GitHub
requests it sent and the number of distinct pull requests it had to ask about (the target: no more
requests than distinct pull requests, 60 s at most).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from localcluster import LocalCluster  # noqa: E402

NOW = 1_900_000_000
KINDS = ("open", "closed", "merged", "gone", "preserved", "unknown")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "bench-cluster"))
    args = parser.parse_args()

    from github_fake import FakeGitHub
    from harness import playbook_env

    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    cluster = LocalCluster(args.cluster_dir)
    cluster.start()
    try:
        kube = Kube(kubeconfig=str(cluster.kubeconfig))
        with FakeGitHub() as github:
            distinct = set()
            counts = dict.fromkeys(KINDS, 0)
            for index in range(args.environments):
                # every fifth namespace is a second project ("web") of the previous pull request
                second = index % 5 == 4
                number = 1000 + index - (1 if second else 0)
                kind = KINDS[number % len(KINDS)]
                name = f"{'web' if second else 'api'}-pr-{number}"
                labels = {
                    "app.kubernetes.io/managed-by": "k8s-ee",
                    "k8s-ee/type": "ephemeral",
                    "k8s-ee/pr-number": str(number),
                }
                if kind == "preserved":
                    labels["k8s-ee/preserve"] = "true"
                kube.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": name, "labels": labels, "annotations": {"k8s-ee/repository": "acme/shop"}},
                    }
                )
                counts[kind] += 1
                if kind != "preserved":
                    distinct.add(number)
                if kind == "open":
                    github.set_pull("acme/shop", number, state="open")
                elif kind in ("closed", "merged"):
                    github.set_pull(
                        "acme/shop", number, state="closed", merged=kind == "merged", closed_at="2030-01-01T00:00:00Z"
                    )
                elif kind == "unknown":
                    github.set_pull("acme/shop", number, state="closed", closed_at="2030-01-01T00:00:00Z")
                    github.fail_next(rf"/pulls/{number}$", 403, times=1000)  # e.g. a token without access
            variables = pathlib.Path(tempfile.mkstemp(suffix=".json")[1])
            variables.write_text(
                json.dumps({"k8s_ee_github_api_url": github.url, "k8s_ee_now": NOW, "k8s_ee_max_deletions_per_run": 10})
            )
            env = playbook_env(cluster.kubeconfig, github.token)
            before = len(github.requests)
            started = time.monotonic()
            proc = subprocess.run(
                ["ansible-playbook", str(REPO / "playbooks" / "cleanup.yml"), "-e", f"@{variables}"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.monotonic() - started
            data = json.loads(proc.stdout[proc.stdout.index("{") :])
            summary = {}
            for task in data["plays"][0]["tasks"]:
                if task["task"]["name"] == "Print the summary" and "msg" in task["hosts"]["localhost"]:
                    summary = json.loads(task["hosts"]["localhost"]["msg"])
            requests = github.requests[before:]
            pull_requests = {r["path"] for r in requests if "/pulls/" in r["path"]}
    finally:
        cluster.stop()
    print(
        json.dumps(
            {
                "benchmark": "cleanup",
                "environments": sum(counts.values()),
                "mix": counts,
                "seconds": round(seconds, 2),
                "exit_code": proc.returncode,
                "github_requests": len(requests),
                "github_requests_for_pull_requests": len(pull_requests),
                "distinct_pull_requests_asked_about": len(distinct),
                "note": "beyond one request per distinct pull request: one repository check per repository with a "
                "404 pull request, which tells a deleted pull request from an unreadable repository",
                "summary": {k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()},
                "targets": {"seconds_max": 60, "requests_max": "distinct pull requests"},
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
