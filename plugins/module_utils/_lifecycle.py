# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create, update and destroy one environment (docs/pr-lifecycle.md, "What pr_up does" and "What pr_down
does"): ownership, capacity admission, server-side apply of every object, waiting for readiness under one
deadline, the health check."""

from __future__ import annotations

import base64
import copy
import re
import time
from dataclasses import dataclass, field

from ansible_collections.k8s_ee.platform.plugins.module_utils import _databases, _naming, _redact, _render, _slots
from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases, safe_http_path, show
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import FIELD_MANAGER, KubeError, comparable, redact
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import rollout_done
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import now_rfc3339, seconds_between


class LifecycleError(RuntimeError):
    """A failure with the step it happened in and what to show on the PR."""

    def __init__(self, step: str, message: str, details: list[str] | None = None):
        self.step = step
        self.details = details or []
        super().__init__(message)


# ------------------------------------------------------------------ ownership


def ownership(namespace_obj: dict | None, repository: str) -> str:
    """'missing', 'ours', or raise: the rule of docs/security.md, "Ownership and
    preserve fields" (managed-by label AND the same repository)."""
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
    ephemeral = {ns["metadata"]["name"] for ns in kube.list("Namespace", label_selector=_naming.EPHEMERAL_SELECTOR)}
    committed_cpu = committed_mem = 0
    environments = []
    for quota in kube.list("ResourceQuota", label_selector=_naming.MANAGED_SELECTOR):
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
    """Raise LifecycleError('capacity', ...) when a new environment does not fit (docs/pr-lifecycle.md,
    "What pr_up does", step 2)."""
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
    """The Secrets of generated credentials that exist (database -> the Secret as read)."""
    live = {}
    for db in enabled:
        if db in _databases.CREDENTIAL_SECRETS:
            secret = kube.get("Secret", _databases.CREDENTIAL_SECRETS[db], namespace)
            if secret:
                live[db] = secret
    return live


def _decoded(secret: dict) -> dict:
    return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}


# ------------------------------------------------------------------ apply


# Kinds that frame an environment: applied before its credentials are settled and its workloads applied.
FRAME_KINDS = ("Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy")
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
    grace: dict | None = None,
    apply_namespace=None,
):
    """Apply in order; return (changed, per-object results, diffs). `grace` carries when the access RoleBinding
    was created from one call to the next (see `_authorized`); `apply_namespace(obj, dry_run)` applies the
    Namespace (environment slots, `_slots.applier`) where given."""
    results, diffs = [], []
    changed = False
    grace = {} if grace is None else grace
    for obj in objects:
        bound_at = grace.get("bound_at")
        meta = obj["metadata"]
        if check_mode and not namespace_exists and obj["kind"] != "Namespace":
            # nothing exists inside a namespace not yet created (and a CI identity may not even look there yet)
            live, after = None, obj
        else:
            live = _authorized(bound_at, clock, sleep, kube.get, obj["kind"], meta["name"], meta.get("namespace"))
            apply = apply_namespace if apply_namespace and obj["kind"] == "Namespace" else kube.apply
            after = _authorized(bound_at, clock, sleep, apply, obj, dry_run=check_mode)
        if obj["kind"] == "RoleBinding" and live is None and not check_mode:
            grace["bound_at"] = clock()
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


# ------------------------------------------------------------------ generated credentials

CREDENTIAL_ATTEMPTS = 5


def _holds(live: dict, wanted: dict) -> bool:
    """Whether the live Secret already has everything of `wanted` (values, labels, type)."""
    values, labels = _decoded(live), live["metadata"].get("labels") or {}
    return (
        all(values.get(key) == value for key, value in wanted["stringData"].items())
        and all(labels.get(key) == value for key, value in wanted["metadata"]["labels"].items())
        and live.get("type", "Opaque") == wanted["type"]
    )


