#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_expiry
short_description: Warn about and expire preserved environments
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - For every preserved environment of the cluster. With an hour or less left and no warning yet, upserts the
    warning in the preserve comment and marks the namespace warned. When the time is up, removes the preserve
    label; if GitHub says the pull request is closed, deletes the environment now (waiting until it is gone) and
    says so in both comments; otherwise the environment stays while the pull request is open.
  - Fails, after handling every environment it can, when any GitHub or Kubernetes call failed, so a broken token
    is seen by alerting.
options:
  warn_before:
    description: Seconds before the end when the warning is posted.
    type: int
    default: 3600
  timeout:
    description: Seconds to wait for each deleted namespace to be gone.
    type: int
    default: 300
extends_documentation_fragment:
  - k8s_ee.platform.clock
  - k8s_ee.platform.cluster
  - k8s_ee.platform.github
  - k8s_ee.platform.project
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Expire preserves (hourly)
  k8s_ee.platform.env_expiry:
  register: expiry
"""

RETURN = r"""
summary:
  description: What was checked and done; also returned when the module fails because of errors.
  returned: always
  type: dict
  contains:
    checked:
      description: How many preserved environments were looked at.
      returned: always
      type: int
    warned:
      description: Namespaces whose preserve ends within O(warn_before) and that were warned on their pull request.
      returned: always
      type: list
      elements: str
    expired:
      description: Namespaces whose preserve ended and that were unpreserved.
      returned: always
      type: list
      elements: str
    deleted:
      description: Expired namespaces deleted at once because their pull request is closed.
      returned: always
      type: list
      elements: str
    errors:
      description: One line per environment that failed (the namespace and the error).
      returned: always
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils import _comment
from ansible_collections.k8s_ee.platform.plugins.module_utils._args import (
    CLOCK_ARGS,
    CLUSTER_ARGS,
    GITHUB_ARGS,
    PROJECT_ARGS,
    github_from_params,
    kube_from_params,
    now_from_params,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._lifecycle import LifecycleError, down, now_rfc3339
from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import expiry_plan, mark_warned, unpreserve


def run(kube, github, now, warn_before, timeout, check_mode, project_id=None):
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


def main():
    module = AnsibleModule(
        argument_spec={
            **CLUSTER_ARGS,
            **GITHUB_ARGS,
            **CLOCK_ARGS,
            "warn_before": {"type": "int", "default": 3600},
            "timeout": {"type": "int", "default": 300},
            **PROJECT_ARGS,
        },
        supports_check_mode=True,
    )
    p = module.params
    github = github_from_params(p)
    try:
        kube = kube_from_params(p)
        summary = run(
            kube, github, now_from_params(p), p["warn_before"], p["timeout"], module.check_mode, p["project_id"]
        )
    except KubeError as exc:
        module.fail_json(msg=f"Kubernetes API: {exc}")
    changed = bool(summary["warned"] or summary["expired"])
    if summary["errors"]:
        module.fail_json(
            msg=f"{len(summary['errors'])} error(s): " + "; ".join(summary["errors"]), summary=summary, changed=changed
        )
    module.exit_json(changed=changed, summary=summary)


if __name__ == "__main__":
    main()
