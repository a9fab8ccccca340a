#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: environment
short_description: Create, update or destroy one pull request's environment
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - With O(state=present), checks that an existing namespace belongs to O(repository), admits a new environment
    only when the cluster has room for its quota, and applies every object of the environment (namespace, quota,
    limit range, network policies, credentials, databases, app, service, ingress) with server-side apply and the
    field manager C(k8s-ee). Then waits for the databases, the app rollout and the health check, all under one
    O(timeout).
  - Generated credentials are created once and never change; they are never returned or logged.
  - On failure, the message and RV(details) hold no secret of the environment (generated credentials, the values of its
    Secrets, passwords in URIs are masked), no control characters or terminal escapes, and are length-capped, because
    they are meant for a public pull request comment.
  - With O(state=absent), deletes the namespace and waits until it is gone. A missing namespace is success; a
    namespace of another repository is refused; a preserved one is kept.
  - A second run with the same inputs reports C(changed=false) and writes nothing.
options:
  state:
    description: Whether the environment should exist.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description:
      - The environment's namespace (the C(namespace) returned by M(k8s_ee.platform.env_config)).
      - With O(state=absent) it may be left out; the namespace C(<project_id>-pr-<pr_number>) is then taken, if it is
        labelled as that project's pull request, so a pull request whose C(k8s-ee.yaml) is broken can still be
        destroyed.
    type: str
  project_id:
    description:
      - With O(state=absent) and no O(namespace), the projectId whose environment is destroyed. Defaults to the
        project of the CI identity the module runs as (C(k8s-ee-ci-<projectId>), role platform); give it when running
        as another identity. Never found from annotations, which another project's CI identity could write.
    type: str
  repository:
    description: The application repository, C(owner/repo); recorded on the namespace and checked for ownership.
    type: str
    required: true
  config:
    description: The normalised C(config) returned by M(k8s_ee.platform.env_config). Required with O(state=present).
    type: dict
  host:
    description: The preview host. Required with O(state=present).
    type: str
  pr_number:
    description: The pull request number. Required with O(state=present).
    type: int
  head_sha:
    description: The commit being deployed.
    type: str
    default: ""
  branch:
    description: The pull request's branch (stored as a sanitised label and in C(BRANCH_NAME)).
    type: str
    default: ""
  author:
    description: The pull request's author.
    type: str
    default: ""
  image:
    description: The app image, by digest (C(registry/name@sha256:...)). Required with O(state=present).
    type: str
  settings:
    description:
      - Operator settings that shape the objects; see the settings table of C(docs/pr-lifecycle.md).
        Unset keys keep their defaults
        (ingress class C(traefik), certificate resolver C(letsencrypt), priority class C(default-app), ...).
    type: dict
    default: {}
  timeout:
    description: Seconds for all waits together (readiness and health check; or namespace deletion).
    type: int
    default: 600
  health_check:
    description:
      - Whether to GET the app's C(healthPath) after the rollout. It goes through the API server's service proxy
        unless O(health_url) is given. Turn it off for clusters whose pods answer no HTTP.
    type: bool
    default: true
  health_url:
    description: Check this URL instead of going through the API server's service proxy.
    type: str
  max_environments:
    description: The most environments the cluster may hold; a new one beyond it is refused. 0 means no cap.
    type: int
    default: 0
  lock_namespace:
    description:
      - Namespace of the Lease C(k8s-ee-capacity) that capacity admission of a new environment holds from measuring
        the free capacity until the new namespace's quota exists, so concurrent runs cannot both take the last room
        (docs/pr-lifecycle.md). Role platform creates the Lease in its namespace C(platform).
    type: str
    default: platform
  collect_logs:
    description: On failure, add the last log lines of crashed containers to the report.
    type: bool
    default: true
  create:
    description:
      - Whether a missing environment may be created. With C(false) only an existing one is updated, and a missing
        one is left missing (RV(state) C(not created)); pr_up passes C(false) for C(trigger=on-demand) until a
        maintainer comments C(/deploy-preview).
    type: bool
    default: true
extends_documentation_fragment:
  - k8s_ee.platform.cluster
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Secret values are replaced by C(VALUE_HIDDEN) in diffs.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Create or update the environment
  k8s_ee.platform.environment:
    namespace: "{{ env.namespace }}"
    host: "{{ env.host }}"
    config: "{{ env.config }}"
    repository: acme/shop
    pr_number: 42
    head_sha: "{{ sha }}"
    branch: feature/login
    author: octocat
    image: ghcr.io/acme/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

- name: Destroy it
  k8s_ee.platform.environment:
    state: absent
    namespace: shop-pr-42
    repository: acme/shop
"""

RETURN = r"""
state:
  description:
    - C(present), or C(not created) when O(create=false) and there was no environment.
    - For O(state=absent) C(deleted), C(absent) (nothing to do) or C(preserved) (kept).
  returned: always
  type: str
namespace:
  description: The namespace; null with O(state=absent) when no O(namespace) was given and none was found.
  returned: always
  type: str
objects:
  description: Every object applied (none when RV(state) is C(not created)).
  returned: state=present
  type: list
  elements: dict
  contains:
    kind:
      description: The object's kind.
      returned: always
      type: str
    name:
      description: The object's name.
      returned: always
      type: str
    action:
      description: C(created), C(configured) or C(unchanged).
      returned: always
      type: str
created:
  description: Whether the namespace was new.
  returned: state=present
  type: bool
url:
  description: The preview URL.
  returned: state=present
  type: str
quota:
  description: C(spec.hard) of the environment's ResourceQuota.
  returned: state=present
  type: dict
databases:
  description: Names of the enabled databases, in a fixed order (as M(k8s_ee.platform.env_config) returns them).
  returned: state=present
  type: list
  elements: str
  sample: [postgresql, redis]
created_at:
  description: When the environment was first created (RFC 3339; the namespace's C(k8s-ee/created-at)).
  returned: state=present and not check mode
  type: str
updated_at:
  description: When its objects last changed (RFC 3339; the namespace's C(k8s-ee/updated-at)).
  returned: state=present and not check mode
  type: str
ready_at:
  description: When the environment last became ready (RFC 3339).
  returned: state=present and not check mode
  type: str
time_to_ready:
  description:
    - Whole seconds from RV(updated_at) until RV(ready_at); on a run that changed nothing, those of the last change.
  returned: state=present and not check mode
  type: int
preserve_until:
  description: For a kept preserved environment, until when it is preserved.
  returned: state=preserved
  type: str
seconds:
  description: How long the namespace took to go away.
  returned: state=deleted and not check mode
  type: float
api_requests:
  description: How many requests this run sent to the Kubernetes API (read by C(benchmarks/)).
  returned: always
  type: int
step:
  description: On failure, the step that failed (ownership, capacity, wait for postgresql, health check, delete, ...).
  returned: failure
  type: str
details:
  description: On failure, recent events, unready pods and log lines, or the largest environments.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENVIRONMENT, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENVIRONMENT.spec), ENVIRONMENT)


if __name__ == "__main__":
    main()
