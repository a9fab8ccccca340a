# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability role against the local control plane, whose upstream CRDs validate what it applies.

What is checked comes from the cluster (what the role applied), not from the role's files: the HelmCharts'
valuesContent for the settings, the PrometheusRule for the rule groups, the dashboards' ConfigMaps for the Grafana
queries (the memory budget is summed from the rendered charts in test_charts.py). PromQL goes through Prometheus' own
parser (tests/tools/promcheck), and the metric names it references are checked against the exporters' sources at the
versions the stack runs.
"""

import base64
import copy
import json
import re
import subprocess
import time

import pytest
import yaml
from charts import render
from harness import REPO, playbook_env
from observability import (
    additional_scrape_configs,
    cadvisor_names,
    check_rule_files,
    check_scrape_configs,
    dashboard_queries,
    expression_metrics,
    go_mod_requirement,
    kube_state_metrics_names,
    label_values_selector,
    monitors_reaching_other_namespaces,
    monitors_reading_files,
    resolve_grafana_variables,
    upstream_chart,
)

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

pytestmark = pytest.mark.cluster

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "observability.yml"
NAMESPACE = "observability"
HELMCHARTS = "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts"
RULES = f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}/prometheusrules"
MIDDLEWARES = f"/apis/traefik.io/v1alpha1/namespaces/{NAMESPACE}/middlewares"
INGRESS_CLASSES = "/apis/networking.k8s.io/v1/ingressclasses"
CHART_NAMES = {"kube-prometheus-stack": "kube-prometheus-stack", "loki": "loki", "alloy": "alloy"}

SECRETS = {
    "observability_grafana_admin_password": "adm1n-Pw-7d3c9f",
    "observability_grafana_github_client_secret": "gh-oauth-s3cret-51ab2e",
    "observability_alertmanager_secrets": {"url": "https://hooks.example.com/services/T000/B000/wh-s3cret-93c1"},
}
VARIABLES = {
    **SECRETS,
    "observability_grafana_host": "grafana.preview.example.com",
    "observability_prometheus_host": "prometheus.preview.example.com",
    "observability_grafana_github_client_id": "Iv1.0123456789abcdef",
    "observability_grafana_github_allowed_organizations": ["acme"],
    "observability_grafana_github_team_ids": [1234567],
    "observability_alertmanager_receiver": {
        "webhook_configs": [{"url_file": "/etc/alertmanager/secrets/alertmanager-receiver/url", "send_resolved": True}]
    },
}
SECRET_STRINGS = [
    "adm1n-Pw-7d3c9f",
    "gh-oauth-s3cret-51ab2e",
    "wh-s3cret-93c1",
    base64.b64encode(b"adm1n-Pw-7d3c9f").decode(),
    base64.b64encode(b"gh-oauth-s3cret-51ab2e").decode(),
]

# Metric names that are neither in kube-state-metrics' nor in cAdvisor's source, with where each comes from.
PROMETHEUS_BUILTINS = {"up", "ALERTS", "ALERTS_FOR_STATE"}  # scrape_* are added by prefix below
NODE_EXPORTER = {  # prometheus/node_exporter collectors meminfo, cpu, filesystem, stat, textfile
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_cpu_seconds_total",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_boot_time_seconds",
    "node_textfile_scrape_error",
}
PROMETHEUS_SELF = {  # prometheus/prometheus tsdb/db.go and tsdb/head.go
    "prometheus_tsdb_head_series",
    "prometheus_tsdb_storage_blocks_bytes",
    "prometheus_tsdb_lowest_timestamp_seconds",
}
SCHEDULES = {  # written by the schedules role's jobs into node-exporter's textfile directory (docs/observability.md)
    "k8s_ee_schedule_last_run_timestamp_seconds",
    "k8s_ee_schedule_last_success_timestamp_seconds",
    "k8s_ee_schedule_last_exit_code",
}


def run_role(cluster, tmp_path, check=False, **variables):
    """ansible-playbook with the role, JSON output; returns (rc, stats, failures, stdout + stderr)."""
    vars_file = tmp_path / f"vars-{time.monotonic_ns()}.json"
    vars_file.write_text(json.dumps(variables))
    argv = ["ansible-playbook", str(PLAYBOOK), "-e", f"@{vars_file}"] + (["--check"] if check else [])
    proc = subprocess.run(
        argv, env=playbook_env(cluster.kubeconfig), capture_output=True, text=True, timeout=600, check=False
    )
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        data = {"plays": [], "stats": {}}
    failures = []
    for play in data["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost", {})
            if host.get("failed"):
                messages = [host.get("msg")] + [r.get("msg") for r in host.get("results", []) if r.get("failed")]
                failures.append(f"{task['task']['name']}: {' / '.join(map(str, messages))}")
    return proc.returncode, data["stats"].get("localhost", {}), failures, proc.stdout + proc.stderr


def role_objects_exist(kube) -> list[str]:
    found = [f"HelmChart {c}" for c in CHART_NAMES.values() if get(kube, f"{HELMCHARTS}/{c}")]
    if kube.get("Namespace", NAMESPACE):
        found.append(f"Namespace {NAMESPACE}")
    return found


def get(kube, path):
    try:
        return kube.request("GET", path)
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise


def remove_role_objects(kube):
    for name in CHART_NAMES.values():
        try:
            kube.request("DELETE", f"{HELMCHARTS}/{name}")
        except KubeError as exc:
            if exc.status != 404:
                raise
    kube.delete("Namespace", NAMESPACE)
    deadline = time.monotonic() + 120
    while role_objects_exist(kube):
        assert time.monotonic() < deadline, f"still there: {role_objects_exist(kube)}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def clean(kube):
    remove_role_objects(kube)
    yield
    remove_role_objects(kube)


@pytest.fixture(scope="module")
def outputs():
    """Everything ansible-playbook printed in this module, checked for secrets at the end."""
    return []


def test_preflight_names_the_missing_secret_and_creates_nothing(cluster, kube, clean, tmp_path, outputs):
    started = time.monotonic()
    without_password = {k: v for k, v in VARIABLES.items() if k != "observability_grafana_admin_password"}
    rc, _stats, failures, output = run_role(cluster, tmp_path, **without_password)
    outputs.append(output)
    assert rc != 0
    assert any("observability_grafana_admin_password is required" in f for f in failures), failures

    without_oauth_secret = {k: v for k, v in VARIABLES.items() if k != "observability_grafana_github_client_secret"}
    rc, _stats, failures, output = run_role(cluster, tmp_path, **without_oauth_secret)
    outputs.append(output)
    assert rc != 0
    assert any("observability_grafana_github_client_secret is required" in f for f in failures), failures

    rc, _stats, failures, output = run_role(
        cluster, tmp_path, **{**VARIABLES, "observability_loki_chart_version": "6.x"}
    )
    outputs.append(output)
    assert rc != 0
    assert any("observability_loki_chart_version must be an exact chart version" in f for f in failures), failures

    # GitHub login with neither an organisation nor a team would admit every GitHub user as Viewer.
    open_login = {
        **VARIABLES,
        "observability_grafana_github_allowed_organizations": [],
        "observability_grafana_github_team_ids": [],
    }
    rc, _stats, failures, output = run_role(cluster, tmp_path, **open_login)
    outputs.append(output)
    assert rc != 0
    assert any(
        "observability_grafana_github_allowed_organizations is []" in f
        and "observability_grafana_github_team_ids is []" in f
        and "every GitHub user could sign in to Grafana as Viewer" in f
        and "leave observability_grafana_github_client_id empty" in f
        for f in failures
    ), failures
    rc, _stats, failures, output = run_role(
        cluster, tmp_path, **{**open_login, "observability_grafana_github_allowed_organizations": ["acme corp"]}
    )
    outputs.append(output)
    assert rc != 0
    assert any("is ['acme corp']" in f and "organisation names are GitHub logins" in f for f in failures), failures
    assert role_objects_exist(kube) == []

    # Prometheus' host: a host of its own, a user name HTTP basic authentication can carry, and Traefik's IngressClass
    rc, _stats, failures, output = run_role(
        cluster, tmp_path, **{**VARIABLES, "observability_prometheus_host": "grafana.preview.example.com"}
    )
    outputs.append(output)
    assert rc != 0
    assert any(
        "observability_prometheus_host is 'grafana.preview.example.com'" in f and "not Grafana's" in f for f in failures
    ), failures
    rc, _stats, failures, output = run_role(
        cluster, tmp_path, **{**VARIABLES, "observability_grafana_admin_user": "a:b"}
    )
    outputs.append(output)
    assert rc != 0
    assert any("must not contain ':'" in f and "got 'a:b'" in f for f in failures), failures
    nginx = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "k8s-ee-test-nginx"},
        "spec": {"controller": "k8s.io/ingress-nginx"},
    }
    kube.request("POST", INGRESS_CLASSES, body=nginx)
    try:
        other = {**VARIABLES, "observability_grafana_ingress_class": "k8s-ee-test-nginx"}
        rc, _stats, failures, output = run_role(cluster, tmp_path, **other)
        outputs.append(output)
        assert rc != 0
        assert any(
            "observability_grafana_ingress_class is 'k8s-ee-test-nginx', whose controller is 'k8s.io/ingress-nginx'"
            in f
            and "serve Prometheus to anybody" in f
            for f in failures
        ), failures
        # without Prometheus' host, the IngressClass is Grafana's business only
        rc, _stats, failures, output = run_role(
            cluster, tmp_path, check=True, **{**other, "observability_prometheus_host": ""}
        )
        outputs.append(output)
        assert rc == 0, failures or output[-3000:]
    finally:
        kube.request("DELETE", f"{INGRESS_CLASSES}/k8s-ee-test-nginx")
    assert role_objects_exist(kube) == []
    # the alert thresholds a test shortens: a Prometheus duration, whole minutes (a hostile one would be PromQL)
    for name, value in (
        ("observability_alert_quota_pressure_for", "15m} or vector(1"),
        ("observability_alert_never_ready_minutes", "0"),
    ):
        rc, _stats, failures, output = run_role(cluster, tmp_path, **{**VARIABLES, name: value})
        outputs.append(output)
        assert rc != 0
        assert any(f"{name} is '{value}'" in f for f in failures), failures
    assert role_objects_exist(kube) == []
    # A team alone is enough (check mode: the preflight passes and nothing is created).
    rc, _stats, failures, output = run_role(
        cluster, tmp_path, check=True, **{**open_login, "observability_grafana_github_team_ids": [1234567]}
    )
    outputs.append(output)
    assert rc == 0, failures or output[-3000:]
    assert role_objects_exist(kube) == []
    print(f"preflight runs: {time.monotonic() - started:.1f}s")


def test_check_mode_on_a_clean_cluster_creates_nothing(cluster, kube, clean, tmp_path, outputs):
    rc, stats, failures, output = run_role(cluster, tmp_path, check=True, **VARIABLES)
    outputs.append(output)
    assert rc == 0, failures or output[-3000:]
    assert stats["changed"] >= 1  # it reports what it would do
    assert role_objects_exist(kube) == []


@pytest.fixture(scope="module")
def applied(cluster, kube, clean, tmp_path_factory, outputs):
    tmp = tmp_path_factory.mktemp("observability")
    timings = {}
    for name, check in (("first", False), ("second", False), ("check", True)):
        started = time.monotonic()
        rc, stats, failures, output = run_role(cluster, tmp, check=check, **VARIABLES)
        timings[name] = round(time.monotonic() - started, 1)
        outputs.append(output)
        assert rc == 0, failures or output[-3000:]
        timings[f"{name} changed"] = stats["changed"]
    print(f"role runs: {timings}")
    return timings


def test_second_run_and_check_mode_change_nothing(applied):
    assert applied["first changed"] >= 1
    assert applied["second changed"] == 0
    assert applied["check changed"] == 0


def helmchart(kube, name):
    chart = get(kube, f"{HELMCHARTS}/{name}")
    assert chart, f"HelmChart {name} missing"
    return chart


def chart_values(kube) -> dict:
    return {
        chart: yaml.safe_load(helmchart(kube, name)["spec"]["valuesContent"]) for chart, name in CHART_NAMES.items()
    }


def prometheus_rule(kube) -> dict:
    rule = get(kube, f"{RULES}/k8s-ee")
    assert rule, "PrometheusRule k8s-ee missing"
    return rule


def dashboards(kube) -> dict:
    out = {}
    for cm in kube.list("ConfigMap", NAMESPACE, label_selector="grafana_dashboard=1"):
        ((key, text),) = cm["data"].items()
        out[key] = json.loads(text)
    return out


def test_objects_are_stored_and_schema_validation_is_active(applied, kube):
    namespace = kube.get("Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "k8s-ee-platform"
    assert namespace["metadata"]["labels"]["k8s-ee/type"] == "platform"
    for chart, name in CHART_NAMES.items():
        spec = helmchart(kube, name)["spec"]
        assert spec["chart"] == chart
        assert spec["targetNamespace"] == NAMESPACE
        assert spec["repo"].startswith("https://")
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec["version"]), spec["version"]
    rule = prometheus_rule(kube)
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert len(dashboards(kube)) == 3

    # The same API server rejects what the upstream schemas forbid: proof that the objects above were validated.
    bad_chart = {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "bad-chart", "namespace": "kube-system"},
        "spec": {"chart": "x", "backOffLimit": "many", "failurePolicy": "explode"},
    }
    with pytest.raises(KubeError) as rejected:
        kube.request("POST", HELMCHARTS, body=bad_chart)
    assert rejected.value.status == 422
    assert "backOffLimit" in str(rejected.value) and "failurePolicy" in str(rejected.value)
    bad_rule = copy.deepcopy({k: rule[k] for k in ("apiVersion", "kind", "spec")})
    bad_rule["metadata"] = {"name": "bad-rule", "namespace": NAMESPACE}
    bad_rule["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
    with pytest.raises(KubeError) as rejected:
        kube.request("POST", RULES, body=bad_rule)
    assert rejected.value.status == 422


def test_secrets_are_in_secrets_only(applied, kube, outputs):
    admin = kube.get("Secret", "grafana-admin", NAMESPACE)
    assert base64.b64decode(admin["data"]["admin-password"]).decode() == SECRETS["observability_grafana_admin_password"]
    oauth = kube.get("Secret", "grafana-github-oauth", NAMESPACE)
    assert set(oauth["data"]) == {"GF_AUTH_GITHUB_CLIENT_SECRET"}
    receiver = kube.get("Secret", "alertmanager-receiver", NAMESPACE)
    assert set(receiver["data"]) == {"url"}
    # Prometheus' host: Traefik's basicAuth reads Grafana's admin user and password from a basic-auth Secret
    basic = kube.get("Secret", "prometheus-basic-auth", NAMESPACE)
    assert basic["type"] == "kubernetes.io/basic-auth"
    assert {k: base64.b64decode(v).decode() for k, v in basic["data"].items()} == {
        "username": "admin",
        "password": SECRETS["observability_grafana_admin_password"],
    }
    middleware = get(kube, f"{MIDDLEWARES}/prometheus-auth")
    assert middleware["spec"] == {
        "basicAuth": {"secret": "prometheus-basic-auth", "realm": "Prometheus", "removeHeader": True}
    }

    values = chart_values(kube)
    grafana = values["kube-prometheus-stack"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert grafana["envFromSecret"] == "grafana-github-oauth"
    assert values["kube-prometheus-stack"]["alertmanager"]["alertmanagerSpec"]["secrets"] == ["alertmanager-receiver"]
    stored = json.dumps([helmchart(kube, n)["spec"] for n in CHART_NAMES.values()])
    stored += json.dumps(prometheus_rule(kube)) + json.dumps(dashboards(kube))
    assert outputs, "no playbook output was collected"
    for secret in SECRET_STRINGS:
        assert secret not in stored
        for output in outputs:
            assert secret not in output


def test_values_carry_the_platform_settings(applied, kube):
    values = chart_values(kube)
    kps, loki, alloy = values["kube-prometheus-stack"], values["loki"], values["alloy"]
    spec = kps["prometheus"]["prometheusSpec"]
    assert (spec["retention"], spec["retentionSize"]) == ("7d", "6GB")
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
    assert kps["prometheusOperator"]["admissionWebhooks"]["enabled"] is False
    assert loki["loki"]["limits_config"]["retention_period"] == "168h"
    assert loki["loki"]["compactor"]["retention_enabled"] is True
    assert loki["singleBinary"]["persistence"]["enabled"] is True
    assert loki["deploymentMode"] == "SingleBinary"
    prometheus = kps["prometheus"]["ingress"]
    assert prometheus["hosts"] == ["prometheus.preview.example.com"]
    assert prometheus["ingressClassName"] == "traefik"
    assert prometheus["annotations"]["traefik.ingress.kubernetes.io/router.middlewares"] == (
        "observability-prometheus-auth@kubernetescrd"
    )
    assert spec["externalUrl"] == "https://prometheus.preview.example.com"
    ingress = kps["grafana"]["ingress"]
    assert ingress["hosts"] == ["grafana.preview.example.com"]
    assert ingress["annotations"]["traefik.ingress.kubernetes.io/router.tls.certresolver"] == "letsencrypt"
    assert ingress["annotations"]["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
    github = kps["grafana"]["grafana.ini"]["auth.github"]
    assert github["client_id"] == "Iv1.0123456789abcdef"
    assert github["allowed_organizations"] == "acme"
    assert github["team_ids"] == "1234567"
    assert kps["grafana"]["sidecar"]["datasources"]["uid"] == "prometheus"
    assert kps["grafana"]["additionalDataSources"][0]["uid"] == "loki"
    used = {
        (target.get("datasource") or panel["datasource"])["uid"]
        for board in dashboards(kube).values()
        for panel in board["panels"]
        for target in panel.get("targets", [])
    }
    assert used == {"prometheus", "loki"}
    sidecar = kps["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == ("grafana_dashboard", "1")
    node_exporter = kps["prometheus-node-exporter"]
    assert "--collector.textfile.directory=/host/textfile_collector" in node_exporter["extraArgs"]
    assert node_exporter["extraHostVolumeMounts"][0]["hostPath"] == "/var/lib/node_exporter/textfile_collector"
    ksm = kps["kube-state-metrics"]
    assert "k8s-ee/project-id" in ksm["metricLabelsAllowlist"][0]
    assert "k8s-ee/repository" in ksm["metricAnnotationsAllowList"][0]
    receivers = {r["name"]: r for r in kps["alertmanager"]["config"]["receivers"]}
    route = kps["alertmanager"]["config"]["route"]
    assert route["receiver"] == "platform"
    assert {route["receiver"]} | {r["receiver"] for r in route["routes"]} <= set(receivers)
    assert receivers["platform"]["webhook_configs"][0]["url_file"].startswith("/etc/alertmanager/secrets/")
    assert "loki.source.file" in alloy["alloy"]["configMap"]["content"]
    for path in (
        ("prometheus", "prometheusSpec"),
        ("alertmanager", "alertmanagerSpec"),
        ("grafana",),
        ("kube-state-metrics",),
        ("prometheus-node-exporter",),
    ):
        node = kps
        for key in path:
            node = node[key]
        assert node["priorityClassName"] == "platform-critical", path
    assert loki["singleBinary"]["priorityClassName"] == "platform-critical"
    assert alloy["controller"]["priorityClassName"] == "platform-critical"


CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
PROMETHEUSES = f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}/prometheuses"


@pytest.fixture
def prometheus_crd(kube):
    """The Prometheus CRD of the pinned chart (its crds subchart), installed for this test and removed after it."""
    version = helmchart(kube, "kube-prometheus-stack")["spec"]["version"]
    path = upstream_chart(f"kube-prometheus-stack-{version}") / "charts" / "crds" / "crds" / "crd-prometheuses.yaml"
    crd = yaml.safe_load(path.read_text())
    created = get(kube, f"{CRDS}/{crd['metadata']['name']}") is None
    if created:
        kube.request("POST", CRDS, body=crd)
    deadline = time.monotonic() + 60
    while not any(
        c["type"] == "Established" and c["status"] == "True"
        for c in (get(kube, f"{CRDS}/{crd['metadata']['name']}").get("status") or {}).get("conditions") or []
    ):
        assert time.monotonic() < deadline, "the Prometheus CRD did not become established"
        time.sleep(0.5)
    yield crd
    if created:
        kube.request("DELETE", f"{CRDS}/{crd['metadata']['name']}")


def rendered(kube, values=None) -> list[dict]:
    """The objects the three pinned charts create with the values the cluster stores (or these), as k3s installs the
    HelmCharts (tests/charts.py)."""
    values = values or chart_values(kube)
    objects = []
    for chart, name in CHART_NAMES.items():
        stored = copy.deepcopy(helmchart(kube, name))
        stored["spec"]["valuesContent"] = yaml.safe_dump(values[chart])
        objects += render(stored, api_versions=["monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"])
    return objects


def test_environment_monitors_cannot_read_files_or_other_namespaces(applied, kube, prometheus_crd, tmp_path):
    """arbitraryFSAccessThroughSMs.deny and ignoreNamespaceSelectors reach the Prometheus resource under the CRD's own
    field names; no ServiceMonitor of the charts is refused by them; the kubelet and the API server, whose chart
    ServiceMonitors read the token from a file, are scraped by Prometheus' own configuration instead."""
    values = chart_values(kube)
    spec = values["kube-prometheus-stack"]["prometheus"]["prometheusSpec"]
    assert spec["arbitraryFSAccessThroughSMs"] == {"deny": True}
    assert spec["ignoreNamespaceSelectors"] is True

    objects = rendered(kube, values)
    (prometheus,) = [o for o in objects if o["kind"] == "Prometheus"]
    assert prometheus["spec"]["arbitraryFSAccessThroughSMs"] == {"deny": True}
    assert prometheus["spec"]["ignoreNamespaceSelectors"] is True
    # The API server with the chart's CRD refuses unknown fields (fieldValidation=Strict): every field the chart
    # renders exists in the CRD, so none is silently pruned.
    body = {k: prometheus[k] for k in ("apiVersion", "kind", "spec")} | {
        "metadata": {"name": prometheus["metadata"]["name"], "namespace": NAMESPACE}
    }
    strict = {"dryRun": "All", "fieldValidation": "Strict"}
    kube.request("POST", PROMETHEUSES, body=body, query=strict)
    misspelt = copy.deepcopy(body)
    misspelt["spec"]["arbitraryFSAccessThroughSM"] = misspelt["spec"].pop("arbitraryFSAccessThroughSMs")
    with pytest.raises(KubeError) as rejected:
        kube.request("POST", PROMETHEUSES, body=misspelt, query=strict)
    assert rejected.value.status == 400 and 'unknown field "spec.arbitraryFSAccessThroughSM"' in str(rejected.value)

    monitors = [o for o in objects if o["kind"] in ("ServiceMonitor", "PodMonitor")]
    assert len(monitors) >= 7, [m["metadata"]["name"] for m in monitors]
    assert monitors_reading_files(objects) == []
    assert monitors_reaching_other_namespaces(objects, NAMESPACE) == []
    # The check sees what the chart would do with its own kubelet and API server ServiceMonitors.
    with_chart_monitors = copy.deepcopy(values)
    for key in ("kubelet", "kubeApiServer"):
        with_chart_monitors["kube-prometheus-stack"][key]["serviceMonitor"]["enabled"] = True
    chart_monitors = rendered(kube, with_chart_monitors)
    refused = monitors_reading_files(chart_monitors)
    assert {r.split(" ")[0] for r in refused} == {
        "kube-system/kube-prometheus-stack-kubelet",
        "default/kube-prometheus-stack-apiserver",
    }, refused

    # Their replacement: Prometheus' own scrape configuration, loaded by Prometheus' strict loader.
    text = additional_scrape_configs(objects)
    (tmp_path / "scrape.yml").write_text(text)
    result = check_scrape_configs(tmp_path / "scrape.yml")
    assert "error" not in result, result
    jobs = {job["job_name"]: job for job in result["jobs"]}
    assert {name: (job["metrics_path"], job["scheme"]) for name, job in jobs.items()} == {
        "k8s-ee/kubelet": ("/metrics", "https"),
        "k8s-ee/kubelet-cadvisor": ("/metrics/cadvisor", "https"),
        "k8s-ee/kubelet-probes": ("/metrics/probes", "https"),
        "k8s-ee/apiserver": ("/metrics", "https"),
    }
    configs = {c["job_name"]: c for c in yaml.safe_load(text)}
    for name, config in configs.items():
        labels = {r["target_label"]: r.get("replacement") for r in config["relabel_configs"] if "target_label" in r}
        assert labels["job"] == ("apiserver" if name == "k8s-ee/apiserver" else "kubelet"), name
        assert config["authorization"] == {"credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    (tmp_path / "broken.yml").write_text(text.replace("credentials_file", "credential_file", 1))
    assert "credential_file not found" in check_scrape_configs(tmp_path / "broken.yml")["error"]

    # Each job scrapes what the chart's ServiceMonitor endpoint it replaces would: path, interval, scheme, TLS, honour
    # settings and metric drops as the chart renders them.
    replaced = {}
    for obj in chart_monitors:
        if obj["kind"] == "ServiceMonitor" and obj["metadata"]["name"].endswith(("-kubelet", "-apiserver")):
            job = "kubelet" if obj["metadata"]["name"].endswith("-kubelet") else "apiserver"
            for endpoint in obj["spec"]["endpoints"]:
                replaced[(job, endpoint.get("path", "/metrics"))] = endpoint
    scraped = {
        (
            next(r["replacement"] for r in c["relabel_configs"] if r.get("target_label") == "job"),
            jobs[n]["metrics_path"],
        ): c
        for n, c in configs.items()
    }
    assert set(scraped) == set(replaced)
    for key, endpoint in replaced.items():
        config = scraped[key]
        assert config.get("scrape_interval") == endpoint.get("interval"), key
        assert config["scheme"] == endpoint["scheme"], key
        for ours, theirs in (
            ("honor_labels", "honorLabels"),
            ("honor_timestamps", "honorTimestamps"),
            ("track_timestamps_staleness", "trackTimestampsStaleness"),
        ):
            assert config.get(ours, False) == endpoint.get(theirs, False), (key, ours)
        tls = endpoint["tlsConfig"]
        assert config["tls_config"].get("insecure_skip_verify") == tls.get("insecureSkipVerify"), key
        assert config["tls_config"].get("server_name") == tls.get("serverName"), key
        drops = [
            {"source_labels": r["sourceLabels"], "action": r["action"], "regex": r["regex"]}
            for r in endpoint.get("metricRelabelings", [])
        ]
        assert config.get("metric_relabel_configs", []) == drops, key


def rule_groups_file(kube, tmp_path, mutate=None):
    groups = copy.deepcopy(prometheus_rule(kube)["spec"])
    if mutate:
        mutate(groups)
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(groups))
    return path


