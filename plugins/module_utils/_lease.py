# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster-wide lock on a coordination.k8s.io Lease, for decisions concurrent runs must not both take: the
preserve caps (docs/runbooks.md, "preserve") and capacity admission of a new environment (docs/pr-lifecycle.md,
"What pr_up does", step 2).

Role platform creates each Lease and lets the CI identity get and update exactly that one; taking it is an update
with the resourceVersion just read, so of two runs only one succeeds (the other gets 409 and looks again). A holder
that dies leaves a Lease that expires after LEASE_SECONDS.
"""

from __future__ import annotations

import os
import socket
import time

from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._readiness import polls
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import parse_rfc3339_micro, rfc3339_micro

LEASE_SECONDS = 30


class Lock:
    """Hold the Lease `namespace`/`name` inside a `with` block. `step` and `busy` make the error of a wait that
    timed out (LifecycleError(step, busy + ...)); `missing` is the error when the Lease does not exist and cannot
    be created (the CI identity may only get and update it: the platform role of this version creates it)."""

    def __init__(
        self,
        kube,
        namespace: str,
        name: str,
        step: str = "lock",
        busy: str = "another run holds it",
        wait: float = 60,
        clock=time.time,
        sleep=time.sleep,
    ):
        self.kube, self.namespace, self.name = kube, namespace, name
        self.step, self.busy = step, busy
        self.wait, self.clock, self.sleep = wait, clock, sleep
        self.holder = f"{socket.gethostname()}-{os.getpid()}-{time.monotonic_ns()}"

    def _lease(self, resource_version=None):
        now = rfc3339_micro(self.clock())
        meta = {"name": self.name, "namespace": self.namespace}
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": LEASE_SECONDS,
                "acquireTime": now,
                "renewTime": now,
            },
        }

    def __enter__(self):
        deadline = self.clock() + self.wait
        pauses = polls(first=0.05, most=0.5)  # another run holds it for seconds
        while True:
            lease = self.kube.get("Lease", self.name, self.namespace)
            try:
                if lease is None:
                    self.kube.create(self._lease())
                    return self
                spec = lease.get("spec") or {}
                renewed = spec.get("renewTime")
                expired = (
                    renewed is None
                    or parse_rfc3339_micro(renewed) + spec.get("leaseDurationSeconds", LEASE_SECONDS) < self.clock()
                )
                if not spec.get("holderIdentity") or expired:
                    # an update with the resourceVersion we read: only one of two racers succeeds
                    self.kube.update(self._lease(lease["metadata"]["resourceVersion"]))
                    return self
            except KubeError as exc:
                if exc.status in (403, 404) and lease is None:  # not allowed to create it, or no such namespace
                    raise LifecycleError(
                        self.step,
                        f"Lease {self.namespace}/{self.name} does not exist and could not be created (HTTP "
                        f"{exc.status} {exc.reason}); run site.yml (role platform) of this collection's version, "
                        "which creates it, or name its namespace (k8s_ee_lock_namespace)",
                    ) from None
                if exc.status != 409:
                    raise
            if self.clock() >= deadline:
                raise LifecycleError(
                    self.step, f"{self.busy} (Lease {self.namespace}/{self.name}); try again in a minute"
                )
            self.sleep(next(pauses))

    def __exit__(self, *exc):
        lease = self.kube.get("Lease", self.name, self.namespace)
        if lease and (lease.get("spec") or {}).get("holderIdentity") == self.holder:
            lease["spec"]["holderIdentity"] = ""
            try:
                self.kube.update(lease)
            except KubeError as error:
                if error.status != 409:
                    raise
