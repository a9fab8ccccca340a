# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the observability role's tests check: the metrics the stack exports (from the exporters' own sources), PromQL
through Prometheus' parser (tests/tools/promcheck), and helm to render the pinned charts (tests/charts.py renders
them as k3s installs them; the memory budget is summed there)."""

import base64
import hashlib
import json
import os
import pathlib
import re
import subprocess

import upstream

REPO = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("K8S_EE_CACHE", pathlib.Path.home() / ".cache" / "k8s-ee"))
PROMCHECK_SRC = REPO / "tests" / "tools" / "promcheck"
PROMETHEUS_MODULE_VERSION = "v0.316.0"
# Helm, to render the pinned upstream charts (upstream_chart) with the values the role stores. Built from its Go
# module with the ldflags of helm's Makefile (without them a `go install` build assumes Kubernetes v1.20 and refuses
# charts with a newer kubeVersion), as shared/upstream/PROVENANCE.md describes.
HELM_VERSION = "v3.19.2"
HELM_LDFLAGS = " ".join(
    f"-X helm.sh/helm/v3/{key}={value}"
    for key, value in (
        ("internal/version.version", HELM_VERSION),
        ("pkg/chartutil.k8sVersionMajor", "1"),
        ("pkg/chartutil.k8sVersionMinor", "34"),
        ("pkg/lint/rules.k8sVersionMajor", "1"),
        ("pkg/lint/rules.k8sVersionMinor", "34"),
    )
)
BUDGET_BYTES = 6 * 10**9  # docs/observability.md: observability < 6 GB (decimal GB, the stricter reading of 6 GiB)


# ---------------------------------------------------------------- metric catalogue


def go_module_dir(module: str, version: str) -> pathlib.Path:
    """The source of a Go module version, downloaded once into Go's module cache (outside the repository)."""
    proc = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=CACHE if CACHE.is_dir() else None,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
    )
    info = json.loads(proc.stdout or "{}")
    if proc.returncode != 0 or "Dir" not in info:
        raise RuntimeError(f"go mod download {module}@{version} failed: {info.get('Error') or proc.stderr}")
    return pathlib.Path(info["Dir"])


def string_literals(files, prefix: str) -> set[str]:
    """Every Go string literal that is a metric name starting with `prefix` (e.g. "kube_pod_info")."""
    pattern = re.compile(r'"(' + re.escape(prefix) + r'[a-zA-Z0-9_]*)"')
    names = set()
    for path in files:
        names.update(pattern.findall(pathlib.Path(path).read_text()))
    return names


def go_sources(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in directory.glob("*.go") if not p.name.endswith("_test.go"))


def kube_state_metrics_names(version: str) -> set[str]:
    """kube_* metric names of kube-state-metrics at `version` (internal/store, one file per resource)."""
    return string_literals(
        go_sources(go_module_dir("k8s.io/kube-state-metrics/v2", version) / "internal" / "store"), "kube_"
    )


def cadvisor_names(version: str) -> set[str]:
    """container_* and machine_* names cAdvisor (inside the kubelet) exports at `version`."""
    files = go_sources(go_module_dir("github.com/google/cadvisor", version) / "metrics")
    return string_literals(files, "container_") | string_literals(files, "machine_")


def go_mod_requirement(go_mod: pathlib.Path, module: str) -> str:
    match = re.search(r"^\s*" + re.escape(module) + r"\s+(v\S+)", go_mod.read_text(), re.MULTILINE)
    if not match:
        raise LookupError(f"{module} is not required by {go_mod}")
    return match.group(1)


# ---------------------------------------------------------------- PromQL


def promcheck_binary() -> pathlib.Path:
    """tests/tools/promcheck, built once into the cache, in a folder named by the source's hash (as the Makefile
    does: the cache is shared by every checkout on the machine)."""
    sources = b"".join((PROMCHECK_SRC / name).read_bytes() for name in ("main.go", "go.mod", "go.sum"))
    digest = hashlib.sha256(sources).hexdigest()[:12]
    binary = CACHE / f"tools-promcheck-{PROMETHEUS_MODULE_VERSION}-{digest}" / "promcheck"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-o", str(binary), "."], cwd=PROMCHECK_SRC, check=True, timeout=900)
    return binary