def test_rules_pass_prometheus_rule_validation(applied, kube, tmp_path):
    (result,) = check_rule_files([rule_groups_file(kube, tmp_path)])
    assert result["errors"] == [], result["errors"]
    assert result["groups"] == 4 and result["rules"] >= 14

    def break_one(groups):
        groups["groups"][1]["rules"][0]["expr"] = "sum(up{job=}"

    (result,) = check_rule_files([rule_groups_file(kube, tmp_path, break_one)])
    assert len(result["errors"]) == 1
    assert re.search(r"\d+:\d+: group \"k8s-ee.platform\", rule 1, \"K8sEeTargetDown\"", result["errors"][0])


@pytest.fixture(scope="module")
def exported_metrics(applied, kube):
    """What the stack as configured exports, from the sources of the versions it runs."""
    values = chart_values(kube)
    ksm_version = values["kube-prometheus-stack"]["kube-state-metrics"]["image"]["tag"]
    cadvisor_version = go_mod_requirement(REPO / "tests" / "cluster" / "go" / "go.mod", "github.com/google/cadvisor")
    started = time.monotonic()
    ksm, cadvisor = kube_state_metrics_names(ksm_version), cadvisor_names(cadvisor_version)
    print(
        f"catalogue: {len(ksm)} kube-state-metrics names ({ksm_version}), {len(cadvisor)} cAdvisor names "
        f"({cadvisor_version}) in {time.monotonic() - started:.1f}s"
    )
    assert {"kube_namespace_labels", "kube_namespace_annotations", "kube_resourcequota"} <= ksm
    assert "container_memory_working_set_bytes" in cadvisor
    recorded = {r["record"] for g in prometheus_rule(kube)["spec"]["groups"] for r in g["rules"] if "record" in r}
    return ksm | cadvisor | recorded | PROMETHEUS_BUILTINS | NODE_EXPORTER | PROMETHEUS_SELF | SCHEDULES


