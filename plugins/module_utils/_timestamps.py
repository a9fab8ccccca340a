# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one time format of the platform: RFC 3339 in UTC to the second, as the namespace annotations
(`k8s-ee/created-at`, `updated-at`, `ready-at`, `preserve-until`, docs/configuration.md, "Names") and GitHub
write it; a Lease's times carry microseconds."""

from __future__ import annotations

import datetime
import time

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
RFC3339_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(RFC3339)


def rfc3339_micro(epoch: float) -> str:
    """The MicroTime of a Lease (`acquireTime`, `renewTime`)."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(RFC3339_MICRO)


def parse_rfc3339_micro(text: str) -> float:
    """Seconds since the epoch of a Lease's MicroTime (ValueError when it is not one)."""
    return datetime.datetime.strptime(text, RFC3339_MICRO).replace(tzinfo=datetime.UTC).timestamp()


def now_rfc3339(clock=time.time) -> str:
    return rfc3339(clock())


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, RFC3339).replace(tzinfo=datetime.UTC)


def parse_datetime(text: str | None) -> datetime.datetime | None:
    """The time of an RFC 3339 UTC stamp; None for an empty or malformed one."""
    try:
        return _parse(text or "")
    except ValueError:
        return None


def parse_rfc3339(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 UTC stamp; None for an empty or malformed one."""
    if not text:
        return None
    parsed = parse_datetime(text)
    return parsed.timestamp() if parsed else None


def seconds_between(earlier: str | None, later: str | None) -> int | None:
    """Whole seconds between two RFC 3339 UTC stamps (as stored on the namespace)."""
    if not earlier or not later:
        return None
    return int((_parse(later) - _parse(earlier)).total_seconds())
