"""`make demo`: start a local cluster, bring the sample environment up with pr_up, show it, tear it down.

The local cluster runs no database operators; as in the tests, a stand-in (tests/fake_operators.py)
does what CloudNativePG does for readiness (its connection Secret and the Cluster's status). There is
no GitHub token, so the PR comment is printed instead of posted, and the health check is off because
simulated pods answer no HTTP.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from fake_operators import FakeOperators  # noqa: E402
from harness import ensure_priority_classes, playbook_env  # noqa: E402
from localcluster import LocalCluster, binaries  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube  # noqa: E402


def banner(text):
    print(f"\n==== {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "demo-cluster"))
    parser.add_argument("--config", default=str(REPO / "examples" / "sample-app" / "k8s-ee.yaml"))
    parser.add_argument("--keep", action="store_true", help="leave the environment and the cluster running")
    args = parser.parse_args()

    cluster = LocalCluster(args.cluster_dir)
    started = time.monotonic()
    cluster.start()
    banner(f"local Kubernetes ready in {time.monotonic() - started:.1f}s (KUBECONFIG={cluster.kubeconfig})")
    kube = Kube(kubeconfig=str(cluster.kubeconfig))
    ensure_priority_classes(kube)  # what site.yml's platform role installs
    operators = FakeOperators(kube)
    operators.thread.start()
    work = pathlib.Path(tempfile.mkdtemp(prefix="k8s-ee-demo-"))
    (work / "allowlist.yaml").write_text("mode: allowlist\norganizations: [demo-org]\n")
    # what a workflow passes: the event's values as environment variables (docs/security.md), the operator's
    # settings as extra vars (the demo runs as the cluster's admin, so it names the project pr_down acts on)
    event = {
        "K8S_EE_REPOSITORY": "demo-org/sample-app",
        "K8S_EE_PR_NUMBER": "1",
        "K8S_EE_HEAD_SHA": "0123456789ab" * 3 + "0123",
        "K8S_EE_BRANCH": "feature/demo",
        "K8S_EE_PR_AUTHOR": "octocat",
        "K8S_EE_AUTHOR_ASSOCIATION": "MEMBER",
        "K8S_EE_IMAGE": "ghcr.io/demo-org/sample-app@sha256:" + "ab" * 32,
    }
    settings = {
        "k8s_ee_domain": "preview.localhost",
        "k8s_ee_config_path": args.config,
        "k8s_ee_allowlist_path": str(work / "allowlist.yaml"),
        "k8s_ee_project_id": "demo",
        "k8s_ee_health_check": False,
        "k8s_ee_timeout": 300,
    }
    (work / "vars.json").write_text(json.dumps(settings))
    env = {**playbook_env(cluster.kubeconfig, json_output=False), **event}
    kubectl = [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}"]
    try:
        banner("pr_up: create the environment of PR 1 (app + PostgreSQL + Redis + MariaDB)")
        up = subprocess.run(
            ["ansible-playbook", str(REPO / "playbooks" / "pr_up.yml"), "-e", f"@{work / 'vars.json'}"],
            env=env,
            check=False,
        )
        if up.returncode != 0:
            return up.returncode
        banner("what is in namespace demo-pr-1")
        subprocess.run(
            [
                *kubectl,
                "get",
                "-n",
                "demo-pr-1",
                "deployment,statefulset,service,ingress,configmap,secret,"
                "networkpolicy,resourcequota,limitrange,clusters.postgresql.cnpg.io",
            ],
            check=False,
        )
        subprocess.run([*kubectl, "describe", "resourcequota", "-n", "demo-pr-1", "environment-quota"], check=False)
        if args.keep:
            return 0
        banner("pr_down: destroy it")
        down = subprocess.run(
            ["ansible-playbook", str(REPO / "playbooks" / "pr_down.yml"), "-e", f"@{work / 'vars.json'}"],
            env=env,
            check=False,
        )
        return down.returncode
    finally:
        operators.stop.set()
        if not args.keep:
            cluster.stop()
            banner("local Kubernetes stopped")


if __name__ == "__main__":
    sys.exit(main())
