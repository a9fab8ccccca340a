# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The charts the roles install, rendered as k3s' helm-controller installs them (docs/testing.md, "The charts,
rendered"), and what the tests check in them: the value keys a chart reads, the images, the memory limits.

k3s' helm-controller runs one helm-install Job per HelmChart (k3s-io/helm-controller, pkg/controllers/chart): the
release is the HelmChart's metadata.name, the namespace its spec.targetNamespace (else its own namespace), the values
are spec.valuesContent (values-01_HelmChart.yaml) and then the valuesContent of the HelmChartConfig of the same name
(values-10_HelmChartConfig.yaml), spec.set becomes --set (or --set-string for what is no number, boolean or null).
`helm install` in that Job takes the Kubernetes version and the API versions from the cluster; `render` gets them
from the caller (`discover`).
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass

import upstream
import yaml
from observability import helm_binary, upstream_chart

from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity

REPO = pathlib.Path(__file__).resolve().parent.parent


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader (libyaml's when there), but a plain `=` is the string "=" (as in YAML 1.2 and for the API
    server), not YAML 1.1's value tag, which PyYAML cannot construct (prometheus-operator's AlertmanagerConfig CRD has
    `enum: [..., =]`)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]


def role_defaults(role: str) -> dict:
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())


def k3s_version() -> str:
    """The k3s release role k3s installs (its Kubernetes version is what the charts see)."""
    return role_defaults("k3s")["k3s_version"]


def k3s_traefik() -> dict:
    """The HelmChart `traefik` k3s itself writes (manifests/traefik.yaml of the pinned k3s release)."""
    text = upstream.path(f"charts/k3s-{k3s_version()}-traefik.yaml").read_text()
    (chart,) = [d for d in yaml.safe_load_all(text) if d and d["metadata"]["name"] == "traefik"]
    return chart


# ---------------------------------------------------------------- what helm-controller runs


def chart_folder(spec: dict) -> str:
    """`<chart>-<version>` of tests/upstream.py for a HelmChart's spec.chart and spec.version: a chart of a
    repository (`cloudnative-pg`), an OCI reference (`oci://…/gha-runner-scale-set`) or the URL of a chart k3s serves
    (`https://…/traefik-37.1.1+up37.1.0.tgz`, Rancher's repackaging of upstream 37.1.0)."""
    chart = spec["chart"]
    if chart.endswith(".tgz"):
        base = urllib.parse.urlparse(chart.replace("%{KUBERNETES_API}%", "k3s")).path.rsplit("/", 1)[-1][:-4]
        match = re.fullmatch(r"(?P<name>.+?)-(?P<version>\d+\.\d+\.\d+[^+]*)(\+up(?P<upstream>.+))?", base)
        if not match:
            raise ValueError(f"cannot tell the chart and version of {chart}")
        return f"{match['name']}-{match['upstream'] or match['version']}"
    return f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{spec['version']}"


def release(helmchart: dict) -> tuple[str, str]:
    """(release name, namespace) helm-controller installs a HelmChart as."""
    meta = helmchart["metadata"]
    return meta["name"], helmchart["spec"].get("targetNamespace") or meta["namespace"]


def _set_arguments(spec_set: dict) -> list[str]:
    """spec.set as helm-controller passes it (args() in pkg/controllers/chart/chart.go): sorted by key, --set for
    integers, booleans and null, --set-string with unescaped commas escaped for the rest. k3s' own placeholders
    (%{SYSTEM_DEFAULT_REGISTRY_RAW}%) are empty on a server without a system default registry."""
    out = []
    for key in sorted(spec_set):
        value = spec_set[key]
        if isinstance(value, bool | int) or str(value).lower() in ("true", "false", "null"):
            out += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
        else:
            text = re.sub(r"%\{[A-Z_]+\}%", "", str(value))
            text = re.sub(r"\\*,", lambda m: m[0] if len(m[0]) % 2 == 0 else "\\" + m[0], text)
            out += ["--set-string", f"{key}={text}"]
    return out


