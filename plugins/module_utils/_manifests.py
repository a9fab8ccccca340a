# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects of an environment, rendered from the normalised configuration."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import LIMIT_RANGE_NAME, limit_range_spec
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import QUOTA_NAME, env_quota

MANAGED_LABELS = {_naming.MANAGED_BY[0]: _naming.MANAGED_BY[1]}


def namespace(name: str, config: dict, pr: dict) -> dict:
    """The Namespace with the labels and annotations of docs/configuration.md, "Names".

    `pr` holds repository, number, head_sha, branch, author and the RFC 3339 `now`.
    """
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                **MANAGED_LABELS,
                _naming.TYPE_LABEL[0]: _naming.TYPE_LABEL[1],
                _naming.LABEL_PROJECT: config["projectId"],
                _naming.LABEL_PR: str(pr["number"]),
                _naming.LABEL_BRANCH: _naming.label_value(pr.get("branch")),
                "pod-security.kubernetes.io/enforce": "baseline",
            },
            "annotations": {
                _naming.ANNOTATION_REPOSITORY: pr["repository"],
                _naming.ANNOTATION_COMMIT: pr.get("head_sha") or "",
                _naming.ANNOTATION_AUTHOR: pr.get("author") or "",
                _naming.ANNOTATION_UPDATED: pr["now"],
            },
        },
    }


def resource_quota(name: str, config: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": name, "labels": dict(MANAGED_LABELS)},
        "spec": {"hard": env_quota(config)},
    }


def limit_range(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": LIMIT_RANGE_NAME, "namespace": name, "labels": dict(MANAGED_LABELS)},
        "spec": limit_range_spec(),
    }
