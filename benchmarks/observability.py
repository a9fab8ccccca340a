"""Benchmark of role observability's stack running on the local cluster's real node: resident memory under load,
against the 6 GB budget, and the samples Prometheus ingests per second. Prints JSON.

    python3 benchmarks/observability.py [--minutes 20]   # as root (it starts the real node)

The stack is installed as tests/integration/test_real_observability.py installs it (tests/live_stack.py: role
observability's HelmCharts rendered from the pinned charts; Prometheus, prometheus-operator, kube-state-metrics,
node-exporter and Loki built from their Go modules; Promtail in place of Alloy, whose module does not build here;
no Grafana, no Alertmanager). The baseline is the stack right after it is ready, with no environment. Then the
load: three environments of the sample app (its ServiceMonitor scraped every 15 s), asked for a page in turn, up to
ten requests a second in all, through their Services (every request is a log line for Loki and a counter for
Prometheus; the report counts them), while Prometheus
scrapes everything the role configures. Every minute: the resident memory (cAdvisor's container_memory_rss, as
the kubelet reports it) of each observability pod, Promtail's (its VmRSS), the samples appended per second and
the head series. An hour of this takes an hour: the run is as long as asked, and the memory an hour would reach is
extrapolated from the growth over the second half of the run (a straight line, said so in the report).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import threading
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "cluster"), str(REPO / "tests"), str(REPO / ".build" / "collections")]

from _playbook import event, playbook  # noqa: E402
from harness import ensure_platform_prerequisites, playbook_env  # noqa: E402
from live_stack import NAMESPACE, ROLE_VARIABLES, install_logs, install_metrics, query  # noqa: E402
from localcluster import LocalCluster  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube  # noqa: E402

BUDGET_BYTES = 6 * 10**9  # docs/observability.md: observability < 6 GB
ENVIRONMENTS = (1, 2, 3)
REQUESTS_PER_SECOND = 10
MIB = 1024 * 1024


def role(cluster: LocalCluster, name: str, variables: dict) -> None:
    playbook(
        REPO / "tests" / "integration" / "playbooks" / "role.yml",
        {"k8s_ee_test_role": name, **variables},
        playbook_env(cluster.kubeconfig),
    ).check()


def pr_up(cluster: LocalCluster, work: pathlib.Path, number: int) -> None:
    config = work / f"k8s-ee-{number}.yaml"
    config.write_text(
        json.dumps(
            {
                "projectId": "bench",
                "app": {"port": 8080, "healthPath": "/healthz"},
                "metrics": {"enabled": True, "interval": "15s"},
            }
        )
    )
    (work / "allowlist.yaml").write_text("mode: allowlist\norganizations: [bench]\n")
    variables = {
        "k8s_ee_domain": "preview.example.com",
        "k8s_ee_config_path": str(config),
        "k8s_ee_allowlist_path": str(work / "allowlist.yaml"),
        "k8s_ee_project_id": "bench",
        "k8s_ee_timeout": 300,
    }
    image = cluster.real_node.pinned("localhost/k8s-ee-sample-app:1")
    env = {**playbook_env(cluster.kubeconfig), **event(number, image, "bench/sample-app")}
    playbook("pr_up", variables, env).check()


def load(cluster: LocalCluster, stop: threading.Event, answered: list) -> None:
    """Requests to each environment's app, REQUESTS_PER_SECOND in all, through the API server's service proxy."""
    context = cluster.ssl_context()
    while not stop.is_set():
        for number in ENVIRONMENTS:
            url = f"{cluster.server}/api/v1/namespaces/bench-pr-{number}/services/app:http/proxy/"
            try:
                with urllib.request.urlopen(url, context=context, timeout=10) as answer:  # noqa: S310 - https
                    answer.read()
                answered[0] += 1
            except OSError:
                answered[1] += 1
            time.sleep(1 / REQUESTS_PER_SECOND)


def rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sample(cluster: LocalCluster, started: float) -> dict:
    def value(expr: str) -> float:
        result = query(cluster, expr)
        return float(result[0]["value"][1]) if result else 0.0

    pods = {
        r["metric"]["pod"]: round(float(r["value"][1]) / MIB, 1)
        for r in query(cluster, f'sum by (pod) (container_memory_rss{{namespace="{NAMESPACE}", container!=""}})')
    }
    promtail = [entry["pid"] for entry in cluster._state() if entry["name"] == "promtail"]
    promtail_mib = round(rss_kib(promtail[0]) / 1024, 1) if promtail else 0.0
    return {
        "minute": round((time.monotonic() - started) / 60, 1),
        "stack_rss_mib": round(sum(pods.values()) + promtail_mib, 1),
        "pods_rss_mib": pods,
        "promtail_rss_mib": promtail_mib,
        "samples_appended_per_second": round(value("rate(prometheus_tsdb_head_samples_appended_total[2m])"), 1),
        "head_series": int(value("prometheus_tsdb_head_series")),
        "loki_lines_per_second": round(value("sum(rate(loki_distributor_lines_received_total[2m]))"), 2),
    }


def slope_per_minute(points: list[dict]) -> float:
    """Least-squares growth of stack_rss_mib per minute over the second half of the samples."""
    half = points[len(points) // 2 :]
    if len(half) < 2:
        return 0.0
    xs, ys = [p["minute"] for p in half], [p["stack_rss_mib"] for p in half]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / denominator if denominator else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--minutes", type=float, default=20, help="how long the load runs (default 20)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the real node needs root (docs/testing.md)")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="k8s-ee-bench-observability-"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="k8s-ee-bench-"))
    cluster = LocalCluster(workdir, nodes=0, real_node=True)
    report: dict = {"minutes_of_load": args.minutes}
    stop, answered = threading.Event(), [0, 0]
    try:
        cluster.start()
        kube = Kube(kubeconfig=str(cluster.kubeconfig))
        ensure_platform_prerequisites(kube)
        install_metrics(cluster, kube, lambda: role(cluster, "observability", ROLE_VARIABLES))
        install_logs(cluster, kube, work)
        time.sleep(120)  # two minutes for the rate() windows
        report["baseline"] = sample(cluster, time.monotonic())
        for number in ENVIRONMENTS:
            pr_up(cluster, work, number)
        loader = threading.Thread(target=load, args=(cluster, stop, answered), daemon=True)
        started = time.monotonic()
        loader.start()
        points = []
        while time.monotonic() - started < args.minutes * 60:
            time.sleep(60)
            points.append(sample(cluster, started))
            print(json.dumps(points[-1]), file=sys.stderr, flush=True)
        stop.set()
        loader.join(30)
        last, slope = points[-1], slope_per_minute(points)
        hour = last["stack_rss_mib"] + slope * max(0.0, 60 - last["minute"])
        report.update(
            {
                "under_load": points,
                "requests": {"answered": answered[0], "failed": answered[1]},
                "growth_mib_per_minute_second_half": round(slope, 2),
                "extrapolated_after_one_hour_mib": round(hour, 1),
                "extrapolation": "straight line through the second half of the run's minutes",
                "budget_mib": round(BUDGET_BYTES / MIB, 1),
                "within_budget_after_one_hour": hour * MIB < BUDGET_BYTES,
                "not_included": "Grafana and Alertmanager (not run here); Alloy measured as Promtail, its stand-in",
            }
        )
    finally:
        stop.set()
        cluster.stop()
        mounted = [line.split()[1] for line in pathlib.Path("/proc/mounts").read_text().splitlines()]
        if not any(point.startswith(str(workdir)) for point in mounted):
            shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0 if report.get("within_budget_after_one_hour") else 1


if __name__ == "__main__":
    sys.exit(main())