def render(
    helmchart: dict,
    config: dict | None = None,
    kube_version: str | None = None,
    api_versions=(),
) -> list[dict]:
    """`helm template` of the pinned upstream chart as helm-controller would install this HelmChart (with its
    HelmChartConfig): the objects the release creates, hooks included (test hooks are marked, see `is_test_hook`)."""
    spec = helmchart["spec"]
    name, namespace = release(helmchart)
    argv = [str(helm_binary()), "template", name, str(upstream_chart(chart_folder(spec))), "--namespace", namespace]
    argv += ["--kube-version", kube_version or k3s_version()]
    if api_versions:
        argv += ["--api-versions", ",".join(sorted(api_versions))]
    argv += _set_arguments(spec.get("set") or {})
    with tempfile.TemporaryDirectory(prefix="k8s-ee-values-") as tmp:
        for file, text in (
            ("values-01_HelmChart.yaml", spec.get("valuesContent")),
            ("values-10_HelmChartConfig.yaml", ((config or {}).get("spec") or {}).get("valuesContent")),
        ):
            if text:
                (pathlib.Path(tmp) / file).write_text(text)
                argv += ["--values", str(pathlib.Path(tmp) / file)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"helm template {name} ({chart_folder(spec)}) failed: {proc.stderr.strip()}")
    return load_all(proc.stdout)


def values_of(helmchart: dict, config: dict | None = None) -> dict:
    """The values helm-controller passes: the HelmChart's valuesContent, the HelmChartConfig's merged over it."""
    merged: dict = {}
    for source in (helmchart, config or {}):
        _merge(merged, yaml.safe_load((source.get("spec") or {}).get("valuesContent") or "{}") or {})
    return merged


