# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pieces shared by the objects pr_up renders (the app's in `_render`, each database's in `_databases`) and the
status checks it waits on. The security settings are the ones docs/security.md and docs/adopting.md describe:
every pod the platform runs is restricted-compatible (non-root, seccomp RuntimeDefault, no privilege escalation,
read-only root filesystem, no capabilities)."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming

MANAGED = {_naming.MANAGED_BY[0]: _naming.MANAGED_BY[1]}


def meta(name: str, namespace: str, component: str, **extra) -> dict:
    labels = {**MANAGED, "app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "k8s-ee"}
    out = {"name": name, "namespace": namespace, "labels": labels}
    out.update(extra)
    return out


def restricted_container() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security(uid: int) -> dict:
    """Pod-level security of every workload the platform runs itself: a fixed non-root user and group."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def database_pod(labels: dict, settings: dict, container: dict, volumes: list) -> dict:
    """Pod template of a database the platform runs itself (Redis, MariaDB): one container, user 999."""
    return {
        "metadata": {"labels": {**MANAGED, **labels}},
        "spec": {
            "priorityClassName": settings["priority_class"],
            "automountServiceAccountToken": False,
            "securityContext": pod_security(999),
            "containers": [container],
            "volumes": volumes,
        },
    }


def resources(cpu_request, memory_request, cpu_limit, memory_limit) -> dict:
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def service(name: str, namespace: str, selector: dict, ports: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, namespace, name),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [{"protocol": "TCP", **port} for port in ports],
        },
    }


def volume_claim(name: str, storage: str) -> dict:
    """A ReadWriteOnce volume claim template of `storage`."""
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
    }


# ------------------------------------------------------------------ status


def conditions(obj) -> dict:
    """The status conditions of `obj` as type -> status."""
    return {c.get("type"): c.get("status") for c in (obj or {}).get("status", {}).get("conditions") or []}


def rollout_done(obj) -> bool:
    """A Deployment or StatefulSet that has rolled out its current generation."""
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