def _write_once(kube, wanted: dict, live: dict | None, check_mode: bool, namespace_exists: bool, authorized) -> str:
    if live is None:
        if namespace_exists or not check_mode:
            authorized(kube.create, wanted, dry_run=check_mode, field_manager=FIELD_MANAGER)
        return "created"
    if _holds(live, wanted):
        return "unchanged"
    guarded = copy.deepcopy(wanted)
    guarded["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    authorized(kube.apply, guarded, dry_run=check_mode)
    return "configured"


def settle_credentials(
    kube,
    namespace: str,
    enabled: list[str],
    live: dict,
    proposed: dict,
    check_mode: bool,
    namespace_exists: bool,
    want_diff: bool,
    clock=time.monotonic,
    sleep=time.sleep,
    grace: dict | None = None,
):
    """Credentials are generated on the first deploy and never change (docs/pr-lifecycle.md, "Generated
    credentials are created once"). A missing credential Secret is created with the `proposed` credentials
    (POST, refused with 409 when it exists by then); an existing one (`live`, or read after a 409) is taken as it
    is: only keys it lacks are generated and what is made of them is updated, under a resourceVersion
    precondition. When another run got there first, its values are used.
    Returns (credentials per database, changed, results, diffs) like apply_all."""
    grace = {} if grace is None else grace

    def authorized(call, *args, **kwargs):
        return _authorized(grace.get("bound_at"), clock, sleep, call, *args, **kwargs)

    creds, results, diffs, changed = {}, [], [], False
    for db in enabled:
        name = _databases.CREDENTIAL_SECRETS.get(db)
        if name is None:
            continue
        current = live.get(db)
        for _attempt in range(CREDENTIAL_ATTEMPTS):
            db_creds = _render.credentials([db], {db: _decoded(current) if current else proposed[db]})[db]
            wanted = _render.credential_secret(namespace, db, db_creds)
            try:
                action = _write_once(kube, wanted, current, check_mode, namespace_exists, authorized)
                break
            except KubeError as exc:
                if exc.status != 409:
                    raise
                current = authorized(kube.get, "Secret", name, namespace)  # made or changed meanwhile: use it
        else:
            raise LifecycleError(
                "credentials",
                f"Secret {name} in {namespace} changed {CREDENTIAL_ATTEMPTS} times while it was being written; "
                "run pr_up again",
            )
        creds[db] = db_creds
        results.append({"kind": "Secret", "name": name, "action": action})
        if action != "unchanged":
            changed = True
            if want_diff:
                diffs.append(
                    {
                        "before": redact(comparable(current)) or {},
                        "after": redact(wanted),
                        "before_header": f"Secret/{name}",
                        "after_header": f"Secret/{name}",
                    }
                )
    return creds, changed, results, diffs


# ------------------------------------------------------------------ readiness


# What a failure report may hold (it goes to a public pull request comment): characters per line, characters in
# all, log lines and log bytes per container, characters of the message.
DETAIL_LINE_MAX = 300
DETAILS_MAX = 8000
LOG_LINES = 15
LOG_BYTES = 65536
MESSAGE_MAX = 2000
# Secrets to read one by one when the namespace's Secrets cannot be listed: the operators' and the platform's.
REPORT_SECRETS = _databases.CREDENTIAL_HOLDERS


def namespace_secret_values(kube, namespace: str) -> list[str]:
    """The values of the namespace's Secrets (the platform's, the operators', the user's), to mask in reports."""
    try:
        secrets = kube.list("Secret", namespace)
    except KubeError as exc:
        secrets = []
        if exc.status:  # the API answered (a CI identity without list, say): read the credentials one by one
            for name in REPORT_SECRETS:
                try:
                    secrets.append(kube.get("Secret", name, namespace) or {})
                except KubeError:
                    continue
    return [value for secret in secrets for value in _redact.secret_values(secret)]


def secured(exc: Exception, mask) -> Exception:
    """`exc` (LifecycleError or KubeError) with its message and details cleaned, masked and capped; the masked
    values ride along as `secret_values`, for the module to keep them out of its output."""
    message = _redact.safe_line(str(exc), mask, MESSAGE_MAX)
    if isinstance(exc, LifecycleError):
        out = LifecycleError(exc.step, message, _redact.safe_lines(exc.details, mask, DETAIL_LINE_MAX, DETAILS_MAX))
    else:
        out = KubeError(exc.status, exc.reason, message)
    out.secret_values = mask.values()
    return out


def diagnose(kube, namespace: str, kind: str, name: str, collect_logs: bool, mask=None) -> list[str]:
    """Recent events of the namespace and the state of unready pods (and their last log lines), safe to show on a
    pull request: cleaned of control characters, every secret of the namespace (and `mask`'s) masked, capped."""
    if mask is None:
        mask = _redact.Redactor(load=lambda: namespace_secret_values(kube, namespace))
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
                + _exit(state.get("terminated") or (status.get("lastState") or {}).get("terminated"))
                + (f": {waiting['message']}" if waiting.get("message") else "")
            )
            crashed = status.get("restartCount", 0) > 0 or "terminated" in state
            if collect_logs and crashed:
                try:
                    log = kube.pod_log(
                        namespace,
                        pod["metadata"]["name"],
                        status["name"],
                        lines=LOG_LINES,
                        previous=status.get("restartCount", 0) > 0 and "terminated" not in state,
                        limit_bytes=LOG_BYTES,
                    )
                    details.extend(f"  log: {line}" for line in log.splitlines()[-LOG_LINES:])
                except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real failure
                    details.append(f"  (no log: {exc})")
    return _redact.safe_lines(details, mask, DETAIL_LINE_MAX, DETAILS_MAX)