def _merge(into: dict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def chart_crds(folder: str, values: dict | None = None) -> list[dict]:
    """The CRDs `helm install` creates before it renders the templates: the files in the crds/ folder of the chart
    and of each dependency these values (over the chart's defaults) leave enabled (its `condition`)."""
    return _crds(upstream_chart(folder), values or {})


def _crds(directory: pathlib.Path, values: dict) -> list[dict]:
    out = []
    for file in sorted((directory / "crds").rglob("*")):
        if file.is_file() and file.suffix in (".yaml", ".yml", ".json"):
            out += [doc for doc in load_all(file.read_text()) if doc.get("kind") == "CustomResourceDefinition"]
    meta = yaml.safe_load((directory / "Chart.yaml").read_text())
    values_file = directory / "values.yaml"
    defaults = (yaml.safe_load(values_file.read_text()) if values_file.exists() else None) or {}
    subcharts = {yaml.safe_load(c.read_text())["name"]: c.parent for c in (directory / "charts").glob("*/Chart.yaml")}
    for dependency in meta.get("dependencies") or []:
        alias = dependency.get("alias") or dependency["name"]
        if _enabled(dependency.get("condition") or "", values, defaults):
            out += _crds(subcharts[dependency["name"]], values.get(alias) or {})
    return out


def _enabled(condition: str, values: dict, defaults: dict) -> bool:
    """helm's dependency condition: the first of its comma-separated paths that holds a boolean decides; none, on."""
    for path in filter(None, (p.strip() for p in condition.split(","))):
        for source in (values, defaults):
            value = _lookup(source, tuple(path.split(".")))
            if isinstance(value, bool):
                return value
    return True


def crd_api_versions(crd: dict) -> set[str]:
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    served = [v["name"] for v in crd["spec"]["versions"] if v.get("served", True)]
    return {f"{group}/{v}" for v in served} | {f"{group}/{v}/{kind}" for v in served}


def discover(kube) -> dict[tuple[str, str], tuple[str, bool]]:
    """(apiVersion, kind) -> (plural, namespaced) of everything the cluster serves, as discovery reports it."""
    group_versions = ["v1"] + [
        version["groupVersion"] for group in kube.request("GET", "/apis")["groups"] for version in group["versions"]
    ]
    served = {}
    for group_version in group_versions:
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        for resource in kube.request("GET", path)["resources"]:
            if "/" not in resource["name"]:
                served[(group_version, resource["kind"])] = (resource["name"], resource["namespaced"])
    return served


def api_versions(served) -> set[str]:
    """What helm's capabilities hold for these resources (action.GetVersionSet): every group/version and every
    group/version/Kind."""
    return {group_version for group_version, _kind in served} | {f"{gv}/{kind}" for gv, kind in served}


def is_test_hook(obj: dict) -> bool:
    """A `helm test` hook: created only by `helm test`, never by an install."""
    hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return any(hook.strip() in ("test", "test-success", "test-failure") for hook in hooks.split(","))


def dry_run_apply(kube, path: str, obj: dict, field_manager: str) -> tuple[int, dict, list[str]]:
    """Server-side apply with dry run and strict field validation: (status, body, Warning headers)."""
    import urllib3

    query = {"dryRun": "All", "fieldManager": field_manager, "force": "true", "fieldValidation": "Strict"}
    headers = {"Accept": "application/json", "Content-Type": "application/apply-patch+yaml"}
    authorization = kube.configuration.authorization()
    if authorization:
        headers["Authorization"] = authorization
    response = kube.http.request(
        "PATCH",
        f"{kube.host}{path}?{urllib.parse.urlencode(query)}",
        body=json.dumps(obj).encode(),
        headers=headers,
        timeout=urllib3.Timeout(total=60),
        retries=False,
    )
    try:
        body = json.loads(response.data or b"{}")
    except ValueError:
        body = {"message": response.data[:300].decode(errors="replace")}
    return response.status, body, response.headers.getlist("Warning")


# ---------------------------------------------------------------- which value keys a chart reads


@dataclass(frozen=True)
class Owner:
    """One chart of a chart tree: where its values sit in the parent's values (its alias), its values.yaml, its
    values.schema.json, the text of its templates and where they name a value (`references`)."""

    prefix: tuple[str, ...]
    name: str
    values: dict
    schema: dict | None
    templates: str
    references: tuple


# .Values.a.b (also $.Values…) or index .Values "a" "b" (keys that are no identifiers, such as "grafana.ini")
_REFERENCE = re.compile(r'\$?\.Values((?:\.\w+)+)|\(?index\s+\$?\.Values((?:\s+"[^"]+")+)\s*\)?')


def _references(text: str) -> tuple:
    """(key path, start, end) of every reference to a value in the text."""
    out = []
    for match in _REFERENCE.finditer(text):
        path = match[1][1:].split(".") if match[1] else re.findall(r'"([^"]+)"', match[2])
        out.append((tuple(path), match.start(), match.end()))
    return tuple(out)


def owners(folder: pathlib.Path, prefix: tuple[str, ...] = ()) -> list[Owner]:
    """The chart at `folder` and its dependencies (charts/<dir> whose Chart.yaml name is the dependency's), each
    under its alias or name, recursively."""
    meta = yaml.safe_load((folder / "Chart.yaml").read_text())
    schema_file = folder / "values.schema.json"
    values_file = folder / "values.yaml"
    # values.yaml too: charts keep templates in values (loki's loki.config is rendered with tpl)
    templates = "\n".join(
        p.read_text(errors="replace") for p in [*sorted((folder / "templates").rglob("*")), values_file] if p.is_file()
    )
    out = [
        Owner(
            prefix,
            meta["name"],
            (yaml.safe_load(values_file.read_text()) if values_file.exists() else None) or {},
            json.loads(schema_file.read_text()) if schema_file.exists() else None,
            templates,
            _references(templates),
        )
    ]
    subcharts = {}
    for sub in sorted((folder / "charts").glob("*/Chart.yaml")):
        subcharts[yaml.safe_load(sub.read_text())["name"]] = sub.parent
    for dependency in meta.get("dependencies") or []:
        if dependency["name"] not in subcharts:
            raise FileNotFoundError(f"{folder}: dependency {dependency['name']} is not in charts/")
        alias = dependency.get("alias") or dependency["name"]
        out += owners(subcharts[dependency["name"]], (*prefix, alias))
    return out


_MISSING = object()


def _lookup(values, path):
    node = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _schema_at(schema, path):
    """The schema node of `path`, a free-form object node above it, or None when the schema does not name it."""
    node = schema
    for key in path:
        properties = node.get("properties") if isinstance(node, dict) else None
        if properties is None:
            free = isinstance(node, dict) and (
                "object" in str(node.get("type", "")) or node.get("additionalProperties")
            )
            return node if free else None
        if key in properties:
            node = properties[key]
            continue
        pattern = next((s for p, s in (node.get("patternProperties") or {}).items() if re.search(p, key)), None)
        if pattern is None:
            return None
        node = pattern
    return node


# What around a reference passes the value on whole: toYaml of it, a range over its keys, or a with block on it whose
# next action is toYaml of the dot (or tpl of that).
_WHOLE_BEFORE = re.compile(r"(?:toYaml\s+\(?|range\s+\$\w+\s*,\s*\$\w+\s*:=\s*\(?)\s*$")
_WHOLE_AFTER = re.compile(r"\s*\|\s*toYaml")
_WITH_BEFORE = re.compile(r"with\s+$")
_WITH_AFTER = re.compile(r"\s*-?\}\}[^{]*\{\{-?\s*(?:toYaml\s+\.|tpl\s+\(\s*\.\s*\|\s*toYaml)")


def _template_use(owner: Owner, path) -> str | None:
    """How the templates use .Values.<path>: "whole" (passed on entirely, see _WHOLE_BEFORE), "map" (keys below it
    are read, .Values.<path>.<key>), "read" (only the value itself: a condition, a with block), or None."""
    exact = deeper = False
    for reference, start, end in owner.references:
        if reference[: len(path)] != path:
            continue
        if len(reference) > len(path):
            deeper = True
            continue
        exact = True
        before, after = owner.templates[max(0, start - 60) : start], owner.templates[end : end + 300]
        if (
            _WHOLE_BEFORE.search(before)
            or _WHOLE_AFTER.match(after)
            or (_WITH_BEFORE.search(before) and _WITH_AFTER.match(after))
        ):
            return "whole"
    return "map" if deeper else "read" if exact else None


def classify(path: tuple[str, ...], tree: list[Owner]) -> str | None:
    """How the chart tree takes the value at `path`: "map" (a documented mapping, or one the templates read keys of:
    its keys are checked one by one), "leaf" (a documented value, or a mapping passed on whole: an empty default, a
    list, a scalar, a schema object without properties, or what the templates pass on whole, see _template_use),
    "read" (not documented, but the templates read .Values.<path> itself), or None (ignored)."""
    if path == ("global",):
        return "map"  # helm gives every chart .Values.global; what is below it is checked like any key
    found = None
    for owner in tree:
        if path[0] == "global":
            relative = path
        elif path[: len(owner.prefix)] == owner.prefix and len(path) > len(owner.prefix):
            relative = path[len(owner.prefix) :]
        else:
            continue
        default = _lookup(owner.values, relative)
        if default is not _MISSING:
            if isinstance(default, dict) and default:
                found = "map"
            else:
                return "leaf"
        schema = _schema_at(owner.schema, relative) if owner.schema else None
        if schema is not None:
            if schema.get("properties"):
                found = "map"
            elif found is None:
                return "leaf"
        use = _template_use(owner, relative)
        if use == "whole":
            return "leaf"
        if use == "read" and found is None:
            found = "read"
        elif use == "map":
            found = "map"
    return found


def unread_keys(values: dict, tree: list[Owner]) -> list[str]:
    """Every key path of `values` that no chart of the tree documents (values.yaml, values.schema.json) or reads
    (.Values.<path> in its templates): keys the chart ignores."""
    out = []

    def walk(node, path):
        for key, value in node.items():
            here = (*path, str(key))
            verdict = classify(here, tree)
            if verdict is None:
                out.append(".".join(here))
            elif verdict == "map" and isinstance(value, dict):
                walk(value, here)

    walk(values, ())
    return out


# ---------------------------------------------------------------- images and memory of the rendered objects

# Operator-managed kinds whose pods the operator builds from the resource (prometheus-operator v0.93.0).
POD_MAKING_CUSTOM_KINDS = {"Prometheus", "Alertmanager", "ThanosRuler", "PrometheusAgent"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}


def pod_spec(obj: dict) -> dict | None:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] in WORKLOADS:
        return spec["template"]["spec"]
    return None


