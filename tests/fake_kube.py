"""An in-memory stand-in for _kube.Kube, for unit tests of the lifecycle: objects by kind, namespace and name, a
resourceVersion that moves only when an object changes, 409 for a create of what exists and for a stale
resourceVersion, and workloads that become ready as soon as they are applied (`ready=False` keeps them unready).
Hooks (`before`) let a test do what a concurrent writer would, at the moment it matters."""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import threading

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KINDS, KubeError, comparable

_LOCK = threading.RLock()


def _locked(method):
    """One request at a time, as an API server serialises writes to one object: pr_up applies several objects
    at once (`_apply.apply_all`'s workers)."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with _LOCK:
            return method(self, *args, **kwargs)

    return locked


class FakeKube:
    def __init__(self, ready=True, logs=None, absent=()):
        self.objects: dict[tuple, dict] = {}
        self.absent = set(absent)  # kinds whose CRD the cluster does not have: discovery misses them, writes 404
        self.discovered: list[str] = []  # the API group versions asked for in discovery
        self.ready = ready
        self.logs = logs or {}  # (pod, container) -> text
        self.before: dict[tuple, callable] = {}  # (verb, kind, name) -> called once before that request
        self.writes: list[tuple] = []  # (verb, kind, name)
        self.requests = 0
        self._versions = itertools.count(1)
        for name, value in (("default-app", 100), ("platform-critical", 1000000)):
            self.put({"kind": "PriorityClass", "metadata": {"name": name}, "value": value})
        self.put(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": "node-1"},
                "status": {
                    "allocatable": {"cpu": "8", "memory": "32Gi"},
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )

    # ---- helpers for tests

    @staticmethod
    def key(kind, name, namespace=None):
        return (kind, namespace, name)

    def put(self, obj: dict) -> dict:
        """Store `obj` as the server would (a Secret's stringData becomes base64 data)."""
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if obj["kind"] == "Secret" and "stringData" in obj:
            data = dict(obj.get("data") or {})
            data.update({k: base64.b64encode(v.encode()).decode() for k, v in obj.pop("stringData").items()})
            obj["data"] = data
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[self.key(obj["kind"], meta["name"], meta.get("namespace"))] = obj
        return copy.deepcopy(obj)

    def secret(self, name, namespace) -> dict:
        found = self.objects[self.key("Secret", name, namespace)]
        return {k: base64.b64decode(v).decode() for k, v in found.get("data", {}).items()}

    def _hook(self, verb, obj_or_kind, name=None):
        kind = obj_or_kind if isinstance(obj_or_kind, str) else obj_or_kind["kind"]
        name = name or obj_or_kind["metadata"]["name"]
        hook = self.before.pop((verb, kind, name), None)
        if hook:
            hook(self)

    def _served(self, kind):
        if kind in self.absent:
            raise KubeError(404, "NotFound", "the server could not find the requested resource")

    # ---- the Kube interface

    def serves(self, kind):
        api_version = KINDS[kind][0]
        if api_version not in self.discovered:
            self.requests += 1
            self.discovered.append(api_version)
        return kind not in self.absent

    @_locked
    def get(self, kind, name, namespace=None):
        self.requests += 1
        self._served(kind)
        self._hook("get", kind, name)
        found = self.objects.get(self.key(kind, name, namespace))
        return copy.deepcopy(found) if found else None

    @_locked
    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        self.requests += 1
        self._served(kind)
        wanted = dict(part.split("=", 1) for part in label_selector.split(",")) if label_selector else {}
        out = []
        for (k, ns, _name), obj in self.objects.items():
            labels = obj["metadata"].get("labels") or {}
            matches = all(labels.get(a) == b for a, b in wanted.items())
            if k == kind and (namespace is None or ns == namespace) and matches:
                out.append(copy.deepcopy(obj))
        return out

    @_locked
    def delete_all(self, kind, namespace):
        self.requests += 1
        self.writes.append(("delete_all", kind, namespace))
        for key in [k for k in self.objects if k[0] == kind and k[1] == namespace]:
            del self.objects[key]

    @_locked
    def create(self, obj, dry_run=False, field_manager=None):
        self.requests += 1
        self._hook("create", obj)
        meta = obj["metadata"]
        if self.key(obj["kind"], meta["name"], meta.get("namespace")) in self.objects:
            raise KubeError(409, "AlreadyExists", f'{obj["kind"].lower()}s "{meta["name"]}" already exists')
        if dry_run:
            return copy.deepcopy(obj)
        self.writes.append(("create", obj["kind"], meta["name"]))
        return self._settle(self.put(obj))

    @_locked
    def apply(self, obj, dry_run=False):
        self.requests += 1
        self._hook("apply", obj)
        self._served(obj["kind"])
        meta = obj["metadata"]
        key = self.key(obj["kind"], meta["name"], meta.get("namespace"))
        live = self.objects.get(key)
        stale = live is None or live["metadata"]["resourceVersion"] != meta.get("resourceVersion")
        if meta.get("resourceVersion") and stale:
            raise KubeError(409, "Conflict", "the object has been modified; apply your changes to the latest version")
        wanted = copy.deepcopy(obj)
        wanted["metadata"].pop("resourceVersion", None)
        if live is not None:
            if "status" in live:
                wanted["status"] = live["status"]
            if obj["kind"] == "Secret" and "stringData" in wanted:
                data = dict(live.get("data") or {})
                data.update({k: base64.b64encode(v.encode()).decode() for k, v in wanted.pop("stringData").items()})
                wanted["data"] = data
            if comparable(wanted) == comparable({**live, "metadata": {**live["metadata"]}}):
                return copy.deepcopy(live)
        if dry_run:
            return wanted
        self.writes.append(("apply", obj["kind"], meta["name"]))
        return self._settle(self.put(wanted))

    @_locked
    def update(self, obj):
        """PUT: replaces the object when its resourceVersion is the live one (409 otherwise, as the API server)."""
        self.requests += 1
        self._hook("update", obj)
        meta = obj["metadata"]
        key = self.key(obj["kind"], meta["name"], meta.get("namespace"))
        live = self.objects.get(key)
        if live is None:
            raise KubeError(404, "NotFound", f'{obj["kind"].lower()}s "{meta["name"]}" not found')
        if meta.get("resourceVersion") != live["metadata"]["resourceVersion"]:
            raise KubeError(409, "Conflict", "the object has been modified; apply your changes to the latest version")
        self.writes.append(("update", obj["kind"], meta["name"]))
        return self.put(obj)

    def whoami(self):
        return "kubernetes-admin"

    def pod_log(self, namespace, pod, container, lines=20, previous=False, limit_bytes=None):
        self.requests += 1
        if (pod, container) not in self.logs:
            raise KubeError(404, "NotFound", "no log")
        return "\n".join(self.logs[(pod, container)].splitlines()[-lines:])

    # ---- what controllers would do

    def _settle(self, obj):
        """Workloads and database resources ready at once, with running pods (unless `ready` is False)."""
        if not self.ready:
            return obj
        kind, meta = obj["kind"], obj["metadata"]
        status = None
        if kind in ("Deployment", "StatefulSet"):
            replicas = obj["spec"].get("replicas", 1)
            status = {
                "observedGeneration": 0,
                "replicas": replicas,
                "readyReplicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": replicas,
            }
            labels = obj["spec"]["selector"]["matchLabels"]
            self.put(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"{meta['name']}-0", "namespace": meta["namespace"], "labels": labels},
                    "status": {"containerStatuses": [{"name": meta["name"], "ready": True, "state": {"running": {}}}]},
                }
            )
        elif kind == "Cluster":
            status = {"readyInstances": 1, "conditions": [{"type": "Ready", "status": "True"}]}
        elif kind == "MongoDBCommunity":
            status = {"phase": "Running"}
        elif kind == "Tenant":
            status = {"currentState": "Initialized"}
        if status is not None:
            stored = self.objects[self.key(kind, meta["name"], meta.get("namespace"))]
            stored["status"] = status
            return copy.deepcopy(stored)
        return obj