def unknown_metrics(exprs, exported):
    problems = []
    for source, result in zip(exprs, expression_metrics([expr for _source, expr in exprs]), strict=True):
        if result.get("error"):
            problems.append(f"{source[0]}: {result['error']} in {source[1]!r}")
            continue
        for name in result["metrics"]:
            if name not in exported and not name.startswith("scrape_"):
                problems.append(f"{source[0]}: {name} is not exported by the stack")
    return problems


def test_rule_expressions_use_only_exported_metrics(applied, kube, exported_metrics):
    exprs = [
        (r.get("alert") or r.get("record"), r["expr"])
        for g in prometheus_rule(kube)["spec"]["groups"]
        for r in g["rules"]
    ]
    assert unknown_metrics(exprs, exported_metrics) == []
    assert unknown_metrics([("made up", "rate(k8s_ee_no_such_metric_total[5m])")], exported_metrics) == [
        "made up: k8s_ee_no_such_metric_total is not exported by the stack"
    ]


def test_dashboards_parse_and_use_only_exported_metrics(applied, kube, exported_metrics):
    boards = dashboards(kube)
    environment = boards["k8s-ee-environment.json"]
    assert environment["uid"] == "k8s-ee-environment"
    assert [v["name"] for v in environment["templating"]["list"]] == ["namespace"]
    assert any(p["type"] == "logs" and p["datasource"]["type"] == "loki" for p in environment["panels"])
    exprs = []
    for key, board in boards.items():
        variables = {v["name"]: "shop-pr-1" for v in board.get("templating", {}).get("list", [])}
        for title, expr in dashboard_queries(board):
            exprs.append((f"{key} / {title}", resolve_grafana_variables(label_values_selector(expr), variables)))
    assert len(exprs) > 40
    assert unknown_metrics(exprs, exported_metrics) == []
    # a broken query fails the same check
    assert unknown_metrics([("broken", "sum(rate(up[$__rate_interval])")], exported_metrics)