def _exit(terminated: dict | None) -> str:
    """How the container's last run ended, as the kubelet reports it: ' (exited: Error, code 1)'; OOMKilled with
    code 137 is the memory limit (docs/pr-lifecycle.md, What a failed comment shows)."""
    if not terminated:
        return ""
    reason = terminated.get("reason") or "terminated"
    code = terminated.get("exitCode")
    signal = terminated.get("signal")
    return (
        f" (exited: {reason}"
        + (f", code {code}" if code is not None else "")
        + (f", signal {signal}" if signal else "")
        + ")"
    )


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
    mask=None,
) -> None:
    """Databases ready, then the app rollout complete, all before `deadline` (a `clock` value)."""
    steps = [(db, REGISTRY[db].kind, db, REGISTRY[db].ready) for db in enabled_databases(config)]
    steps.append(("app", "Deployment", "app", rollout_done))
    for step, kind, name, ready in steps:
        while True:
            obj = kube.get(kind, name, namespace)
            if ready(obj) and (kind not in ("Deployment", "StatefulSet") or _pods_running(kube, namespace, obj)):
                break
            if clock() >= deadline:
                raise LifecycleError(
                    f"wait for {step}",
                    f"{kind}/{name} in {namespace} is not ready before the timeout",
                    diagnose(kube, namespace, kind, name, collect_logs, mask),
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
    """GET healthPath through the API server's proxy to Service app (works on any cluster).

    The GET carries the runner's credentials, so the path is checked again here (the schema refuses the
    same): a '..' segment, '%', '?', '#' or '\\' could turn it into a GET of any API path."""
    health_path = config["app"]["healthPath"]
    if not safe_http_path(health_path) or not _naming.DOMAIN_RE.match(namespace) or "." in namespace:
        raise LifecycleError(
            "health check",
            f"app.healthPath: {show(health_path)} is not a plain path below the service proxy (namespace "
            f"{show(namespace)}); use a path such as /health without '.' or '..' segments, '%', '?', '#' or '\\'",
        )
    path = f"/api/v1/namespaces/{namespace}/services/http:app:http/proxy{health_path}"

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


def env_from_problems(config: dict, settings: dict) -> list[str]:
    """app.envFrom may not name the operator's wildcard certificate Secret (settings.tls_secret): it is
    in every environment's namespace for the Ingress, and its key serves every preview host."""
    tls_secret = settings.get("tls_secret")
    problems = []
    for index, ref in enumerate(config["app"]["envFrom"]):
        name = (ref.get("secretRef") or {}).get("name")
        if tls_secret and name == tls_secret:
            problems.append(
                f"app.envFrom[{index}].secretRef.name: {show(name)} is the platform's TLS certificate Secret, "
                "which is not the app's to read; name a Secret you created"
            )
    return problems


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
    """docs/pr-lifecycle.md, "What pr_up does". A failure leaves as LifecycleError or KubeError whose text
    holds no secret of the environment (see `secured`)."""
    mask = _redact.Redactor()
    try:
        return _up(kube, request, mask, check_mode, want_diff, clock, wall, sleep)
    except (LifecycleError, KubeError) as exc:
        raise secured(exc, mask) from None


def _up(kube, request: UpRequest, mask, check_mode, want_diff, clock, wall, sleep) -> dict:
    started = clock()
    deadline = started + request.timeout
    live_ns = kube.get("Namespace", request.namespace)
    state = ownership(live_ns, request.pr["repository"])
    # ours (or about to be): a report may mask what its Secrets hold
    mask.load_later(lambda: namespace_secret_values(kube, request.namespace))
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
    settings = _render.effective_settings(request.settings)
    refused = env_from_problems(request.config, settings)
    if refused:
        raise LifecycleError("preflight", "; ".join(refused))
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
    live_creds = live_credentials(kube, request.namespace, enabled) if live_ns else {}
    creds = _render.credentials(enabled, {db: _decoded(secret) for db, secret in live_creds.items()})
    now = now_rfc3339(wall)
    annotations = (live_ns or {}).get("metadata", {}).get("annotations") or {}
    pr = {**request.pr, "now": annotations.get(_naming.ANNOTATION_UPDATED) or now}
    endpoints = api_endpoints(kube)

    def rendered(creds):
        return _render.render(
            request.namespace, request.config, pr, request.image, request.host, request.settings, endpoints, creds
        )

    objects = rendered(creds)
    # the namespace and what frames it go first; the credentials are settled inside it before anything uses them
    frame = next(i for i, obj in enumerate(objects) if obj["kind"] not in FRAME_KINDS)
    namespace_obj, quota_obj = objects[0], objects[1]
    binding = access_binding(kube.whoami(), request.namespace)
    if binding:
        objects.insert(1, binding)
        frame += 1
    warnings = guard_quota_shrink(kube, request.namespace, quota_obj) if live_ns else []
    kept = {_naming.ANNOTATION_CREATED: annotations.get(_naming.ANNOTATION_CREATED) or now}
    if annotations.get(_naming.ANNOTATION_READY):
        kept[_naming.ANNOTATION_READY] = annotations[_naming.ANNOTATION_READY]
    namespace_obj["metadata"]["annotations"].update(kept)
    mask.add(_render.secret_values(objects))
    exists, grace = live_ns is not None, {}
    try:
        changed, results, diffs = apply_all(
            kube,
            objects[:frame],
            check_mode,
            exists,
            want_diff,
            clock,
            sleep,
            grace,
            apply_namespace=_slots.applier(kube, live_ns, warnings),
        )
    except _slots.SlotError as exc:
        raise LifecycleError("capacity", f"capacity: {exc}") from None
    settled, *outcome = settle_credentials(
        kube, request.namespace, enabled, live_creds, creds, check_mode, exists, want_diff, clock, sleep, grace
    )
    if settled != creds:  # another run made them first (or one was incomplete): what is made of them follows
        objects = objects[:frame] + rendered(settled)[frame - (1 if binding else 0) :]
    secrets = _render.secret_values(objects)
    mask.add(secrets)
    rest = [obj for obj in objects[frame:] if not _render.is_credential_secret(obj)]
    for more_changed, more_results, more_diffs in (
        outcome,
        apply_all(kube, rest, check_mode, exists, want_diff, clock, sleep, grace),
    ):
        changed = changed or more_changed
        results += more_results
        diffs += more_diffs
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
    ready_before = annotations.get(_naming.ANNOTATION_READY)
    if not changed and ready_before and ready_before >= annotations.get(_naming.ANNOTATION_UPDATED, ""):
        result.update(
            ready_at=ready_before,
            updated_at=annotations.get(_naming.ANNOTATION_UPDATED),
            created_at=annotations.get(_naming.ANNOTATION_CREATED),
            time_to_ready=seconds_between(annotations.get(_naming.ANNOTATION_UPDATED), ready_before),
        )
        return result
    # something changed (or an earlier run never became ready): wait, then record when it became ready
    updated_at = annotations.get(_naming.ANNOTATION_UPDATED) if not changed else now_rfc3339(wall)
    if changed:
        namespace_obj["metadata"]["annotations"][_naming.ANNOTATION_UPDATED] = updated_at
        kube.apply(namespace_obj)
    wait_ready(kube, request.namespace, request.config, deadline, clock, sleep, request.collect_logs, mask=mask)
    if request.health_check:
        fetch = (
            http_health_fetch(request.health_url)
            if request.health_url
            else service_health_fetch(kube, request.namespace, request.config)
        )
        check_health(fetch, deadline, clock, sleep)
    ready_at = now_rfc3339(wall)
    namespace_obj["metadata"]["annotations"][_naming.ANNOTATION_READY] = ready_at
    kube.apply(namespace_obj)
    result["changed"] = True
    result.update(
        ready_at=ready_at,
        updated_at=updated_at,
        created_at=kept[_naming.ANNOTATION_CREATED],
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
    """docs/quota.md: a smaller quota never makes what runs invalid. Where the new hard value is below what the
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


# The CI identity of one project (role platform): system:serviceaccount:<namespace>:k8s-ee-ci-<projectId>.
CI_IDENTITY_RE = re.compile(r"system:serviceaccount:[a-z0-9-]+:k8s-ee-ci-([a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?)")


def project_of(kube, project_id: str | None = None) -> str:
    """The projectId whose environment a run looks for: the one given, else the CI identity's own."""
    if project_id:
        try:
            _naming.env_namespace(project_id, 1)
        except _naming.InputError as exc:
            raise LifecycleError("inputs", str(exc)) from None
        return project_id
    user = kube.whoami()
    match = CI_IDENTITY_RE.fullmatch(user)
    if match is None:
        raise LifecycleError(
            "inputs",
            f"project_id: not given, and {user} is not a project's CI identity (k8s-ee-ci-<projectId>); set "
            "k8s_ee_project_id (K8S_EE_PROJECT_ID) to the projectId of the repository's k8s-ee.yaml",
        )
    return match.group(1)


def find_namespace(kube, project_id: str, number: int) -> str | None:
    """The environment of pull request `number` of project `project_id`: the namespace named
    `<projectId>-pr-<number>`, labelled as that project's. Found by name, never by the repository annotation,
    which the CI identity of any project could write on a namespace of its own (docs/security.md)."""
    name = _naming.env_namespace(project_id, number)
    live = kube.get("Namespace", name)
    if live is None:
        return None
    labels = live["metadata"].get("labels") or {}
    if labels.get(_naming.LABEL_PROJECT) != project_id or labels.get(_naming.LABEL_PR) != str(int(number)):
        raise LifecycleError(
            "ownership",
            f"namespace {name} exists but is not labelled as pull request {int(number)} of project {project_id}; "
            "refusing to touch it",
        )
    return name


def down(
    kube,
    namespace: str,
    repository: str,
    timeout: float = 300,
    check_mode: bool = False,
    clock=time.monotonic,
    sleep=time.sleep,
) -> dict:
    """Idempotent; refuse what is not ours; keep what is preserved; wait until gone (docs/pr-lifecycle.md,
    "What pr_down does")."""
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
            "preserve_until": annotations.get(_naming.ANNOTATION_PRESERVE_UNTIL),
        }
    if check_mode:
        return {"changed": True, "state": "deleted", "namespace": namespace}
    started = clock()
    deadline = started + timeout
    if not live["metadata"].get("deletionTimestamp"):
        kube.delete("Namespace", namespace)
    nudged = False
    while kube.get("Namespace", namespace) is not None:
        if clock() >= deadline:
            raise LifecycleError(
                "delete", f"namespace {namespace} is still terminating after {timeout:.0f}s", blocking(kube, namespace)
            )
        if not nudged and not kube.list("Pod", namespace):
            nudged = _nudge(kube, namespace)
        sleep(1)
    return {"changed": True, "state": "deleted", "namespace": namespace, "seconds": round(clock() - started, 1)}


def _nudge(kube, namespace: str) -> bool:
    """Once the pods of a terminating namespace are gone, have the namespace controller look again now.

    Its first pass deletes the pods and then waits as long as their grace period allows (30 s by default),
    however soon they stop; an update of the namespace makes it look again 5 s later. The annotation
    `k8s-ee/pods-gone-at` is that update (docs/pr-lifecycle.md, "What pr_down does")."""
    try:
        kube.merge_patch(
            "Namespace", namespace, {"metadata": {"annotations": {_naming.ANNOTATION_PODS_GONE: now_rfc3339()}}}
        )
    except KubeError as exc:
        if exc.status not in (404, 409):  # gone, or changing: the controller is on it anyway
            raise
    return True


def blocking(kube, namespace: str) -> list[str]:
    """What keeps a namespace from going away: its conditions and objects with finalizers."""
    details = []
    live = kube.get("Namespace", namespace) or {}
    for condition in live.get("status", {}).get("conditions") or []:
        if condition.get("status") == "True":
            details.append(f"namespace condition {condition['type']}: {condition.get('message', '')}")
    custom = [db.kind for db in REGISTRY.values() if db.custom]
    for kind in (*custom, "PersistentVolumeClaim", "Pod", "StatefulSet", "Deployment"):
        try:
            items = kube.list(kind, namespace)
        except KubeError:
            continue
        for item in items:
            finalizers = item["metadata"].get("finalizers")
            if finalizers:
                details.append(f"{kind}/{item['metadata']['name']} has finalizers {', '.join(finalizers)}")
    return details
