# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What `status` shows: every environment with its repository, PR, age, readiness, preserve and quota use."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import (
    ANNOTATION_CREATED,
    ANNOTATION_READY,
    EPHEMERAL_SELECTOR,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import environment_of
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import QUOTA_NAME
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import parse_rfc3339

COLUMNS = ("namespace", "repository", "pr", "age", "ready_at", "preserved_until", "cpu", "memory")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    return f"{seconds // 60}m"


def environments(kube, now: float) -> list[dict]:
    quotas = {
        q["metadata"]["namespace"]: q for q in kube.list("ResourceQuota", field_selector=f"metadata.name={QUOTA_NAME}")
    }
    rows = []
    for ns in kube.list("Namespace", label_selector=EPHEMERAL_SELECTOR):
        env = environment_of(ns)
        annotations = ns["metadata"].get("annotations") or {}
        created = parse_rfc3339(annotations.get(ANNOTATION_CREATED)) or parse_rfc3339(
            ns["metadata"].get("creationTimestamp")
        )
        quota = quotas.get(env["namespace"], {})
        hard, used = quota.get("spec", {}).get("hard", {}), quota.get("status", {}).get("used", {})
        rows.append(
            {
                "namespace": env["namespace"],
                "repository": env["repository"] or "-",
                "pr": env["pr_number"],
                "age": _age(now - created if created else None),
                "age_seconds": int(now - created) if created else None,
                "ready_at": annotations.get(ANNOTATION_READY) or "-",
                "preserved_until": env["preserve_until"] if env["preserved"] else "-",
                "cpu": f"{used.get('requests.cpu', '0')}/{hard.get('requests.cpu', '-')}",
                "memory": f"{used.get('requests.memory', '0')}/{hard.get('requests.memory', '-')}",
                "terminating": env["terminating"],
            }
        )
    return sorted(rows, key=lambda r: r["namespace"])


def table(rows: list[dict]) -> str:
    header = {
        "namespace": "NAMESPACE",
        "repository": "REPOSITORY",
        "pr": "PR",
        "age": "AGE",
        "ready_at": "READY AT",
        "preserved_until": "PRESERVED UNTIL",
        "cpu": "CPU (used/quota)",
        "memory": "MEMORY (used/quota)",
    }
    cells = [header] + [{k: str(r[k]) for k in COLUMNS} for r in rows]
    widths = {k: max(len(c[k]) for c in cells) for k in COLUMNS}
    lines = ["  ".join(c[k].ljust(widths[k]) for k in COLUMNS).rstrip() for c in cells]
    if not rows:
        lines.append("(no environments)")
    return "\n".join(lines)
