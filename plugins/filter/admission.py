# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of role platform's admission policies; documented in admission_parameters.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.k8s_ee.platform.plugins.module_utils import _admission


def admission_parameters(settings, api_service=None, traefik_middleware=True):
    try:
        return _admission.parameters(settings, api_service, bool(traefik_middleware))
    except _admission.AdmissionSettingsError as exc:
        raise AnsibleFilterError(f"admission_parameters: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"admission_parameters": admission_parameters}
