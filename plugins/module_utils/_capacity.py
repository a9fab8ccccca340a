# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity admission of a new environment (docs/pr-lifecycle.md, "What pr_up does", step 2): what the schedulable
nodes offer minus what environments' quotas and the pods outside environments commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError


def _pod_requests(pod: dict) -> tuple:
    spec = pod.get("spec", {})

    def total(containers):
        cpu = mem = 0
        for container in containers or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += q.millicores(requests.get("cpu", "0"))
            mem += q.mebibytes(requests.get("memory", "0"))
        return cpu, mem

    cpu, mem = total(spec.get("containers"))
    for init in spec.get("initContainers") or []:
        icpu, imem = total([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    return cpu, mem


@dataclass
class Capacity:
    allocatable_cpu: int
    allocatable_memory: int
    committed_cpu: int
    committed_memory: int
    nodes: int
    environments: list = field(default_factory=list)  # (namespace, cpu, memory)

    @property
    def free_cpu(self):
        return self.allocatable_cpu - self.committed_cpu

    @property
    def free_memory(self):
        return self.allocatable_memory - self.committed_memory


def measure_capacity(kube) -> Capacity:
    alloc_cpu = alloc_mem = 0
    nodes = 0
    for node in kube.list("Node"):
        if node.get("spec", {}).get("unschedulable"):
            continue
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        if conditions.get("Ready") != "True":
            continue
        allocatable = node["status"].get("allocatable", {})
        alloc_cpu += q.ceil(q.millicores(allocatable.get("cpu", "0")))
        alloc_mem += int(q.mebibytes(allocatable.get("memory", "0")))
        nodes += 1
    ephemeral = {ns["metadata"]["name"] for ns in kube.list("Namespace", label_selector=_naming.EPHEMERAL_SELECTOR)}
    committed_cpu = committed_mem = 0
    environments = []
    for quota in kube.list("ResourceQuota", label_selector=_naming.MANAGED_SELECTOR):
        namespace = quota["metadata"]["namespace"]
        if namespace not in ephemeral:
            continue
        hard = quota.get("spec", {}).get("hard", {})
        cpu = q.ceil(q.millicores(hard.get("requests.cpu", "0")))
        mem = q.ceil(q.mebibytes(hard.get("requests.memory", "0")))
        committed_cpu += cpu
        committed_mem += mem
        environments.append((namespace, cpu, mem))
    for pod in kube.list("Pod", field_selector="status.phase!=Succeeded,status.phase!=Failed"):
        if pod["metadata"]["namespace"] in ephemeral:
            continue
        cpu, mem = _pod_requests(pod)
        committed_cpu += q.ceil(cpu)
        committed_mem += q.ceil(mem)
    environments.sort(key=lambda e: (-e[1], -e[2], e[0]))
    return Capacity(alloc_cpu, alloc_mem, committed_cpu, committed_mem, nodes, environments)


def admit(kube, quota_hard: dict, max_environments: int | None = None) -> Capacity:
    """Raise LifecycleError('capacity', ...) when a new environment does not fit (docs/pr-lifecycle.md,
    "What pr_up does", step 2)."""
    capacity = measure_capacity(kube)
    if max_environments and len(capacity.environments) >= max_environments:
        raise LifecycleError(
            "capacity",
            f"capacity: {len(capacity.environments)} environments exist and the operator "
            f"allows at most {max_environments}; close or destroy one first",
            _largest(capacity),
        )
    need_cpu = q.ceil(q.millicores(quota_hard["requests.cpu"]))
    need_mem = q.ceil(q.mebibytes(quota_hard["requests.memory"]))
    missing = []
    if need_cpu > capacity.free_cpu:
        missing.append(f"{q.format_cpu(need_cpu - max(capacity.free_cpu, 0))} CPU")
    if need_mem > capacity.free_memory:
        missing.append(f"{q.format_memory(need_mem - max(capacity.free_memory, 0))} memory")
    if missing:
        raise LifecycleError(
            "capacity",
            f"capacity: the environment needs {q.format_cpu(need_cpu)} CPU and {q.format_memory(need_mem)} memory "
            f"(its quota's requests) but the cluster has {q.format_cpu(max(capacity.free_cpu, 0))} CPU and "
            f"{q.format_memory(max(capacity.free_memory, 0))} memory free "
            f"({q.format_cpu(capacity.allocatable_cpu)} CPU / {q.format_memory(capacity.allocatable_memory)} "
            f"allocatable on {capacity.nodes} schedulable node(s)); missing {' and '.join(missing)}",
            _largest(capacity),
        )
    return capacity


def _largest(capacity: Capacity) -> list[str]:
    return [
        f"{ns}: {q.format_cpu(cpu)} CPU, {q.format_memory(mem)} memory requested"
        for ns, cpu, mem in capacity.environments[:5]
    ]
