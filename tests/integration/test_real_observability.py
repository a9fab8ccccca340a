# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability stack really runs: role observability's charts on the local cluster's real node.

Role observability writes its HelmCharts; each is rendered from the pinned chart with the HelmChart's values and
applied as k3s' helm-controller would (tests/harness.py `install_helm_chart`). Its images are the upstream programs
built from their Go modules at the versions the charts ship (tests/cluster/components.py, images.py):
prometheus-operator turns the ServiceMonitors, PodMonitors and the role's PrometheusRule into Prometheus'
configuration; Prometheus scrapes kube-state-metrics (with the role's label and annotation allow-lists),
node-exporter (with the schedules' textfile directory), the kubelet and cAdvisor, the API server and the
environments' own ServiceMonitors; Loki runs in single-binary mode with the role's storage and schema. Not run here
(docs/testing.md): Grafana, whose module is not served here (its dashboards are proven through their queries),
Alertmanager (the alerts are read from Prometheus' API), and Alloy, whose module does not build here (the proxy
refuses two of its requirements): its stand-in is Promtail of Loki's own release, given the role's Alloy pipeline
translated rule for rule (`alloy_as_promtail`), as a process on the node rather than a DaemonSet.

Each scenario is a real event: a healthy pr_up, an app that crashes, an environment filling its quota, a cleanup
run that fails. The alert thresholds a test cannot wait for (15 minutes) are role settings, shortened here.
"""

import json
import pathlib
import re
import subprocess

import pytest
import realnode
from conftest import module_cluster
from live_stack import (
    RELEASE,
    ROLE_VARIABLES,
    install_logs,
    install_metrics,
    loki,
    query,
    textfile_dir,
)
from live_stack import api as prometheus
from live_stack import wait_for as wait_until
from observability import dashboard_queries, label_values_selector, resolve_grafana_variables
from test_real_node import PROBE, Environments
from test_real_node import pytestmark as real_node_marks

pytestmark = real_node_marks  # cluster, real_node, root only

REPO = pathlib.Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "roles" / "observability" / "files" / "dashboards"
# the alert thresholds the scenarios cannot wait for (defaults 15 min): the expressions are the role's
SHORTENED = {"observability_alert_never_ready_minutes": 1, "observability_alert_quota_pressure_for": "30s"}
METRICS = {"metrics": {"enabled": True, "interval": "15s"}}  # the sample app serves /metrics


@pytest.fixture(scope="module")
def node_cluster(host_before, tmp_path_factory):
    # without the edge: Traefik in the node's network namespace would hold port 9100 (its metrics entry point),
    # which node-exporter (host network) listens on; on a server Traefik is a pod with an address of its own
    with module_cluster(tmp_path_factory, "real-node", nodes=0, real_node=True) as local:
        yield local


@pytest.fixture(autouse=True)
def no_leftover_namespaces():
    """Environments of this module live on its own cluster and are shared between its tests."""
    yield


@pytest.fixture(scope="module")
def environments(node_cluster, node_playbooks, tmp_path_factory):
    return Environments(node_cluster, node_playbooks, tmp_path_factory.mktemp("environments"))


def wait_for(probe, what, seconds=300, every=5):
    """live_stack.wait_for, its timeout a test failure that names what did not come."""
    try:
        return wait_until(probe, what, seconds, every)
    except RuntimeError as error:
        pytest.fail(str(error))


def firing(cluster, alertname, namespace=None):
    selector = f'alertname="{alertname}", alertstate="firing"' + (f', namespace="{namespace}"' if namespace else "")
    return query(cluster, f"ALERTS{{{selector}}}")


@pytest.fixture(scope="module")
def stack(node_cluster, node_kube, node_playbooks):
    """Role observability applied, its kube-prometheus-stack chart installed, every pod of it running."""

    def run_role():
        run = node_playbooks.role("observability", **ROLE_VARIABLES, **SHORTENED)
        assert run.rc == 0, run

    install_metrics(node_cluster, node_kube, run_role)
    return node_cluster


def test_prometheus_scrapes_every_target_the_configuration_names(stack):
    def targets():
        active = prometheus(stack, "targets", state="active")["activeTargets"]
        jobs = {t["labels"]["job"] for t in active}
        wanted = {"kube-state-metrics", "node-exporter", "kubelet", "apiserver", f"{RELEASE}-operator"}
        if wanted <= jobs and all(t["health"] == "up" for t in active):
            return active
        return None

    active = wait_for(targets, "every target up", 180)
    by_job = {}
    for target in active:
        by_job.setdefault(target["labels"]["job"], []).append(target["labels"].get("metrics_path", "/metrics"))
    # the kubelet's three endpoints (additionalScrapeConfigs: the token never leaves Prometheus' own configuration)
    assert sorted(by_job["kubelet"]) == ["/metrics", "/metrics/cadvisor", "/metrics/probes"], by_job
    # the role's rules are loaded: the operator turned the PrometheusRule into a rule file
    groups = {g["name"] for g in prometheus(stack, "rules")["groups"]}
    assert {"k8s-ee.records", "k8s-ee.platform", "k8s-ee.environments", "k8s-ee.schedules"} <= groups, groups


@pytest.fixture(scope="module")
def healthy(stack, environments):
    result = environments.up(1, {}, more=METRICS)
    assert result.rc == 0, result
    return environments.namespaces[1]


def test_a_healthy_environment_gets_its_time_to_ready_recorded(stack, healthy, node_kube):
    records = wait_for(
        lambda: query(stack, f'k8s_ee:environment_time_to_ready_seconds{{namespace="{healthy}"}}'),
        "the time-to-ready record",
        180,
    )
    seconds = float(records[0]["value"][1])
    # ready-at as Prometheus first saw it (at most a scrape and an evaluation late) minus the namespace's creation
    assert 0 < seconds < 300, records
    assert node_kube.get("Namespace", healthy)["metadata"]["annotations"]["k8s-ee/ready-at"]
    # the app's own ServiceMonitor is scraped
    assert wait_for(lambda: query(stack, f'up{{job="app", namespace="{healthy}"}} == 1'), "the app's target", 120)


def test_an_app_that_crashes_fires_never_ready(stack, environments):
    # the app binds port 80 as a non-root user: it exits at once, the kubelet restarts it, pr_up gives up
    result = environments.up(2, {}, app={"port": 80}, more=METRICS, k8s_ee_timeout=25)
    assert result.rc != 0, result
    namespace = environments.namespaces[2]
    alerts = wait_for(lambda: firing(stack, "K8sEeEnvironmentNeverReady", namespace), "K8sEeEnvironmentNeverReady", 240)
    assert alerts[0]["metric"]["severity"] == "info"
    # a healthy environment does not fire it
    assert not firing(stack, "K8sEeEnvironmentNeverReady", environments.namespaces[1])


def test_an_environment_near_its_quota_fires_quota_pressure(stack, healthy, node_kube):
    quota = node_kube.list("ResourceQuota", healthy)[0]
    hard, used = quota["spec"]["hard"], quota["status"]["used"]
    room = int(hard["configmaps"]) - int(used["configmaps"])
    # what a user does: the app or a CI job keeps creating ConfigMaps until the quota is nearly full
    for i in range(room - 1):
        node_kube.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"filler-{i}", "namespace": healthy}}
        )
    try:
        alerts = wait_for(lambda: firing(stack, "K8sEeQuotaPressure", healthy), "K8sEeQuotaPressure", 240)
        assert {a["metric"]["resource"] for a in alerts} == {"configmaps"}, alerts
    finally:
        for i in range(room - 1):
            node_kube.delete("ConfigMap", f"filler-{i}", healthy)


def test_a_failing_cleanup_run_fires_the_schedule_alert(stack, node_playbooks, tmp_path):
    # the cleanup playbook as the schedule's service runs it, failing (no GitHub token)
    result = node_playbooks.run("cleanup", token=False)
    assert result.rc != 0, result
    # then what systemd runs after it (ExecStopPost): role schedules' metrics script, rendered by the role's template
    script = tmp_path / "k8s-ee-schedule-metrics"
    textfile = textfile_dir(stack)
    render = subprocess.run(
        [
            "ansible",
            "localhost",
            "-m",
            "ansible.builtin.template",
            "-a",
            f"src={REPO / 'roles' / 'schedules' / 'templates' / 'k8s-ee-schedule-metrics.j2'} dest={script} mode=0755",
            "-e",
            json.dumps({"schedules_textfile_dir": str(textfile)}),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert render.returncode == 0, render.stdout + render.stderr
    subprocess.run(
        [str(script), "cleanup"],
        env={"PATH": "/usr/bin:/bin", "SERVICE_RESULT": "exit-code", "EXIT_STATUS": str(result.rc)},
        check=True,
    )
    alerts = wait_for(lambda: firing(stack, "K8sEeScheduleFailed"), "K8sEeScheduleFailed", 180)
    assert alerts[0]["metric"]["schedule"] == "cleanup"
    (exit_code,) = query(stack, 'k8s_ee_schedule_last_exit_code{schedule="cleanup"}')
    assert exit_code["value"][1] == str(result.rc)


@pytest.fixture
def platform_pod_not_ready(stack, node_kube):
    """A pod outside the environments that never gets ready (its readiness probe fails), as the platform health
    dashboard's "Pods not ready" shows one."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "never-ready", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "probe",
                    "image": PROBE,
                    "command": ["probe", "sleep"],
                    "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 5},
                    "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "16Mi"}},
                }
            ]
        },
    }
    node_kube.create(pod)
    wait_for(lambda: query(stack, 'kube_pod_status_ready{pod="never-ready", condition="false"} == 1'), "not ready", 120)
    yield
    node_kube.delete("Pod", "never-ready", "default")


