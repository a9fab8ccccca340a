# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed comment shows (docs/pr-lifecycle.md, "What a failed comment shows"): the namespace's events, the
containers that are not ready and their last log lines, every secret of the namespace masked, cleaned and capped."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _databases, _redact
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

# What a failure report may hold (it goes to a public pull request comment): characters per line, characters in
# all, log lines and log bytes per container, characters of the message.
DETAIL_LINE_MAX = 300


DETAILS_MAX = 8000


LOG_LINES = 15


LOG_BYTES = 65536


MESSAGE_MAX = 2000


# Secrets to read one by one when the namespace's Secrets cannot be listed: the operators' and the platform's.
REPORT_SECRETS = _databases.CREDENTIAL_HOLDERS


def namespace_secret_values(kube, namespace: str) -> list[str]:
    """The values of the namespace's Secrets (the platform's, the operators', the user's), to mask in reports."""
    try:
        secrets = kube.list("Secret", namespace)
    except KubeError as exc:
        secrets = []
        if exc.status:  # the API answered (a CI identity without list, say): read the credentials one by one
            for name in REPORT_SECRETS:
                try:
                    secrets.append(kube.get("Secret", name, namespace) or {})
                except KubeError:
                    continue
    return [value for secret in secrets for value in _redact.secret_values(secret)]


def secured(exc: Exception, mask) -> Exception:
    """`exc` (LifecycleError or KubeError) with its message and details cleaned, masked and capped; the masked
    values ride along as `secret_values`, for the module to keep them out of its output."""
    message = _redact.safe_line(str(exc), mask, MESSAGE_MAX)
    if isinstance(exc, LifecycleError):
        out = LifecycleError(exc.step, message, _redact.safe_lines(exc.details, mask, DETAIL_LINE_MAX, DETAILS_MAX))
    else:
        out = KubeError(exc.status, exc.reason, message)
    out.secret_values = mask.values()
    return out


def diagnose(kube, namespace: str, kind: str, name: str, collect_logs: bool, mask=None) -> list[str]:
    """Recent events of the namespace and the state of unready pods (and their last log lines), safe to show on a
    pull request: cleaned of control characters, every secret of the namespace (and `mask`'s) masked, capped."""
    if mask is None:
        mask = _redact.Redactor(load=lambda: namespace_secret_values(kube, namespace))
    details = []
    try:
        events = kube.list("Event", namespace)
    except KubeError:
        events = []
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    for event in events[-8:]:
        involved = event.get("involvedObject", {})
        details.append(
            f"event {involved.get('kind')}/{involved.get('name')}: {event.get('reason')}: "
            f"{(event.get('message') or '').strip()}"
        )
    for pod in kube.list("Pod", namespace):
        for status in pod.get("status", {}).get("containerStatuses") or []:
            state = status.get("state", {})
            if status.get("ready") and "running" in state:
                continue
            waiting = state.get("waiting") or {}
            reason = waiting.get("reason") or ("terminated" if "terminated" in state else "not ready")
            details.append(
                f"pod {pod['metadata']['name']} container {status['name']}: {reason}"
                + _exit(state.get("terminated") or (status.get("lastState") or {}).get("terminated"))
                + (f": {waiting['message']}" if waiting.get("message") else "")
            )
            crashed = status.get("restartCount", 0) > 0 or "terminated" in state
            if collect_logs and crashed:
                try:
                    log = kube.pod_log(
                        namespace,
                        pod["metadata"]["name"],
                        status["name"],
                        lines=LOG_LINES,
                        previous=status.get("restartCount", 0) > 0 and "terminated" not in state,
                        limit_bytes=LOG_BYTES,
                    )
                    details.extend(f"  log: {line}" for line in log.splitlines()[-LOG_LINES:])
                except Exception as exc:  # noqa: BLE001 - a missing log must not hide the real failure
                    details.append(f"  (no log: {exc})")
    return _redact.safe_lines(details, mask, DETAIL_LINE_MAX, DETAILS_MAX)


def _exit(terminated: dict | None) -> str:
    """How the container's last run ended, as the kubelet reports it: ' (exited: Error, code 1)'; OOMKilled with
    code 137 is the memory limit (docs/pr-lifecycle.md, What a failed comment shows)."""
    if not terminated:
        return ""
    reason = terminated.get("reason") or "terminated"
    code = terminated.get("exitCode")
    signal = terminated.get("signal")
    return (
        f" (exited: {reason}"
        + (f", code {code}" if code is not None else "")
        + (f", signal {signal}" if signal else "")
        + ")"
    )
