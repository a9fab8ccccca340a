# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each of the collection's modules does, once, for both ways it runs (docs/architecture.md).

A module (plugins/modules/) is its documentation and a `main()` of two lines: AnsibleModule with the
task's SPEC, then `finish()`. Its action plugin (plugins/action/) runs the same RUN function inside
the controller's worker process when the task runs on the controller anyway, which saves the new
Python process and its imports per task. Either way a RUN function takes the validated parameters
and returns the result, or raises TaskFailed; the values in `secret_values` of either are masked in
everything the task returns."""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.k8s_ee.platform.plugins.module_utils import _args, _comment
from ansible_collections.k8s_ee.platform.plugins.module_utils._args import (
    CLOCK_ARGS,
    CLUSTER_ARGS,
    GITHUB_ARGS,
    PR_ARGS,
    PROJECT_ARGS,
    github_from_params,
    now_from_params,
)


class TaskFailed(Exception):
    """A task's failure: `msg` and the result's other fields; `secret_values` are masked."""

    def __init__(self, msg: str, secret_values=(), **fields):
        super().__init__(msg)
        self.msg = msg
        self.fields = fields
        self.secret_values = set(secret_values)


@dataclasses.dataclass(frozen=True)
class Task:
    """One module: its AnsibleModule keyword arguments and what it does.

    `run(params, check_mode, diff)` returns the result (`changed` included; optional `warnings`, a
    list of strings, and `secret_values`, never returned)."""

    name: str
    spec: dict
    run: t.Callable[[dict, bool, bool], dict]

    @property
    def supports_check_mode(self) -> bool:
        return bool(self.spec.get("supports_check_mode"))


def kube_from_params(params):
    """The cluster client of CLUSTER_ARGS (a name of this module, so tests can replace it)."""
    return _args.kube_from_params(params)


def finish(module, task: Task) -> None:
    """Run `task` for an AnsibleModule built from task.spec and exit with its result."""
    try:
        result = task.run(module.params, module.check_mode, module._diff)
    except TaskFailed as exc:
        module.no_log_values.update(exc.secret_values)
        module.fail_json(msg=exc.msg, **exc.fields)
    module.no_log_values.update(result.pop("secret_values", ()))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


def _needs_token(p, what: str) -> None:
    """Modules that decide by a pull request's state (cleanup, migrate) refuse to run without a GitHub token."""
    if not p["token"]:
        raise TaskFailed(
            "token: no GitHub token (set GITHUB_TOKEN or k8s_ee_github_token); without one no pull request's state "
            f"is known and {what}"
        )


def _kube_failure(exc) -> TaskFailed:
    return TaskFailed(f"Kubernetes API: {exc}", secret_values=getattr(exc, "secret_values", ()))


# ---- env_access


