# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create, update and destroy one environment (SPEC 5, 6, 3.3): ownership, capacity admission,
server-side apply of every object, waiting for readiness under one deadline, the health check."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming, _render, _slots
from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError, comparable, redact
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota

EPHEMERAL_SELECTOR = f"{_naming.MANAGED_BY[0]}={_naming.MANAGED_BY[1]},{_naming.TYPE_LABEL[0]}={_naming.TYPE_LABEL[1]}"
ANN_CREATED, ANN_UPDATED, ANN_READY = "k8s-ee/created-at", "k8s-ee/updated-at", "k8s-ee/ready-at"


def now_rfc3339(clock=time.time) -> str:
    return datetime.datetime.fromtimestamp(clock(), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_between(earlier: str | None, later: str | None) -> int | None:
    """Whole seconds between two RFC 3339 UTC stamps (as stored on the namespace)."""
    if not earlier or not later:
        return None

    def parse(text):
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)

    return int((parse(later) - parse(earlier)).total_seconds())


class LifecycleError(RuntimeError):
    """A failure with the step it happened in and what to show on the PR."""

    def __init__(self, step: str, message: str, details: list[str] | None = None):
        self.step = step
        self.details = details or []
        super().__init__(message)


# ------------------------------------------------------------------ ownership


def ownership(namespace_obj: dict | None, repository: str) -> str:
    """'missing', 'ours', or raise: SPEC 2's rule (managed-by label AND the same repository)."""
    if namespace_obj is None:
        return "missing"
    meta = namespace_obj.get("metadata", {})
    labels = meta.get("labels") or {}
    owner = (meta.get("annotations") or {}).get(_naming.ANNOTATION_REPOSITORY)
    if labels.get(_naming.MANAGED_BY[0]) != _naming.MANAGED_BY[1]:
        raise LifecycleError(
            "ownership",
            f"namespace {meta.get('name')} exists but is not managed by k8s-ee; "
            "refusing to touch it (choose another projectId or remove the namespace)",
        )
    if not _naming.same_repository(owner, repository):
        shown = owner or "no repository annotation"
        raise LifecycleError(
            "ownership",
            f"namespace {meta.get('name')} belongs to {shown}, not {repository}; "
            "refusing to touch it (projectId values must be unique across repositories)",
        )
    return "ours"


# ------------------------------------------------------------------ capacity


