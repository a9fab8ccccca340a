#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pr_command
short_description: Accept or refuse a pull request comment command
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Parses a comment for C(/deploy-preview), C(/destroy-preview) or C(/preserve [hours]) (a whole word at the start
    of a line; anything else is ignored). A command other than O(expect) is ignored too.
  - Accepts it only from a user whose permission on the repository (asked from the GitHub API) is write, maintain
    or admin. Reacts to the comment with 👀 when received and 👎 with a reply when refused; O(done) reacts 👍.
  - Returns the pull request's state, head commit, branch, author and author association, for the playbook that
    carries the command out.
options:
  comment:
    description: The comment text (pass it through an environment variable in workflows, never inline).
    type: str
  comment_id:
    description: The comment's ID, for reactions.
    type: int
  user:
    description: Who wrote the comment.
    type: str
  expect:
    description: The command the calling playbook carries out.
    type: str
    choices: [deploy-preview, destroy-preview, preserve]
  done:
    description: Only react 👍 (or 👎 with O(failed)) to the comment, after the command was carried out.
    type: bool
    default: false
  failed:
    description: With O(done), the command failed.
    type: bool
    default: false
extends_documentation_fragment:
  - k8s_ee.platform.pull_request
  - k8s_ee.platform.github
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Is this a /preserve from a maintainer?
  k8s_ee.platform.pr_command:
    repository: acme/shop
    pr_number: 42
    comment: "{{ lookup('ansible.builtin.env', 'COMMENT_BODY') }}"
    comment_id: 123
    user: octocat
    expect: preserve
  register: command
"""

RETURN = r"""
accepted:
  description: The expected command, from a user with write permission.
  returned: always
  type: bool
ignored:
  description: The comment holds no command, or another one than O(expect).
  returned: always
  type: bool
reason:
  description: Why it was refused or ignored.
  returned: always
  type: str
hours:
  description: The hours of C(/preserve N).
  returned: when accepted
  type: int
permission:
  description: The user's permission.
  returned: when a command was found
  type: str
pull_request:
  description: C(state), C(head_sha), C(branch), C(author), C(author_association), C(merged).
  returned: when accepted
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._access import WRITE_PERMISSIONS
from ansible_collections.k8s_ee.platform.plugins.module_utils._args import GITHUB_ARGS, PR_ARGS, github_from_params
from ansible_collections.k8s_ee.platform.plugins.module_utils._commands import CommandError, parse
from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHubError

REPLY_MARKER = "<!-- k8s-ee:command -->"


def main():
    module = AnsibleModule(
        argument_spec={
            **GITHUB_ARGS,
            **PR_ARGS,
            "comment": {"type": "str"},
            "comment_id": {"type": "int"},
            "user": {"type": "str"},
            "expect": {"type": "str", "choices": ["deploy-preview", "destroy-preview", "preserve"]},
            "done": {"type": "bool", "default": False},
            "failed": {"type": "bool", "default": False},
        },
        required_if=[("done", False, ("comment", "user", "expect"))],
    )
    p = module.params
    if not p["token"]:
        module.fail_json(
            msg="token: comment commands need a GitHub token (GITHUB_TOKEN) to check the commenter's permission"
        )
    github = github_from_params(p)
    repo, number = p["repository"], p["pr_number"]

    def react(content):
        if p["comment_id"]:
            github.react(repo, p["comment_id"], content)

    try:
        if p["done"]:
            react("-1" if p["failed"] else "+1")
            module.exit_json(changed=True, accepted=True, ignored=False, reason="")
        try:
            parsed = parse(p["comment"])
        except CommandError as exc:
            react("-1")
            github.request(
                "POST", f"/repos/{repo}/issues/{number}/comments", {"body": f"{REPLY_MARKER}\n@{p['user']} {exc}"}
            )
            module.exit_json(changed=True, accepted=False, ignored=False, reason=str(exc))
        if parsed is None or parsed["command"] != p["expect"]:
            module.exit_json(
                changed=False, accepted=False, ignored=True, reason=f"no /{p['expect']} command in the comment"
            )
        react("eyes")
        permission = github.permission(repo, p["user"])
        if permission not in WRITE_PERMISSIONS:
            reason = (
                f"@{p['user']} has {permission} permission on {repo}; /{parsed['command']} needs write, "
                "maintain or admin"
            )
            react("-1")
            github.request("POST", f"/repos/{repo}/issues/{number}/comments", {"body": f"{REPLY_MARKER}\n{reason}"})
            module.exit_json(changed=True, accepted=False, ignored=False, reason=reason, permission=permission)
        pull = github.pull_request(repo, number)
        module.exit_json(
            changed=True,
            accepted=True,
            ignored=False,
            reason="",
            permission=permission,
            hours=parsed["hours"],
            pull_request={
                "state": pull.get("state"),
                "merged": bool(pull.get("merged")),
                "head_sha": (pull.get("head") or {}).get("sha", ""),
                "branch": (pull.get("head") or {}).get("ref", ""),
                "author": (pull.get("user") or {}).get("login", ""),
                "author_association": pull.get("author_association", ""),
            },
        )
    except GitHubError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
