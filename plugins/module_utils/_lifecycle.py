# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create, update and destroy one environment (docs/pr-lifecycle.md, "What pr_up does" and "What pr_down
does"): ownership, capacity admission, server-side apply of every object, waiting for readiness under one
deadline, the health check."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field

from ansible_collections.k8s_ee.platform.plugins.module_utils import _capacity, _naming, _redact, _render, _slots
from ansible_collections.k8s_ee.platform.plugins.module_utils._apply import access_binding, apply_all
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases, show
from ansible_collections.k8s_ee.platform.plugins.module_utils._credentials import (
    decoded,
    live_credentials,
    settle_credentials,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY
from ansible_collections.k8s_ee.platform.plugins.module_utils._diagnose import namespace_secret_values, secured
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._lease import Lock
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota, guard_quota_shrink
from ansible_collections.k8s_ee.platform.plugins.module_utils._readiness import (
    check_health,
    http_health_fetch,
    polls,
    service_health_fetch,
    wait_ready,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import now_rfc3339, seconds_between


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


# Kinds that frame an environment: applied before its credentials are settled and its workloads applied.
FRAME_KINDS = ("Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy")
CAPACITY_LOCK = "k8s-ee-capacity"  # the Lease capacity admission holds (role platform creates it)
# objects after the frame (databases, app, Service, Ingress, ...) do not depend on one another: applied this many
# at a time (docs/architecture.md, "Running in-process")
REST_WORKERS = 4


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
    lock_namespace: str = "platform"  # of the Lease CAPACITY_LOCK (role platform creates it)
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
    holds no secret of the environment (see `_diagnose.secured`)."""
    mask = _redact.Redactor()
    try:
        return _Up(kube, request, mask, check_mode, want_diff, clock, wall, sleep).run()
    except (LifecycleError, KubeError) as exc:
        raise secured(exc, mask) from None


class _Up:
    """One run of pr_up: the steps of docs/pr-lifecycle.md, "What pr_up does", in order (`run`); each step
    leaves what the next ones need on the instance."""

    def __init__(self, kube, request: UpRequest, mask, check_mode, want_diff, clock, wall, sleep):
        self.kube, self.request, self.mask = kube, request, mask
        self.check_mode, self.want_diff = check_mode, want_diff
        self.clock, self.wall, self.sleep = clock, wall, sleep

    def run(self) -> dict:
        self.deadline = self.clock() + self.request.timeout
        if self.check_ownership() == "missing" and not self.request.create:
            return self.not_created()
        self.preflight()
        with self.admission():
            self.admit()
            self.render()
            self.apply_frame()
        self.settle_credentials()
        self.apply_rest()
        if self.check_mode or self.still_ready():
            return self.result
        self.record_updated()
        self.wait()
        self.record_ready()
        return self.result

    def check_ownership(self) -> str:
        """Step 2: refuse a namespace that is not k8s-ee's or is another repository's ("What pr_up does")."""
        request = self.request
        self.live_ns = self.kube.get("Namespace", request.namespace)
        self.state = ownership(self.live_ns, request.pr["repository"])
        self.exists = self.live_ns is not None
        self.annotations = (self.live_ns or {}).get("metadata", {}).get("annotations") or {}
        # ours (or about to be): a report may mask what its Secrets hold
        self.mask.load_later(lambda: namespace_secret_values(self.kube, request.namespace))
        return self.state

    def not_created(self) -> dict:
        """`create: false` (trigger on-demand) and no environment yet: nothing to update ("Variables")."""
        request = self.request
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

    def preflight(self) -> None:
        """Check what no pod could start without before anything is written ("Operator settings")."""
        request = self.request
        self.quota_hard = env_quota(request.config)
        settings = _render.effective_settings(request.settings)
        try:
            self.controller = _render.ingress_controller(settings)
        except _render.SettingsError as exc:
            raise LifecycleError("preflight", str(exc)) from None
        refused = env_from_problems(request.config, settings) + _render.ingress_annotation_problems(
            request.config, settings
        )
        if refused:
            raise LifecycleError("preflight", "; ".join(refused))
        if self.kube.get("PriorityClass", settings["priority_class"]) is None:
            raise LifecycleError(
                "preflight",
                f"PriorityClass {settings['priority_class']} does not exist, so no pod of "
                "the environment could start; install the platform (site.yml, role platform) or set "
                "settings.priority_class to an existing class",
            )

    def admission(self):
        """A new environment is admitted under the Lease CAPACITY_LOCK, held until its quota exists: the next run
        measures the cluster with it (docs/pr-lifecycle.md, "What pr_up does", step 2). Updates take no room."""
        if self.state != "missing" or self.check_mode:
            return contextlib.nullcontext()
        return Lock(
            self.kube,
            self.request.lock_namespace,
            CAPACITY_LOCK,
            step="capacity",
            busy="capacity: other new environments are being admitted",
            wait=max(1.0, min(120.0, self.deadline - self.clock())),
            clock=self.wall,
            sleep=self.sleep,
        )

    def admit(self) -> None:
        """Step 2: a new environment only where the cluster's free capacity covers its quota ("What pr_up does")."""
        if self.state == "missing":
            _capacity.admit(self.kube, self.quota_hard, self.request.max_environments)

    def render(self) -> None:
        """Step 3: every object, with the credentials that exist, the CI identity's RoleBinding and a quota that
        never shrinks below what runs ("What pr_up does"; docs/quota.md)."""
        kube, request = self.kube, self.request
        self.enabled = enabled_databases(request.config)
        self.live_creds = live_credentials(kube, request.namespace, self.enabled) if self.live_ns else {}
        self.creds = _render.credentials(self.enabled, {db: decoded(s) for db, s in self.live_creds.items()})
        now = now_rfc3339(self.wall)
        self.pr = {**request.pr, "now": self.annotations.get(_naming.ANNOTATION_UPDATED) or now}
        self.endpoints = api_endpoints(kube)
        # Traefik's Middleware only where the cluster serves the kind: one discovery request, only for Traefik
        self.traefik_middleware = (
            self.controller == "traefik" and request.config["ingress"]["enabled"] and kube.serves("Middleware")
        )
        self.objects = self.rendered(self.creds)
        # the namespace and what frames it go first; the credentials are settled inside it before anything uses them
        self.frame = next(i for i, obj in enumerate(self.objects) if obj["kind"] not in FRAME_KINDS)
        self.namespace_obj, self.quota_obj = self.objects[0], self.objects[1]
        self.binding = access_binding(kube.whoami(), request.namespace)
        if self.binding:
            self.objects.insert(1, self.binding)
            self.frame += 1
        self.warnings = guard_quota_shrink(kube, request.namespace, self.quota_obj) if self.live_ns else []
        if self.controller == "traefik" and request.config["ingress"]["enabled"] and not self.traefik_middleware:
            self.warnings.append(
                "the cluster serves no middlewares.traefik.io, so the preview is not marked noindex (X-Robots-Tag); "
                "install Traefik's CRDs, or set settings.ingress_controller for the controller in use "
                '(docs/platform.md, "Other ingress controllers")'
            )
        self.kept = {_naming.ANNOTATION_CREATED: self.annotations.get(_naming.ANNOTATION_CREATED) or now}
        if self.annotations.get(_naming.ANNOTATION_READY):
            self.kept[_naming.ANNOTATION_READY] = self.annotations[_naming.ANNOTATION_READY]
        self.namespace_obj["metadata"]["annotations"].update(self.kept)
        self.mask.add(_render.secret_values(self.objects))

    def rendered(self, creds: dict) -> list[dict]:
        request = self.request
        return _render.render(
            request.namespace,
            request.config,
            self.pr,
            request.image,
            request.host,
            request.settings,
            self.endpoints,
            creds,
            self.traefik_middleware,
        )

    def apply_frame(self) -> None:
        """Step 3: the namespace (in a free slot of its project), quota, limits and network policies
        ("What pr_up does")."""
        self.grace = {}
        try:
            self.changed, self.results, self.diffs = self.apply(
                self.objects[: self.frame], apply_namespace=_slots.applier(self.kube, self.live_ns, self.warnings)
            )
        except _slots.SlotError as exc:
            raise LifecycleError("capacity", f"capacity: {exc}") from None

    @property
    def writing(self) -> tuple:
        """How this run writes (the arguments `_apply.apply_all` and `settle_credentials` share): check mode, whether
        the namespace exists, diffs wanted, its clock and sleep, the grace periods met so far."""
        return (self.check_mode, self.exists, self.want_diff, self.clock, self.sleep, self.grace)

    def apply(self, objects: list[dict], **options) -> tuple[bool, list, list]:
        """`_apply.apply_all` of `objects` as this run writes."""
        return apply_all(self.kube, objects, *self.writing, **options)

    def settle_credentials(self) -> None:
        """Generated credentials: created once, taken as they are ("Generated credentials are created once")."""
        settled, *self.credentials_outcome = settle_credentials(
            self.kube, self.request.namespace, self.enabled, self.live_creds, self.creds, *self.writing
        )
        if settled != self.creds:  # another run made them first (or one was incomplete): what is made of them follows
            self.objects = (
                self.objects[: self.frame] + self.rendered(settled)[self.frame - (1 if self.binding else 0) :]
            )
        self.secrets = _render.secret_values(self.objects)
        self.mask.add(self.secrets)

    def apply_rest(self) -> None:
        """Step 3: databases, app, Service, Ingress and the rest, each read first ("What pr_up does")."""
        rest = [obj for obj in self.objects[self.frame :] if not _render.is_credential_secret(obj)]
        for more_changed, more_results, more_diffs in (
            self.credentials_outcome,
            self.apply(rest, workers=REST_WORKERS),
        ):
            self.changed = self.changed or more_changed
            self.results += more_results
            self.diffs += more_diffs
        self.result = {
            "changed": self.changed,
            "objects": self.results,
            "diff": self.diffs,
            "created": self.live_ns is None,
            "namespace": self.request.namespace,
            "url": f"https://{self.request.host}",
            "quota": self.quota_obj["spec"]["hard"],
            "databases": self.enabled,
            "secret_values": self.secrets,
            "warnings": self.warnings,
        }

    def still_ready(self) -> bool:
        """Step 4: nothing changed and the environment became ready after its last update: no wait
        ("What pr_up does")."""
        annotations = self.annotations
        ready_before = annotations.get(_naming.ANNOTATION_READY)
        if self.changed or not ready_before or ready_before < annotations.get(_naming.ANNOTATION_UPDATED, ""):
            return False
        self.result.update(
            ready_at=ready_before,
            updated_at=annotations.get(_naming.ANNOTATION_UPDATED),
            created_at=annotations.get(_naming.ANNOTATION_CREATED),
            time_to_ready=seconds_between(annotations.get(_naming.ANNOTATION_UPDATED), ready_before),
        )
        return True

    def record_updated(self) -> None:
        """Step 4: something changed (or an earlier run never became ready): record `k8s-ee/updated-at` when
        something changed ("What pr_up does")."""
        self.updated_at = (
            self.annotations.get(_naming.ANNOTATION_UPDATED) if not self.changed else now_rfc3339(self.wall)
        )
        if self.changed:
            self.namespace_obj["metadata"]["annotations"][_naming.ANNOTATION_UPDATED] = self.updated_at
            self.kube.apply(self.namespace_obj)

    def wait(self) -> None:
        """Step 4: the databases, then the app rollout, then the health check, under one deadline
        ("What pr_up does")."""
        request, kube = self.request, self.kube
        wait_ready(
            kube,
            request.namespace,
            request.config,
            self.deadline,
            self.clock,
            self.sleep,
            request.collect_logs,
            mask=self.mask,
        )
        if request.health_check:
            fetch = (
                http_health_fetch(request.health_url)
                if request.health_url
                else service_health_fetch(kube, request.namespace, request.config)
            )
            check_health(fetch, self.deadline, self.clock, self.sleep)

    def record_ready(self) -> None:
        """Step 4: record `k8s-ee/ready-at`; time to ready is ready-at - updated-at ("What pr_up does")."""
        ready_at = now_rfc3339(self.wall)
        self.namespace_obj["metadata"]["annotations"][_naming.ANNOTATION_READY] = ready_at
        self.kube.apply(self.namespace_obj)
        self.result["changed"] = True
        self.result.update(
            ready_at=ready_at,
            updated_at=self.updated_at,
            created_at=self.kept[_naming.ANNOTATION_CREATED],
            time_to_ready=seconds_between(self.updated_at, ready_at),
        )


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
        _stop_pods(kube, namespace)
    nudged = False
    pauses = polls()
    while kube.get("Namespace", namespace) is not None:
        if clock() >= deadline:
            raise LifecycleError(
                "delete", f"namespace {namespace} is still terminating after {timeout:.0f}s", blocking(kube, namespace)
            )
        if not nudged and not kube.list("Pod", namespace):
            nudged = _nudge(kube, namespace)
        sleep(next(pauses))
    return {"changed": True, "state": "deleted", "namespace": namespace, "seconds": round(clock() - started, 1)}


def _stop_pods(kube, namespace: str) -> None:
    """Delete the pods of a namespace just deleted, now: the namespace controller first looks at it 5 s after the
    deletion, and finds no pod left to wait for (docs/pr-lifecycle.md, "What pr_down does")."""
    try:
        kube.delete_all("Pod", namespace)
    except KubeError as exc:
        if exc.status not in (403, 404):  # no right to (an older platform role) or gone: the controller does it
            raise


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