def _pod_requests(pod: dict) -> tuple:
    spec = pod.get("spec", {})

    def total(containers):
        cpu = mem = 0
        for container in containers or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += q.millicores(requests.get("cpu", "0"))
            mem += q.mebibytes(requests.get("memory", "0"))
        return cpu, mem

    cpu, mem = total(spec.get("containers"))
    for init in spec.get("initContainers") or []:
        icpu, imem = total([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    return cpu, mem


@dataclass
class Capacity:
    allocatable_cpu: int
    allocatable_memory: int
    committed_cpu: int
    committed_memory: int
    nodes: int
    environments: list = field(default_factory=list)  # (namespace, cpu, memory)

    @property
    def free_cpu(self):
        return self.allocatable_cpu - self.committed_cpu

    @property
    def free_memory(self):
        return self.allocatable_memory - self.committed_memory


def measure_capacity(kube) -> Capacity:
    alloc_cpu = alloc_mem = 0
    nodes = 0
    for node in kube.list("Node"):
        if node.get("spec", {}).get("unschedulable"):
            continue
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        if conditions.get("Ready") != "True":
            continue
        allocatable = node["status"].get("allocatable", {})
        alloc_cpu += q.ceil(q.millicores(allocatable.get("cpu", "0")))
        alloc_mem += int(q.mebibytes(allocatable.get("memory", "0")))
        nodes += 1
    ephemeral = {ns["metadata"]["name"] for ns in kube.list("Namespace", label_selector=EPHEMERAL_SELECTOR)}
    committed_cpu = committed_mem = 0
    environments = []
    for quota in kube.list("ResourceQuota", label_selector=f"{_naming.MANAGED_BY[0]}={_naming.MANAGED_BY[1]}"):
        namespace = quota["metadata"]["namespace"]
        if namespace not in ephemeral:
            continue
        hard = quota.get("spec", {}).get("hard", {})
        cpu = q.ceil(q.millicores(hard.get("requests.cpu", "0")))
        mem = q.ceil(q.mebibytes(hard.get("requests.memory", "0")))
        committed_cpu += cpu
        committed_mem += mem
        environments.append((namespace, cpu, mem))
    for pod in kube.list("Pod", field_selector="status.phase!=Succeeded,status.phase!=Failed"):
        if pod["metadata"]["namespace"] in ephemeral:
            continue
        cpu, mem = _pod_requests(pod)
        committed_cpu += q.ceil(cpu)
        committed_mem += q.ceil(mem)
    environments.sort(key=lambda e: (-e[1], -e[2], e[0]))
    return Capacity(alloc_cpu, alloc_mem, committed_cpu, committed_mem, nodes, environments)


def admit(kube, quota_hard: dict, max_environments: int | None = None) -> Capacity:
    """SPEC 3.3: raise LifecycleError('capacity', ...) when a new environment does not fit."""
    capacity = measure_capacity(kube)
    if max_environments and len(capacity.environments) >= max_environments:
        raise LifecycleError(
            "capacity",
            f"capacity: {len(capacity.environments)} environments exist and the operator "
            f"allows at most {max_environments}; close or destroy one first",
            _largest(capacity),
        )
    need_cpu = q.ceil(q.millicores(quota_hard["requests.cpu"]))
    need_mem = q.ceil(q.mebibytes(quota_hard["requests.memory"]))
    missing = []
    if need_cpu > capacity.free_cpu:
        missing.append(f"{q.format_cpu(need_cpu - max(capacity.free_cpu, 0))} CPU")
    if need_mem > capacity.free_memory:
        missing.append(f"{q.format_memory(need_mem - max(capacity.free_memory, 0))} memory")
    if missing:
        raise LifecycleError(
            "capacity",
            f"capacity: the environment needs {q.format_cpu(need_cpu)} CPU and {q.format_memory(need_mem)} memory "
            f"(its quota's requests) but the cluster has {q.format_cpu(max(capacity.free_cpu, 0))} CPU and "
            f"{q.format_memory(max(capacity.free_memory, 0))} memory free "
            f"({q.format_cpu(capacity.allocatable_cpu)} CPU / {q.format_memory(capacity.allocatable_memory)} "
            f"allocatable on {capacity.nodes} schedulable node(s)); missing {' and '.join(missing)}",
            _largest(capacity),
        )
    return capacity


def _largest(capacity: Capacity) -> list[str]:
    return [
        f"{ns}: {q.format_cpu(cpu)} CPU, {q.format_memory(mem)} memory requested"
        for ns, cpu, mem in capacity.environments[:5]
    ]


# ------------------------------------------------------------------ discovery


def api_endpoints(kube) -> list[dict]:
    """The `kubernetes` Service's ClusterIP on 443 and every API server endpoint on its port."""
    endpoints = []
    service = kube.get("Service", "kubernetes", "default")
    if service and service["spec"].get("clusterIP"):
        for port in service["spec"].get("ports", []):
            endpoints.append({"ip": service["spec"]["clusterIP"], "port": port["port"]})
    for slice_ in kube.list("EndpointSlice", "default", label_selector="kubernetes.io/service-name=kubernetes"):
        ports = [p["port"] for p in slice_.get("ports") or [] if p.get("port")]
        for endpoint in slice_.get("endpoints") or []:
            for address in endpoint.get("addresses", []):
                for port in ports:
                    if {"ip": address, "port": port} not in endpoints:
                        endpoints.append({"ip": address, "port": port})
    return endpoints


def live_credentials(kube, namespace: str, enabled: list[str]) -> dict:
    """Values of the generated Secrets that already exist (they never change once made)."""
    import base64

    live = {}
    names = {"redis": "redis", "mariadb": "mariadb", "minio": "minio", "mongodb": "mongodb-app-password"}
    for db in enabled:
        if db not in names:
            continue
        secret = kube.get("Secret", names[db], namespace)
        if secret and secret.get("data"):
            live[db] = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    return live


# ------------------------------------------------------------------ apply


ENVIRONMENT_ROLE = "k8s-ee-environment"
ACCESS_BINDING = "k8s-ee-ci"
BINDING_GRACE = 10.0  # seconds a fresh RoleBinding may take to reach the authorizer


def access_binding(username: str, namespace: str) -> dict | None:
    """The RoleBinding that gives a CI ServiceAccount (role platform) its rights inside the environment it
    creates; None for any other caller (an administrator needs none)."""
    parts = username.split(":")
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
        return None
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": ACCESS_BINDING,
            "namespace": namespace,
            "labels": {_naming.MANAGED_BY[0]: _naming.MANAGED_BY[1]},
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ENVIRONMENT_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": parts[3], "namespace": parts[2]}],
    }


def _authorized(bound_at, clock, sleep, call, *args, **kwargs):
    """Run `call`; right after a RoleBinding was created the authorizer may not know it yet, so a 403 within
    BINDING_GRACE seconds of that is retried."""
    while True:
        try:
            return call(*args, **kwargs)
        except KubeError as exc:
            if exc.status != 403 or bound_at is None or clock() - bound_at > BINDING_GRACE:
                raise
        sleep(0.2)


def apply_all(
    kube,
    objects: list[dict],
    check_mode: bool,
    namespace_exists: bool,
    want_diff: bool,
    clock=time.monotonic,
    sleep=time.sleep,
    apply_namespace=None,
):
    """Apply in order; return (changed, per-object results, diffs). `apply_namespace(obj, dry_run)` applies the
    Namespace (environment slots, `_slots.applier`) where given."""
    results, diffs = [], []
    changed = False
    bound_at = None
    for obj in objects:
        meta = obj["metadata"]
        if check_mode and not namespace_exists and obj["kind"] != "Namespace":
            # nothing exists inside a namespace not yet created (and a CI identity may not even look there yet)
            live, after = None, obj
        else:
            live = _authorized(bound_at, clock, sleep, kube.get, obj["kind"], meta["name"], meta.get("namespace"))
            apply = apply_namespace if apply_namespace and obj["kind"] == "Namespace" else kube.apply
            after = _authorized(bound_at, clock, sleep, apply, obj, dry_run=check_mode)
        if obj["kind"] == "RoleBinding" and live is None and not check_mode:
            bound_at = clock()
        if live is None:
            action = "created"
        elif check_mode:
            action = "configured" if comparable(live) != comparable(after) else "unchanged"
        else:
            same = live["metadata"].get("resourceVersion") == after["metadata"].get("resourceVersion")
            action = "unchanged" if same else "configured"
        if action != "unchanged":
            changed = True
            if want_diff:
                diffs.append(
                    {
                        "before": redact(comparable(live)) or {},
                        "after": redact(comparable(after)),
                        "before_header": f"{obj['kind']}/{meta['name']}",
                        "after_header": f"{obj['kind']}/{meta['name']}",
                    }
                )
        results.append({"kind": obj["kind"], "name": meta["name"], "action": action})
    return changed, results, diffs


# ------------------------------------------------------------------ readiness


def _conditions(obj):
    return {c.get("type"): c.get("status") for c in (obj or {}).get("status", {}).get("conditions") or []}


def _rollout_done(obj) -> bool:
    if not obj:
        return False
    spec, status = obj.get("spec", {}), obj.get("status", {})
    wanted = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return False
    if obj["kind"] == "StatefulSet":
        return status.get("readyReplicas", 0) >= wanted and status.get("updatedReplicas", 0) >= wanted
    return (
        status.get("updatedReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
        and status.get("availableReplicas", 0) == wanted
    )


READY_CHECKS = {
    "postgresql": (
        "Cluster",
        "postgresql",
        lambda o: (
            o
            and (o.get("status", {}).get("readyInstances", 0) >= o["spec"].get("instances", 1))
            and _conditions(o).get("Ready") == "True"
        ),
    ),
    "mongodb": ("MongoDBCommunity", "mongodb", lambda o: o and o.get("status", {}).get("phase") == "Running"),
    "minio": ("Tenant", "minio", lambda o: o and o.get("status", {}).get("currentState") == "Initialized"),
    "redis": ("Deployment", "redis", _rollout_done),
    "mariadb": ("StatefulSet", "mariadb", _rollout_done),
}


def diagnose(kube, namespace: str, kind: str, name: str, collect_logs: bool) -> list[str]:
    """Recent events of the namespace and the state of unready pods (and their last log lines)."""
    details = []
    try:
        events = kube.list("Event", namespace)
    except KubeError:
        events = []
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    for event in events[-8:]:
        involved = event.get("involvedObject", {})
        details.append(
            f"event {involved.get('kind')}/{involved.get('name')}: {event.get('reason')}: "
            f"{(event.get('message') or '').strip()}"
        )
    for pod in kube.list("Pod", namespace):
        for status in pod.get("status", {}).get("containerStatuses") or []:
            state = status.get("state", {})
            if status.get("ready") and "running" in state:
                continue
            waiting = state.get("waiting") or {}
            reason = waiting.get("reason") or ("terminated" if "terminated" in state else "not ready")
            details.append(
                f"pod {pod['metadata']['name']} container {status['name']}: {reason}"
                + (f": {waiting['message']}" if waiting.get("message") else "")
            )
            crashed = status.get("restartCount", 0) > 0 or "terminated" in state
            if collect_logs and crashed:
                try:
                    log = kube.pod_log(
                        namespace,
                        pod["metadata"]["name"],
                        status["name"],
                        lines=15,
                        previous=status.get("restartCount", 0) > 0 and "terminated" not in state,
                    )
                    details.extend(f"  log: {line}" for line in log.splitlines()[-15:])
                except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real failure
                    details.append(f"  (no log: {exc})")
    return details


def _pods_running(kube, namespace: str, workload: dict) -> bool:
    """Every live pod of the workload has all its containers running (a container waiting, for example in
    CreateContainerConfigError, is never counted as up, whatever its ready flag says)."""
    labels = workload.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = [
        p for p in kube.list("Pod", namespace, label_selector=selector) if not p["metadata"].get("deletionTimestamp")
    ]
    if not pods:
        return False
    for pod in pods:
        statuses = pod.get("status", {}).get("containerStatuses") or []
        if not statuses or not all("running" in (c.get("state") or {}) and c.get("ready") for c in statuses):
            return False
    return True


def wait_ready(
    kube,
    namespace: str,
    config: dict,
    deadline: float,
    clock=time.monotonic,
    sleep=time.sleep,
    collect_logs: bool = True,
    interval: float = 1.0,
) -> None:
    """Databases ready, then the app rollout complete, all before `deadline` (a `clock` value)."""
    steps = [(db, *READY_CHECKS[db]) for db in enabled_databases(config)]
    steps.append(("app", "Deployment", "app", _rollout_done))
    for step, kind, name, ready in steps:
        while True:
            obj = kube.get(kind, name, namespace)
            if ready(obj) and (kind not in ("Deployment", "StatefulSet") or _pods_running(kube, namespace, obj)):
                break
            if clock() >= deadline:
                raise LifecycleError(
                    f"wait for {step}",
                    f"{kind}/{name} in {namespace} is not ready before the timeout",
                    diagnose(kube, namespace, kind, name, collect_logs),
                )
            sleep(interval)


def check_health(fetch, deadline: float, clock=time.monotonic, sleep=time.sleep, interval: float = 2.0) -> int:
    """Call `fetch()` (returns an HTTP status) until it gives 2xx or the deadline passes."""
    last = None
    while True:
        try:
            last = fetch()
            if 200 <= int(last) < 300:
                return int(last)
        except Exception as exc:  # noqa: BLE001 - retried until the deadline; the last error is reported
            last = exc
        if clock() >= deadline:
            raise LifecycleError(
                "health check", f"the health check did not return 2xx before the timeout (last: {last})"
            )
        sleep(interval)


def service_health_fetch(kube, namespace: str, config: dict):
    """GET healthPath through the API server's proxy to Service app (works on any cluster)."""
    path = f"/api/v1/namespaces/{namespace}/services/http:app:http/proxy{config['app']['healthPath']}"

    def fetch():
        return kube.raw("GET", path, accept="*/*", timeout=10)[0]

    return fetch


def http_health_fetch(url: str, timeout: float = 10):
    """GET `url` directly (for clusters whose services the controller can reach, and for tests)."""
    import urllib.error

    from ansible.module_utils.urls import open_url

    def fetch():
        try:
            with open_url(url, timeout=timeout, method="GET") as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    return fetch


# ------------------------------------------------------------------ up / down


@dataclass
class UpRequest:
    namespace: str
    host: str
    config: dict
    pr: dict  # repository, number, head_sha, branch, author
    image: str
    settings: dict = field(default_factory=dict)
    timeout: float = 600
    health_check: bool = True
    health_url: str | None = None
    max_environments: int | None = None
    collect_logs: bool = True
    create: bool = True  # False: update an existing environment only (trigger: on-demand)


def up(
    kube,
    request: UpRequest,
    check_mode: bool = False,
    want_diff: bool = False,
    clock=time.monotonic,
    wall=time.time,
    sleep=time.sleep,
) -> dict:
    started = clock()
    deadline = started + request.timeout
    live_ns = kube.get("Namespace", request.namespace)
    state = ownership(live_ns, request.pr["repository"])
    if state == "missing" and not request.create:
        return {
            "changed": False,
            "state": "not created",
            "objects": [],
            "diff": [],
            "created": False,
            "namespace": request.namespace,
            "url": f"https://{request.host}",
            "quota": env_quota(request.config),
            "databases": enabled_databases(request.config),
            "secret_values": [],
        }
    quota_hard = env_quota(request.config)
    settings = {**_render.DEFAULT_SETTINGS, **(request.settings or {})}
    if kube.get("PriorityClass", settings["priority_class"]) is None:
        raise LifecycleError(
            "preflight",
            f"PriorityClass {settings['priority_class']} does not exist, so no pod of "
            "the environment could start; install the platform (site.yml, role platform) or set "
            "settings.priority_class to an existing class",
        )
    if state == "missing":
        admit(kube, quota_hard, request.max_environments)
    enabled = enabled_databases(request.config)
    creds = _render.credentials(enabled, live_credentials(kube, request.namespace, enabled) if live_ns else {})
    now = now_rfc3339(wall)
    annotations = (live_ns or {}).get("metadata", {}).get("annotations") or {}
    pr = {**request.pr, "now": annotations.get(ANN_UPDATED) or now}
    objects = _render.render(
        request.namespace, request.config, pr, request.image, request.host, request.settings, api_endpoints(kube), creds
    )
    namespace_obj, quota_obj = objects[0], objects[1]
    binding = access_binding(kube.whoami(), request.namespace)
    if binding:
        objects.insert(1, binding)
    warnings = guard_quota_shrink(kube, request.namespace, quota_obj) if live_ns else []
    kept = {ANN_CREATED: annotations.get(ANN_CREATED) or now}
    if annotations.get(ANN_READY):
        kept[ANN_READY] = annotations[ANN_READY]
    namespace_obj["metadata"]["annotations"].update(kept)
    secrets = _render.secret_values(objects)
    try:
        changed, results, diffs = apply_all(
            kube,
            objects,
            check_mode,
            live_ns is not None,
            want_diff,
            clock,
            sleep,
            apply_namespace=_slots.applier(kube, live_ns, warnings),
        )
    except _slots.SlotError as exc:
        raise LifecycleError("capacity", f"capacity: {exc}") from None
    result = {
        "changed": changed,
        "objects": results,
        "diff": diffs,
        "created": live_ns is None,
        "namespace": request.namespace,
        "url": f"https://{request.host}",
        "quota": quota_obj["spec"]["hard"],
        "databases": enabled,
        "secret_values": secrets,
        "warnings": warnings,
    }
    if check_mode:
        return result
    ready_before = annotations.get(ANN_READY)
    if not changed and ready_before and ready_before >= annotations.get(ANN_UPDATED, ""):
        result.update(
            ready_at=ready_before,
            updated_at=annotations.get(ANN_UPDATED),
            created_at=annotations.get(ANN_CREATED),
            time_to_ready=seconds_between(annotations.get(ANN_UPDATED), ready_before),
        )
        return result
    # something changed (or an earlier run never became ready): wait, then record when it became ready
    updated_at = annotations.get(ANN_UPDATED) if not changed else now_rfc3339(wall)
    if changed:
        namespace_obj["metadata"]["annotations"][ANN_UPDATED] = updated_at
        kube.apply(namespace_obj)
    wait_ready(kube, request.namespace, request.config, deadline, clock, sleep, request.collect_logs)
    if request.health_check:
        fetch = (
            http_health_fetch(request.health_url)
            if request.health_url
            else service_health_fetch(kube, request.namespace, request.config)
        )
        check_health(fetch, deadline, clock, sleep)
    ready_at = now_rfc3339(wall)
    namespace_obj["metadata"]["annotations"][ANN_READY] = ready_at
    kube.apply(namespace_obj)
    result["changed"] = True
    result.update(
        ready_at=ready_at,
        updated_at=updated_at,
        created_at=kept[ANN_CREATED],
        time_to_ready=seconds_between(updated_at, ready_at),
    )
    return result


def _amount(key: str, value) -> float:
    if key.endswith(".cpu"):
        return float(q.millicores(value))
    if key.endswith(".memory") or key.endswith(".storage"):
        return float(q.mebibytes(value))
    return float(q.parse(value))


def guard_quota_shrink(kube, namespace: str, quota: dict) -> list[str]:
    """SPEC 3.1: a smaller quota never makes what runs invalid. Where the new hard value is below what the
    namespace uses now, the live value is kept (in `quota`, before it is applied) and the change reported."""
    live = kube.get("ResourceQuota", quota["metadata"]["name"], namespace)
    if not live:
        return []
    used = (live.get("status") or {}).get("used") or {}
    live_hard = (live.get("spec") or {}).get("hard") or {}
    warnings = []
    for key, wanted in quota["spec"]["hard"].items():
        if key in used and key in live_hard and _amount(key, wanted) < _amount(key, used[key]):
            quota["spec"]["hard"][key] = live_hard[key]
            warnings.append(
                f"quota {key}: {wanted} would be below what runs now ({used[key]}); kept {live_hard[key]} "
                "until the environment uses less (a disabled database keeps its objects and data until "
                "the environment is destroyed)"
            )
    return warnings


def find_namespace(kube, repository: str, number: int) -> str | None:
    """The environment of pull request `number` of `repository`, found by its labels and annotation."""
    selector = f"{_naming.MANAGED_BY[0]}={_naming.MANAGED_BY[1]},{_naming.LABEL_PR}={int(number)}"
    for namespace in kube.list("Namespace", label_selector=selector):
        owner = (namespace["metadata"].get("annotations") or {}).get(_naming.ANNOTATION_REPOSITORY)
        if _naming.same_repository(owner, repository):
            return namespace["metadata"]["name"]
    return None


def down(
    kube,
    namespace: str,
    repository: str,
    timeout: float = 300,
    check_mode: bool = False,
    clock=time.monotonic,
    sleep=time.sleep,
) -> dict:
    """SPEC 6: idempotent; refuse what is not ours; keep what is preserved; wait until gone."""
    live = kube.get("Namespace", namespace)
    if ownership(live, repository) == "missing":
        return {"changed": False, "state": "absent", "namespace": namespace}
    labels = live["metadata"].get("labels") or {}
    annotations = live["metadata"].get("annotations") or {}
    if labels.get(_naming.LABEL_PRESERVE) == "true":
        return {
            "changed": False,
            "state": "preserved",
            "namespace": namespace,
            "preserve_until": annotations.get("k8s-ee/preserve-until"),
        }
    if check_mode:
        return {"changed": True, "state": "deleted", "namespace": namespace}
    started = clock()
    deadline = started + timeout
    if not live["metadata"].get("deletionTimestamp"):
        kube.delete("Namespace", namespace)
    while kube.get("Namespace", namespace) is not None:
        if clock() >= deadline:
            raise LifecycleError(
                "delete", f"namespace {namespace} is still terminating after {timeout:.0f}s", blocking(kube, namespace)
            )
        sleep(1)
    return {"changed": True, "state": "deleted", "namespace": namespace, "seconds": round(clock() - started, 1)}


def blocking(kube, namespace: str) -> list[str]:
    """What keeps a namespace from going away: its conditions and objects with finalizers."""
    details = []
    live = kube.get("Namespace", namespace) or {}
    for condition in live.get("status", {}).get("conditions") or []:
        if condition.get("status") == "True":
            details.append(f"namespace condition {condition['type']}: {condition.get('message', '')}")
    for kind in ("Cluster", "MongoDBCommunity", "Tenant", "PersistentVolumeClaim", "Pod", "StatefulSet", "Deployment"):
        try:
            items = kube.list(kind, namespace)
        except KubeError:
            continue
        for item in items:
            finalizers = item["metadata"].get("finalizers")
            if finalizers:
                details.append(f"{kind}/{item['metadata']['name']} has finalizers {', '.join(finalizers)}")
    return details
