# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environment slots: the server-side cap on how many environments a project has.

Every environment namespace a CI identity creates carries the label `k8s-ee/slot`, an integer below the project's
cap (role platform's `platform_ci_max_environments`). Admission refuses a slot outside the range, a change of the
slot, and a slot another environment of the same project already holds (policy k8s-ee-ci-environment-slots, which
sees the existing environments as its parameters), so a project has at most `cap` environments. pr_up takes the lowest
free slot when it creates a namespace and the next one when admission says a concurrent pr_up took it first; an
environment made before slots existed gets one on its next update, or keeps none when every slot is taken.
"""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import LABEL_SLOT

SLOT_POLICY = "k8s-ee-ci-environment-slots"
ATTEMPTS = 8


class SlotError(RuntimeError):
    """No slot could be taken; the message is admission's (it names the project's cap)."""


def taken(kube, project: str, namespace: str) -> set[int]:
    """Slots held by the project's other environment namespaces (terminating ones still hold theirs)."""
    selector = f"{_naming.MANAGED_SELECTOR},{_naming.LABEL_PROJECT}={project}"
    slots = set()
    for ns in kube.list("Namespace", label_selector=selector):
        value = (ns["metadata"].get("labels") or {}).get(LABEL_SLOT, "")
        if ns["metadata"]["name"] != namespace and value.isdigit():
            slots.add(int(value))
    return slots


def lowest_free(used: set[int]) -> int:
    slot = 0
    while slot in used:
        slot += 1
    return slot


def applier(kube, live_namespace: dict | None, warnings: list[str]):
    """`apply(obj, dry_run)` for the Namespace object: keeps the slot the live namespace has, or takes the lowest free
    one, retrying the next while admission says another environment holds it. A namespace that exists without a slot
    is applied without one when every slot is taken (it was made before slots existed); a warning says so."""
    live_slot = ((live_namespace or {}).get("metadata", {}).get("labels") or {}).get(LABEL_SLOT)

    def apply(obj, dry_run=False):
        labels = obj["metadata"].setdefault("labels", {})
        if live_slot is not None:
            labels[LABEL_SLOT] = live_slot
            return kube.apply(obj, dry_run=dry_run)
        project, name = labels[_naming.LABEL_PROJECT], obj["metadata"]["name"]
        refused = set()
        for _attempt in range(ATTEMPTS):
            labels[LABEL_SLOT] = str(lowest_free(taken(kube, project, name) | refused))
            try:
                return kube.apply(obj, dry_run=dry_run)
            except KubeError as exc:
                if exc.status not in (403, 422) or LABEL_SLOT not in str(exc):
                    raise
                if SLOT_POLICY in str(exc):  # another environment took it a moment ago: try the next
                    refused.add(int(labels[LABEL_SLOT]))
                    continue
                if live_namespace is None:  # the slot is at the project's cap
                    raise SlotError(str(exc)) from None
                del labels[LABEL_SLOT]
                warnings.append(
                    f"namespace {name} has no {LABEL_SLOT} (it was made before environment slots) and every slot "
                    f"of project {project} is taken, so it does not count against the cap: {exc}"
                )
                return kube.apply(obj, dry_run=dry_run)
        raise SlotError(
            f"no free {LABEL_SLOT} for {name} after {ATTEMPTS} attempts; other pull requests of project {project} "
            "keep taking them, try again in a minute"
        )

    return apply
