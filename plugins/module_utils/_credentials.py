# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generated credentials, created once and never changed (docs/pr-lifecycle.md, "Generated credentials are created
once")."""

from __future__ import annotations

import base64
import copy
import time

from ansible_collections.k8s_ee.platform.plugins.module_utils import _apply, _databases, _render
from ansible_collections.k8s_ee.platform.plugins.module_utils._errors import LifecycleError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import FIELD_MANAGER, KubeError, comparable, redact


def live_credentials(kube, namespace: str, enabled: list[str]) -> dict:
    """The Secrets of generated credentials that exist (database -> the Secret as read)."""
    live = {}
    for db in enabled:
        if db in _databases.CREDENTIAL_SECRETS:
            secret = kube.get("Secret", _databases.CREDENTIAL_SECRETS[db], namespace)
            if secret:
                live[db] = secret
    return live


def decoded(secret: dict) -> dict:
    return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}


CREDENTIAL_ATTEMPTS = 5


def _holds(live: dict, wanted: dict) -> bool:
    """Whether the live Secret already has everything of `wanted` (values, labels, type)."""
    values, labels = decoded(live), live["metadata"].get("labels") or {}
    return (
        all(values.get(key) == value for key, value in wanted["stringData"].items())
        and all(labels.get(key) == value for key, value in wanted["metadata"]["labels"].items())
        and live.get("type", "Opaque") == wanted["type"]
    )


def _write_once(kube, wanted: dict, live: dict | None, check_mode: bool, namespace_exists: bool, authorized) -> str:
    if live is None:
        if namespace_exists or not check_mode:
            authorized(kube.create, wanted, dry_run=check_mode, field_manager=FIELD_MANAGER)
        return "created"
    if _holds(live, wanted):
        return "unchanged"
    guarded = copy.deepcopy(wanted)
    guarded["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    authorized(kube.apply, guarded, dry_run=check_mode)
    return "configured"


def settle_credentials(
    kube,
    namespace: str,
    enabled: list[str],
    live: dict,
    proposed: dict,
    check_mode: bool,
    namespace_exists: bool,
    want_diff: bool,
    clock=time.monotonic,
    sleep=time.sleep,
    grace: dict | None = None,
):
    """Credentials are generated on the first deploy and never change (docs/pr-lifecycle.md, "Generated
    credentials are created once"). A missing credential Secret is created with the `proposed` credentials
    (POST, refused with 409 when it exists by then); an existing one (`live`, or read after a 409) is taken as it
    is: only keys it lacks are generated and what is made of them is updated, under a resourceVersion
    precondition. When another run got there first, its values are used.
    Returns (credentials per database, changed, results, diffs) like apply_all."""
    grace = {} if grace is None else grace

    def authorized(call, *args, **kwargs):
        return _apply.authorized(grace.get("bound_at"), clock, sleep, call, *args, **kwargs)

    creds, results, diffs, changed = {}, [], [], False
    for db in enabled:
        name = _databases.CREDENTIAL_SECRETS.get(db)
        if name is None:
            continue
        current = live.get(db)
        for _attempt in range(CREDENTIAL_ATTEMPTS):
            db_creds = _render.credentials([db], {db: decoded(current) if current else proposed[db]})[db]
            wanted = _render.credential_secret(namespace, db, db_creds)
            try:
                action = _write_once(kube, wanted, current, check_mode, namespace_exists, authorized)
                break
            except KubeError as exc:
                if exc.status != 409:
                    raise
                current = authorized(kube.get, "Secret", name, namespace)  # made or changed meanwhile: use it
        else:
            raise LifecycleError(
                "credentials",
                f"Secret {name} in {namespace} changed {CREDENTIAL_ATTEMPTS} times while it was being written; "
                "run pr_up again",
            )
        creds[db] = db_creds
        results.append({"kind": "Secret", "name": name, "action": action})
        if action != "unchanged":
            changed = True
            if want_diff:
                diffs.append(
                    {
                        "before": redact(comparable(current)) or {},
                        "after": redact(wanted),
                        "before_header": f"Secret/{name}",
                        "after_header": f"Secret/{name}",
                    }
                )
    return creds, changed, results, diffs