def test_namespace_labels_and_annotations_used_are_exported(applied, kube):
    """label_k8s_ee_* / annotation_k8s_ee_* in rules and dashboards exist only when kube-state-metrics allows them."""
    ksm = chart_values(kube)["kube-prometheus-stack"]["kube-state-metrics"]

    def allowed(entry, prefix):
        keys = re.fullmatch(r"namespaces=\[(.*)\]", entry).group(1).split(",")
        return {prefix + re.sub(r"[^a-zA-Z0-9_]", "_", k) for k in keys}

    exported = allowed(ksm["metricLabelsAllowlist"][0], "label_")
    exported |= allowed(ksm["metricAnnotationsAllowList"][0], "annotation_")
    text = json.dumps(prometheus_rule(kube)) + json.dumps(dashboards(kube))
    used = set(re.findall(r"\b(?:label|annotation)_k8s_ee_[a-z_]+", text))
    assert used, "no namespace label or annotation is used"
    assert used <= exported, used - exported


def test_turning_github_login_the_receiver_and_prometheus_host_off_converges(applied, cluster, kube, tmp_path, outputs):
    minimal = {
        "observability_grafana_admin_password": SECRETS["observability_grafana_admin_password"],
        "observability_grafana_host": "grafana.preview.example.com",
    }
    changes = []
    for _run in range(2):
        rc, stats, failures, output = run_role(cluster, tmp_path, **minimal)
        outputs.append(output)
        assert rc == 0, failures or output[-3000:]
        changes.append(stats["changed"])
    assert changes[0] >= 2 and changes[1] == 0, changes
    assert kube.get("Secret", "grafana-github-oauth", NAMESPACE) is None
    assert kube.get("Secret", "alertmanager-receiver", NAMESPACE) is None
    assert kube.get("Secret", "prometheus-basic-auth", NAMESPACE) is None
    assert get(kube, f"{MIDDLEWARES}/prometheus-auth") is None
    kps = chart_values(kube)["kube-prometheus-stack"]
    assert "ingress" not in kps["prometheus"] and "externalUrl" not in kps["prometheus"]["prometheusSpec"]
    assert "envFromSecret" not in kps["grafana"]
    assert "auth.github" not in kps["grafana"]["grafana.ini"]
    assert "secrets" not in kps["alertmanager"]["alertmanagerSpec"]
    config = kps["alertmanager"]["config"]
    assert config["route"]["receiver"] == "null"
    assert [r["name"] for r in config["receivers"]] == ["null"]
    for output in outputs:
        for secret in SECRET_STRINGS:
            assert secret not in output
