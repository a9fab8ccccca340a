# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one PR comment of an environment (SPEC 8), found again by its hidden marker."""

from __future__ import annotations

import urllib.parse

MARKER = "<!-- k8s-ee:environment -->"
STATES = ("deployed", "failed", "destroyed", "preserved", "refused")
ICONS = {"deployed": "✅", "failed": "❌", "destroyed": "🗑️", "preserved": "📌", "refused": "⛔"}


def _quota_summary(quota: dict | None) -> str:
    if not quota:
        return ""
    return (
        f"{quota.get('requests.cpu')} CPU / {quota.get('requests.memory')} requested, "
        f"{quota.get('limits.cpu')} CPU / {quota.get('limits.memory')} limit, "
        f"{quota.get('requests.storage')} storage, {quota.get('pods')} pods"
    )


def grafana_link(grafana_url: str | None, namespace: str) -> str | None:
    if not grafana_url:
        return None
    query = urllib.parse.urlencode({"var-namespace": namespace})
    return f"{grafana_url.rstrip('/')}/d/k8s-ee-environment/k8s-ee-environment?{query}"


def _fence(lines: list[str]) -> list[str]:
    """A code block whose fence is longer than any run of backticks inside it (CommonMark)."""
    import re

    text = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def render(state: str, namespace: str, **info) -> str:
    """Markdown of the comment; `info` may hold url, commit, branch, updated_at, time_to_ready, quota,
    reason, step, details, merged, grafana_url, preserve_until, note."""
    if state not in STATES:
        raise ValueError(f"state: {state!r} is not one of {', '.join(STATES)}")
    lines = [MARKER, f"### {ICONS[state]} Preview environment: {state}", ""]
    rows = []
    if state == "deployed" and info.get("url"):
        rows.append(("Preview", f"[{info['url']}]({info['url']})"))
    link = grafana_link(info.get("grafana_url"), namespace)
    if link and state in ("deployed", "failed", "preserved"):
        rows.append(("Logs & metrics", f"[Grafana]({link})"))
    rows.append(("Namespace", f"`{namespace}`"))
    if info.get("commit"):
        rows.append(("Commit", f"`{info['commit'][:12]}`"))
    if info.get("branch"):
        rows.append(("Branch", f"`{info['branch']}`"))
    if info.get("updated_at"):
        rows.append(("Updated", info["updated_at"]))
    if state == "deployed" and info.get("time_to_ready") is not None:
        rows.append(("Time to ready", f"{info['time_to_ready']:.0f} s"))
    if state == "deployed" and info.get("quota"):
        rows.append(("Quota", _quota_summary(info["quota"])))
    if state == "preserved" and info.get("preserve_until"):
        rows.append(("Preserved until", info["preserve_until"]))
    if state == "destroyed":
        rows.append(("Merged", "yes" if info.get("merged") else "no"))
        if info.get("destroyed_at"):
            rows.append(("Destroyed", info["destroyed_at"]))
    lines += ["| | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in rows]
    if state in ("failed", "refused") and info.get("reason"):
        lines += ["", f"**{'Failed step: ' + info['step'] + ' — ' if info.get('step') else ''}{info['reason']}**"]
    if info.get("note"):
        lines += ["", info["note"]]
    if state == "failed" and info.get("details"):
        lines += ["", "<details><summary>What was not ready</summary>", ""]
        lines += _fence([_cut(str(d), DETAIL_MAX) for d in info["details"]][:40])
        lines += ["", "</details>"]
    return _cap("\n".join(lines) + "\n")


# GitHub refuses a comment body longer than 65,536 characters; a body is kept below that, counted in UTF-8 bytes
# (never fewer than characters), with room to spare.
BODY_MAX = 60000
DETAIL_MAX = 1000
CUT_NOTE = "_(cut: the full text was longer than a comment may be; see the job's log)_"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cap(body: str) -> str:
    """`body` within BODY_MAX: cut at a line, a code block or <details> left open closed again, and a note. The
    marker on the first line stays."""
    if len(body.encode()) <= BODY_MAX:
        return body
    room = BODY_MAX - len(CUT_NOTE.encode()) - 200  # closing fence and </details>
    kept, size, fence, opened = [], 0, None, 0
    for line in body.split("\n"):
        line = _cut(line, room // 2)
        if size + len(line.encode()) + 1 > room:
            break
        kept.append(line)
        size += len(line.encode()) + 1
        if fence is None and line.startswith("```"):
            fence = line[: len(line) - len(line.lstrip("`"))]
        elif fence is not None:
            fence = None if line.strip() == fence else fence
        else:
            opened += line.count("<details>") - line.count("</details>")
    if fence is not None:
        kept.append(fence)
    kept += ["", CUT_NOTE] + ["", "</details>"] * max(opened, 0)
    return "\n".join(kept) + "\n"


PRESERVE_MARKER = "<!-- k8s-ee:preserve -->"


def render_preserve(kind: str, namespace: str, **info) -> str:
    """The separate preserve comment: `preserved`, `warning`, `expired` or `refused`."""
    lines = [PRESERVE_MARKER]
    if kind == "preserved":
        lines.append(f"### 📌 `{namespace}` is preserved until {info['preserve_until']} (by @{info['user']})")
        if info.get("capped"):
            lines.append(f"\nYou asked for {info['asked']} hours; preserves last at most 48 hours from now.")
        lines.append(
            "\nIt stays after the pull request is closed and is removed when the time is up. "
            "Comment `/preserve` again to extend it to 48 hours from then."
        )
    elif kind == "warning":
        lines.append(f"### ⏳ The preserve of `{namespace}` ends at {info['preserve_until']} (within the hour)")
        lines.append("\nComment `/preserve [hours]` to extend it.")
    elif kind == "expired":
        fate = (
            "the pull request is closed, so the environment was destroyed"
            if info.get("destroyed")
            else "the environment stays while the pull request is open"
        )
        lines.append(f"### ⌛ The preserve of `{namespace}` expired at {info['preserve_until']}; {fate}.")
    elif kind == "refused":
        lines.append(f"### ⛔ `/preserve` refused: {info['reason']}")
    else:
        raise ValueError(f"kind: {kind!r} is not one of preserved, warning, expired, refused")
    return "\n".join(lines) + "\n"