def test_every_dashboard_query_returns_data_for_a_live_environment(
    stack, healthy, environments, platform_pod_not_ready
):
    # after the scenarios: a crashed environment (a target down, a pod not ready), the schedule's metrics, alerts
    variables = {"namespace": healthy, "__rate_interval": "2m"}  # Grafana: 4 x the 30 s scrape interval
    empty = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for title, expr in dashboard_queries(dashboard, "prometheus"):
            resolved = resolve_grafana_variables(label_values_selector(expr), variables)
            if not query(stack, resolved):
                empty[f"{path.stem}: {title}"] = resolved
    assert empty == {}, json.dumps(empty, indent=1)


@pytest.fixture(scope="module")
def logs(stack, node_kube, tmp_path_factory):
    """Loki installed from its HelmChart, and the pods' logs shipped to it (Promtail with the role's pipeline)."""
    install_logs(stack, node_kube, tmp_path_factory.mktemp("promtail"))
    return stack


def test_an_environments_app_log_lines_are_found_in_loki_by_namespace(logs, healthy):
    # the sample app logs every request it answers: the kubelet's health checks every few seconds
    streams = wait_for(
        lambda: loki(logs, f'{{namespace="{healthy}", container="app"}} |= "/healthz"'), "app lines", 120
    )
    labels = streams[0]["stream"]
    assert labels["namespace"] == healthy and labels["pod"].startswith("app-"), labels
    lines = [line for stream in streams for _ts, line in stream["values"]]
    # the cri stage took the line out of the kubelet's log format: the app's own line, as it printed it
    assert any(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO ", line) for line in lines), lines[:5]
    # Loki's own ServiceMonitor (the chart renders it when the cluster serves ServiceMonitors) is scraped
    assert wait_for(lambda: query(logs, 'up{job=~".*loki.*"} == 1'), "Loki scraped by its ServiceMonitor", 120)
    # what the PR comment's Grafana link opens (the environment dashboard's log panel) and the SLO dashboard's count
    variables = {"namespace": healthy}
    for path in sorted(DASHBOARDS.glob("*.json")):
        for title, expr in dashboard_queries(json.loads(path.read_text()), "loki"):
            assert loki(logs, resolve_grafana_variables(expr, variables)), (path.stem, title)


def test_teardown_returns_the_host_to_how_it_was(node_cluster, host_before):
    node_cluster.stop()
    after = realnode.host_snapshot()
    assert after == host_before
