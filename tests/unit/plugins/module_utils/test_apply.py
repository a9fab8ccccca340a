# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying several objects at once (`_apply.apply_all`'s workers), the request count under threads, and the pauses
of the waits (`_readiness.polls`)."""

import http.server
import itertools
import threading

import pytest
import yaml
from fake_kube import FakeKube
from loopback import LoopbackServer

from ansible_collections.k8s_ee.platform.plugins.module_utils import _apply, _lease, _readiness
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube, KubeError


def _config_maps(count):
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{n}", "namespace": "shop-pr-1"}, "data": {}}
        for n in range(count)
    ]


class _Overlapping(FakeKube):
    """Records how many applies are under way at once (each waits until another one has started, or 0.2 s)."""

    def __init__(self, failing=()):
        super().__init__()
        self.failing = set(failing)
        self.busy = self.most = 0
        self.gate = threading.Lock()
        self.started = threading.Event()
        self.applied = []

    def apply(self, obj, dry_run=False):
        with self.gate:
            self.busy += 1
            self.most = max(self.most, self.busy)
        if self.busy > 1:
            self.started.set()
        self.started.wait(0.2)
        try:
            if obj["metadata"]["name"] in self.failing:
                raise KubeError(422, "Invalid", f"{obj['metadata']['name']} is invalid")
            self.applied.append(obj["metadata"]["name"])
            return super().apply(obj, dry_run)
        finally:
            with self.gate:
                self.busy -= 1


def test_workers_apply_at_once_and_report_in_the_objects_order():
    kube = _Overlapping()
    changed, results, diffs = _apply.apply_all(kube, _config_maps(6), False, True, True, workers=4)
    assert kube.most > 1
    assert changed and [r["name"] for r in results] == [f"c{n}" for n in range(6)]
    assert [d["after_header"] for d in diffs] == [f"ConfigMap/c{n}" for n in range(6)]
    again = _apply.apply_all(kube, _config_maps(6), False, True, True, workers=4)
    assert again == (False, [{"kind": "ConfigMap", "name": f"c{n}", "action": "unchanged"} for n in range(6)], [])


def test_one_worker_applies_one_at_a_time():
    kube = _Overlapping()
    _apply.apply_all(kube, _config_maps(3), False, True, False)
    assert kube.most == 1 and kube.applied == ["c0", "c1", "c2"]


def test_the_first_error_in_order_is_raised_once_every_object_was_tried():
    kube = _Overlapping(failing={"c1", "c4"})
    with pytest.raises(KubeError, match="c1 is invalid"):
        _apply.apply_all(kube, _config_maps(6), False, True, False, workers=4)
    assert sorted(kube.applied) == ["c0", "c2", "c3", "c5"]


class _Recording(FakeKube):
    """Records, for each object, the objects whose apply had finished when its own began."""

    def __init__(self, failing=()):
        super().__init__()
        self.failing = set(failing)
        self.done, self.before = [], {}

    def apply(self, obj, dry_run=False):
        name = obj["metadata"]["name"]
        self.before[name] = set(self.done)
        if name in self.failing:
            raise KubeError(403, "Forbidden", f"{name} is forbidden")
        result = super().apply(obj, dry_run)
        self.done.append(name)
        return result


def _named(kind):
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": kind.lower(), "namespace": "shop-pr-1"}}


KINDS = ["Deployment", "RoleBinding", "Service", "Role", "Secret", "ServiceAccount", "ConfigMap", "Ingress"]


def test_what_others_refer_to_is_applied_before_them():
    kube = _Recording()
    kube.ready = False  # a Deployment without a spec: no pods made up for it
    _changed, results, _diffs = _apply.apply_all(kube, [_named(k) for k in KINDS], False, True, False, workers=4)
    assert [r["kind"] for r in results] == KINDS
    assert "role" in kube.before["rolebinding"]
    for name in ("deployment", "service", "ingress"):
        assert {"secret", "configmap", "serviceaccount", "role", "rolebinding"} <= kube.before[name]


def test_a_failed_stage_stops_before_the_next():
    kube = _Recording(failing={"role"})
    kube.ready = False
    with pytest.raises(KubeError, match="role is forbidden"):
        _apply.apply_all(kube, [_named(k) for k in KINDS], False, True, False, workers=4)
    assert sorted(kube.done) == ["configmap", "secret", "serviceaccount"]


def test_requests_from_several_threads_are_all_counted(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    with LoopbackServer(Handler) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "clusters": [{"name": "c", "cluster": {"server": server.url}}],
                    "users": [{"name": "u", "user": {"token": "t"}}],
                    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "x",
                }
            )
        )
        kube = Kube(kubeconfig=str(kubeconfig))

        def ten():
            for _request in range(10):
                kube.request("GET", "/version")

        threads = [threading.Thread(target=ten) for _thread in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert kube.requests == 40


def test_waits_look_again_within_a_fifth_of_a_second():
    assert list(itertools.islice(_readiness.polls(), 5)) == pytest.approx([0.1, 0.15, 0.2, 0.2, 0.2])


def test_the_lease_lock_looks_again_within_half_a_second():
    """Another run holds the capacity Lease for seconds: its wait keeps the longer pauses."""

    class Held(FakeKube):
        def get(self, kind, name, namespace=None):
            renewed = "2999-01-01T00:00:00.000000Z"
            return {"metadata": {"name": name}, "spec": {"holderIdentity": "other", "renewTime": renewed}}

    sleeps = []
    lock = _lease.Lock(
        Held(),
        "platform",
        "k8s-ee-capacity",
        step="capacity",
        busy="busy",
        wait=1,
        clock=lambda: 10.0 if len(sleeps) >= 8 else 0.0,
        sleep=sleeps.append,
    )
    with pytest.raises(LifecycleError, match="busy"), lock:
        pass
    assert sleeps == pytest.approx([0.05, 0.075, 0.1125, 0.16875, 0.253125, 0.3796875, 0.5, 0.5])
