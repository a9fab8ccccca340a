# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for an environment (docs/pr-lifecycle.md, "What pr_up does", step 4): the databases ready, then the app
rollout with every container running, then the health check, all under one deadline."""

from __future__ import annotations

import time

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases, safe_http_path, show
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY
from ansible_collections.k8s_ee.platform.plugins.module_utils._diagnose import diagnose
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import rollout_done


def polls(first: float = 0.1, factor: float = 1.5, most: float = 0.2):
    """Pauses between two looks at something that changes soon: short at first, then at most `most` seconds.

    A wait that polls once a second loses half a second on average against a watch (kubectl wait); starting
    at a tenth of a second and growing to a fifth keeps that loss near a tenth of a second, for five GET requests
    a second while a wait lasts (`benchmarks/pr_lifecycle.py` measures both against kubectl's watch)."""
    pause = first
    while True:
        yield pause
        pause = min(most, pause * factor)


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
    mask=None,
) -> None:
    """Databases ready, then the app rollout complete, all before `deadline` (a `clock` value)."""
    steps = [(db, REGISTRY[db].kind, db, REGISTRY[db].ready) for db in enabled_databases(config)]
    steps.append(("app", "Deployment", "app", rollout_done))
    for step, kind, name, ready in steps:
        pauses = polls()
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
            sleep(next(pauses))


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
