# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for environment names and quotas; documented in env_namespace.yml, env_host.yml,
label_value.yml and env_quota.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import ConfigError, normalise
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota as _env_quota


def env_namespace(project_id, pr_number):
    try:
        return _naming.env_namespace(project_id, pr_number)
    except _naming.InputError as exc:
        raise AnsibleFilterError(f"env_namespace: {exc}") from exc


def env_host(namespace, domain):
    try:
        return _naming.env_host(namespace, domain)
    except _naming.InputError as exc:
        raise AnsibleFilterError(f"env_host: {exc}") from exc


def label_value(text):
    return _naming.label_value(text)


def env_quota(config):
    if not isinstance(config, dict):
        raise AnsibleFilterError(f"env_quota: expects the k8s-ee.yaml mapping, got {config!r}")
    try:
        # normalising is idempotent, so an already normalised mapping passes unchanged
        return _env_quota(normalise(config))
    except ConfigError as exc:
        raise AnsibleFilterError(f"env_quota: {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "env_namespace": env_namespace,
            "env_host": env_host,
            "label_value": label_value,
            "env_quota": env_quota,
        }
