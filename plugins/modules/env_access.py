#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_access
short_description: Decide whether a pull request may get an environment
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Reads the operator's allowlist file (YAML or JSON with C(mode), C(organizations), C(repositories); names
    compared case-insensitively). A missing or invalid file denies (fails closed); only C(mode=disabled) allows
    every repository.
  - Pull requests deploy automatically only when their author's association is C(OWNER), C(MEMBER) or
    C(COLLABORATOR); others wait until a maintainer comments C(/deploy-preview) (O(approved_by_maintainer)).
  - Changes nothing; never fails on a denial, it returns RV(allowed=false) with the reason.
options:
  allowlist_path:
    description: Path of the allowlist file on the controller.
    type: path
  repository:
    description: The repository, C(owner/repo).
    type: str
    required: true
  author_association:
    description: GitHub's C(author_association) of the pull request.
    type: str
  approved_by_maintainer:
    description: A user with write permission asked for the deployment (C(/deploy-preview)).
    type: bool
    default: false
extends_documentation_fragment:
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
- name: May this pull request get an environment?
  k8s_ee.platform.env_access:
    allowlist_path: /etc/k8s-ee/allowlist.yaml
    repository: acme/shop
    author_association: CONTRIBUTOR
  register: access
"""

RETURN = r"""
allowed:
  description: Whether an environment may be created or updated.
  returned: always
  type: bool
reason:
  description: Why, in words that can be shown on the pull request.
  returned: always
  type: str
wait_for_maintainer:
  description: Denied only because the author is not trusted; a maintainer's C(/deploy-preview) would allow it.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_ACCESS, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_ACCESS.spec), ENV_ACCESS)


if __name__ == "__main__":
    main()