def check_rule_files(paths) -> list[dict]:
    proc = subprocess.run(
        [str(promcheck_binary()), "rules", *map(str, paths)], capture_output=True, text=True, check=False, timeout=120
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def expression_metrics(exprs: list[str]) -> list[dict]:
    proc = subprocess.run(
        [str(promcheck_binary()), "metrics"], input=json.dumps(exprs), capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


# Grafana's built-in variables, replaced by what Grafana would send (a valid duration or number).
GRAFANA_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__range": "6h",
    "__range_s": "21600",
    "__range_ms": "21600000",
    "__interval_ms": "30000",
}


def resolve_grafana_variables(expr: str, variables: dict[str, str]) -> str:
    """Replace $name, ${name} and [[name]] by a value, as Grafana does before sending a query."""
    values = {**GRAFANA_VARIABLES, **variables}

    def value(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise KeyError(f"unknown Grafana variable {name!r} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", value, expr)


def dashboard_queries(dashboard: dict, datasource_type: str = "prometheus") -> list[tuple[str, str]]:
    """(panel title, expr) of every target that queries a data source of `datasource_type`, rows included."""
    out = []

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            panel_ds = (panel.get("datasource") or {}).get("type")
            for target in panel.get("targets", []):
                ds = (target.get("datasource") or {}).get("type", panel_ds)
                if ds == datasource_type and target.get("expr"):
                    out.append((panel.get("title", ""), target["expr"]))

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        if (variable.get("datasource") or {}).get("type") == datasource_type and variable.get("type") == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            out.append((f"variable {variable['name']}", query))
    return out


def label_values_selector(query: str) -> str:
    """`label_values(<selector>, label)` (Grafana's variable query) → the selector it evaluates."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query, re.DOTALL)
    return match.group(1) if match else query


# ---------------------------------------------------------------- the pinned charts, rendered


def upstream_chart(name: str) -> pathlib.Path:
    """The folder of one pinned upstream chart, `<chart>-<version>`: K8S_EE_CHARTS/<name> as it is when that is set,
    else tests/upstream.py's `charts/<name>` (../shared/upstream/charts beside the checkout, or downloaded into the
    cache; checked against tests/upstream.lock.json either way)."""
    if os.environ.get("K8S_EE_CHARTS"):
        directory = pathlib.Path(os.environ["K8S_EE_CHARTS"]) / name
        if not directory.is_dir():
            raise FileNotFoundError(f"no upstream chart {directory}; K8S_EE_CHARTS names the folder of the charts")
        return directory
    return upstream.directory(f"charts/{name}")


def helm_binary() -> pathlib.Path:
    """helm HELM_VERSION, built once into the cache."""
    binary = CACHE / f"tools-helm-{HELM_VERSION}" / "helm"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["go", "install", "-ldflags", HELM_LDFLAGS, f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"],
            env={**os.environ, "GOBIN": str(binary.parent), "GOFLAGS": "-mod=mod"},
            check=True,
            timeout=1800,
        )
    return binary


def monitors_reading_files(objects: list[dict]) -> list[str]:
    """ServiceMonitors that prometheus-operator refuses under arbitraryFSAccessThroughSMs.deny: an endpoint with
    bearerTokenFile, or a tlsConfig with caFile, certFile or keyFile (testForArbitraryFSAccess in
    pkg/prometheus/resource_selector.go, v0.93.0)."""
    refused = []
    for obj in objects:
        if obj["kind"] != "ServiceMonitor":
            continue
        for i, endpoint in enumerate(obj["spec"].get("endpoints", [])):
            tls = endpoint.get("tlsConfig") or {}
            if endpoint.get("bearerTokenFile") or any(tls.get(k) for k in ("caFile", "certFile", "keyFile")):
                refused.append(f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']} endpoints[{i}]")
    return refused


def monitors_reaching_other_namespaces(objects: list[dict], namespace: str) -> list[str]:
    """ServiceMonitors and PodMonitors whose namespaceSelector names targets outside their own namespace: under
    ignoreNamespaceSelectors they would find nothing there (and without it, could read any namespace)."""
    out = []
    for obj in objects:
        if obj["kind"] not in ("ServiceMonitor", "PodMonitor"):
            continue
        own = obj["metadata"].get("namespace", namespace)
        selector = obj["spec"].get("namespaceSelector") or {}
        if selector.get("any") or set(selector.get("matchNames", [own])) != {own}:
            out.append(f"{own}/{obj['metadata']['name']}: {selector}")
    return out


def additional_scrape_configs(objects: list[dict]) -> str:
    """The text of the Secret kube-prometheus-stack renders from prometheusSpec.additionalScrapeConfigs."""
    (prometheus,) = [obj for obj in objects if obj["kind"] == "Prometheus"]
    ref = prometheus["spec"]["additionalScrapeConfigs"]
    (secret,) = [obj for obj in objects if obj["kind"] == "Secret" and obj["metadata"]["name"] == ref["name"]]
    return base64.b64decode(secret["data"][ref["key"]]).decode()


def check_scrape_configs(path: pathlib.Path) -> dict:
    """Prometheus' own strict configuration loader on a YAML list of scrape configs: {"jobs": [...], "error": ...}."""
    proc = subprocess.run(
        [str(promcheck_binary()), "config", str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout)
