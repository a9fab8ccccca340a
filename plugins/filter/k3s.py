# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the k3s role; documented in k3s_checksum.yml, k3s_version.yml and k3s_kubeconfig.yml beside this
file."""

from __future__ import annotations

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.module_utils import _k3s


def k3s_checksum(listing, name):
    try:
        return _k3s.checksum(listing, name)
    except _k3s.K3sError as exc:
        raise AnsibleFilterError(f"k3s_checksum: {exc}") from exc


def k3s_version(output):
    try:
        return _k3s.version(output)
    except _k3s.K3sError as exc:
        raise AnsibleFilterError(f"k3s_version: {exc}") from exc


def k3s_kubeconfig(content, server, context="default"):
    try:
        config = yaml.safe_load(content) if isinstance(content, str | bytes) else content
        return _k3s.kubeconfig(config, server, context)
    except (_k3s.K3sError, yaml.YAMLError) as exc:
        raise AnsibleFilterError(f"k3s_kubeconfig: {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "k3s_checksum": k3s_checksum,
            "k3s_version": k3s_version,
            "k3s_kubeconfig": k3s_kubeconfig,
        }
