#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_cleanup
short_description: Delete environments whose pull request is closed or gone
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Candidates are namespaces labelled C(app.kubernetes.io/managed-by=k8s-ee) and C(k8s-ee/type=ephemeral) that
    are not preserved. One GitHub request per distinct pull request decides.
  - Deletes when the pull request is closed or merged since more than O(grace_period) seconds, or when it is not
    found (404) while its repository is readable. Every other answer (401, 403 or 404 for the repository, 5xx,
    timeouts, rate limits) is unknown; the namespace is skipped and the error counted.
  - At most O(max_deletions) deletions per run; O(dry_run) lists what would be deleted.
  - Fails after finishing the run when there were errors, so alerting sees a broken token.
options:
  dry_run:
    description: Only list what would be deleted.
    type: bool
    default: false
  grace_period:
    description: Seconds a closed pull request's environment is kept (a pr_down in flight finishes first).
    type: int
    default: 600
  max_deletions:
    description: The most environments deleted in one run.
    type: int
    default: 10
extends_documentation_fragment:
  - k8s_ee.platform.clock
  - k8s_ee.platform.cluster
  - k8s_ee.platform.github
  - k8s_ee.platform.project
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode is a dry run.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Remove what missed events left behind
  k8s_ee.platform.env_cleanup:
    max_deletions: 10
  register: cleanup
"""

RETURN = r"""
summary:
  description: What was checked and decided; also returned when the module fails because GitHub's answers were unclear.
  returned: always
  type: dict
  contains:
    checked:
      description: How many environments were looked at.
      returned: always
      type: int
    deleted:
      description: The environments deleted, each with C(namespace) and C(reason).
      returned: always
      type: list
      elements: dict
    would_delete:
      description: With O(dry_run) or in check mode, the environments that would be deleted (C(namespace), C(reason)).
      returned: always
      type: list
      elements: dict
    skipped:
      description: How many environments were kept, per reason (C(preserved), C(open), C(unknown), ...).
      returned: always
      type: dict
    errors:
      description: One line per environment whose pull request GitHub gave no clear answer for.
      returned: always
      type: list
      elements: str
    dry_run:
      description: Whether nothing was deleted on purpose (O(dry_run) or check mode).
      returned: always
      type: bool
    github_requests:
      description: How many requests were sent to GitHub (at most one per distinct pull request).
      returned: always
      type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_CLEANUP, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_CLEANUP.spec), ENV_CLEANUP)


if __name__ == "__main__":
    main()
