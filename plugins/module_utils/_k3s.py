# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k3s release files and kubeconfigs: the sha256 list of a release, the version a binary reports, and the
server's kubeconfig rewritten for the controller. Plain Python; the k3s filters wrap it."""

from __future__ import annotations

import re

_DIGEST_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64})\s+\*?(?P<name>\S+)\s*$")
_VERSION = re.compile(r"^k3s version (?P<version>v\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?\+k3s\d+)\b", re.MULTILINE)


class K3sError(ValueError):
    """A release file or kubeconfig that cannot be used; the message names the value."""


def checksum(listing: str, name: str) -> str:
    """The sha256 of `name` in a release's `sha256sum-<arch>.txt` (the `sha256sum` output format)."""
    if not isinstance(listing, str):
        raise K3sError(f"expects the text of a sha256sum list, got {listing!r}")
    found = {}
    for number, line in enumerate(listing.splitlines(), start=1):
        if not line.strip():
            continue
        match = _DIGEST_LINE.match(line)
        if not match:
            raise K3sError(f"line {number} of the sha256 list is not '<sha256>  <file>': {line[:120]!r}")
        found[match["name"].removeprefix("./")] = match["digest"].lower()
    if name not in found:
        raise K3sError(f"the sha256 list has no entry for {name!r} (it lists {', '.join(sorted(found)) or 'nothing'})")
    return found[name]


def version(output: str) -> str:
    """The version in `k3s --version` output (`k3s version v1.34.3+k3s1 (48ffa7b6)`)."""
    match = _VERSION.search(output or "")
    if not match:
        raise K3sError(f"not the output of 'k3s --version': {(output or '')[:200]!r}")
    return match["version"]


def kubeconfig(config: dict, server: str, context: str) -> dict:
    """The kubeconfig k3s writes (parsed), pointed at `server` and named `context` (cluster, user and context)."""
    if not re.match(r"^https://[^/\s]+$", server or ""):
        raise K3sError(f"server must be https://<host>:<port>, got {server!r}")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$", context or ""):
        raise K3sError(f"context must be a plain name, got {context!r}")
    if not isinstance(config, dict) or config.get("kind") != "Config":
        raise K3sError("expects a kubeconfig (kind: Config)")
    try:
        (cluster,) = config["clusters"]
        (user,) = config["users"]
        (ctx,) = config["contexts"]
    except (KeyError, TypeError, ValueError) as exc:
        raise K3sError("expects a kubeconfig with exactly one cluster, user and context, as k3s writes") from exc
    cluster_body = dict(cluster["cluster"], server=server)
    return {
        "apiVersion": config.get("apiVersion", "v1"),
        "kind": "Config",
        "preferences": config.get("preferences") or {},
        "clusters": [{"name": context, "cluster": cluster_body}],
        "users": [{"name": context, "user": user["user"]}],
        "contexts": [{"name": context, "context": dict(ctx["context"], cluster=context, user=context)}],
        "current-context": context,
    }
