#!/usr/bin/python
# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_config
short_description: Validate and normalise a k8s-ee.yaml and derive the environment's names and quota
version_added: 0.1.0
author: k8s-ee maintainers (@k8s-ee)
description:
  - Reads an application repository's C(k8s-ee.yaml) (from O(path) or O(content)), validates it against the
    collection's JSON Schema (C(schemas/k8s-ee.schema.json)) and the LimitRange, and returns the configuration with
    every default applied, plus the namespace, host, URL, quota and enabled databases of one pull request.
  - The reference platform's spelling (C(resources), C(env) and C(envFrom) at the top level) is read too and returned
    under C(app); a setting given in both spellings is an error.
  - "Fails with every problem at once; each names the field, the value and the rule (for example
    C(app.port: 70000 is greater than 65535)). Values from the file are shown cut to 80 characters, and at most
    40 problems are listed."
  - The file comes from a pull request and is read as untrusted data. It must be a regular file of at most 64 KiB
    of UTF-8; no component of O(path) may be a symbolic link (a relative O(path) is checked from the working
    directory, an absolute one from O(root), or only the file itself without O(root)); pipes and devices are never
    opened for reading. YAML anchors, aliases and merge keys, duplicate keys, non-string keys, nesting deeper than
    20 levels and more than 2000 values are refused before the schema is applied.
  - Changes nothing anywhere.
requirements:
  - jsonschema >= 4.18
  - PyYAML
options:
  path:
    description: Path of the C(k8s-ee.yaml) file on the host running the module.
    type: path
  content:
    description: The C(k8s-ee.yaml) text, instead of O(path) (at most 64 KiB).
    type: str
  root:
    description:
      - The checkout O(path) is in. No directory between O(root) and the file may be a symbolic link, and O(path)
        (relative to O(root) or absolute) must be inside it.
      - Without it, a relative O(path) is checked from the working directory and an absolute one only for the file
        itself.
    type: path
  pr_number:
    description: The pull request number (a positive integer).
    type: raw
    required: true
  domain:
    description: The operator's preview domain; the host is C({namespace}.{domain}).
    type: str
    required: true
  image_repository:
    description:
      - The operator's image repository, where the CI build step pushes the image without C(image.repository)
        (the playbook C(k8s_ee.platform.pr_build) passes C(K8S_EE_IMAGE_REPOSITORY), by default
        C(ghcr.io/<owner>/<repo>/preview)).
      - With it, C(image.repository) of the file must name an image under the same registry host and first path
        segment (the owner), for example C(ghcr.io/acme/...) for C(ghcr.io/acme/shop/preview); otherwise the module
        fails naming the field, the value and the fix. The result has RV(image_repository).
    type: str
notes:
  - Supports check mode; it never changes anything.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Read the application's configuration
  k8s_ee.platform.env_config:
    path: "{{ k8s_ee_config_path }}"
    pr_number: "{{ k8s_ee_pr_number }}"
    domain: preview.example.com
  register: env

- name: Show where the environment will be
  ansible.builtin.debug:
    msg: "{{ env.namespace }} at {{ env.url }} with {{ env.databases | join(', ') or 'no databases' }}"
"""

RETURN = r"""
config:
  description: The configuration with every default applied; each database is a mapping with C(enabled).
  returned: success
  type: dict
  sample:
    projectId: shop
    trigger: automatic
    app: {port: 3000, healthPath: /health, replicas: 1}
namespace:
  description: The environment's namespace, C({projectId}-pr-{number}).
  returned: success
  type: str
  sample: shop-pr-42
host:
  description: The preview host.
  returned: success
  type: str
  sample: shop-pr-42.preview.example.com
url:
  description: The preview URL.
  returned: success
  type: str
  sample: https://shop-pr-42.preview.example.com
quota:
  description: C(spec.hard) of the environment's ResourceQuota (see the P(k8s_ee.platform.env_quota#filter) filter).
  returned: success
  type: dict
  sample: {requests.cpu: 450m, limits.cpu: 1265m, requests.memory: 768Mi, limits.memory: 1767Mi}
image_repository:
  description: Where the CI build step pushes the image, in lower case, without a tag; C(image.repository) of the file
    or else O(image_repository).
  returned: success, when O(image_repository) is given
  type: str
  sample: ghcr.io/acme/shop/preview
databases:
  description: Names of the enabled databases, in a fixed order.
  returned: success
  type: list
  elements: str
  sample: [postgresql, redis]
errors:
  description: Every validation error, when the configuration is invalid.
  returned: failure
  type: list
  elements: str
  sample: ["app.port: 70000 is greater than 65535"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_CONFIG, finish


def main():
    # What the module does is in module_utils/_tasks.py, shared with its action plugin, which runs it in-process
    # on the controller (docs/architecture.md).
    finish(AnsibleModule(**ENV_CONFIG.spec), ENV_CONFIG)


if __name__ == "__main__":
    main()
