# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option specs shared by the modules (documented once in doc_fragments/cluster.py, github.py, pull_request.py,
clock.py and project.py)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

CLUSTER_ARGS = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
}

PR_ARGS = {
    "repository": {"type": "str", "required": True},
    "pr_number": {"type": "int", "required": True},
}

CLOCK_ARGS = {"now": {"type": "float"}}

PROJECT_ARGS = {"project_id": {"type": "str"}}

GITHUB_ARGS = {
    "api_url": {"type": "str", "default": "https://api.github.com"},
    "token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["GITHUB_TOKEN"])},
    "request_timeout": {"type": "float", "default": 30},
    "bot_login": {"type": "str", "fallback": (env_fallback, ["K8S_EE_GITHUB_LOGIN"])},
}


def now_from_params(params) -> float:
    """The injected time of CLOCK_ARGS, or the real time."""
    import time

    return params.get("now") or time.time()


def kube_from_params(params):
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    # KUBECONFIG may list several files ("a:b"): they are merged as kubectl merges them (_kubeconfig)
    return Kube(kubeconfig=params.get("kubeconfig"), context=params.get("context"))


def github_from_params(params):
    """The GitHub client of a module's GITHUB_ARGS, or None without a token."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHub

    if not params.get("token"):
        return None
    return GitHub(params["token"], params["api_url"], timeout=params["request_timeout"], login=params.get("bot_login"))
