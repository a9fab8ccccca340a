#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_status
short_description: List every preview environment of the cluster
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Lists the namespaces labelled as k8s-ee environments with their repository, pull request, age, when they were
    last ready, until when they are preserved, and how much of their quota's CPU and memory requests they use.
  - Changes nothing.
extends_documentation_fragment:
  - k8s_ee.platform.clock
  - k8s_ee.platform.cluster
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
- name: List the environments
  k8s_ee.platform.env_status:
  register: status
"""

RETURN = r"""
environments:
  description: One mapping per environment, sorted by namespace.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The environment's namespace.
      returned: always
      type: str
    repository:
      description: The application repository (C(owner/repo)), or C(-) when none is recorded.
      returned: always
      type: str
    pr:
      description: The pull request number (null when none is recorded).
      returned: always
      type: int
    age:
      description: Time since it was created, for people (C(3d4h), C(25m), C(-)).
      returned: always
      type: str
    age_seconds:
      description: The same in seconds (null when unknown).
      returned: always
      type: int
    ready_at:
      description: When it last became ready (RFC 3339), or C(-).
      returned: always
      type: str
    preserved_until:
      description: Until when it is preserved (RFC 3339), or C(-).
      returned: always
      type: str
    cpu:
      description: CPU requests as used/quota (C(250m/450m)).
      returned: always
      type: str
    memory:
      description: Memory requests as used/quota.
      returned: always
      type: str
    terminating:
      description: Whether it is being deleted.
      returned: always
      type: bool
table:
  description: The same as a text table.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_STATUS, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_STATUS.spec), ENV_STATUS)


if __name__ == "__main__":
    main()
