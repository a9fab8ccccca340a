#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_migrate
short_description: Move the reference platform's environments over to k8s-ee
version_added: 0.2.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Candidates are namespaces labelled C(app.kubernetes.io/managed-by=github-actions) and C(k8s-ee/type=ephemeral),
    named C(<projectId>-pr-<N>) as their C(k8s-ee/project-id) and C(k8s-ee/pr-number) labels say, with a
    C(k8s-ee/repository) annotation (the reference platform's environments). Namespaces of other managers are never
    read or changed. One GitHub request per distinct pull request decides, as env_cleanup does.
  - An open pull request's namespace (and a closed one still preserved) is taken over; the objects of its Helm
    releases and its own ResourceQuota, LimitRange and NetworkPolicies are removed (pr_up recreates them), a database
    whose kind and name are those pr_up renders is kept with its claims and credentials, objects the reference
    platform did not make are left, and the namespace is relabelled as k8s-ee's, so the next pr_up deploys into it.
  - A namespace that holds data pr_up would recreate empty (a database of another name, a claim of none kept) is
    taken over only with O(recreate_data).
  - A closed, merged or deleted pull request's namespace is deleted, as env_cleanup would.
  - Without O(apply) (the default) and in check mode nothing is changed; the plan is returned.
  - Lists the CronJobs of the reference platform's C(platform) namespace with the command that removes each.
  - Fails after finishing the run when an environment could not be decided or moved, naming each.
  - See docs/migrating.md.
options:
  apply:
    description: Carry the plan out; without it only the plan is returned.
    type: bool
    default: false
  recreate_data:
    description: Also take over namespaces whose databases pr_up recreates empty (their data is deleted).
    type: bool
    default: false
  repositories:
    description: Only the environments of these repositories (C(owner/repo), case-insensitive); all when not given.
    type: list
    elements: str
  grace_period:
    description: Seconds after a pull request was closed before its namespace is deleted (as env_cleanup).
    type: int
    default: 600
extends_documentation_fragment:
  - k8s_ee.platform.clock
  - k8s_ee.platform.cluster
  - k8s_ee.platform.github
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode returns the plan, as without O(apply).
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Show what would be moved over
  k8s_ee.platform.env_migrate:
  register: plan

- name: Move the environments of one repository over, recreating databases whose names differ
  k8s_ee.platform.env_migrate:
    apply: true
    recreate_data: true
    repositories: [acme/shop]
"""

RETURN = r"""
environments:
  description: One mapping per namespace of the reference platform, sorted by namespace.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace.
      returned: always
      type: str
    repository:
      description: Its C(k8s-ee/repository) annotation, or C(-) when it is not one of its environments' shapes.
      returned: always
      type: str
    pr:
      description: The pull request number, or C(-).
      returned: always
      type: raw
    pull_request:
      description: What GitHub said (C(open), C(closed), C(merged), C(gone), C(unknown)), or C(-) when not asked.
      returned: always
      type: str
    action:
      description: C(take over), C(delete), C(skip), or C(failed) when carrying it out failed.
      returned: always
      type: str
    reason:
      description: Why, and for a skip what to do.
      returned: always
      type: str
    kept:
      description: For a takeover, what stays as it is (C(object), C(database), C(claims), C(why)).
      returned: when the namespace was inventoried
      type: list
      elements: dict
    removed:
      description: For a takeover, the objects removed that pr_up recreates (C(Kind/name)).
      returned: when the namespace was inventoried
      type: list
      elements: str
    data_lost:
      description: For a takeover, the objects holding data that are removed (only with O(recreate_data)).
      returned: when the namespace was inventoried
      type: list
      elements: str
    left:
      description: Objects of its Helm releases of kinds k8s-ee does not know; left, to be deleted by hand.
      returned: when the namespace was inventoried
      type: list
      elements: str
    preserved:
      description: Whether it is taken over as preserved (until C(preserve_until)).
      returned: when the namespace was inventoried
      type: bool
    preserve_until:
      description: Its C(k8s-ee/preserve-until) annotation when it is a time, else null.
      returned: when it is one of the reference platform's environments
      type: str
    problems:
      description: Helm release Secrets that could not be read (the namespace is then skipped).
      returned: when the namespace was inventoried
      type: list
      elements: str
    error:
      description: Present and true when GitHub gave no clear answer or carrying the action out failed.
      returned: on such a row
      type: bool
cronjobs:
  description: The CronJobs of the C(platform) namespace not made by k8s-ee (C(name), C(schedule), C(command)).
  returned: always
  type: list
  elements: dict
table:
  description: The plan for people, as the status playbook prints environments, then each row's reason and the CronJobs.
  returned: always
  type: str
dry_run:
  description: Whether nothing was changed on purpose (no O(apply), or check mode).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_MIGRATE, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_MIGRATE.spec), ENV_MIGRATE)


if __name__ == "__main__":
    main()