def _env_access(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._access import decide

    return {
        "changed": False,
        **decide(p["allowlist_path"], p["repository"], p["author_association"], p["approved_by_maintainer"]),
    }


ENV_ACCESS = Task(
    "env_access",
    {
        "argument_spec": {
            "allowlist_path": {"type": "path"},
            "repository": {"type": "str", "required": True},
            "author_association": {"type": "str"},
            "approved_by_maintainer": {"type": "bool", "default": False},
        },
        "supports_check_mode": True,
    },
    _env_access,
)


# ---- env_config


def _env_config(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._environment import EnvironmentInputError, describe

    try:
        result = describe(
            path=p["path"],
            content=p["content"],
            root=p["root"],
            pr_number=p["pr_number"],
            domain=p["domain"],
            image_repository=p["image_repository"],
        )
    except EnvironmentInputError as exc:
        raise TaskFailed(str(exc), errors=exc.errors) from None
    return {"changed": False, **result}


ENV_CONFIG = Task(
    "env_config",
    {
        "argument_spec": {
            "path": {"type": "path"},
            "content": {"type": "str"},
            "root": {"type": "path"},
            "pr_number": {"type": "raw", "required": True},
            "domain": {"type": "str", "required": True},
            "image_repository": {"type": "str"},
        },
        "mutually_exclusive": [("path", "content")],
        "required_one_of": [("path", "content")],
        "supports_check_mode": True,
    },
    _env_config,
)


# ---- env_status


def _env_status(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._status import environments, table

    try:
        rows = environments(kube_from_params(p), now_from_params(p))
    except KubeError as exc:
        raise _kube_failure(exc) from None
    return {"changed": False, "environments": rows, "table": table(rows)}


ENV_STATUS = Task(
    "env_status", {"argument_spec": {**CLUSTER_ARGS, **CLOCK_ARGS}, "supports_check_mode": True}, _env_status
)


# ---- env_cleanup


def _env_cleanup(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._cleanup import cleanup
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

    _needs_token(p, "nothing can be cleaned up safely")
    try:
        summary = cleanup(
            kube_from_params(p),
            github_from_params(p),
            now_from_params(p),
            grace=p["grace_period"],
            dry_run=p["dry_run"] or check_mode,
            max_deletions=p["max_deletions"],
            project_id=p["project_id"],
        )
    except KubeError as exc:
        raise _kube_failure(exc) from None
    changed = bool(summary["deleted"])
    if summary["errors"]:
        raise TaskFailed(
            f"{len(summary['errors'])} error(s) while asking GitHub: " + "; ".join(summary["errors"]),
            summary=summary,
            changed=changed,
        )
    return {"changed": changed, "summary": summary}


ENV_CLEANUP = Task(
    "env_cleanup",
    {
        "argument_spec": {
            **CLUSTER_ARGS,
            **GITHUB_ARGS,
            "dry_run": {"type": "bool", "default": False},
            "grace_period": {"type": "int", "default": 600},
            "max_deletions": {"type": "int", "default": 10},
            **PROJECT_ARGS,
            **CLOCK_ARGS,
        },
        "supports_check_mode": True,
    },
    _env_cleanup,
)


# ---- env_migrate


def _env_migrate(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils import _migrate
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import InputError, repository

    _needs_token(p, "no environment can be moved over safely")
    for name in p["repositories"] or []:
        try:
            repository(name)
        except InputError as exc:
            raise TaskFailed(f"repositories: {exc}") from None
    kube, now = kube_from_params(p), now_from_params(p)
    try:
        rows = _migrate.plan(
            kube,
            github_from_params(p),
            now,
            repositories=p["repositories"],
            recreate_data=p["recreate_data"],
            grace=p["grace_period"],
        )
        jobs = _migrate.cronjobs(kube)
        apply = p["apply"] and not check_mode
        done = _migrate.carry_out(kube, rows, now) if apply else []
    except KubeError as exc:
        raise _kube_failure(exc) from None
    result = {
        "changed": bool(done) or (check_mode and any(r["action"] in ("take over", "delete") for r in rows)),
        "dry_run": not apply,
        "environments": rows,
        "cronjobs": jobs,
        "table": _migrate.table(rows, jobs),
    }
    errors = [f"{r['namespace']}: {r['reason']}" for r in rows if r.get("error")]
    if errors:
        raise TaskFailed(f"{len(errors)} environment(s) not moved over: " + "; ".join(errors), **result)
    return result


ENV_MIGRATE = Task(
    "env_migrate",
    {
        "argument_spec": {
            **CLUSTER_ARGS,
            **GITHUB_ARGS,
            "apply": {"type": "bool", "default": False},
            "recreate_data": {"type": "bool", "default": False},
            "repositories": {"type": "list", "elements": "str"},
            "grace_period": {"type": "int", "default": 600},
            **CLOCK_ARGS,
        },
        "supports_check_mode": True,
    },
    _env_migrate,
)


# ---- env_expiry


def _env_expiry(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import expire

    try:
        summary = expire(
            kube_from_params(p),
            github_from_params(p),
            now_from_params(p),
            p["warn_before"],
            p["timeout"],
            check_mode,
            p["project_id"],
        )
    except KubeError as exc:
        raise _kube_failure(exc) from None
    changed = bool(summary["warned"] or summary["expired"])
    if summary["errors"]:
        raise TaskFailed(
            f"{len(summary['errors'])} error(s): " + "; ".join(summary["errors"]), summary=summary, changed=changed
        )
    return {"changed": changed, "summary": summary}


ENV_EXPIRY = Task(
    "env_expiry",
    {
        "argument_spec": {
            **CLUSTER_ARGS,
            **GITHUB_ARGS,
            **CLOCK_ARGS,
            "warn_before": {"type": "int", "default": 3600},
            "timeout": {"type": "int", "default": 300},
            **PROJECT_ARGS,
        },
        "supports_check_mode": True,
    },
    _env_expiry,
)


# ---- env_preserve


def _env_preserve(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._lifecycle import find_namespace, project_of
    from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import preserve

    github = github_from_params(p)
    namespace = f"(pull request #{p['pr_number']})"

    def comment(kind, **info):
        body = _comment.render_preserve(kind, namespace, **info)
        if github:
            github.upsert_comment(p["repository"], p["pr_number"], _comment.PRESERVE_MARKER, body)
        return body

    try:
        kube = kube_from_params(p)
        namespace = find_namespace(kube, project_of(kube, p["project_id"]), p["pr_number"]) or namespace
        if not p["pr_open"]:
            raise LifecycleError("preserve", "the pull request is closed; only an open pull request can be preserved")
        result = preserve(
            kube,
            namespace,
            p["repository"],
            p["user"],
            p["hours"],
            now_from_params(p),
            p["lock_namespace"],
            total_cap=p["total_cap"] or None,
        )
        body = comment(
            "preserved",
            user=p["user"],
            preserve_until=result["preserve_until"],
            capped=result["capped"],
            asked=result["asked"],
        )
    except LifecycleError as exc:
        try:
            body = comment("refused", reason=str(exc))
        except GitHubError as gh:
            raise TaskFailed(f"{exc}; and the comment failed: {gh}", step=exc.step) from None
        raise TaskFailed(str(exc), step=exc.step, body=body) from None
    except (KubeError, GitHubError) as exc:
        raise TaskFailed(str(exc)) from None
    return {"body": body, **result}


ENV_PRESERVE = Task(
    "env_preserve",
    {
        "argument_spec": {
            **CLUSTER_ARGS,
            **GITHUB_ARGS,
            **PR_ARGS,
            "user": {"type": "str", "required": True},
            "hours": {"type": "int"},
            "pr_open": {"type": "bool", "required": True},
            "total_cap": {"type": "int", "default": 0},
            "lock_namespace": {"type": "str", "default": "platform"},
            "project_id": {"type": "str"},
            **CLOCK_ARGS,
        },
    },
    _env_preserve,
)


# ---- environment


def _environment(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
    from ansible_collections.k8s_ee.platform.plugins.module_utils._lifecycle import (
        UpRequest,
        down,
        find_namespace,
        project_of,
        up,
    )

    kube = None
    try:
        kube = kube_from_params(p)
        if p["state"] == "absent":
            namespace = p["namespace"] or find_namespace(kube, project_of(kube, p["project_id"]), p["pr_number"])
            if namespace is None:
                result = {"changed": False, "state": "absent", "namespace": None}
            else:
                result = down(kube, namespace, p["repository"], timeout=p["timeout"], check_mode=check_mode)
        else:
            request = UpRequest(
                namespace=p["namespace"],
                host=p["host"],
                config=p["config"],
                image=p["image"],
                pr={
                    "repository": p["repository"],
                    "number": p["pr_number"],
                    "head_sha": p["head_sha"],
                    "branch": p["branch"],
                    "author": p["author"],
                },
                settings=p["settings"],
                timeout=p["timeout"],
                health_check=p["health_check"],
                health_url=p["health_url"],
                max_environments=p["max_environments"] or None,
                lock_namespace=p["lock_namespace"],
                collect_logs=p["collect_logs"],
                create=p["create"],
            )
            result = up(kube, request, check_mode=check_mode, want_diff=diff)
            diffs = result.pop("diff")
            if diff:
                result["diff"] = diffs
            result.setdefault("state", "present")
    except LifecycleError as exc:
        raise TaskFailed(
            str(exc),
            secret_values=getattr(exc, "secret_values", ()),
            step=exc.step,
            details=exc.details,
            api_requests=kube.requests if kube else 0,
        ) from None
    except KubeError as exc:
        raise TaskFailed(
            f"Kubernetes API: {exc} (HTTP {exc.status} {exc.reason})",
            secret_values=getattr(exc, "secret_values", ()),
            step="kubernetes api",
            api_requests=kube.requests if kube else 0,
        ) from None
    result["api_requests"] = kube.requests
    return result


ENVIRONMENT = Task(
    "environment",
    {
        "argument_spec": {
            **CLUSTER_ARGS,
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "namespace": {"type": "str"},
            "repository": {"type": "str", "required": True},
            "config": {"type": "dict"},
            "host": {"type": "str"},
            "pr_number": {"type": "int"},
            "head_sha": {"type": "str", "default": ""},
            "branch": {"type": "str", "default": ""},
            "author": {"type": "str", "default": ""},
            "image": {"type": "str"},
            "settings": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 600},
            "health_check": {"type": "bool", "default": True},
            "health_url": {"type": "str"},
            "max_environments": {"type": "int", "default": 0},
            "lock_namespace": {"type": "str", "default": "platform"},
            "collect_logs": {"type": "bool", "default": True},
            "create": {"type": "bool", "default": True},
            "project_id": {"type": "str"},
        },
        "required_if": [("state", "present", ("namespace", "config", "host", "pr_number", "image"))],
        "required_one_of": [("namespace", "pr_number")],
        "supports_check_mode": True,
    },
    _environment,
)


# ---- pr_command


def _pr_command(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import CommandError, check
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError

    if not p["token"]:
        raise TaskFailed(
            "token: comment commands need a GitHub token (GITHUB_TOKEN) to check the commenter's permission"
        )
    github = github_from_params(p)
    try:
        if p["done"]:
            github.react(p["repository"], p["comment_id"], "-1" if p["failed"] else "+1")
            return {"changed": True, "accepted": True, "ignored": False, "reason": ""}
        return check(
            github,
            p["repository"],
            p["pr_number"],
            p["expect"],
            comment_id=p["comment_id"],
            comment=p["comment"],
            user=p["user"],
            head_sha=p["head_sha"],
        )
    except (GitHubError, CommandError, ValueError) as exc:
        raise TaskFailed(str(exc)) from None


PR_COMMAND = Task(
    "pr_command",
    {
        "argument_spec": {
            **GITHUB_ARGS,
            **PR_ARGS,
            "comment": {"type": "str"},
            "comment_id": {"type": "int"},
            "user": {"type": "str"},
            "expect": {"type": "str", "choices": ["deploy-preview", "destroy-preview", "preserve"]},
            "head_sha": {"type": "str"},
            "done": {"type": "bool", "default": False},
            "failed": {"type": "bool", "default": False},
        },
        "required_if": [("done", False, ("expect",)), ("done", True, ("comment_id",))],
        "required_one_of": [("comment_id", "comment")],
    },
    _pr_command,
)


# ---- pr_comment

_COMMENT_INFO = (
    "url",
    "commit",
    "branch",
    "updated_at",
    "time_to_ready",
    "quota",
    "reason",
    "step",
    "details",
    "merged",
    "destroyed_at",
    "preserve_until",
    "grafana_url",
    "note",
    "approvable",
)


def _pr_comment(p, check_mode, diff):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError

    body = _comment.render(p["state"], p["namespace"], **{k: p[k] for k in _COMMENT_INFO if p[k] is not None})
    if not p["token"]:
        return {"changed": False, "action": "printed", "body": body, "github_requests": 0}
    github = github_from_params(p)
    try:
        if check_mode:
            existing = github.find_comment(p["repository"], p["pr_number"], _comment.MARKER)
            action = (
                "unchanged" if existing and existing.get("body") == body else ("updated" if existing else "created")
            )
            return {
                "changed": action != "unchanged",
                "action": action,
                "body": body,
                "github_requests": github.requests,
            }
        action, comment = github.upsert_comment(p["repository"], p["pr_number"], _comment.MARKER, body)
    except GitHubError as exc:
        raise TaskFailed(str(exc), body=body, github_requests=github.requests) from None
    return {
        "changed": action != "unchanged",
        "action": action,
        "body": body,
        "comment_id": comment.get("id"),
        "github_requests": github.requests,
    }


PR_COMMENT = Task(
    "pr_comment",
    {
        "argument_spec": {
            **GITHUB_ARGS,
            **PR_ARGS,
            "state": {"type": "str", "required": True, "choices": list(_comment.STATES)},
            "namespace": {"type": "str"},
            "url": {"type": "str"},
            "commit": {"type": "str"},
            "branch": {"type": "str"},
            "updated_at": {"type": "str"},
            "time_to_ready": {"type": "float"},
            "quota": {"type": "dict"},
            "reason": {"type": "str"},
            "step": {"type": "str"},
            "details": {"type": "list", "elements": "str"},
            "merged": {"type": "bool", "default": False},
            "destroyed_at": {"type": "str"},
            "preserve_until": {"type": "str"},
            "grafana_url": {"type": "str"},
            "note": {"type": "str"},
            "approvable": {"type": "bool", "default": False},
        },
        "required_if": [("state", state, ["namespace"]) for state in ("deployed", "destroyed", "preserved")],
        "supports_check_mode": True,
    },
    _pr_comment,
)

TASKS = {
    task.name: task
    for task in (
        ENV_ACCESS,
        ENV_CLEANUP,
        ENV_CONFIG,
        ENV_EXPIRY,
        ENV_MIGRATE,
        ENV_PRESERVE,
        ENV_STATUS,
        ENVIRONMENT,
        PR_COMMAND,
        PR_COMMENT,
    )
}
