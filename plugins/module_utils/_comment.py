# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one PR comment of an environment (docs/adopting.md, "Reading the PR comment"), found again by its hidden marker.

Text that comes from a pull request or an event (branch, the reasons and details that quote
k8s-ee.yaml, log lines) is shown only inside code spans and fenced blocks: there GitHub renders it
verbatim, and no link, image, mention or HTML can come out of it (docs/security.md, "Comments").
"""

from __future__ import annotations

import re
import urllib.parse

MARKER = "<!-- k8s-ee:environment -->"
# The head commit the comment was written for, on the line after the marker: what a bare /deploy-preview
# approves (_commands.approval).
HEAD_MARKER = "<!-- k8s-ee:head={sha} -->"
_HEAD_RE = re.compile(r"<!-- k8s-ee:head=([0-9a-f]{40}) -->")
SHA_RE = re.compile(r"[0-9a-f]{40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
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
    text = "\n".join(_CONTROL.sub("\ufffd", line) for line in lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def code(text, table: bool = False) -> str:
    """`text` as an inline code span GitHub shows verbatim (control characters become U+FFFD). In a table
    cell a `|` would end the cell even inside the span, so there it is escaped (GFM unescapes it)."""
    text = _CONTROL.sub("\ufffd", str(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def head_of(body: str | None) -> str | None:
    """The head commit recorded in a comment `render` wrote: only on its second line, where no text from a pull
    request can be (a branch shown further down may well contain a look-alike marker)."""
    lines = (body or "").split("\n", 2)
    match = _HEAD_RE.fullmatch(lines[1]) if len(lines) > 1 and lines[0] == MARKER else None
    return match.group(1) if match else None


def render(state: str, namespace: str | None, **info) -> str:
    """Markdown of the comment; `info` may hold url, commit, branch, updated_at, time_to_ready, quota,
    reason, step, details, merged, grafana_url, preserve_until, approvable, note (`note` is the platform's
    own Markdown; everything else is shown as data). Without a namespace (a refusal decided before
    k8s-ee.yaml was read) the comment has no namespace row and no Grafana link."""
    if state not in STATES:
        raise ValueError(f"state: {state!r} is not one of {', '.join(STATES)}")
    commit = info.get("commit") or ""
    lines = [MARKER]
    if SHA_RE.fullmatch(commit):
        lines.append(HEAD_MARKER.format(sha=commit))
    lines += [f"### {ICONS[state]} Preview environment: {state}", ""]
    rows = []
    if state == "deployed" and info.get("url"):
        rows.append(("Preview", f"[{info['url']}]({info['url']})"))
    link = grafana_link(info.get("grafana_url"), namespace) if namespace else None
    if link and state in ("deployed", "failed", "preserved"):
        rows.append(("Logs & metrics", f"[Grafana]({link})"))
    if namespace:
        rows.append(("Namespace", code(namespace, table=True)))
    if commit:
        rows.append(("Commit", code(commit[:12], table=True)))
    if info.get("branch"):
        rows.append(("Branch", code(info["branch"], table=True)))
    if info.get("updated_at"):
        rows.append(("Updated", code(info["updated_at"], table=True)))
    if state == "deployed" and info.get("time_to_ready") is not None:
        seconds = info["time_to_ready"]  # whole seconds between two timestamps
        rows.append(("Time to ready", f"{seconds:.0f} s" if seconds >= 1 else "under 1 s"))
    if state == "deployed" and info.get("quota"):
        rows.append(("Quota", _quota_summary(info["quota"])))
    if state == "preserved" and info.get("preserve_until"):
        rows.append(("Preserved until", code(info["preserve_until"], table=True)))
    if state == "destroyed":
        rows.append(("Merged", "yes" if info.get("merged") else "no"))
        if info.get("destroyed_at"):
            rows.append(("Destroyed", code(info["destroyed_at"], table=True)))
    if rows:
        lines += ["| | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in rows]
    if state in ("failed", "refused") and info.get("step"):
        lines += ["", f"**Failed step:** {code(info['step'])}"]
    if state in ("failed", "refused") and info.get("reason"):
        lines += ["", *_fence(str(info["reason"]).splitlines() or [""])]
    if state == "refused" and info.get("approvable") and SHA_RE.fullmatch(commit):
        lines += [
            "",
            f"A maintainer (write permission) who has reviewed commit `{commit}` can deploy it by commenting "
            f"`/deploy-preview {commit}`. A later push needs a new approval.",
        ]
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


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


def mention(login: str) -> str:
    """@login for a GitHub login; anything else is shown as data, never as a mention."""
    return f"@{login}" if _LOGIN.fullmatch(login or "") else code(login)


def render_preserve(kind: str, namespace: str, **info) -> str:
    """The separate preserve comment: `preserved`, `warning`, `expired` or `refused`."""
    lines = [PRESERVE_MARKER]
    namespace, until = code(namespace), code(info.get("preserve_until") or "")
    if kind == "preserved":
        lines.append(f"### 📌 {namespace} is preserved until {until} (by {mention(info['user'])})")
        if info.get("capped"):
            lines.append(f"\nYou asked for {info['asked']} hours; preserves last at most 48 hours from now.")
        lines.append(
            "\nIt stays after the pull request is closed and is removed when the time is up. "
            "Comment `/preserve` again to extend it to 48 hours from then."
        )
    elif kind == "warning":
        lines.append(f"### ⏳ The preserve of {namespace} ends at {until} (within the hour)")
        lines.append("\nComment `/preserve [hours]` to extend it.")
    elif kind == "expired":
        fate = (
            "the pull request is closed, so the environment was destroyed"
            if info.get("destroyed")
            else "the environment stays while the pull request is open"
        )
        lines.append(f"### ⌛ The preserve of {namespace} expired at {until}; {fate}.")
    elif kind == "refused":
        lines += ["### ⛔ `/preserve` refused", "", *_fence(str(info["reason"]).splitlines() or [""])]
    else:
        raise ValueError(f"kind: {kind!r} is not one of preserved, warning, expired, refused")
    return "\n".join(lines) + "\n"
