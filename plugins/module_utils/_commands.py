# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull request comment commands (SPEC 7): `/deploy-preview`, `/destroy-preview`, `/preserve [hours]`.

A command is a whole word at the start of a line of the comment; anything else is ignored, so
quoting or mentioning a command in prose does nothing.
"""

from __future__ import annotations

import re

COMMANDS = ("deploy-preview", "destroy-preview", "preserve")
_LINE = re.compile(r"^\s*/(deploy-preview|destroy-preview|preserve)(?![\w-])(?:[ \t]+(\S+))?[ \t]*$")


class CommandError(ValueError):
    pass


def parse(body: str | None) -> dict | None:
    """The first command in a comment body, or None: {'command': name, 'hours': int|None}."""
    for line in (body or "").splitlines():
        if line.lstrip().startswith(">"):  # a quoted command is not a command
            continue
        match = _LINE.match(line)
        if not match:
            continue
        command, argument = match.group(1), match.group(2)
        if command != "preserve":
            if argument is not None:
                continue  # "/deploy-preview now" is prose, not the command
            return {"command": command, "hours": None}
        if argument is None:
            return {"command": command, "hours": None}
        if not re.fullmatch(r"[0-9]{1,4}", argument) or int(argument) < 1:
            raise CommandError(
                f"/preserve: {argument!r} is not a number of hours; write /preserve or /preserve 24 (1 to 48)"
            )
        return {"command": command, "hours": int(argument)}
    return None
