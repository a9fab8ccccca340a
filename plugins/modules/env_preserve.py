#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_preserve
short_description: Keep a pull request's environment after it is closed, for up to 48 hours
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Labels the environment C(k8s-ee/preserve=true) with C(k8s-ee/preserve-until) = now + O(hours) (default and
    maximum 48; more is capped and said so) and C(k8s-ee/preserved-by). Repeating it extends to now + O(hours).
  - At most 3 preserved environments per user across the cluster, and at most O(total_cap) in all. The caps are
    counted and the label written while holding a Lease, so two concurrent commands cannot both take the last slot.
  - Upserts the separate preserve comment on the pull request (its own hidden marker) when a token is given.
options:
  user:
    description:
      - Who asked (the commenter). Their write permission is checked before, by M(k8s_ee.platform.pr_command).
    type: str
    required: true
  hours:
    description: How long from now; 48 when not given.
    type: int
  pr_open:
    description: Whether the pull request is open; only open pull requests can be preserved.
    type: bool
    required: true
  total_cap:
    description: The most preserved environments the cluster may hold (0 means no cap beyond 3 per user).
    type: int
    default: 0
  lock_namespace:
    description: Namespace of the Lease that serialises preserve commands.
    type: str
    default: platform
  project_id:
    description:
      - The projectId whose environment C(<project_id>-pr-<pr_number>) is preserved. Defaults to the project of the CI
        identity the module runs as (C(k8s-ee-ci-<projectId>), role platform); give it when running as another
        identity. Never found from annotations, which another project's CI identity could write.
    type: str
extends_documentation_fragment:
  - k8s_ee.platform.pull_request
  - k8s_ee.platform.clock
  - k8s_ee.platform.cluster
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
- name: Preserve PR 42 for a day
  k8s_ee.platform.env_preserve:
    repository: acme/shop
    pr_number: 42
    user: octocat
    hours: 24
    pr_open: true
"""

RETURN = r"""
namespace:
  description: The preserved namespace.
  returned: success
  type: str
preserve_until:
  description: Until when (RFC 3339 UTC).
  returned: success
  type: str
hours:
  description: The hours granted (at most 48).
  returned: success
  type: int
asked:
  description: The hours asked for (O(hours), or 48 when not given).
  returned: success
  type: int
capped:
  description: Whether more than 48 hours were asked for.
  returned: success
  type: bool
body:
  description: The preserve comment (C(preserved), or C(refused) with the reason).
  returned: always, unless posting the refusal failed
  type: str
step:
  description: On a refusal, the step that refused (C(inputs), C(ownership), C(preserve) or C(lock)).
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_PRESERVE, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_PRESERVE.spec), ENV_PRESERVE)


if __name__ == "__main__":
    main()
