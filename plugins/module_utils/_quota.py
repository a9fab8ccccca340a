# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ResourceQuota `environment-quota` sized from what an environment runs (docs/quota.md): the app's budget here,
each database's in its `_databases` description.

All arithmetic is exact (millicores and MiB as fractions); results are rounded up.
"""

from __future__ import annotations

from fractions import Fraction

from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import DATABASES, largest_config
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY, Budget, budget

QUOTA_NAME = "environment-quota"
LIMITS_BUFFER = Fraction(115, 100)
FIXED = {"configmaps": 15, "secrets": 25, "replicationcontrollers": 5}

# requests/limits in millicores and MiB, storage in GiB: the first row of docs/quota.md's table
APP = budget(100, 300, 256, 512, 1, 1, 5, 3)
# Every component's row (the app's, then each database's).
COMPONENTS: dict[str, Budget] = {"app": APP, **{name: db.budget for name, db in REGISTRY.items()}}


def _app_pod(config: dict) -> dict:
    """Requests and limits of one configured app pod (millicores, MiB)."""
    resources = config["app"]["resources"]
    return {
        "cpu_request": q.millicores(resources["requests"]["cpu"]),
        "memory_request": q.mebibytes(resources["requests"]["memory"]),
        "cpu_limit": q.millicores(resources["limits"]["cpu"]),
        "memory_limit": q.mebibytes(resources["limits"]["memory"]),
    }


def quota_totals(config: dict) -> dict:
    """The quota as exact numbers before formatting, keyed like `spec.hard`."""
    base = APP
    pod = _app_pod(config)
    replicas = config["app"]["replicas"]
    fields = ("cpu_request", "cpu_limit", "memory_request", "memory_limit")
    # 1. the app row, replaced field by field by the configured pods when larger
    totals = {f: max(getattr(base, f), pod[f] * replicas) for f in fields}
    storage, pvcs, pods, services = base.storage, base.pvcs, base.pods, base.services
    for name in DATABASES:
        db = config["databases"][name]
        if not db["enabled"]:
            continue
        row = REGISTRY[name].budget
        for f in fields:
            totals[f] += getattr(row, f)
        extra = REGISTRY[name].storage_extra_mib
        configured = q.mebibytes(db["storage"]) + extra if "storage" in db else Fraction(0)
        storage += max(row.storage, configured)
        pvcs += row.pvcs
        pods += row.pods
        services += row.services
    # 2. one surge pod for rolling updates, the larger of the configured pod and the base row
    for f in fields:
        totals[f] += max(pod[f], getattr(base, f))
    # 3. buffer on limits
    totals["cpu_limit"] *= LIMITS_BUFFER
    totals["memory_limit"] *= LIMITS_BUFFER
    return {
        "requests.cpu": q.ceil(totals["cpu_request"]),
        "requests.memory": q.ceil(totals["memory_request"]),
        "limits.cpu": q.ceil(totals["cpu_limit"]),
        "limits.memory": q.ceil(totals["memory_limit"]),
        "requests.storage": q.ceil(storage),
        "persistentvolumeclaims": pvcs,
        "pods": pods,
        "services": services,
        **FIXED,
    }


def env_quota(config: dict) -> dict:
    """`spec.hard` of the ResourceQuota, values as the API server stores them."""
    totals = quota_totals(config)
    hard = {}
    for key, value in totals.items():
        if key.endswith(".cpu"):
            hard[key] = q.format_cpu(value)
        elif key.endswith(".memory") or key == "requests.storage":
            hard[key] = q.format_memory(value)
        else:
            hard[key] = str(value)
    return hard


def quota_ceiling() -> dict:
    """The largest `spec.hard` pr_up can render: the quota of the largest valid configuration. The admission policy
    of role platform refuses a quota of the CI identity with any value above it."""
    return env_quota(largest_config())


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
