"""Benchmark of pr_up / pr_down on the local cluster, against a kubectl baseline. Prints JSON.

    python3 benchmarks/pr_lifecycle.py [--runs N]

One environment (app + PostgreSQL + Redis, the sample app) is brought up cold (to Ready), up again
(no-op), and down (to namespace gone) with the collection's playbooks; then the same rendered objects
go through `kubectl apply --server-side` followed by the same waits (`kubectl wait` for PostgreSQL, `kubectl rollout
status` for Redis and the app, then `kubectl wait` until every pod is Running, as pr_up waits for every container to
run) and `kubectl delete namespace --wait`. Seconds, Kubernetes API requests (the environment module's own count; for
kubectl the requests it logs at -v=6) and GitHub requests (the local GitHub server's log) are reported.
Each is run --runs times (3), in alternating rounds; the median run of each is compared (the namespace
controller's timing alone moves a deletion by a second or more from one run to the next).
The floor is pr_up's play with one task that does nothing (its header: vars_files, module_defaults), run in the
same rounds: no pr_up playbook, however its work were arranged, can be faster than that `ansible-playbook` run.
No operator runs in the local cluster: the stand-in of tests/integration/conftest.py makes PostgreSQL
ready the way CloudNativePG would, in both runs alike.
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

from _playbook import event, playbook, settings  # noqa: E402
from localcluster import LocalCluster, binaries  # noqa: E402

CONFIG = {"projectId": "bench", "databases": {"postgresql": True, "redis": True}}
IMAGE = "registry.example/bench@sha256:" + "4" * 64
# the targets (docs/testing.md, Benchmarks): cold pr_up within 2x kubectl, a no-op re-run within 1.5x kubectl's
# no-op apply (and nothing changed), pr_down within kubectl delete + 1 s
TARGETS = {"up_vs_baseline_max": 2.0, "up_again_vs_baseline_max": 1.5, "down_minus_baseline_seconds_max": 1.0}


def run_playbook(name, variables, env):
    run = playbook(name, variables, env).check()
    api = sum(result.get("api_requests", 0) or 0 for _name, result, _seconds in run.tasks())
    changed = run.data["stats"]["localhost"]["changed"]
    return {"seconds": round(run.seconds, 2), "kubernetes_api_requests": api, "changed_tasks": changed}


def floor_playbook(directory: pathlib.Path) -> pathlib.Path:
    """pr_up's play with one debug task instead of its tasks: what `ansible-playbook` itself costs for it."""
    source = (REPO / "playbooks" / "pr_up.yml").read_text()
    header = source[: source.index("  tasks:")].replace("- vars/inputs.yml", f"- {REPO / 'playbooks/vars/inputs.yml'}")
    path = directory / "floor.yml"
    path.write_text(header + "  tasks:\n    - name: Nothing\n      ansible.builtin.debug:\n        msg: floor\n")
    return path