def _containers(spec: dict) -> list[tuple[str, dict]]:
    return [(f"{key}/{c['name']}", c) for key in ("initContainers", "containers") for c in spec.get(key) or []]


def images(objects: list[dict]) -> dict[str, str]:
    """`Kind/name container-list/container` -> image for every container anywhere in the objects (pod specs of
    workloads and pod templates inside custom resources), and the `spec.image` of the operator-managed kinds."""
    out = {}

    def walk(node, where):
        if isinstance(node, dict):
            for key in ("initContainers", "containers", "ephemeralContainers"):
                listed = node.get(key)
                for container in listed if isinstance(listed, list) else []:
                    if isinstance(container, dict) and container.get("image"):
                        out[f"{where} {key}/{container.get('name')}"] = container["image"]
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition":
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        walk(obj.get("spec"), where)
        if obj["kind"] in POD_MAKING_CUSTOM_KINDS and (obj.get("spec") or {}).get("image"):
            out[f"{where} spec.image"] = obj["spec"]["image"]
    return out


class MissingLimit(AssertionError):
    """A container that runs has no memory limit."""


def _operator_flag(objects: list[dict], flag: str) -> str | None:
    for obj in objects:
        spec = pod_spec(obj) if obj["kind"] in WORKLOADS else None
        for _where, container in _containers(spec or {}):
            for arg in container.get("args") or []:
                if arg.startswith(f"--{flag}="):
                    return arg.split("=", 1)[1]
    return None


