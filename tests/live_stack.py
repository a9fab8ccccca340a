# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role observability's stack running on the local cluster's real node (docs/testing.md, "The observability stack
on the real node"): installed from the role's HelmCharts, and Prometheus' and Loki's HTTP APIs. Used by
tests/integration/test_real_observability.py and benchmarks/observability.py.

Not run here: Grafana (not served as a Go module), Alertmanager (not built) and Alloy (its module does not build
here); Promtail of Loki's release ships the pods' logs instead, with the role's Alloy pipeline (`alloy_as_promtail`).
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "cluster"))

import components
import realnode
import yaml
from charts import values_of
from harness import helm_chart, install_helm_chart
from localcluster import binaries

NAMESPACE = "observability"
RELEASE = "kube-prometheus-stack"  # role observability's observability_release
PROMETHEUS = f"/api/v1/namespaces/{NAMESPACE}/services/{RELEASE}-prometheus:http-web/proxy"
LOKI = f"/api/v1/namespaces/{NAMESPACE}/services/loki:http-metrics/proxy/loki"
TEXTFILE_DIR = "/var/lib/node_exporter/textfile_collector"  # role defaults: observability and schedules
ROLE_VARIABLES = {
    "observability_grafana_admin_password": "real-stack-admin-5e1d",
    "observability_grafana_host": "grafana.preview.example.com",
}


class StackError(RuntimeError):
    pass


def api(cluster, path: str, base: str = PROMETHEUS, **params):
    """Prometheus' (or, with base=LOKI, Loki's) HTTP API through the API server's service proxy: its `data`."""
    url = f"{cluster.server}{base}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, context=cluster.ssl_context(), timeout=60) as answer:  # noqa: S310 - https
        body = json.load(answer)
    if body.get("status") != "success":
        raise StackError(f"{path}: {body}")
    return body["data"]


def query(cluster, expr: str) -> list[dict]:
    return api(cluster, "query", query=expr)["result"]


def loki(cluster, expr: str, since: float = 3600) -> list[dict]:
    """Loki's query_range over the last `since` seconds: the streams (or, for a metric query, the series)."""
    now = time.time()
    return api(cluster, "query_range", base=LOKI, query=expr, start=int((now - since) * 1e9), end=int(now * 1e9))[
        "result"
    ]