def kubectl(args, kubeconfig, count=True):
    argv = [str(binaries()["kubectl"]), f"--kubeconfig={kubeconfig}", "-v=6", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed: {proc.stderr[-2000:]}")
    requests = sum(1 for line in proc.stderr.splitlines() if " milliseconds" in line and "https://" in line)
    return requests


def baseline(cluster, kube, namespace):
    """kubectl apply --server-side of the same objects, then the same waits, then delete."""
    import yaml

    from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _lifecycle, _render, _timestamps

    config = _config.normalise(CONFIG)
    creds = _render.credentials(_config.enabled_databases(config), {})
    pr = {
        "repository": "acme/bench",
        "number": 2,
        "head_sha": "b" * 40,
        "branch": "bench",
        "author": "bench",
        "now": _timestamps.now_rfc3339(),
    }
    objects = _render.render(
        namespace, config, pr, IMAGE, f"{namespace}.bench.example.com", {}, _lifecycle.api_endpoints(kube), creds
    )
    manifest = pathlib.Path(tempfile.mkstemp(suffix=".yaml")[1])
    manifest.write_text(yaml.safe_dump_all(objects))
    kubeconfig = str(cluster.kubeconfig)
    requests = 0
    started = time.monotonic()
    requests += kubectl(["apply", "--server-side", "--field-manager=k8s-ee", "-f", str(manifest)], kubeconfig)
    requests += kubectl(
        ["wait", "-n", namespace, "--for=condition=Ready", "--timeout=300s", "clusters.postgresql.cnpg.io/postgresql"],
        kubeconfig,
    )
    requests += kubectl(["rollout", "status", "-n", namespace, "deployment/redis", "--timeout=300s"], kubeconfig)
    requests += kubectl(["rollout", "status", "-n", namespace, "deployment/app", "--timeout=300s"], kubeconfig)
    rollout_seconds = time.monotonic() - started
    # pr_up's wait also wants every container running (docs/pr-lifecycle.md, step 4): a rollout status alone ends
    # while the simulated node still reports the containers waiting in ContainerCreating (with ready true)
    requests += kubectl(
        ["wait", "-n", namespace, "--for=jsonpath={.status.phase}=Running", "--timeout=300s", "pod", "--all"],
        kubeconfig,
    )
    up_seconds = time.monotonic() - started
    started = time.monotonic()
    again = kubectl(["apply", "--server-side", "--field-manager=k8s-ee", "-f", str(manifest)], kubeconfig)
    again_seconds = time.monotonic() - started
    started = time.monotonic()
    down = kubectl(["delete", "namespace", namespace, "--wait=true", "--timeout=300s"], kubeconfig)
    down_seconds = time.monotonic() - started
    return {
        "up": {
            "seconds": round(up_seconds, 2),
            "kubernetes_api_requests": requests,
            "rollout_status_seconds": round(rollout_seconds, 2),
        },
        "up_again": {"seconds": round(again_seconds, 2), "kubernetes_api_requests": again},
        "down": {"seconds": round(down_seconds, 2), "kubernetes_api_requests": down},
    }


def median_of(samples: list[dict]) -> dict:
    """The run with the median seconds (API and GitHub requests of that same run), and every run's seconds."""
    ordered = sorted(samples, key=lambda sample: sample["seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "runs_seconds": [sample["seconds"] for sample in samples]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cluster-dir", default=str(REPO / ".build" / "bench-cluster"))
    parser.add_argument("--runs", type=int, default=3, help="rounds of each; the median is compared (default 3)")
    args = parser.parse_args()

    from fake_operators import FakeOperators
    from github_fake import FakeGitHub
    from harness import ensure_platform_prerequisites, playbook_env

    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    cluster = LocalCluster(args.cluster_dir)
    cluster.start()
    samples = {"up": [], "up_again": [], "down": [], "floor": []}
    baseline_samples = {"up": [], "up_again": [], "down": []}
    try:
        kube = Kube(kubeconfig=str(cluster.kubeconfig))
        ensure_platform_prerequisites(kube)
        operators = FakeOperators(kube)
        operators.thread.start()
        work = pathlib.Path(tempfile.mkdtemp())
        (work / "k8s-ee.yaml").write_text(json.dumps(CONFIG))
        (work / "allowlist.yaml").write_text("mode: disabled\n")
        with FakeGitHub() as github:
            env = playbook_env(cluster.kubeconfig, github.token)
            env.update(event(1, IMAGE))  # the event's values, as the workflows pass them
            variables = {**settings(work, github.url), "k8s_ee_collect_logs": False}
            # rounds alternate, so that a slower moment of the machine falls on both sides alike
            for _round in range(args.runs):
                for label, name in (("up", "pr_up"), ("up_again", "pr_up"), ("down", "pr_down")):
                    before = len(github.requests)
                    result = run_playbook(name, variables, env)
                    result["github_requests"] = len(github.requests) - before
                    samples[label].append(result)
                floor = playbook(floor_playbook(work), variables, env).check()
                samples["floor"].append({"seconds": round(floor.seconds, 2)})
                for label, result in baseline(cluster, kube, "bench-pr-2").items():
                    baseline_samples[label].append(result)
        operators.stop.set()
    finally:
        cluster.stop()
    floor = median_of(samples.pop("floor"))
    results = {label: median_of(runs) for label, runs in samples.items()}
    results_baseline = {label: median_of(runs) for label, runs in baseline_samples.items()}
    ratios = {
        "up_vs_baseline": round(results["up"]["seconds"] / results_baseline["up"]["seconds"], 2),
        # the same against kubectl stopping at its rollout statuses, before the containers run (for comparison)
        "up_vs_rollout_status": round(results["up"]["seconds"] / results_baseline["up"]["rollout_status_seconds"], 2),
        "up_again_vs_baseline": round(results["up_again"]["seconds"] / results_baseline["up_again"]["seconds"], 2),
        "down_minus_baseline_seconds": round(results["down"]["seconds"] - results_baseline["down"]["seconds"], 2),
        # no pr_up run is faster than its floor: above the no-op target, that target is out of any playbook's reach
        "floor_vs_up_again_baseline": round(floor["seconds"] / results_baseline["up_again"]["seconds"], 2),
    }
    report = {
        "benchmark": "pr_lifecycle",
        "environment": "app + postgresql + redis on the local cluster (1 simulated 4 CPU / 24 GiB node)",
        "runs": args.runs,
        "playbooks": results,
        "kubectl_baseline": results_baseline,
        "ansible_playbook_floor": floor,
        "ratios": ratios,
        "targets": TARGETS,
        "met": {
            "up": ratios["up_vs_baseline"] <= TARGETS["up_vs_baseline_max"],
            "up_again": ratios["up_again_vs_baseline"] <= TARGETS["up_again_vs_baseline_max"]
            and all(sample["changed_tasks"] == 0 for sample in samples["up_again"]),
            "down": ratios["down_minus_baseline_seconds"] <= TARGETS["down_minus_baseline_seconds_max"],
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
