#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pr_comment
short_description: Create or edit the one comment of a pull request's environment
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Renders the environment comment for O(state) and edits the comment that carries its hidden marker, looking
    through every page of the pull request's comments; creates it only when there is none.
  - Only a comment written by the token's own identity (O(bot_login)) is taken as the environment's comment.
  - Values from the pull request (branch, reasons and details quoting its files or logs) are shown as code, verbatim;
    no link, image, mention or HTML can come out of them.
  - Without a token the comment is not posted; its text is returned in RV(body) so the playbook can print it.
options:
  state:
    description: What the comment reports.
    type: str
    required: true
    choices: [deployed, failed, destroyed, preserved, refused]
  namespace:
    description:
      - The environment's namespace. Required with O(state=deployed), O(state=destroyed) and O(state=preserved).
      - Without it (O(state=refused) or O(state=failed) decided before C(k8s-ee.yaml) was read, so there is no
        namespace yet) the comment has no namespace row and no Grafana link.
    type: str
  url:
    description: The preview URL.
    type: str
  commit:
    description: The deployed commit; a full SHA is also recorded in a hidden line, as the commit a bare
      C(/deploy-preview) approves (see M(k8s_ee.platform.pr_command)).
    type: str
  branch:
    description: The branch.
    type: str
  updated_at:
    description: When the environment was last updated (RFC 3339).
    type: str
  time_to_ready:
    description: Seconds from update to ready.
    type: float
  quota:
    description: C(spec.hard) of the environment's quota.
    type: dict
  reason:
    description: Why it failed or was refused.
    type: str
  step:
    description: The step that failed.
    type: str
  details:
    description: Events, unready pods and log lines to show under the reason.
    type: list
    elements: str
  merged:
    description: Whether the pull request was merged (state destroyed).
    type: bool
    default: false
  destroyed_at:
    description: When the environment was destroyed.
    type: str
  preserve_until:
    description: Until when the environment is preserved.
    type: str
  grafana_url:
    description: Base URL of Grafana; the comment links the environment dashboard with the namespace selected.
    type: str
  note:
    description: A paragraph of the platform's own Markdown added at the end (never text from a pull request).
    type: str
  approvable:
    description: With O(state=refused), say that a maintainer can approve O(commit) with C(/deploy-preview <sha>).
    type: bool
    default: false
extends_documentation_fragment:
  - k8s_ee.platform.pull_request
  - k8s_ee.platform.github
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
- name: Tell the pull request where its environment is
  k8s_ee.platform.pr_comment:
    repository: acme/shop
    pr_number: 42
    state: deployed
    namespace: shop-pr-42
    url: https://shop-pr-42.preview.example.com

- name: Refuse before k8s-ee.yaml is read (no namespace yet)
  k8s_ee.platform.pr_comment:
    repository: acme/shop
    pr_number: 42
    state: refused
    reason: acme/shop is not on the operator's allowlist
"""

RETURN = r"""
action:
  description: C(created), C(updated), C(unchanged), or C(printed) when there is no token.
  returned: always
  type: str
body:
  description: The comment's Markdown.
  returned: always
  type: str
comment_id:
  description: The comment's ID.
  returned: when posted
  type: int
github_requests:
  description: How many requests were sent to GitHub.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import PR_COMMENT, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**PR_COMMENT.spec), PR_COMMENT)


if __name__ == "__main__":
    main()
