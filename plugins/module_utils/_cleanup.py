# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orphan cleanup (docs/runbooks.md, "cleanup"): delete environments whose pull request GitHub says is closed (past a
grace period) or gone; skip everything else, and count every answer that is not a clear one as an error."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError, repository_path
from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import EPHEMERAL_SELECTOR, LABEL_PROJECT
from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import environment_of
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import parse_rfc3339

DEFAULT_GRACE = 600
DEFAULT_MAX_DELETIONS = 10


def _verdict(github, repository: str, number: int, now: float, grace: float, readable: dict):
    """('delete', why) | ('skip', reason) | ('error', message) for one pull request."""
    try:
        pull = github.pull_request(repository, number)
    except GitHubError as exc:
        if exc.status == 404:
            if repository.lower() not in readable:
                try:
                    github.repository(repository)
                    readable[repository.lower()] = True
                except GitHubError as repo_exc:
                    readable[repository.lower()] = repo_exc
            answer = readable[repository.lower()]
            if answer is True:
                return "delete", "the pull request no longer exists"
            return (
                "error",
                f"pull request {repository}#{number} not found and the repository is not readable "
                f"({answer}); check the token's access",
            )
        return "error", str(exc)
    state = pull.get("state")
    if state == "open":
        return "skip", "open"
    if state != "closed":
        # only GitHub's own "closed" deletes: an answer without it (a proxy's {}, an error page) is no answer
        return "error", f"pull request {repository}#{number}: GitHub answered state {state!r}, neither open nor closed"
    closed = parse_rfc3339(pull.get("closed_at")) or parse_rfc3339(pull.get("merged_at"))
    if closed is not None and now - closed < grace:
        return "skip", "closed within the grace period"
    return "delete", "merged" if pull.get("merged") else "closed"


def cleanup(
    kube,
    github,
    now: float,
    grace: float = DEFAULT_GRACE,
    dry_run: bool = False,
    max_deletions: int = DEFAULT_MAX_DELETIONS,
    delete=None,
    project_id: str | None = None,
) -> dict:
    """Decide for every candidate; delete (or list, with dry_run) at most `max_deletions`.

    `delete(env)` removes one environment (the caller passes the lifecycle's deletion); the default
    issues the namespace deletion without waiting. With `project_id`, only that project's environments are
    candidates (what a project's CI identity may delete).
    """
    selector = EPHEMERAL_SELECTOR + (f",{LABEL_PROJECT}={project_id}" if project_id else "")
    summary = {
        "checked": 0,
        "deleted": [],
        "would_delete": [],
        "skipped": {},
        "errors": [],
        "dry_run": dry_run,
        "github_requests": 0,
    }

    def skip(reason):
        summary["skipped"][reason] = summary["skipped"].get(reason, 0) + 1

    readable: dict = {}
    verdicts: dict = {}
    before = github.requests
    for ns in sorted(kube.list("Namespace", label_selector=selector), key=lambda n: n["metadata"]["name"]):
        env = environment_of(ns)
        summary["checked"] += 1
        if env["terminating"]:
            skip("already terminating")
            continue
        if env["preserved"]:
            skip("preserved")
            continue
        if not env["repository"] or env["pr_number"] is None:
            skip("no repository or pull request recorded")
            continue
        try:
            repository_path(env["repository"])
        except ValueError:
            skip("repository annotation is not owner/repo")  # never asked of GitHub: it would become part of a URL
            continue
        key = (env["repository"].lower(), env["pr_number"])
        if key not in verdicts:  # one GitHub request per distinct pull request
            verdicts[key] = _verdict(github, env["repository"], env["pr_number"], now, grace, readable)
        verdict, why = verdicts[key]
        if verdict == "skip":
            skip(why)
        elif verdict == "error":
            skip("unknown")
            summary["errors"].append(f"{env['namespace']}: {why}")
        elif len(summary["deleted"]) + len(summary["would_delete"]) >= max_deletions:
            skip("max_deletions_per_run reached")
        elif dry_run:
            summary["would_delete"].append({"namespace": env["namespace"], "reason": why})
        else:
            (delete or (lambda e: kube.delete("Namespace", e["namespace"])))(env)
            summary["deleted"].append({"namespace": env["namespace"], "reason": why})
    summary["github_requests"] = github.requests - before
    return summary
