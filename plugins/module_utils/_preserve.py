# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preserve an environment, expire preserves and clean up orphans (docs/runbooks.md).

Business time is passed in (`now`, seconds since the epoch), so tests need no sleeping. Caps are
checked under a cluster-wide Lease so concurrent commands cannot both take the last slot.
"""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._lease import Lock
from ansible_collections.k8s_ee.platform.plugins.module_utils._lifecycle import down, ownership
from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import (
    ANNOTATION_PRESERVE_UNTIL,
    ANNOTATION_PRESERVE_WARNED,
    ANNOTATION_PRESERVED_BY,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import (
    now_rfc3339,
    parse_rfc3339,
    rfc3339,
)

MAX_HOURS = 48
PER_USER = 3
LOCK_NAME = "k8s-ee-preserve"
FIELD_MANAGER = "k8s-ee-preserve"
PRESERVED_SELECTOR = f"{_naming.EPHEMERAL_SELECTOR},{_naming.LABEL_PRESERVE}=true"


def _preserved(kube, project_id: str | None = None) -> list[dict]:
    """Preserved environments (of one project, when given) that are not already being deleted."""
    selector = PRESERVED_SELECTOR + (f",{_naming.LABEL_PROJECT}={project_id}" if project_id else "")
    return [ns for ns in kube.list("Namespace", label_selector=selector) if not ns["metadata"].get("deletionTimestamp")]


def preserve(
    kube,
    namespace: str,
    repository: str,
    user: str,
    hours: int | None,
    now: float,
    lock_namespace: str,
    total_cap: int | None = None,
    per_user: int = PER_USER,
) -> dict:
    """Label the environment preserved until now + hours (at most 48); enforce the caps atomically."""
    asked = hours if hours is not None else MAX_HOURS
    if asked < 1:
        raise LifecycleError("preserve", f"hours: {asked} is not a number of hours from 1 to {MAX_HOURS}")
    granted = min(asked, MAX_HOURS)
    with Lock(kube, lock_namespace, LOCK_NAME, busy="another preserve command holds the lock"):
        live = kube.get("Namespace", namespace)
        if ownership(live, repository) == "missing":
            raise LifecycleError(
                "preserve", f"there is no environment {namespace} to preserve; deploy it first (/deploy-preview)"
            )
        others = [ns for ns in _preserved(kube) if ns["metadata"]["name"] != namespace]
        mine = [
            ns["metadata"]["name"]
            for ns in others
            if (ns["metadata"].get("annotations") or {}).get(ANNOTATION_PRESERVED_BY, "").lower() == user.lower()
        ]
        if len(mine) >= per_user:
            raise LifecycleError(
                "preserve",
                f"{user} already preserves {len(mine)} environments "
                f"({', '.join(sorted(mine))}); at most {per_user} per user — let one expire first",
            )
        if total_cap and len(others) >= total_cap:
            raise LifecycleError(
                "preserve",
                f"{len(others)} environments are preserved and the operator allows at "
                f"most {total_cap}; try again when one expires",
            )
        until = rfc3339(now + granted * 3600)
        kube.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}",
            body={
                "metadata": {
                    "labels": {_naming.LABEL_PRESERVE: "true"},
                    "annotations": {
                        ANNOTATION_PRESERVE_UNTIL: until,
                        ANNOTATION_PRESERVED_BY: user,
                        ANNOTATION_PRESERVE_WARNED: "false",
                    },
                }
            },
            query={"fieldManager": FIELD_MANAGER},
            content_type="application/merge-patch+json",
        )
    return {
        "changed": True,
        "namespace": namespace,
        "preserve_until": until,
        "hours": granted,
        "capped": asked > MAX_HOURS,
        "asked": asked,
    }


def unpreserve(kube, namespace: str) -> None:
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}",
        body={
            "metadata": {
                "labels": {_naming.LABEL_PRESERVE: None},
                "annotations": {
                    ANNOTATION_PRESERVE_UNTIL: None,
                    ANNOTATION_PRESERVED_BY: None,
                    ANNOTATION_PRESERVE_WARNED: None,
                },
            }
        },
        query={"fieldManager": FIELD_MANAGER},
        content_type="application/merge-patch+json",
    )


def mark_warned(kube, namespace: str) -> None:
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}",
        body={"metadata": {"annotations": {ANNOTATION_PRESERVE_WARNED: "true"}}},
        query={"fieldManager": FIELD_MANAGER},
        content_type="application/merge-patch+json",
    )


def environment_of(ns: dict) -> dict:
    meta = ns["metadata"]
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    number = labels.get(_naming.LABEL_PR, "")
    return {
        "namespace": meta["name"],
        "repository": annotations.get(_naming.ANNOTATION_REPOSITORY),
        "pr_number": int(number) if number.isdigit() else None,
        "preserve_until": annotations.get(ANNOTATION_PRESERVE_UNTIL),
        "preserved_by": annotations.get(ANNOTATION_PRESERVED_BY),
        "warned": annotations.get(ANNOTATION_PRESERVE_WARNED) == "true",
        "preserved": labels.get(_naming.LABEL_PRESERVE) == "true",
        "terminating": bool(meta.get("deletionTimestamp")),
    }


def expiry_plan(kube, now: float, warn_before: float = 3600, project_id: str | None = None) -> list[dict]:
    """What preserve_expiry does for each preserved environment (of one project, when given): warn, expire, or
    nothing."""
    plan = []
    for ns in _preserved(kube, project_id):
        env = environment_of(ns)
        until = parse_rfc3339(env["preserve_until"])
        if until is None or until <= now:
            env["action"] = "expire"
        elif until - now <= warn_before and not env["warned"]:
            env["action"] = "warn"
        else:
            env["action"] = "keep"
        plan.append(env)
    return sorted(plan, key=lambda e: e["namespace"])


def expire(kube, github, now, warn_before, timeout, check_mode, project_id=None) -> dict:
    """Warn about preserves that end within `warn_before` seconds and end those past their time: the
    environment of a closed pull request is then destroyed (docs/runbooks.md, preserve_expiry). Errors of one
    environment are collected in the summary, never stop the others."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils import _comment
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError

    summary = {"checked": 0, "warned": [], "expired": [], "deleted": [], "errors": []}
    for env in expiry_plan(kube, now, warn_before, project_id):
        summary["checked"] += 1
        name, repo, number = env["namespace"], env["repository"], env["pr_number"]
        if env["action"] == "keep":
            continue
        try:
            if env["action"] == "warn":
                summary["warned"].append(name)
                if check_mode:
                    continue
                if github and repo and number:
                    body = _comment.render_preserve("warning", name, preserve_until=env["preserve_until"])
                    github.upsert_comment(repo, number, _comment.PRESERVE_MARKER, body)
                mark_warned(kube, name)
                continue
            summary["expired"].append(name)
            if check_mode:
                continue
            unpreserve(kube, name)
            closed = False
            if github and repo and number:
                closed = github.pull_request(repo, number).get("state") == "closed"
            if closed:
                result = down(kube, name, repo, timeout=timeout)
                if result["state"] == "deleted":
                    summary["deleted"].append(name)
                    github.upsert_comment(
                        repo,
                        number,
                        _comment.MARKER,
                        _comment.render("destroyed", name, destroyed_at=now_rfc3339(), note="The preserve expired."),
                    )
            if github and repo and number:
                github.upsert_comment(
                    repo,
                    number,
                    _comment.PRESERVE_MARKER,
                    _comment.render_preserve("expired", name, preserve_until=env["preserve_until"], destroyed=closed),
                )
        except (GitHubError, KubeError, LifecycleError) as exc:
            summary["errors"].append(f"{name}: {exc}")
    return summary
