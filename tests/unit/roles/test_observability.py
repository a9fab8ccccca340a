# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The observability role's shipped files and the helpers its integration test relies on (tests/observability.py)."""

import json
import pathlib

import pytest
from observability import (
    check_rule_files,
    check_scrape_configs,
    dashboard_queries,
    expression_metrics,
    go_mod_requirement,
    label_values_selector,
    monitors_reaching_other_namespaces,
    monitors_reading_files,
    resolve_grafana_variables,
    string_literals,
)

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "observability"
DASHBOARDS = sorted((ROLE / "files" / "dashboards").glob("*.json"))


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_is_valid_json_with_unique_panel_ids(path):
    board = json.loads(path.read_text())
    assert board["uid"] == path.stem
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard_queries(board), "no Prometheus query"


def test_environment_dashboard_keeps_the_link_the_pr_comment_uses():
    board = json.loads((ROLE / "files" / "dashboards" / "k8s-ee-environment.json").read_text())
    assert board["uid"] == "k8s-ee-environment"  # /d/k8s-ee-environment/k8s-ee-environment?var-namespace=<ns>
    assert [v["name"] for v in board["templating"]["list"]] == ["namespace"]


def test_every_dashboard_query_parses():
    exprs = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        variables = {v["name"]: "shop-pr-1" for v in board["templating"]["list"]}
        exprs += [
            resolve_grafana_variables(label_values_selector(e), variables) for _title, e in dashboard_queries(board)
        ]
    results = expression_metrics(exprs)
    assert [r for r in results if r.get("error")] == []


def test_grafana_variables_are_resolved_and_unknown_ones_fail():
    expr = 'rate(x{namespace="$namespace"}[$__rate_interval]) + y{a="${namespace}"} offset $__range'
    assert resolve_grafana_variables(expr, {"namespace": "n"}) == 'rate(x{namespace="n"}[1m]) + y{a="n"} offset 6h'
    with pytest.raises(KeyError, match="cluster"):
        resolve_grafana_variables("up{cluster=~'$cluster'}", {})
    assert (
        label_values_selector('label_values(kube_namespace_labels{a="b"}, namespace)') == 'kube_namespace_labels{a="b"}'
    )


def test_promcheck_reports_metric_names_and_parse_errors_with_positions():
    good, bad, by_name = expression_metrics(
        [
            'sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=""}[5m])) / on (namespace) kube_x',
            "sum(rate(up[5m])",
            '{__name__="up", job="a"} or absent(k8s_ee_schedule_last_exit_code)',
        ]
    )
    assert good["metrics"] == ["container_cpu_usage_seconds_total", "kube_x"]
    assert "error" not in good
    assert bad["error"].startswith("1:") and "parse error" in bad["error"]
    assert by_name["metrics"] == ["k8s_ee_schedule_last_exit_code", "up"]


def test_promcheck_validates_rule_groups(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n  - record: b\n    expr: up\n    for: 5m\n"
    )
    ok, broken = check_rule_files([good, bad])
    assert ok["errors"] == [] and ok["rules"] == 1
    assert len(broken["errors"]) == 2
    assert "5:11" in broken["errors"][0] and "could not parse expression" in broken["errors"][0]
    assert "invalid field 'for' in recording rule" in broken["errors"][1]


def test_metric_names_are_read_from_go_string_literals(tmp_path):
    source = tmp_path / "pod.go"
    source.write_text(
        'const descPodLabelsName = "kube_pod_labels"\n'
        'f := NewFamilyGenerator("kube_pod_info", "Information", nil)\n'
        'help := "kube_ is a prefix, not a name: kube_pod_info"\n'
    )
    assert string_literals([source], "kube_") == {"kube_pod_labels", "kube_pod_info"}
    go_mod = tmp_path / "go.mod"
    go_mod.write_text("module x\n\nrequire (\n\tgithub.com/google/cadvisor v0.52.1\n\tk8s.io/api v0.34.3\n)\n")
    assert go_mod_requirement(go_mod, "github.com/google/cadvisor") == "v0.52.1"
    with pytest.raises(LookupError):
        go_mod_requirement(go_mod, "github.com/prometheus/prometheus")


def test_promcheck_loads_scrape_configs_strictly(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(
        "- job_name: kubelet\n  scheme: https\n  metrics_path: /metrics/cadvisor\n"
        "  authorization: {credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}\n"
        "  kubernetes_sd_configs: [{role: node}]\n"
        "  relabel_configs: [{target_label: job, replacement: kubelet}]\n"
    )
    assert check_scrape_configs(good) == {
        "jobs": [
            {"job_name": "kubelet", "metrics_path": "/metrics/cadvisor", "scheme": "https", "scrape_interval": "1m"}
        ]
    }
    unknown = tmp_path / "unknown.yml"
    unknown.write_text(good.read_text().replace("kubernetes_sd_configs: [{role: node}]", "kubernetes_sd: [{role: x}]"))
    assert "field kubernetes_sd not found" in check_scrape_configs(unknown)["error"]
    twice = tmp_path / "twice.yml"
    twice.write_text(good.read_text() * 2)
    assert "found multiple scrape configs with job name" in check_scrape_configs(twice)["error"]


def monitor(kind, name, namespace, spec):
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def test_monitors_that_prometheus_operator_refuses_or_that_look_elsewhere_are_found():
    objects = [
        monitor("ServiceMonitor", "plain", "app", {"endpoints": [{"port": "http"}]}),
        monitor("ServiceMonitor", "token", "app", {"endpoints": [{"port": "a"}, {"bearerTokenFile": "/t"}]}),
        monitor("ServiceMonitor", "ca", "app", {"endpoints": [{"tlsConfig": {"caFile": "/ca"}}]}),
        monitor(
            "ServiceMonitor", "secret-ca", "app", {"endpoints": [{"tlsConfig": {"ca": {"secret": {"name": "c"}}}}]}
        ),
        monitor("ServiceMonitor", "own", "app", {"namespaceSelector": {"matchNames": ["app"]}, "endpoints": []}),
        monitor("ServiceMonitor", "other", "app", {"namespaceSelector": {"matchNames": ["kube-system"]}}),
        monitor("PodMonitor", "any", "app", {"namespaceSelector": {"any": True}}),
        {"kind": "Service", "metadata": {"name": "s"}, "spec": {"endpoints": [{"bearerTokenFile": "/t"}]}},
    ]
    assert monitors_reading_files(objects) == ["app/token endpoints[1]", "app/ca endpoints[0]"]
    assert monitors_reaching_other_namespaces(objects, "observability") == [
        "app/other: {'matchNames': ['kube-system']}",
        "app/any: {'any': True}",
    ]
