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
  - Parses a comment for C(/deploy-preview [sha]), C(/destroy-preview) or C(/preserve [hours]) (a whole word at the
    start of a line; anything else is ignored). A command other than O(expect) is ignored too.
  - With O(comment_id), the comment's text, author and time are read from GitHub itself (O(comment) and O(user) are
    then not needed and not used), so what is checked is what was written.
  - Accepts it only from a user whose permission on the repository (asked from the GitHub API) is write, maintain
    or admin. Reacts to the comment with 👀 when received and 👎 with a reply when refused; O(done) reacts 👍.
  - C(/deploy-preview) approves one commit. For a pull request whose author is not trusted (OWNER, MEMBER,
    COLLABORATOR) that is the commit named in the comment, or the head that the platform's own comment showed when
    the command was written; it must still be the head, and equal O(head_sha) when given. Otherwise it is refused
    with the command to approve the current head.
  - Returns the pull request's state, approved commit, branch, author and author association, for the playbook that
    carries the command out.
options:
  comment:
    description: The comment text, when O(comment_id) is not given (pass it through an environment variable).
    type: str
  comment_id:
    description: The comment's ID; its text, author and time are then read from GitHub.
    type: int
  user:
    description: Who wrote the comment, when O(comment_id) is not given.
    type: str
  expect:
    description: The command the calling playbook carries out.
    type: str
    choices: [deploy-preview, destroy-preview, preserve]
  head_sha:
    description: The commit the caller is about to build or deploy; C(/deploy-preview) is refused unless it approves
      exactly this commit.
    type: str
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
    comment_id: "{{ lookup('ansible.builtin.env', 'K8S_EE_COMMENT_ID') }}"
    expect: preserve
  register: command
"""

RETURN = r"""
accepted:
  description: The expected command, from a user with write permission (and for C(/deploy-preview) an approved commit).
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
user:
  description: Who wrote the comment (from GitHub with O(comment_id)).
  returned: when a command was found
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
  description: The pull request as GitHub describes it.
  returned: when accepted
  type: dict
  contains:
    state:
      description: C(open) or C(closed).
      returned: always
      type: str
    merged:
      description: Whether it was merged.
      returned: always
      type: bool
    head_sha:
      description: The head commit; for C(/deploy-preview) the approved commit.
      returned: always
      type: str
    branch:
      description: The head branch.
      returned: always
      type: str
    author:
      description: The author's login.
      returned: always
      type: str
    author_association:
      description: The author's association with the repository (C(MEMBER), C(CONTRIBUTOR), C(NONE), ...).
      returned: always
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import PR_COMMAND, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**PR_COMMAND.spec), PR_COMMAND)


if __name__ == "__main__":
    main()
