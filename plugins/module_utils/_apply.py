# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply of an environment's objects (docs/pr-lifecycle.md, "What pr_up does", step 3): each object read
first, `changed` from its resourceVersion (check mode: a dry run compared), and the RoleBinding that gives a CI
identity its rights in the environment it creates, with the grace its first requests need."""

from __future__ import annotations

import concurrent.futures
import time

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError, comparable, redact

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


def authorized(bound_at, clock, sleep, call, *args, **kwargs):
    """Run `call`; right after a RoleBinding was created the authorizer may not know it yet, so a 403 within
    BINDING_GRACE seconds of that is retried."""
    while True:
        try:
            return call(*args, **kwargs)
        except KubeError as exc:
            if exc.status != 403 or bound_at is None or clock() - bound_at > BINDING_GRACE:
                raise
        sleep(0.2)


# What an environment's objects refer to when they are admitted or started, applied before them when objects are
# applied several at a time: a RoleBinding may only grant a Role that exists (RBAC's escalation check), and a pod
# whose Secret, ConfigMap or ServiceAccount is missing is refused or waits, backing off.
STAGES = ({"Secret", "ConfigMap", "ServiceAccount", "Role"}, {"RoleBinding"})


def _stage(kind: str) -> int:
    return next((n for n, kinds in enumerate(STAGES) if kind in kinds), len(STAGES))


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
    workers: int = 1,
):
    """Apply in order; return (changed, per-object results, diffs). `grace` carries when the access RoleBinding
    was created from one call to the next (see `authorized`); `apply_namespace(obj, dry_run)` applies the
    Namespace (environment slots, `_slots.applier`) where given. With `workers` > 1 the objects are applied that
    many at a time, in the stages of `STAGES` (what others refer to goes first); results and diffs stay in the
    objects' order, and when an object fails the first error in that order is raised once its stage is done,
    before any later stage is applied."""
    grace = {} if grace is None else grace

    def one(obj: dict) -> tuple[dict, dict | None]:
        bound_at = grace.get("bound_at")
        meta = obj["metadata"]
        if check_mode and not namespace_exists and obj["kind"] != "Namespace":
            # nothing exists inside a namespace not yet created (and a CI identity may not even look there yet)
            live, after = None, obj
        else:
            live = authorized(bound_at, clock, sleep, kube.get, obj["kind"], meta["name"], meta.get("namespace"))
            apply = apply_namespace if apply_namespace and obj["kind"] == "Namespace" else kube.apply
            after = authorized(bound_at, clock, sleep, apply, obj, dry_run=check_mode)
        if obj["kind"] == "RoleBinding" and live is None and not check_mode:
            grace["bound_at"] = clock()
        if live is None:
            action = "created"
        elif check_mode:
            action = "configured" if comparable(live) != comparable(after) else "unchanged"
        else:
            same = live["metadata"].get("resourceVersion") == after["metadata"].get("resourceVersion")
            action = "unchanged" if same else "configured"
        diff = None
        if action != "unchanged" and want_diff:
            diff = {
                "before": redact(comparable(live)) or {},
                "after": redact(comparable(after)),
                "before_header": f"{obj['kind']}/{meta['name']}",
                "after_header": f"{obj['kind']}/{meta['name']}",
            }
        return {"kind": obj["kind"], "name": meta["name"], "action": action}, diff

    if workers > 1 and len(objects) > 1:
        outcomes = [None] * len(objects)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for stage in sorted({_stage(obj["kind"]) for obj in objects}):
                futures = {i: pool.submit(one, obj) for i, obj in enumerate(objects) if _stage(obj["kind"]) == stage}
                for i, future in futures.items():  # all of the stage done; the first error in order is raised here
                    outcomes[i] = future.result()
    else:
        outcomes = [one(obj) for obj in objects]
    results = [result for result, _diff in outcomes]
    diffs = [diff for _result, diff in outcomes if diff is not None]
    return any(result["action"] != "unchanged" for result in results), results, diffs
