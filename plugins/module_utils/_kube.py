# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kubernetes REST client for the kinds an environment uses: server-side apply with one
field manager, reads, deletes. Authentication comes from the kubeconfig or the pod's service account
(`_kubeconfig`; the `kubernetes` package only for exec and auth-provider users); every request is counted
(benchmarks report the number)."""

from __future__ import annotations

import copy
import json
import threading

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY
from ansible_collections.k8s_ee.platform.plugins.module_utils._kubeconfig import (
    ClusterAccess,
    KubeconfigError,
    from_client_configuration,
    load,
)

FIELD_MANAGER = "k8s-ee"

# kind -> (apiVersion, plural, namespaced)
KINDS = {
    "Namespace": ("v1", "namespaces", False),
    "Node": ("v1", "nodes", False),
    "ResourceQuota": ("v1", "resourcequotas", True),
    "LimitRange": ("v1", "limitranges", True),
    "Secret": ("v1", "secrets", True),
    "ConfigMap": ("v1", "configmaps", True),
    "Service": ("v1", "services", True),
    "Pod": ("v1", "pods", True),
    "Event": ("v1", "events", True),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "Deployment": ("apps/v1", "deployments", True),
    "StatefulSet": ("apps/v1", "statefulsets", True),
    "ReplicaSet": ("apps/v1", "replicasets", True),
    "NetworkPolicy": ("networking.k8s.io/v1", "networkpolicies", True),
    "Ingress": ("networking.k8s.io/v1", "ingresses", True),
    "EndpointSlice": ("discovery.k8s.io/v1", "endpointslices", True),
    "Lease": ("coordination.k8s.io/v1", "leases", True),
    "PriorityClass": ("scheduling.k8s.io/v1", "priorityclasses", False),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True),
    "ServiceAccount": ("v1", "serviceaccounts", True),
    # the databases' custom resources (CloudNativePG Cluster, MongoDBCommunity, MinIO Tenant, ...)
    **{db.kind: (db.api_version, db.plural, True) for db in REGISTRY.values() if db.custom},
    "Middleware": ("traefik.io/v1alpha1", "middlewares", True),
    "ServiceMonitor": ("monitoring.coreos.com/v1", "servicemonitors", True),
}
# Fields the server owns; removed before two versions of an object are compared.
_VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


class KubeError(RuntimeError):
    def __init__(self, status: int, reason: str, message: str, body: dict | None = None):
        self.status = status
        self.reason = reason
        self.body = body or {}
        super().__init__(message)


def _path(kind: str, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
    api_version, plural, namespaced = KINDS[kind]
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    if name:
        base += f"/{name}"
    if subresource:
        base += f"/{subresource}"
    return base


class Kube:
    """Requests against one cluster; `requests` counts them.

    Credentials come from the kubeconfig (or the pod's service account) through `_kubeconfig.load`, or from
    `configuration`: a `_kubeconfig.ClusterAccess` or a `kubernetes.client.Configuration`. Requests go out through
    urllib3. A kubeconfig that cannot be used raises KubeError with reason "Kubeconfig" (status 0), which every
    module already reports with its message.
    """

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, configuration=None):
        import urllib3

        try:
            if configuration is None:
                configuration = load(kubeconfig, context)
            elif not isinstance(configuration, ClusterAccess):
                configuration = from_client_configuration(configuration)
            options = configuration.pool_options()
        except KubeconfigError as exc:
            raise KubeError(0, "Kubeconfig", str(exc)) from None
        self.configuration = configuration
        self.host = configuration.host.rstrip("/")
        # as many connections as requests go out at once (`_apply.apply_all`'s workers)
        self.http = urllib3.PoolManager(num_pools=2, maxsize=8, **options)
        self.requests = 0
        self._lock = threading.Lock()  # requests may go out from several threads at once
        self._discovered: dict[str, frozenset] = {}

    # ---- raw

    def raw(
        self,
        method: str,
        path: str,
        body=None,
        query=None,
        content_type="application/json",
        accept="application/json",
        timeout: float = 30,
    ):
        """One request; returns (status, body bytes). Raises KubeError only for transport failures."""
        import urllib.parse

        import urllib3

        headers = {"Accept": accept, "User-Agent": "k8s-ee"}
        with self._lock:  # one refresh of an exec or OIDC credential at a time
            try:
                authorization = self.configuration.authorization()
            except KubeconfigError as exc:
                raise KubeError(0, "Kubeconfig", str(exc)) from None
            self.requests += 1
        if authorization:
            headers["Authorization"] = authorization
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body).encode()
        url = self.host + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        try:
            response = self.http.request(
                method, url, body=data, headers=headers, timeout=urllib3.Timeout(total=timeout), retries=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise KubeError(0, "Unreachable", f"{method} {path}: {exc}") from None
        return response.status, response.data

    def request(self, method: str, path: str, body=None, query=None, content_type="application/json"):
        status, data = self.raw(method, path, body=body, query=query, content_type=content_type)
        try:
            decoded = json.loads(data or b"{}")
        except ValueError:
            decoded = {"message": data[:200].decode(errors="replace")}
        if status >= 400:
            raise KubeError(status, decoded.get("reason", ""), decoded.get("message") or f"HTTP {status}", decoded)
        return decoded

    # ---- discovery

    def serves(self, kind: str) -> bool:
        """Whether the API server serves `kind` (a custom resource's CRD may be absent, e.g. Traefik's Middleware on
        a cluster with another ingress controller). One discovery request per API group version, kept for the life
        of this client (one run)."""
        api_version, plural, _namespaced = KINDS[kind]
        if api_version not in self._discovered:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            try:
                resources = self.request("GET", path).get("resources") or []
            except KubeError as exc:
                if exc.status != 404:
                    raise
                resources = []
            self._discovered[api_version] = frozenset(r.get("name") for r in resources if isinstance(r, dict))
        return plural in self._discovered[api_version]

    # ---- objects

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.request("GET", _path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict]:
        query = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        return self.request("GET", _path(kind, namespace), query=query).get("items", [])

    def apply(self, obj: dict, dry_run: bool = False) -> dict:
        meta = obj["metadata"]
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request(
            "PATCH",
            _path(obj["kind"], meta.get("namespace"), meta["name"]),
            body=obj,
            query=query,
            content_type="application/apply-patch+yaml",
        )

    def apply_status(self, obj: dict) -> dict:
        """Apply only `status` (tests set an operator's status this way)."""
        meta = obj["metadata"]
        return self.request(
            "PATCH",
            _path(obj["kind"], meta.get("namespace"), meta["name"], "status"),
            body=obj,
            query={"fieldManager": "k8s-ee-test", "force": "true"},
            content_type="application/apply-patch+yaml",
        )

    def merge_patch(self, kind: str, name: str, patch: dict, namespace: str | None = None) -> dict:
        return self.request(
            "PATCH", _path(kind, namespace, name), body=patch, content_type="application/merge-patch+json"
        )

    def delete(self, kind: str, name: str, namespace: str | None = None, body: dict | None = None) -> bool:
        try:
            self.request("DELETE", _path(kind, namespace, name), body=body or {"propagationPolicy": "Background"})
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def delete_all(self, kind: str, namespace: str) -> None:
        """Delete every object of `kind` in `namespace` (one request; each keeps its own grace period)."""
        self.request("DELETE", _path(kind, namespace), body={"propagationPolicy": "Background"})

    def create(self, obj: dict, dry_run: bool = False, field_manager: str | None = None) -> dict:
        """POST: fails with 409 AlreadyExists when the object exists (what create-once needs)."""
        meta = obj["metadata"]
        query = {}
        if dry_run:
            query["dryRun"] = "All"
        if field_manager:
            query["fieldManager"] = field_manager
        return self.request("POST", _path(obj["kind"], meta.get("namespace")), body=obj, query=query or None)

    def update(self, obj: dict) -> dict:
        meta = obj["metadata"]
        return self.request("PUT", _path(obj["kind"], meta.get("namespace"), meta["name"]), body=obj)

    def whoami(self) -> str:
        """The user name the API server sees for these credentials (SelfSubjectReview, allowed to everyone)."""
        review = self.request(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        return review.get("status", {}).get("userInfo", {}).get("username", "")

    def pod_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        lines: int = 20,
        previous: bool = False,
        limit_bytes: int | None = None,
    ) -> str:
        """The last `lines` lines of a container's log; with `limit_bytes`, at most that many bytes of them, without
        a last line the limit cut."""
        query = {"container": container, "tailLines": lines, "previous": str(previous).lower()}
        if limit_bytes:
            query["limitBytes"] = limit_bytes
        path = _path("Pod", namespace, pod, "log")
        # as kubectl asks: the API server answers `Accept: text/plain` with 406 (it negotiates only its own
        # serializations), while the log itself comes as text whatever is accepted
        status, data = self.raw("GET", path, query=query, accept="application/json, */*", timeout=10)
        if status >= 400:
            raise KubeError(status, "", f"no log (HTTP {status})")
        if limit_bytes and len(data) >= limit_bytes:
            data = data[: data.rfind(b"\n") + 1]
        return data.decode(errors="replace")


def comparable(obj: dict | None) -> dict | None:
    """The object without what the server changes on every write (for change detection and diffs)."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    meta = out.get("metadata", {})
    for key in _VOLATILE_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("deployment.kubernetes.io/revision", None)
    out.pop("status", None)
    return out


def redact(obj: dict | None) -> dict | None:
    """A Secret with every value replaced, for diffs and output."""
    if obj is None or obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if field in out:
            out[field] = dict.fromkeys(out[field], "VALUE_HIDDEN")
    return out
