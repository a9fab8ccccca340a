# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every HelmChart and HelmChartConfig the cluster roles write, rendered from the pinned upstream chart as k3s'
helm-controller installs it (tests/charts.py; docs/testing.md, "The charts, rendered").

The roles run once, in check mode, against the local control plane: the HelmCharts are what the API server would
store of what they apply (server-side dry run), so the values are exactly the roles'. Each chart is rendered once,
with the HelmChart's name as release, its targetNamespace, k3s' Kubernetes version and the API versions a k3s server
with these charts serves; the rendered objects then go through a server-side apply with dry run and strict field
validation against the local control plane and its upstream CRDs."""

import copy
import re
import time

import pytest
import yaml
from charts import (
    MissingLimit,
    api_versions,
    chart_crds,
    chart_folder,
    crd_api_versions,
    discover,
    dry_run_apply,
    format_rows,
    images,
    is_test_hook,
    k3s_traefik,
    k3s_version,
    memory_rows,
    owners,
    release,
    render,
    role_defaults,
    running_pods,
    unread_keys,
    values_of,
)
from harness import REPO, wait_until_gone
from observability import BUDGET_BYTES, upstream_chart

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

pytestmark = pytest.mark.cluster

ROLES_PLAYBOOK = str(REPO / "tests" / "integration" / "playbooks" / "roles.yml")
FIELD_MANAGER = "k8s-ee-chart-test"
KEY = "-----BEGIN RSA PRIVATE KEY-----\nazhzLWVlIGNoYXJ0IHRlc3Qga2V5\n-----END RSA PRIVATE KEY-----\n"
# Every optional part of the roles' values turned on, so that each key they can write is rendered.
VARIABLES = {
    "platform_acme_email": "ops@example.com",
    "platform_ci_projects": ["shop"],
    "platform_ci_kubeconfig_dir": "",
    "observability_grafana_admin_password": "chart-test-admin-3f9a",
    "observability_grafana_host": "grafana.preview.example.com",
    "observability_prometheus_host": "prometheus.preview.example.com",
    "observability_grafana_github_client_id": "Iv1.0123456789abcdef",
    "observability_grafana_github_client_secret": "chart-test-oauth-77c1",
    "observability_grafana_github_allowed_organizations": ["acme"],
    "observability_storage_class": "local-path",
    "observability_alertmanager_receiver": {
        "webhook_configs": [{"url_file": "/etc/alertmanager/secrets/alertmanager-receiver/url"}]
    },
    "observability_alertmanager_secrets": {"url": "https://hooks.example.com/chart-test"},
    "arc_github_app_id": "123456",
    "arc_github_app_installation_id": "654321",
    "arc_github_app_private_key": KEY,
    "arc_scale_sets": [{"name": "shop", "project": "shop", "github_config_url": "https://github.com/acme/shop"}],
    "arc_deploy_timeout": 900,
    "arc_deploy_health_check": True,
}
# Role platform's other Traefik configuration: certificates by DNS-01, the provider's credentials from a Secret.
ACME_DNS = {
    **{k: v for k, v in VARIABLES.items() if k.startswith("platform_")},
    "platform_acme_challenge": "dns",
    "platform_acme_dns_provider": "cloudflare",
    "platform_acme_dns_credentials": {"CF_DNS_API_TOKEN": "chart-test-dns-token"},
}
# The releases the roles make k3s install (HelmChart name; "traefik" is k3s' own HelmChart with role platform's
# HelmChartConfig), and the target namespace of each.
RELEASES = {
    "sealed-secrets": "platform",
    "traefik": "kube-system",
    "traefik (acme dns)": "kube-system",
    "cloudnative-pg": "cnpg-system",
    "mongodb-kubernetes": "mongodb-operator",
    "minio-operator": "minio-operator",
    "kube-prometheus-stack": "observability",
    "loki": "observability",
    "alloy": "observability",
    "arc": "arc-systems",
    "arc-runners-shop": "arc-runners",
}
OBSERVABILITY = ("kube-prometheus-stack", "loki", "alloy")
# What a k3s server serves besides the local control plane and the charts' CRDs (k3s v1.34: its own Addon and
# ETCDSnapshotFile kinds, and the metrics-server it bundles); the traefik-crd HelmChart installs the CRDs of the
# traefik chart's crds/ folder, which the charts' CRDs below include.
K3S_API_VERSIONS = {
    "k3s.cattle.io/v1",
    "k3s.cattle.io/v1/Addon",
    "k3s.cattle.io/v1/ETCDSnapshotFile",
    "metrics.k8s.io/v1beta1",
    "metrics.k8s.io/v1beta1/NodeMetrics",
    "metrics.k8s.io/v1beta1/PodMetrics",
}
# Rendered kinds whose CRD is not in shared/upstream/crds: it comes from the crds/ folder of the chart (helm install
# creates those before the templates), and the test creates it for the dry run and deletes it afterwards.
CRDS_FROM_CHARTS = {
    "monitoring.coreos.com/v1/Prometheus": "kube-prometheus-stack-88.2.0 (charts/crds)",
    "monitoring.coreos.com/v1/Alertmanager": "kube-prometheus-stack-88.2.0 (charts/crds)",
}
# Rendered kinds no CRD serves at all: none.
UNSERVED: dict[str, str] = {}
# Keys the roles write that no chart documents (values.yaml, values.schema.json) or reads (tests/charts.py
# classify), (release, key or key prefix) -> why that is deliberate. None: every key of the roles is read.
UNREAD: dict[tuple[str, str], str] = {}
# Images the roles pin (role variable), and the Traefik image k3s pins in its HelmChart.
PINS = {
    ("arc-runners-shop", "AutoscalingRunnerSet", "containers/runner"): ("arc", "arc_runner_image"),
    ("arc-runners-shop", "AutoscalingRunnerSet", "initContainers/buildkitd"): ("arc", "arc_buildkit_image"),
}


def applied_objects(result) -> list[dict]:
    """The objects the roles' kubernetes.core.k8s tasks write (in check mode: the API server's dry-run answers; the
    module creates what does not exist yet and applies the rest)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            written = node.get("method") in ("apply", "create", "update", "patch")
            if written and isinstance(node.get("result"), dict) and node["result"].get("kind"):
                found.append(node["result"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for play in result.data.get("plays", []):
        for task in play.get("tasks", []):
            host = task["hosts"].get("localhost", {})
            if host.get("action") == "kubernetes.core.k8s":
                walk(host)
    return found


def of_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.fixture(scope="module")
def written(playbooks, kube):
    """(name -> (HelmChart, HelmChartConfig or None)), and the Namespaces role platform applies, from check-mode runs
    of the four cluster roles."""
    wait_until_gone(kube, sorted(set(RELEASES.values())))
    started = time.monotonic()
    run, dns = playbooks.run_together(
        ROLES_PLAYBOOK,
        [
            {"k8s_ee_test_roles": ["platform", "operators", "observability", "arc"], **VARIABLES},
            {"k8s_ee_test_roles": ["platform"], **ACME_DNS},
        ],
        check=True,
    )
    assert run.rc == 0, run
    assert dns.rc == 0, dns
    print(f"roles in check mode: {time.monotonic() - started:.1f}s")
    objects, dns_objects = applied_objects(run), applied_objects(dns)
    charts = {name: (chart, None) for name, chart in of_kind(objects, "HelmChart").items()}
    configs = of_kind(objects, "HelmChartConfig")
    assert set(configs) == {"traefik"}, set(configs)
    charts["traefik"] = (k3s_traefik(), configs["traefik"])
    charts["traefik (acme dns)"] = (k3s_traefik(), of_kind(dns_objects, "HelmChartConfig")["traefik"])
    return charts, of_kind(objects, "Namespace")


@pytest.fixture(scope="module")
def crds(written):
    """The CRDs each chart brings in its crds/ folders (helm install creates them first), by chart folder."""
    charts, _namespaces = written
    return {
        chart_folder(c["spec"]): chart_crds(chart_folder(c["spec"]), values_of(c, config))
        for c, config in charts.values()
    }


@pytest.fixture(scope="module")
def rendered(written, crds, kube):
    """name -> the objects the release creates, each chart rendered once."""
    charts, _namespaces = written
    capabilities = api_versions(discover(kube)) | K3S_API_VERSIONS
    capabilities |= {v for docs in crds.values() for crd in docs for v in crd_api_versions(crd)}
    started = time.monotonic()
    out = {}
    for name, (chart, config) in charts.items():
        out[name] = render(chart, config, kube_version=k3s_version(), api_versions=capabilities)
    print(f"rendered {len(out)} releases in {time.monotonic() - started:.1f}s")
    return out


def _path(served, obj, namespace):
    plural, namespaced = served[(obj["apiVersion"], obj["kind"])]
    group_version = obj["apiVersion"]
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    if namespaced:
        base += f"/namespaces/{obj['metadata'].get('namespace') or namespace}"
    return f"{base}/{plural}/{obj['metadata']['name']}"


def _wait(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dry_run(written, crds, rendered, kube):
    """Every rendered object (not `helm test` hooks) applied server-side with dry run, in one pass; the release
    namespaces role platform makes (with its labels) and the charts' CRDs that are missing are created first, as a
    server has them, and removed afterwards."""
    charts, namespaces = written
    created_namespaces, created_crds = [], []
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    try:
        yield _dry_run(kube, charts, namespaces, crds, rendered, created_namespaces, created_crds)
    finally:
        for name in created_crds:
            kube.request("DELETE", f"{crd_path}/{name}")
        for namespace in created_namespaces:
            kube.delete("Namespace", namespace)
        for name in created_crds:
            _wait(lambda name=name: not _exists(kube, f"{crd_path}/{name}"), f"CRD {name} deleted")
        for namespace in created_namespaces:
            _wait(lambda namespace=namespace: kube.get("Namespace", namespace) is None, f"{namespace} gone", 120)


def _dry_run(kube, charts, namespaces, crds, rendered, created_namespaces, created_crds) -> dict:
    for namespace in sorted(set(RELEASES.values())):
        if kube.get("Namespace", namespace) is None:
            labels = (namespaces.get(namespace) or {}).get("metadata", {}).get("labels", {})
            kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}})
            created_namespaces.append(namespace)
    served = discover(kube)
    by_kind = {
        f"{crd['spec']['group']}/{version['name']}/{crd['spec']['names']['kind']}": (folder, crd)
        for folder, docs in crds.items()
        for crd in docs
        for version in crd["spec"]["versions"]
    }
    missing = sorted(
        {f"{o['apiVersion']}/{o['kind']}" for objs in rendered.values() for o in objs}
        - {f"{gv}/{k}" for gv, k in served}
    )
    from_charts, unserved = {}, set()
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    for kind in missing:
        if kind in by_kind:
            folder, crd = by_kind[kind]
            from_charts[kind] = folder
            if crd["metadata"]["name"] not in created_crds:
                kube.request("POST", crd_path, body=crd)
                created_crds.append(crd["metadata"]["name"])
        else:
            unserved.add(kind)
    for name in created_crds:
        _wait(
            lambda name=name: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in (kube.request("GET", f"{crd_path}/{name}").get("status") or {}).get("conditions") or []
            ),
            f"CRD {name} established",
        )
    served = discover(kube)
    started = time.monotonic()
    failures, warnings, applied = [], [], 0
    for name, objects in rendered.items():
        _release, namespace = release(charts[name][0])
        for obj in objects:
            if is_test_hook(obj) or f"{obj['apiVersion']}/{obj['kind']}" in unserved:
                continue
            status, body, warned = dry_run_apply(kube, _path(served, obj, namespace), obj, FIELD_MANAGER)
            applied += 1
            where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
            if status >= 300:
                failures.append(f"{where}: HTTP {status} {body.get('message')}")
            warnings += [f"{where}: {w}" for w in warned]
    print(f"dry run: {applied} objects in {time.monotonic() - started:.1f}s")
    return {"failures": failures, "warnings": warnings, "from_charts": from_charts, "unserved": unserved}