def _pod_count(obj: dict, nodes: int) -> int:
    """How many pods a workload runs: Deployments, StatefulSets and ReplicaSets their replicas (1 when unset),
    DaemonSets one per node, Jobs, CronJobs and Pods one."""
    if obj["kind"] == "DaemonSet":
        return nodes
    if obj["kind"] in ("Deployment", "StatefulSet", "ReplicaSet"):
        return int((obj.get("spec") or {}).get("replicas", 1))
    return 1


def _operator_pod_count(obj: dict, where: str) -> int:
    """How many pods prometheus-operator makes of a Prometheus or Alertmanager (replicas x shards); any other
    pod-making custom kind, or container overrides in the resource, are not modelled here."""
    spec = obj.get("spec") or {}
    if obj["kind"] not in ("Prometheus", "Alertmanager") or spec.get("containers") or spec.get("initContainers"):
        raise ValueError(f"{where}: the pods of this resource are not counted here (kind or container overrides)")
    return int(spec.get("replicas", 1)) * int(spec.get("shards", 1))


def memory_rows(objects: list[dict], nodes: int = 1) -> list[dict]:
    """One row per container that runs: where, count, limit and count * limit in bytes. Workloads count their
    replicas (Deployments and StatefulSets without replicas run one, DaemonSets one per node, Jobs and Pods one);
    init containers count as if they ran beside the others. Prometheus and Alertmanager resources become pods
    through prometheus-operator: the main container with spec.resources, and its config-reloader sidecar and
    init-config-reloader with the operator's --config-reloader-memory-limit (the chart passes
    prometheusOperator.prometheusConfigReloader.resources there). `helm test` hooks never run on an install.

    Raises MissingLimit naming every running container without a memory limit.
    """
    rows, missing = [], []

    def add(where, count, limit):
        if count == 0:
            return
        if limit in (None, ""):
            missing.append(where)
            return
        limit_bytes = int(_quantity.parse(str(limit)))
        rows.append({"container": where, "count": count, "limit": str(limit), "bytes": count * limit_bytes})

    for obj in objects:
        if is_test_hook(obj):
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = obj.get("spec") or {}
        if obj["kind"] in WORKLOADS:
            count = _pod_count(obj, nodes)
            for name, container in _containers(pod_spec(obj)):
                add(f"{where} {name}", count, ((container.get("resources") or {}).get("limits") or {}).get("memory"))
        elif obj["kind"] in POD_MAKING_CUSTOM_KINDS:
            count = _operator_pod_count(obj, where)
            main = obj["kind"].lower()
            add(f"{where} {main}", count, ((spec.get("resources") or {}).get("limits") or {}).get("memory"))
            reloader = _operator_flag(objects, "config-reloader-memory-limit")
            for name in ("config-reloader", "init-config-reloader"):
                add(f"{where} {name} (operator flag)", count, reloader)
    if missing:
        raise MissingLimit("no memory limit for: " + "; ".join(missing))
    return rows


