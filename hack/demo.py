"""`make demo`: start a local cluster with a real node, bring the sample app up with pr_up, show it working,
tear it down.

The node runs real containers (tests/cluster/realnode.py, docs/testing.md "The real node"): the sample app
of examples/sample-app with Redis, MariaDB and PostgreSQL through CloudNativePG, whose operator is installed
from its pinned chart with role operators' values. There is no GitHub token, so the PR comment is printed
instead of posted. The cluster has the edge of tests/cluster/edge.py: Traefik started with the arguments k3s' chart
renders for role platform, and Pebble as its ACME certificate authority, so the preview URL is opened as a reviewer
opens it: over HTTPS, with a certificate issued for its host (curl --resolve points the host at Traefik's loopback
port, --cacert trusts Pebble's root).
"""

import argparse
import json
import os
import pathlib
import ssl
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from edge import fetch, pebble_context, wait_for  # noqa: E402
from harness import ensure_platform_prerequisites, install_helm_chart, playbook_env  # noqa: E402
from localcluster import LocalCluster, binaries  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube  # noqa: E402

SAMPLE_APP = "localhost/k8s-ee-sample-app:1"


def banner(text):
    print(f"\n==== {text}", flush=True)


def preview_url(cluster, host) -> bool:
    """GET https://<host>/ through the edge, as the printed curl command does; True when it answers 200."""
    edge = cluster.status()["edge"]
    port, root = edge["https_port"], edge["pebble_root"]
    print(f"curl --resolve {host}:{port}:127.0.0.1 --cacert {root} https://{host}:{port}/")
    try:  # Traefik serves its own certificate until Pebble's is issued, which the verification refuses
        answer = wait_for(
            lambda: (got := _try(lambda: fetch(port, host, tls=pebble_context(root)))) and got.status == 200 and got,
            f"https://{host}/ answering 200",
            timeout=60,
        )
    except AssertionError as error:
        print(error)
        return False
    print(f"HTTP {answer.status}, X-Robots-Tag: {answer.headers.get('x-robots-tag')}")
    print(answer.body.decode(errors="replace"))
    redirect = fetch(edge["http_port"], host)
    print(f"http://{host}/ -> {redirect.status} {redirect.headers.get('location')}")
    return True


def _try(call):
    try:
        return call()
    except (OSError, ssl.SSLError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "demo-cluster"))
    parser.add_argument("--config", default=str(REPO / "examples" / "sample-app" / "k8s-ee.yaml"))
    parser.add_argument("--keep", action="store_true", help="leave the environment and the cluster running")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("make demo starts a real kubelet node: run it as root (docs/testing.md)", file=sys.stderr)
        return 2

    cluster = LocalCluster(args.cluster_dir, nodes=0, real_node=True, edge=True)
    started = time.monotonic()
    cluster.start()
    banner(f"local Kubernetes with a real node ready in {time.monotonic() - started:.1f}s")
    print(f"KUBECONFIG={cluster.kubeconfig}")
    kube = Kube(kubeconfig=str(cluster.kubeconfig))
    ensure_platform_prerequisites(kube)  # what site.yml's platform role installs
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
        # pr_build hands pr_up the image by digest; the node has the sample app's image under that name
        "K8S_EE_IMAGE": cluster.real_node.pinned(SAMPLE_APP),
    }
    settings = {
        "k8s_ee_domain": "preview.localhost",
        "k8s_ee_config_path": args.config,
        "k8s_ee_allowlist_path": str(work / "allowlist.yaml"),
        "k8s_ee_project_id": "demo",
        "k8s_ee_health_check": True,
        "k8s_ee_timeout": 300,
    }
    (work / "vars.json").write_text(json.dumps(settings))
    env = {**playbook_env(cluster.kubeconfig, json_output=False), **event}
    kubectl = [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}"]

    def playbook(path, *extra):
        return subprocess.run(
            ["ansible-playbook", str(path), "-e", f"@{work / 'vars.json'}", *extra], env=env, check=False
        )

    def app(path):
        raw = f"/api/v1/namespaces/demo-pr-1/services/app:http/proxy{path}"
        answer = subprocess.run([*kubectl, "get", "--raw", raw], capture_output=True, text=True, check=False)
        print(f"GET {path} -> {(answer.stdout or answer.stderr).strip()}")
        return answer.returncode == 0

    try:
        banner("role operators: CloudNativePG's HelmChart, installed from the pinned chart as k3s would")
        role = playbook(
            REPO / "tests" / "integration" / "playbooks" / "role.yml",
            "-e",
            "k8s_ee_test_role=operators operators_mongodb_enabled=false operators_minio_enabled=false",
        )
        if role.returncode != 0:
            return role.returncode
        install_helm_chart(kube, kubectl, "cloudnative-pg")
        subprocess.run([*kubectl, "-n", "cnpg-system", "rollout", "status", "deployment", "--timeout=180s"], check=True)

        banner("pr_up: the environment of PR 1 (app + PostgreSQL + Redis + MariaDB), health check included")
        up_started = time.monotonic()
        up = playbook(REPO / "playbooks" / "pr_up.yml")
        if up.returncode != 0:
            return up.returncode
        banner(f"pr_up took {time.monotonic() - up_started:.1f}s; what runs in namespace demo-pr-1")
        subprocess.run(
            [*kubectl, "get", "-n", "demo-pr-1", "pods,pvc,clusters.postgresql.cnpg.io", "-o", "wide"], check=False
        )
        banner("the preview URL, as a reviewer opens it: HTTPS through Traefik, Pebble's certificate for the host")
        working = preview_url(cluster, f"demo-pr-1.{settings['k8s_ee_domain']}")
        banner("the app, through the API server's service proxy: each database written and read back")
        working = all([working, app("/"), *(app(f"/check/{db}") for db in ("postgresql", "redis", "mariadb"))])
        subprocess.run([*kubectl, "describe", "resourcequota", "-n", "demo-pr-1", "environment-quota"], check=False)
        if args.keep:
            return 0 if working else 1
        banner("pr_down: destroy it")
        down = playbook(REPO / "playbooks" / "pr_down.yml")
        return down.returncode or (0 if working else 1)
    finally:
        if not args.keep:
            cluster.stop()
            banner("local Kubernetes stopped; the host is as it was (docs/testing.md)")


if __name__ == "__main__":
    sys.exit(main())