def _exists(kube, path):
    try:
        kube.request("GET", path)
    except KubeError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def role_values(written, name) -> dict:
    """The values the role wrote for this release: the HelmChart's valuesContent, or for Traefik the
    HelmChartConfig's (k3s' own HelmChart values are k3s', not the role's)."""
    chart, config = written[0][name]
    return yaml.safe_load((config or chart)["spec"].get("valuesContent") or "{}") or {}


def test_every_chart_the_roles_write_renders_as_k3s_installs_it(written, rendered):
    charts, _namespaces = written
    assert set(rendered) == set(RELEASES)
    for name, objects in rendered.items():
        chart, _config = charts[name]
        assert release(chart) == (name.split(" ")[0], RELEASES[name]), name
        kinds = {o["kind"] for o in objects}
        assert kinds & {"Deployment", "StatefulSet", "DaemonSet", "AutoscalingRunnerSet"}, (name, sorted(kinds))
    # the release name is the HelmChart's, not the chart's: ARC's controller is named after its release, and the
    # runner scale set names that controller's ServiceAccount
    named = role_values(written, "arc-runners-shop")["controllerServiceAccount"]
    accounts = {
        (o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in rendered["arc"]
        if o["kind"] == "ServiceAccount"
    }
    assert (named["namespace"], named["name"]) in accounts, accounts
    # Prometheus selects the rules labelled with its release, which role observability's PrometheusRule carries
    (prometheus,) = [o for o in rendered["kube-prometheus-stack"] if o["kind"] == "Prometheus"]
    release_label = role_defaults("observability")["observability_release"]
    assert prometheus["spec"]["ruleSelector"] == {"matchLabels": {"release": release_label}}
    # Grafana's and Prometheus' hosts: an Ingress each, on Traefik's websecure entry point with the role's resolver;
    # Prometheus' behind the role's basicAuth Middleware, and its external URL (alert links) is https://
    ingresses = {o["metadata"]["name"]: o for o in rendered["kube-prometheus-stack"] if o["kind"] == "Ingress"}
    assert sorted(ingresses) == ["kube-prometheus-stack-grafana", "kube-prometheus-stack-prometheus"], sorted(ingresses)
    prometheus_host = VARIABLES["observability_prometheus_host"]
    for name, host in (("grafana", VARIABLES["observability_grafana_host"]), ("prometheus", prometheus_host)):
        ingress = ingresses[f"kube-prometheus-stack-{name}"]
        assert [rule["host"] for rule in ingress["spec"]["rules"]] == [host], ingress
        annotations = ingress["metadata"]["annotations"]
        assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
        assert annotations["traefik.ingress.kubernetes.io/router.tls.certresolver"] == "letsencrypt"
        middlewares = annotations.get("traefik.ingress.kubernetes.io/router.middlewares")
        assert middlewares == ("observability-prometheus-auth@kubernetescrd" if name == "prometheus" else None), name
    assert prometheus["spec"]["externalUrl"] == f"https://{prometheus_host}"
    # Traefik never asks update.traefik.io for a new version (docs/platform.md); the chart's default would
    for name in ("traefik", "traefik (acme dns)"):
        (traefik,) = [o for o in rendered[name] if o["kind"] == "Deployment"]
        assert "--global.checkNewVersion=false" in traefik["spec"]["template"]["spec"]["containers"][0]["args"], name


def test_the_rendered_objects_pass_a_server_side_dry_run(dry_run):
    assert dry_run["failures"] == []
    assert dry_run["from_charts"] == {
        kind: folder.split(" ", maxsplit=1)[0] for kind, folder in CRDS_FROM_CHARTS.items()
    }, dry_run["from_charts"]
    assert dry_run["unserved"] == set(UNSERVED)
    # Pod Security admission of the namespaces role platform labels: a workload whose pods its namespace would refuse
    # is a warning on the workload
    assert [w for w in dry_run["warnings"] if "PodSecurity" in w] == []


def test_the_dry_run_refuses_what_the_schemas_and_pod_security_refuse(dry_run, rendered, kube):
    """The same requests fail for a field no schema has, a value of the wrong type in a CRD-checked resource, and warn
    for a pod its namespace's Pod Security level would refuse: passing above means passing these checks."""
    served = discover(kube)
    (deployment,) = [o for o in rendered["cloudnative-pg"] if o["kind"] == "Deployment"]
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    status, body, _warnings = dry_run_apply(kube, _path(served, misspelt, "cnpg-system"), misspelt, FIELD_MANAGER)
    # (the API server answers 500 when it cannot type the apply patch of a built-in kind; the main test counts every
    # answer from 300 up as a failure)
    assert status >= 400 and "resourcez: field not declared in schema" in body["message"], (status, body["message"])
    (runner_set,) = [o for o in rendered["arc-runners-shop"] if o["kind"] == "AutoscalingRunnerSet"]
    wrong = copy.deepcopy(runner_set)
    wrong["spec"]["maxRunners"] = "many"
    status, body, _warnings = dry_run_apply(kube, _path(served, wrong, "arc-runners"), wrong, FIELD_MANAGER)
    assert status >= 400 and ".spec.maxRunners: expected numeric" in body["message"], (status, body["message"])
    host = copy.deepcopy(deployment)
    host["spec"]["template"]["spec"]["hostNetwork"] = True
    status, body, warnings = dry_run_apply(kube, _path(served, host, "cnpg-system"), host, FIELD_MANAGER)
    assert status < 300, body
    assert any("PodSecurity" in w and "host namespaces" in w for w in warnings), warnings


def test_no_value_key_the_roles_write_is_ignored_by_its_chart(written):
    used = set()
    problems = {}
    for name in RELEASES:
        chart, _config = written[0][name]
        tree = owners(upstream_chart(chart_folder(chart["spec"])))
        unread = []
        for key in unread_keys(role_values(written, name), tree):
            excused = [(n, p) for n, p in UNREAD if n == name.split(" ")[0] and (key == p or key.startswith(p + "."))]
            used.update(excused)
            if not excused:
                unread.append(key)
        if unread:
            problems[name] = unread
    assert problems == {}
    assert sorted(set(UNREAD) - used) == [], "exceptions that excuse nothing"


def test_a_key_the_chart_does_not_know_is_found(written):
    """The comparison itself: a misspelt key, a key under a documented mapping and one under a subchart's alias."""
    chart, _config = written[0]["kube-prometheus-stack"]
    tree = owners(upstream_chart(chart_folder(chart["spec"])))
    values = copy.deepcopy(role_values(written, "kube-prometheus-stack"))
    values["prometheusOperatorr"] = {"enabled": False}
    values["prometheus"]["prometheusSpec"]["retentionSise"] = "1GB"
    values["grafana"]["sidecar"]["dashbords"] = {"enabled": True}
    values["kube-state-metrics"]["image"]["tags"] = "v0"
    assert set(unread_keys(values, tree)) >= {
        "prometheusOperatorr",
        "prometheus.prometheusSpec.retentionSise",
        "grafana.sidecar.dashbords",
        "kube-state-metrics.image.tags",
    }


def _docker_hub(image: str) -> str:
    """An image reference as the container runtime resolves it (docker.io/ for a Docker Hub name without a host)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return "docker.io/" + (image if "/" in image else f"library/{image}")


def test_images_are_the_pinned_ones(rendered):
    found = {name: images(objects) for name, objects in rendered.items()}
    for (name, kind, container), (role, variable) in PINS.items():
        pinned = role_defaults(role)[variable]
        (image,) = [i for where, i in found[name].items() if where.startswith(f"{kind}/") and where.endswith(container)]
        assert image == pinned, (name, container)
    # kube-state-metrics: role observability pins the tag (its metric catalogue is read from that version's source)
    tag = role_defaults("observability")["observability_kube_state_metrics_version"]
    (ksm,) = [i for w, i in found["kube-prometheus-stack"].items() if w.endswith("containers/kube-state-metrics")]
    assert ksm.rsplit(":", 1)[1] == tag, ksm
    # Traefik: the image k3s pins in its own HelmChart, which role platform's HelmChartConfig leaves alone
    k3s = yaml.safe_load(k3s_traefik()["spec"]["valuesContent"])["image"]
    for name in ("traefik", "traefik (acme dns)"):
        (traefik,) = [i for w, i in found[name].items() if w.endswith("containers/traefik")]
        assert _docker_hub(traefik) == _docker_hub(f"{k3s['repository']}:{k3s['tag']}"), traefik
    # every other image is pinned by the chart version: a version tag or a digest, never latest or none
    unpinned = {
        f"{name}: {where}": image
        for name, by_where in found.items()
        for where, image in by_where.items()
        if not re.search(r"(:[\w][\w.-]*\d[\w.-]*|@sha256:[0-9a-f]{64})$", image) or image.endswith(":latest")
    }
    assert unpinned == {}
    print("\n" + "\n".join(f"{name}: {where} {image}" for name, w in found.items() for where, image in w.items()))


def test_observability_memory_limits_sum_under_6_gb(rendered, kube):
    """docs/observability.md: the containers of the three observability charts, as rendered, on a single-node server
    (DaemonSets once)."""
    rows = []
    for name in OBSERVABILITY:
        here = memory_rows(rendered[name], nodes=1)
        assert here, f"{name}: no container counted"
        rows += [{**row, "container": f"{name}: {row['container']}"} for row in here]
    print("\n" + format_rows(rows, BUDGET_BYTES))
    total = sum(row["bytes"] for row in rows)
    assert total < BUDGET_BYTES, format_rows(rows, BUDGET_BYTES)
    # the figure docs/observability.md gives is this sum
    (documented,) = re.findall(r"\*\*total\*\* \| \| \*\*(\d+)Mi = ", (REPO / "docs" / "observability.md").read_text())
    assert int(documented) * 2**20 == total, format_rows(rows, BUDGET_BYTES)
    # a rendered container without a limit fails the sum
    broken = copy.deepcopy(rendered["loki"])
    (loki,) = [o for o in broken if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "loki"]
    del loki["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    with pytest.raises(MissingLimit, match="StatefulSet/loki containers/loki"):
        memory_rows(broken)


# ---- capacity: the reference server (4 CPU, 24 GiB) with what the roles install


def test_the_reference_server_holds_five_app_and_postgresql_environments(rendered, playbooks, kube, github, operators):
    """docs/quota.md, "Capacity": on the harness's simulated node, the size of the reference server, every pod the
    rendered releases keep running (all four cluster roles with every optional part on, k3s' Traefik with role
    platform's HelmChartConfig) stands in its place with its rendered resources. As many app + PostgreSQL
    environments as the rest holds, at least the five the platform promises, are admitted and ready; the next one is
    refused with the numbers in its comment."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils import _capacity

    before = _capacity.measure_capacity(kube)
    assert (before.nodes, before.allocatable_cpu, before.allocatable_memory) == (1, 4000, 24 * 1024), before
    namespace = "capacity-reference"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    placeholder = "registry.example/placeholder@sha256:" + "5" * 64
    counted = []
    for name, objects in rendered.items():
        if name == "traefik (acme dns)":  # the same release, configured for DNS-01: one Traefik runs
            continue
        for index, (where, spec) in enumerate(running_pods(objects, nodes=1)):
            pod_spec = {key: [{**c, "image": placeholder} for c in containers] for key, containers in spec.items()}
            kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"{name}-{index}", "namespace": namespace, "annotations": {"from": where}},
                    "spec": pod_spec,
                }
            )
            counted.append(f"{name}: {where}")
    platform = _capacity.measure_capacity(kube)
    need_cpu, need_memory = 450, 768  # the quota's requests of app + PostgreSQL (docs/quota.md)
    fit = min(platform.free_cpu // need_cpu, platform.free_memory // need_memory)
    print(
        f"\nthe platform's {len(counted)} pods request {before.free_cpu - platform.free_cpu}m CPU and "
        f"{before.free_memory - platform.free_memory}Mi memory; free: {platform.free_cpu}m CPU, "
        f"{platform.free_memory}Mi memory: room for {fit} environments of app + PostgreSQL\n  " + "\n  ".join(counted)
    )
    assert fit >= 5, f"the reference server holds {fit} environments of app + PostgreSQL, not the five promised"
    numbers = [9300 + n for n in range(fit + 1)]
    config = playbooks.tmp / "k8s-ee-capacity.yaml"
    config.write_text("projectId: shop\ndatabases:\n  postgresql: true\n")
    try:
        admitted = playbooks.run_together(
            "pr_up", [{"k8s_ee_pr_number": n, "k8s_ee_config_path": str(config)} for n in numbers[:fit]]
        )
        assert [r.rc for r in admitted] == [0] * fit, [c["body"][:600] for n in numbers for c in comments(github, n)]
        refused = playbooks.run("pr_up", k8s_ee_pr_number=numbers[fit], k8s_ee_config_path=str(config))
        assert refused.rc != 0
        assert kube.get("Namespace", f"shop-pr-{numbers[fit]}") is None
        (comment,) = comments(github, numbers[fit])
        body = comment["body"]
        assert f"capacity: the environment needs {need_cpu}m CPU and {need_memory}Mi memory" in body, body
        assert re.search(r"but the cluster has \S+ CPU and \S+ memory free \(4 CPU / 24Gi allocatable", body), body
    finally:
        left = [{"k8s_ee_pr_number": n} for n in numbers if kube.get("Namespace", f"shop-pr-{n}") is not None]
        playbooks.run_together("pr_down", left)
        kube.delete("Namespace", namespace)
        wait_until_gone(kube, [namespace, *(f"shop-pr-{n}" for n in numbers)])


def comments(github, number):
    return [c for c in github.comments_of("acme/shop", number) if "<!-- k8s-ee:environment -->" in c["body"]]
