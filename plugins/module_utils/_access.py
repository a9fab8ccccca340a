# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may get an environment: the operator's allowlist (fail closed) and PR author trust (docs/security.md, "Who may
deploy")."""

from __future__ import annotations

import json

TRUSTED_ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR")
WRITE_PERMISSIONS = ("admin", "maintain", "write")
MODES = ("allowlist", "denylist", "disabled")
# The reference platform's allowlist (k8s-ephemeral-environments' allowed-orgs.json) also has these: documentation for
# the people who edit it, accepted as strings and never read (the $schema is never fetched). Any other key is refused
# (docs/security.md, "Who may deploy").
NOTE_KEYS = ("$schema", "description")
KEYS = ("mode", "organizations", "repositories", *NOTE_KEYS)


class AccessDenied(RuntimeError):
    pass


def load_allowlist(path: str | None) -> dict:
    """The parsed allowlist file; every problem is a denial saying how to fix it."""
    fix = (
        "create it as YAML or JSON with 'mode: allowlist|denylist|disabled', 'organizations: [...]' and "
        "'repositories: [owner/repo, ...]' (mode: disabled allows every repository)"
    )
    if not path:
        raise AccessDenied(f"allowlist_path: not set; {fix}")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise AccessDenied(f"allowlist_path: {path!r} cannot be read ({exc.strerror}); {fix}") from None
    try:
        import yaml

        data = yaml.safe_load(text) if not text.lstrip().startswith("{") else json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error means deny
        raise AccessDenied(f"allowlist {path}: not valid YAML or JSON ({exc}); {fix}") from None
    if not isinstance(data, dict):
        raise AccessDenied(f"allowlist {path}: expected a mapping, got {type(data).__name__}; {fix}")
    mode = data.get("mode")
    if mode not in MODES:
        raise AccessDenied(f"allowlist {path}: mode: {mode!r} is not one of {', '.join(MODES)}; {fix}")
    for key in ("organizations", "repositories"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AccessDenied(f"allowlist {path}: {key}: must be a list of strings; {fix}")
    for key in NOTE_KEYS:
        if key in data and not isinstance(data[key], str):
            raise AccessDenied(f"allowlist {path}: {key}: must be a string (it is documentation, never read); {fix}")
    unknown = sorted((key for key in data if key not in KEYS), key=str)  # YAML keys may be numbers, booleans, ...
    if unknown:
        raise AccessDenied(
            f"allowlist {path}: unknown key(s) {', '.join(map(str, unknown))} (allowed: {', '.join(KEYS)}); {fix}"
        )
    return {
        "mode": mode,
        "organizations": [o.lower() for o in data.get("organizations", [])],
        "repositories": [r.lower() for r in data.get("repositories", [])],
    }


def repository_allowed(allowlist: dict, repository: str) -> tuple[bool, str]:
    owner = repository.split("/")[0].lower()
    listed = repository.lower() in allowlist["repositories"] or owner in allowlist["organizations"]
    mode = allowlist["mode"]
    if mode == "disabled":
        return True, "the allowlist is disabled"
    if mode == "allowlist":
        return (
            (True, f"{repository} is on the allowlist")
            if listed
            else (
                False,
                f"{repository} is not on the operator's allowlist (ask the operator to add the repository or "
                f"its organization {owner})",
            )
        )
    return (
        (False, f"{repository} is on the operator's denylist")
        if listed
        else (True, f"{repository} is not on the denylist")
    )


def author_trusted(association: str | None) -> bool:
    return (association or "").upper() in TRUSTED_ASSOCIATIONS


def decide(
    allowlist_path: str | None, repository: str, author_association: str | None, approved_by_maintainer: bool = False
) -> dict:
    """{'allowed': bool, 'reason': str, 'wait_for_maintainer': bool}."""
    try:
        allowed, reason = repository_allowed(load_allowlist(allowlist_path), repository)
    except AccessDenied as exc:
        return {"allowed": False, "reason": str(exc), "wait_for_maintainer": False}
    if not allowed:
        return {"allowed": False, "reason": reason, "wait_for_maintainer": False}
    if approved_by_maintainer or author_trusted(author_association):
        return {"allowed": True, "reason": reason, "wait_for_maintainer": False}
    return {
        "allowed": False,
        "wait_for_maintainer": True,
        "reason": (
            f"the author's association is {author_association or 'unknown'}, so this pull request is not "
            "deployed automatically; a maintainer (write permission) can comment `/deploy-preview` to deploy it"
        ),
    }
