# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull request comment commands: `/deploy-preview`, `/destroy-preview`, `/preserve [hours]` (docs/runbooks.md,
"Comment commands").

A command is a whole word at the start of a line of the comment; anything else is ignored, so
quoting or mentioning a command in prose does nothing.

`/deploy-preview` of a pull request whose author is not trusted approves one commit: the one named in
the comment (`/deploy-preview <40-hex sha>`), or the head the platform's own comment showed when the
command was written (`approval`). A push after that needs a new approval (docs/security.md).
"""

from __future__ import annotations

import re

from ansible_collections.k8s_ee.platform.plugins.module_utils._access import WRITE_PERMISSIONS, author_trusted
from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER, SHA_RE, code, head_of, mention
from ansible_collections.k8s_ee.platform.plugins.module_utils._timestamps import parse_datetime

COMMANDS = ("deploy-preview", "destroy-preview", "preserve")
_LINE = re.compile(r"^\s*/(deploy-preview|destroy-preview|preserve)(?![\w-])(?:[ \t]+(\S+))?[ \t]*$")


class CommandError(ValueError):
    pass


def parse(body: str | None) -> dict | None:
    """The first command in a comment body, or None: {'command': name, 'hours': int|None, 'sha': str|None}."""
    for line in (body or "").splitlines():
        if line.lstrip().startswith(">"):  # a quoted command is not a command
            continue
        match = _LINE.match(line)
        if not match:
            continue
        command, argument = match.group(1), match.group(2)
        if command == "deploy-preview" and argument is not None and re.fullmatch(r"[0-9a-fA-F]{7,64}", argument):
            if not SHA_RE.fullmatch(argument.lower()):
                raise CommandError(
                    f"/deploy-preview: {argument[:64]} is not a whole commit SHA; name all 40 hex digits "
                    "(a shorter prefix can be forged by a later push)"
                )
            return {"command": command, "hours": None, "sha": argument.lower()}
        if command != "preserve":
            if argument is not None:
                continue  # "/deploy-preview now" is prose, not the command
            return {"command": command, "hours": None, "sha": None}
        if argument is None:
            return {"command": command, "hours": None, "sha": None}
        if not re.fullmatch(r"[0-9]{1,4}", argument) or int(argument) < 1:
            raise CommandError(
                f"/preserve: {code(argument[:64])} is not a number of hours; "
                "write `/preserve` or `/preserve 24` (1 to 48)"
            )
        return {"command": command, "hours": int(argument), "sha": None}
    return None


def approval(parsed: dict, pull: dict, written_at: str | None, own_comment: dict | None) -> str:
    """The commit a `/deploy-preview` approves; raises CommandError (with what to do) when there is none.

    `pull` is the pull request as GitHub gives it now, `written_at` when the command's comment was written
    (GitHub's created_at), `own_comment` the platform's own marker comment (written by its token's identity).
    A trusted author's pull request deploys its head anyway; otherwise the approved commit is the one named, or
    the head the platform's comment showed when it was last written before the command. Either must still be
    the pull request's head.
    """
    head = ((pull.get("head") or {}).get("sha") or "").lower()
    if not SHA_RE.fullmatch(head):
        raise CommandError("the pull request has no head commit GitHub could name; try again")
    named = parsed.get("sha")
    if named:
        if named != head:
            raise CommandError(
                f"/deploy-preview names {named}, but the pull request's head is now {head}; "
                f"review it and comment `/deploy-preview {head}`"
            )
        return head
    if author_trusted(pull.get("author_association")):
        return head
    retry = f"review the head and comment `/deploy-preview {head}`"
    shown = head_of((own_comment or {}).get("body"))
    written, updated = parse_datetime(written_at), parse_datetime((own_comment or {}).get("updated_at"))
    if written is None or shown is None or updated is None:
        raise CommandError(f"the approved commit is not known (the platform's comment names none); {retry}")
    if updated >= written:
        raise CommandError(f"the pull request changed after the command was written; {retry}")
    if shown != head:
        raise CommandError(f"the head moved from {shown} to {head} after the command was written; {retry}")
    return head


REPLY_MARKER = "<!-- k8s-ee:command{id} -->"


def check(github, repository: str, number: int, expect: str, comment_id=None, comment=None, user=None, head_sha=None):
    """Accept, refuse or ignore one comment command (module pr_command): the result the module returns.

    With `comment_id` the comment's text, author and time come from GitHub's list of the pull request's
    comments, never from the caller. A refusal reacts 👎 and answers in a reply upserted per command comment
    (so a re-run never posts it twice)."""
    if head_sha and not SHA_RE.fullmatch(head_sha.lower()):
        raise CommandError(f"head_sha: {head_sha[:64]!r} is not a 40-hex commit SHA")
    written_at = None
    comments = None
    if comment_id is None and not user:
        raise CommandError("user: who wrote the comment is needed when comment_id is not given")
    if comment_id is not None:
        comments = list(github.comments(repository, number))
        found = next((c for c in comments if c.get("id") == comment_id), None)
        if found is None:
            raise CommandError(f"comment_id: {comment_id} is not a comment of {repository}#{number}")
        comment, user, written_at = (
            found.get("body") or "",
            (found.get("user") or {}).get("login") or "",
            found.get("created_at"),
        )

    def react(content):
        if comment_id is not None:
            github.react(repository, comment_id, content)

    def refuse(reason, **extra):
        react("-1")
        marker = REPLY_MARKER.format(id=f":{comment_id}" if comment_id is not None else "")
        github.upsert_comment(repository, number, marker, f"{marker}\n{mention(user)} {reason}")
        return {"changed": True, "accepted": False, "ignored": False, "reason": reason, "user": user, **extra}

    try:
        parsed = parse(comment)
    except CommandError as exc:
        return refuse(str(exc))
    if parsed is None or parsed["command"] != expect:
        return {"changed": False, "accepted": False, "ignored": True, "reason": f"no /{expect} command in the comment"}
    react("eyes")
    permission = github.permission(repository, user)
    if permission not in WRITE_PERMISSIONS:
        return refuse(
            f"has {permission} permission on {repository}; /{parsed['command']} needs write, maintain or admin",
            permission=permission,
        )
    pull = github.pull_request(repository, number)
    head = ((pull.get("head") or {}).get("sha") or "").lower()
    if parsed["command"] == "deploy-preview":
        if comments is None:
            own = github.find_comment(repository, number, MARKER)
        else:
            own = next((c for c in comments if github.is_own(c) and MARKER in (c.get("body") or "")), None)
        try:
            head = approval(parsed, pull, written_at, own)
        except CommandError as exc:
            return refuse(str(exc), permission=permission)
        if head_sha and head_sha.lower() != head:
            return refuse(
                f"the commit about to be built is {head_sha.lower()}, but the approved commit is {head}; "
                f"comment `/deploy-preview {head_sha.lower()}` to approve that one",
                permission=permission,
            )
    return {
        "changed": True,
        "accepted": True,
        "ignored": False,
        "reason": "",
        "user": user,
        "permission": permission,
        "hours": parsed["hours"],
        "pull_request": {
            "state": pull.get("state"),
            "merged": bool(pull.get("merged")),
            "head_sha": head,
            "branch": (pull.get("head") or {}).get("ref", ""),
            "author": (pull.get("user") or {}).get("login", ""),
            "author_association": pull.get("author_association", ""),
        },
    }