def running_pods(objects: list[dict], nodes: int = 1) -> list[tuple[str, dict]]:
    """(where, pod spec with only names and resources) for every pod the objects keep running once installed, as
    many times as they run: Deployments, StatefulSets and ReplicaSets their replicas (1 when unset), DaemonSets once
    per node, Pods once; Prometheus and Alertmanager through prometheus-operator (spec.resources for the main
    container, the operator's --config-reloader-* flags for its sidecar and init container); ARC's
    AutoscalingRunnerSet its spec.minRunners (runners beyond those exist only while a job runs). Jobs, CronJobs and
    `helm test` hooks finish: they hold no room. Resources are copied as rendered (the API server defaults a
    request from its limit where only the limit is given, as for the real pods)."""

    def trimmed(spec: dict) -> dict:
        return {
            key: [{"name": c["name"], "resources": c.get("resources") or {}} for c in spec.get(key) or []]
            for key in ("initContainers", "containers")
            if spec.get(key)
        }

    out = []
    for obj in objects:
        if is_test_hook(obj) or obj["kind"] in ("Job", "CronJob"):
            continue
        where, spec = f"{obj['kind']}/{obj['metadata']['name']}", obj.get("spec") or {}
        if obj["kind"] in WORKLOADS:
            out += [(where, trimmed(pod_spec(obj)))] * _pod_count(obj, nodes)
        elif obj["kind"] == "AutoscalingRunnerSet":
            out += [(where, trimmed(spec["template"]["spec"]))] * int(spec.get("minRunners") or 0)
        elif obj["kind"] in POD_MAKING_CUSTOM_KINDS:
            count = _operator_pod_count(obj, where)
            flags = {
                f"{kind}.{resource}": _operator_flag(objects, f"config-reloader-{resource}-{kind}")
                for kind in ("request", "limit")
                for resource in ("cpu", "memory")
            }
            if None in flags.values():
                raise ValueError(
                    f"{where}: prometheus-operator's --config-reloader-* flags are not all rendered: {flags}"
                )
            reloader = {
                "requests": {"cpu": flags["request.cpu"], "memory": flags["request.memory"]},
                "limits": {"cpu": flags["limit.cpu"], "memory": flags["limit.memory"]},
            }
            pod = {
                "initContainers": [{"name": "init-config-reloader", "resources": reloader}],
                "containers": [
                    {"name": obj["kind"].lower(), "resources": spec.get("resources") or {}},
                    {"name": "config-reloader", "resources": reloader},
                ],
            }
            out += [(where, pod)] * count
    return out


def format_rows(rows: list[dict], budget: int | None = None) -> str:
    width = max([len(row["container"]) for row in rows] + [9])
    lines = [f"{'container':<{width}} {'n':>2} {'limit':>7} {'MiB':>7}"]
    for row in rows:
        lines.append(f"{row['container']:<{width}} {row['count']:>2} {row['limit']:>7} {row['bytes'] / 2**20:>7.0f}")
    total = sum(row["bytes"] for row in rows)
    tail = f"  ({total / 1e9:.2f} GB of {budget / 1e9:.0f} GB)" if budget else ""
    lines.append(f"{'total':<{width}} {'':>2} {'':>7} {total / 2**20:>7.0f}{tail}")
    return "\n".join(lines)
