"""`make demo`: start a local cluster, bring a sample environment up, show it, tear everything down."""

import argparse
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "cluster"))

from localcluster import LocalCluster  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "demo-cluster"))
    parser.add_argument("--config", default=str(REPO / "examples" / "sample-app" / "k8s-ee.yaml"))
    parser.add_argument("--keep", action="store_true", help="leave the cluster running afterwards")
    args = parser.parse_args()

    cluster = LocalCluster(args.cluster_dir)
    started = time.monotonic()
    cluster.start()
    print(f"\n== local Kubernetes ready in {time.monotonic() - started:.1f}s (KUBECONFIG={cluster.kubeconfig})\n")
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(cluster.kubeconfig))
    try:
        return subprocess.run(
            ["ansible-playbook", str(REPO / "hack" / "demo.yml"), "-e", f"demo_config={args.config}"],
            env=env,
            check=False,
        ).returncode
    finally:
        if not args.keep:
            cluster.stop()
            print("== local Kubernetes stopped")


if __name__ == "__main__":
    sys.exit(main())