def wait_for(probe, what: str, seconds: float = 300, every: float = 5):
    """Call probe() until it returns something true; raise naming `what` and the last value."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError, StackError) as error:  # not answering yet
            value = error
        if value and not isinstance(value, Exception):
            return value
        time.sleep(every)
    raise StackError(f"{what} not within {seconds}s; last: {value!r}"[:3000])


def kubectl(cluster, *args: str) -> str:
    done = subprocess.run(
        [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise StackError(f"kubectl {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def textfile_dir(cluster) -> pathlib.Path:
    """Node-exporter's textfile directory as this machine sees it (the node's /var/lib is a folder of its own)."""
    return cluster.real_node.var_lib / TEXTFILE_DIR.removeprefix("/var/lib/")


def install_metrics(cluster, kube, run_role) -> None:
    """The images imported, role observability applied (`run_role(**variables)` runs it and raises on failure), its
    kube-prometheus-stack HelmChart installed, and every pod of it that runs here ready."""
    cluster.real_node.import_images(list(realnode.OBSERVABILITY_TAGS), realnode.OBSERVABILITY_TAGS)
    textfile_dir(cluster).mkdir(parents=True, exist_ok=True)  # role schedules creates it on a server
    run_role()
    argv = [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}"]
    install_helm_chart(kube, argv, RELEASE)
    # not run here (module docstring): their pods would wait for images forever
    kubectl(cluster, "-n", NAMESPACE, "delete", "deployment", f"{RELEASE}-grafana", "--wait=false")
    kubectl(cluster, "-n", NAMESPACE, "delete", "alertmanager", "--all", "--wait=false")
    for target in (
        f"deployment/{RELEASE}-operator",
        f"deployment/{RELEASE}-kube-state-metrics",
        f"daemonset/{RELEASE}-prometheus-node-exporter",
    ):
        kubectl(cluster, "-n", NAMESPACE, "rollout", "status", target, "--timeout=240s")
    statefulset = f"prometheus-{RELEASE}-prometheus"
    wait_for(lambda: kube.get("StatefulSet", statefulset, NAMESPACE), f"the operator's StatefulSet {statefulset}")
    kubectl(cluster, "-n", NAMESPACE, "rollout", "status", f"statefulset/{statefulset}", "--timeout=300s")
    wait_for(lambda: query(cluster, 'up{job="kube-state-metrics"} == 1'), "kube-state-metrics scraped", 180)


def alloy_as_promtail(alloy_config: str, node: str, kubeconfig: str, loki_url: str, positions: str) -> dict:
    """The role's Alloy pipeline (alloy.config.j2, as rendered into the alloy HelmChart) as Promtail's configuration:
    the pods of `node` discovered from the API, each discovery.relabel rule as the relabel_config of the same fields
    (both are Prometheus' relabelling), stage.cri as the cri stage, loki.write's endpoint as the client (its cluster
    DNS name replaced by `loki_url`: Promtail runs on the node, outside the cluster's DNS). Refuses a pipeline with
    any other stage or component, which it could not translate."""
    components_used = set(re.findall(r"^([a-z_]+\.[a-z_.]+)\s+\"", alloy_config, re.MULTILINE))
    known = {"discovery.kubernetes", "discovery.relabel", "local.file_match", "loki.source.file", "loki.process"}
    if components_used - known - {"loki.write"} or set(re.findall(r"\bstage\.(\w+)", alloy_config)) != {"cri"}:
        raise StackError(f"the role's Alloy pipeline changed; translate it anew: {sorted(components_used)}")
    if not re.search(r'field\s*=\s*"spec\.nodeName="', alloy_config):
        raise StackError("the role's Alloy pipeline no longer selects the pods of its own node")
    push = r'url\s*=\s*"http://loki\.observability\.svc\.cluster\.local:3100/loki/api/v1/push"'
    if not re.search(push, alloy_config):
        raise StackError("the role's Alloy pipeline no longer writes to Loki's Service")
    rules = []
    for body in re.findall(r"\brule\s*\{([^}]*)\}", alloy_config):
        rules.append({key: json.loads(value) for key, value in re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", body, re.M)})
    return {
        "server": {"disable": True},
        "positions": {"filename": positions},
        "clients": [{"url": f"{loki_url}/loki/api/v1/push"}],
        "scrape_configs": [
            {
                "job_name": "pods",
                "kubernetes_sd_configs": [
                    {
                        "role": "pod",
                        "kubeconfig_file": kubeconfig,
                        "selectors": [{"role": "pod", "field": f"spec.nodeName={node}"}],
                    }
                ],
                "relabel_configs": rules,
                "pipeline_stages": [{"cri": {}}],
            }
        ],
    }


def install_logs(cluster, kube, folder: pathlib.Path) -> None:
    """Loki installed from its HelmChart (role observability applied before), and Promtail started on the node with
    the role's Alloy pipeline; returns once Loki holds the first lines."""
    argv = [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}"]
    install_helm_chart(kube, argv, "loki")
    wait_for(lambda: kube.get("StatefulSet", "loki", NAMESPACE), "Loki's StatefulSet")
    kubectl(cluster, "-n", NAMESPACE, "rollout", "status", "statefulset/loki", "--timeout=300s")
    alloy = values_of(helm_chart(kube, "alloy"))["alloy"]["configMap"]["content"]
    service = kube.get("Service", "loki", NAMESPACE)
    config = folder / "promtail.yaml"
    config.write_text(
        yaml.safe_dump(
            alloy_as_promtail(
                alloy,
                realnode.NODE_NAME,
                str(cluster.kubeconfig),
                f"http://{service['spec']['clusterIP']}:3100",
                str(folder / "positions.yaml"),
            )
        )
    )
    # HOSTNAME: the node's name, as the alloy chart sets it from spec.nodeName (Promtail also selects by it)
    cluster.real_node._start(
        "promtail",
        [str(components.binary("loki", "promtail")), f"-config.file={config}"],
        env={"HOSTNAME": realnode.NODE_NAME},
    )
    wait_for(lambda: loki(cluster, '{namespace="kube-system"}', 600), "the first log lines in Loki", 180)
