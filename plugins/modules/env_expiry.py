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

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_EXPIRY, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_EXPIRY.spec), ENV_EXPIRY)


if __name__ == "__main__":
    main()
