# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LimitRange `environment-limits` of every environment (docs/quota.md)."""

from __future__ import annotations

# Container bounds in millicores and MiB.
CONTAINER_DEFAULT_LIMIT = {"cpu": 500, "memory": 512}
CONTAINER_DEFAULT_REQUEST = {"cpu": 100, "memory": 128}
CONTAINER_MAX = {"cpu": 1000, "memory": 1024}
CONTAINER_MIN = {"cpu": 10, "memory": 32}
POD_MAX = {"cpu": 2000, "memory": 2048}
PVC_MIN_MIB = 100
PVC_MAX_MIB = 5 * 1024

LIMIT_RANGE_NAME = "environment-limits"


def limit_range_spec() -> dict:
    """`spec` of the LimitRange, in the canonical quantities the API server stores."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._quantity import format_cpu, format_memory

    def pair(values):
        return {"cpu": format_cpu(values["cpu"]), "memory": format_memory(values["memory"])}

    return {
        "limits": [
            {
                "type": "Container",
                "default": pair(CONTAINER_DEFAULT_LIMIT),
                "defaultRequest": pair(CONTAINER_DEFAULT_REQUEST),
                "max": pair(CONTAINER_MAX),
                "min": pair(CONTAINER_MIN),
            },
            {"type": "Pod", "max": pair(POD_MAX)},
            {
                "type": "PersistentVolumeClaim",
                "min": {"storage": format_memory(PVC_MIN_MIB)},
                "max": {"storage": format_memory(PVC_MAX_MIB)},
            },
        ]
    }
