# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Untrusted text on its way to a public pull request comment (docs/security.md, "What a pull request's comment may
show"): pod log lines and event messages are written by whatever runs in the environment. Control characters and
terminal escapes are removed, every known secret value and the password of any URI is masked, and every line and the
whole are length-capped — in that order, so a cut never shows the beginning of a secret."""

from __future__ import annotations

import base64
import re
import unicodedata
import urllib.parse

MASK = "[redacted]"
# Shorter values are not masked as text: they would mask ordinary words (a generated password has 32 characters).
MIN_SECRET = 6
# Keys whose values are addresses and names, not secrets: CloudNativePG's `postgresql-app` (host, port, dbname,
# user), MongoDB's `mongodb-app` (username), service account token Secrets (namespace, ca.crt), TLS Secrets
# (tls.crt). Masking them would hide what a failure is about ("could not connect to postgresql-rw").
PUBLIC_KEYS = frozenset({"host", "port", "dbname", "database", "user", "username", "namespace", "ca.crt", "tls.crt"})

_ESCAPES = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]              # CSI: colours, cursor movement, erase
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC: window titles, hyperlinks
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?        # DCS, SOS, PM, APC strings
    | \x1b.?                               # any other escape
    | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
    """,
    re.VERBOSE | re.DOTALL,
)
_AUTHORITY = re.compile(r"[^\s/?#]*")
_DROPPED = ("Cc", "Cf", "Cs", "Zl", "Zp")
# A longer line is cut before it is looked at (a log line or an event message may be megabytes long).
RAW_LIMIT = 65536


def clean(text: str) -> str:
    """`text` without terminal escapes, control and format characters (bidirectional overrides, zero-width
    characters); tabs, newlines and other whitespace controls become spaces."""
    text = _ESCAPES.sub("", str(text))
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char in "\t\n\r\v\f":
            out.append(" ")
        elif unicodedata.category(char) not in _DROPPED:
            out.append(char)
    return "".join(out)


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def mask_uri_passwords(text: str) -> str:
    """`scheme://user:password@host` with the password masked (up to the last @ of the authority, so a password
    with an unescaped @ is masked whole)."""
    out, done = [], 0
    start = text.find("://")
    while start != -1:
        authority = _AUTHORITY.match(text, start + 3)
        userinfo = authority.group().rpartition("@")[0]
        if ":" in userinfo:
            begin = start + 3 + userinfo.index(":") + 1
            out += [text[done:begin], MASK]
            done = start + 3 + len(userinfo)
        start = text.find("://", max(authority.end(), start + 3))
    return "".join(out) + text[done:]


def _variants(value: str):
    """The forms in which a secret value may appear in text: as is, percent-encoded, each of its lines, and the
    password inside it when it is a URI."""
    yield value
    yield value.strip()
    yield urllib.parse.quote(value, safe="")
    yield urllib.parse.quote_plus(value, safe="")
    for line in value.splitlines():
        yield line.strip()
    if "://" in value:
        try:
            password = urllib.parse.urlsplit(value.strip()).password
        except ValueError:
            password = None
        if password:
            yield password
            yield urllib.parse.unquote(password)


class Redactor:
    """Masks known secret values (`values`, and those `load()` returns the first time it is needed) and the
    password of every URI."""

    def __init__(self, values=(), load=None):
        self._known: set[str] = set()
        self._load = load
        self._pattern = None
        self.add(values)

    def add(self, values) -> None:
        for value in values:
            if isinstance(value, str):
                self._known.update(v for v in _variants(value) if len(v) >= MIN_SECRET)
        self._pattern = None

    def load_later(self, load) -> None:
        """Also mask what `load()` returns, called the first time a value is needed."""
        self._load = load
        self._pattern = None

    def values(self) -> list[str]:
        """Every value that is masked (to keep out of module output as well)."""
        if self._load is not None:
            load, self._load = self._load, None
            self.add(load())
        return sorted(self._known)

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            known = sorted(self.values(), key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, known))) if known else False
        if self._pattern:
            text = self._pattern.sub(MASK, text)
        return mask_uri_passwords(text)

    @property
    def longest(self) -> int:
        return max(map(len, self.values()), default=0)


def secret_values(secret: dict) -> list[str]:
    """The values of a Secret as read from the API (base64 `data`) or as rendered (`stringData`), but those of
    PUBLIC_KEYS and binary ones (which cannot appear in text as they are)."""
    out = []
    for key, encoded in (secret.get("data") or {}).items():
        if key in PUBLIC_KEYS or not encoded:
            continue
        try:
            out.append(base64.b64decode(encoded).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    out += [v for k, v in (secret.get("stringData") or {}).items() if k not in PUBLIC_KEYS and isinstance(v, str)]
    return out


def safe_line(line: str, redact, limit: int) -> str:
    """One line cleaned, masked, then cut to `limit` characters."""
    line = str(line)
    cut = len(line) > RAW_LIMIT
    text = redact(clean(line[:RAW_LIMIT]))
    if cut:  # the end may hold the beginning of a secret that went on past the cut
        text = text[: max(len(text) - max(getattr(redact, "longest", 0) - 1, 0), 0)] + "…"
    return cap(text, limit)


def safe_lines(lines, redact, line_limit: int, total_limit: int) -> list[str]:
    """Each line made safe (safe_line); lines after `total_limit` characters are left out and counted."""
    out, total = [], 0
    lines = list(lines)
    for index, line in enumerate(lines):
        line = safe_line(line, redact, line_limit)
        if total + len(line) > total_limit:
            out.append(f"… {len(lines) - index} more line(s) not shown")
            break
        out.append(line)
        total += len(line) + 1
    return out
