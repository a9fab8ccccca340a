# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig of the cluster; several paths joined with C(:) are merged as kubectl merges them
        (the first file that names a cluster, user or context wins, and so does the first C(current-context)).
      - Defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then, outside a pod, C(~/.kube/config).
      - Without a kubeconfig and a context, a module in a pod uses the pod's service account.
    type: path
  context:
    description:
      - The kubeconfig context to use; defaults to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python package), only for a kubeconfig user with C(exec) or C(auth-provider) credentials
"""
