# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig of the cluster.
      - Defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config).
    type: path
  context:
    description:
      - The kubeconfig context to use; defaults to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python package)
"""
