"""Benchmark of the status and cleanup playbooks over 1,000 environments of 50 repositories on the local
cluster. Prints JSON.

    python3 benchmarks/cleanup.py [--environments 1000] [--repositories 50]

A mix of environments whose pull requests are open, closed (past the grace period), merged, gone
(404 on a readable repository), preserved, and unknown (the local GitHub answers 403); every fifth
environment is a second project of the same pull request. Reports the seconds of one `ansible-playbook
status` run and of one `ansible-playbook cleanup` run, the GitHub requests cleanup sent and the number of
distinct pull requests it had to ask about. Targets (docs/testing.md, Benchmarks): status within 5 s,
cleanup within 30 s with no more requests for pull requests than distinct pull requests.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from _playbook import playbook  # noqa: E402
from localcluster import LocalCluster  # noqa: E402

NOW = 1_900_000_000
KINDS = ("open", "closed", "merged", "gone", "preserved", "unknown")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--environments", type=int, default=1000)
    parser.add_argument("--repositories", type=int, default=50)
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
                # every fifth namespace is a second project ("-web") of the previous one's pull request
                second = index % 5 == 4
                base = index - 1 if second else index
                repository = f"acme/svc{base % args.repositories:02d}"
                number = 1000 + base // args.repositories
                kind = KINDS[base % len(KINDS)]
                project = f"svc{base % args.repositories:02d}" + ("-web" if second else "")
                name = f"{project}-pr-{number}"
                labels = {
                    "app.kubernetes.io/managed-by": "k8s-ee",
                    "k8s-ee/type": "ephemeral",
                    "k8s-ee/project-id": project,
                    "k8s-ee/pr-number": str(number),
                }
                if kind == "preserved":
                    labels["k8s-ee/preserve"] = "true"
                kube.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": name, "labels": labels, "annotations": {"k8s-ee/repository": repository}},
                    }
                )
                counts[kind] += 1
                if second:
                    continue  # its pull request is the previous namespace's
                if kind != "preserved":
                    distinct.add((repository, number))
                if kind == "open":
                    github.set_pull(repository, number, state="open")
                elif kind in ("closed", "merged"):
                    github.set_pull(
                        repository, number, state="closed", merged=kind == "merged", closed_at="2030-01-01T00:00:00Z"
                    )
                elif kind == "unknown":
                    github.set_pull(repository, number, state="closed", closed_at="2030-01-01T00:00:00Z")
                    # e.g. a token without access to that repository
                    github.fail_next(rf"/repos/{re.escape(repository)}/pulls/{number}$", 403, times=1000)
            env = playbook_env(cluster.kubeconfig, github.token)
            status = playbook("status", None, env).check()
            before = len(github.requests)
            variables = {"k8s_ee_github_api_url": github.url, "k8s_ee_now": NOW, "k8s_ee_max_deletions_per_run": 10}
            run = playbook("cleanup", variables, env)
            summary = {}
            for name, result, _seconds in run.tasks():
                if name == "Print the summary" and "msg" in result:
                    summary = json.loads(result["msg"])
            requests = github.requests[before:]
            pull_requests = {r["path"] for r in requests if "/pulls/" in r["path"]}
    finally:
        cluster.stop()
    print(
        json.dumps(
            {
                "benchmark": "cleanup",
                "environments": sum(counts.values()),
                "repositories": args.repositories,
                "mix": counts,
                "status_seconds": round(status.seconds, 2),
                "seconds": round(run.seconds, 2),
                "exit_code": run.returncode,
                "github_requests": len(requests),
                "github_requests_for_pull_requests": len(pull_requests),
                "distinct_pull_requests_asked_about": len(distinct),
                "note": "beyond one request per distinct pull request: one repository check per repository with a "
                "404 pull request, which tells a deleted pull request from an unreadable repository",
                "summary": {k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()},
                "targets": {"status_seconds_max": 5, "seconds_max": 30, "requests_max": "distinct pull requests"},
                "met": {
                    "status": status.seconds <= 5,
                    "cleanup": run.seconds <= 30 and len(pull_requests) <= len(distinct),
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
