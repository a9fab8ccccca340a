"""pr_up takes the lowest free environment slot and the next one when admission says it was taken meanwhile."""

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _slots
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

HELD = (
    "namespaces \"shop-pr-9\" is forbidden: ValidatingAdmissionPolicy 'k8s-ee-ci-environment-slots' with binding "
    "'k8s-ee-ci-environment-slots' denied request: k8s-ee/slot {slot} of project shop is held by shop-pr-3"
)
CAP = (
    "namespaces \"shop-pr-9\" is forbidden: ValidatingAdmissionPolicy 'k8s-ee-ci-scope' with binding "
    "'k8s-ee-ci-scope' denied request: k8s-ee/slot {slot} is not below 2: project shop may have at most 2 environments"
)


def namespace(name, slot=None, project="shop"):
    labels = {"app.kubernetes.io/managed-by": "k8s-ee", "k8s-ee/project-id": project}
    if slot is not None:
        labels["k8s-ee/slot"] = str(slot)
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


class Cluster:
    """Namespaces as listed; `refuse(slot)` answers an apply with that slot as admission would."""

    def __init__(self, namespaces, refuse=None):
        self.namespaces, self.refuse, self.applied, self.selectors = namespaces, refuse, [], []

    def list(self, kind, namespace=None, label_selector=None):
        self.selectors.append(label_selector)
        return self.namespaces

    def apply(self, obj, dry_run=False):
        slot = obj["metadata"]["labels"].get("k8s-ee/slot")
        self.applied.append(slot)
        message = self.refuse(slot) if self.refuse else None
        if message:
            raise KubeError(403, "Forbidden", message)
        return obj


def test_takes_the_lowest_free_slot_of_the_project():
    cluster = Cluster([namespace("shop-pr-1", 0), namespace("shop-pr-2", 2), namespace("shop-pr-9", 1)])
    obj = namespace("shop-pr-9")
    _slots.applier(cluster, None, [])(obj)
    assert obj["metadata"]["labels"]["k8s-ee/slot"] == "1"  # its own (stale) listing does not count
    assert cluster.selectors == ["app.kubernetes.io/managed-by=k8s-ee,k8s-ee/project-id=shop"]


def test_a_slot_taken_meanwhile_moves_on_to_the_next():
    cluster = Cluster([namespace("shop-pr-1", 0)], refuse=lambda s: HELD.format(slot=s) if s in ("1", "2") else None)
    obj = namespace("shop-pr-9")
    _slots.applier(cluster, None, [])(obj, dry_run=True)
    assert cluster.applied == ["1", "2", "3"]
    assert obj["metadata"]["labels"]["k8s-ee/slot"] == "3"


def test_an_existing_environment_keeps_its_slot():
    cluster = Cluster([])
    obj = namespace("shop-pr-9")
    _slots.applier(cluster, namespace("shop-pr-9", 7), [])(obj)
    assert cluster.applied == ["7"] and cluster.selectors == []


def test_at_the_cap_a_new_environment_fails_with_admissions_message():
    cluster = Cluster([namespace("shop-pr-1", 0), namespace("shop-pr-2", 1)], refuse=lambda s: CAP.format(slot=s))
    with pytest.raises(_slots.SlotError, match="project shop may have at most 2 environments"):
        _slots.applier(cluster, None, [])(namespace("shop-pr-9"))


def test_at_the_cap_an_environment_from_before_slots_stays_without_one():
    cluster = Cluster(
        [namespace("shop-pr-1", 0), namespace("shop-pr-2", 1)],
        refuse=lambda s: CAP.format(slot=s) if s is not None else None,
    )
    warnings = []
    obj = namespace("shop-pr-9")
    _slots.applier(cluster, namespace("shop-pr-9"), warnings)(obj)
    assert cluster.applied == ["2", None]
    assert "k8s-ee/slot" not in obj["metadata"]["labels"]
    assert "does not count against the cap" in warnings[0]


def test_other_refusals_are_not_retried():
    cluster = Cluster([], refuse=lambda s: "namespaces is forbidden: pod-security must stay baseline")
    with pytest.raises(KubeError, match="pod-security"):
        _slots.applier(cluster, None, [])(namespace("shop-pr-9"))
    assert cluster.applied == ["0"]


def test_gives_up_after_a_bounded_number_of_attempts():
    cluster = Cluster([], refuse=lambda s: HELD.format(slot=s))
    with pytest.raises(_slots.SlotError, match="after 8 attempts"):
        _slots.applier(cluster, None, [])(namespace("shop-pr-9"))
    assert cluster.applied == [str(n) for n in range(8)]
