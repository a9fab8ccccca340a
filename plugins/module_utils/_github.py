# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small GitHub REST v3 client (SPEC 11): pagination, bounded retries that honour Retry-After and
X-RateLimit-Reset, a timeout per call, a configurable base URL (GitHub Enterprise). The token is sent
only in the Authorization header and never appears in messages."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url

DEFAULT_API_URL = "https://api.github.com"
MAX_ATTEMPTS = 4
MAX_WAIT = 60.0  # never sleep longer than this for one retry


class GitHubError(RuntimeError):
    def __init__(self, status: int, method: str, path: str, message: str):
        self.status = status
        self.path = path
        super().__init__(
            f"GitHub {method} {path}: HTTP {status}: {message}" if status else f"GitHub {method} {path}: {message}"
        )


class GitHub:
    def __init__(
        self,
        token: str | None,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 30,
        sleep=time.sleep,
        clock=time.time,
        max_attempts: int = MAX_ATTEMPTS,
    ):
        self.token = token
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max_attempts
        self.requests = 0

    # ---- transport

    def _url(self, path: str, query: dict | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        return url

    def _retry_after(self, status: int, headers, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the response is final."""
        retry_after = headers.get("Retry-After")
        remaining = headers.get("X-RateLimit-Remaining")
        reset = headers.get("X-RateLimit-Reset")
        if status in (403, 429):
            if retry_after:
                return min(float(retry_after), MAX_WAIT)
            if remaining == "0" and reset:
                return min(max(float(reset) - self.clock(), 0) + 1, MAX_WAIT)
            return None  # a plain 403 is a permission problem, not a rate limit
        if status >= 500 or status == 0:
            return min(float(retry_after), MAX_WAIT) if retry_after else min(2.0**attempt, MAX_WAIT)
        return None

    def request(self, method: str, path: str, body=None, query: dict | None = None):
        """Returns (status, decoded body, headers); raises GitHubError for final failures."""
        url = self._url(path, query)
        shown = urllib.parse.urlsplit(url).path
        data = json.dumps(body).encode() if body is not None else None
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "k8s-ee-platform",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            status, response_headers, message = 0, {}, ""
            try:
                with open_url(
                    url, data=data, method=method, headers=headers, timeout=self.timeout, follow_redirects="safe"
                ) as response:
                    raw = response.read()
                    return response.status, (json.loads(raw) if raw else None), response.headers
            except urllib.error.HTTPError as exc:
                status, response_headers = exc.code, exc.headers
                try:
                    message = json.loads(exc.read() or b"{}").get("message", "")
                except ValueError:
                    message = ""
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                message = f"no response ({getattr(exc, 'reason', exc)})"
            wait = self._retry_after(status, response_headers, attempt)
            if wait is None or attempt == self.max_attempts:
                raise GitHubError(status, method, shown, message or "request failed")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def get(self, path: str, query: dict | None = None):
        return self.request("GET", path, query=query)[1]

    def paginate(self, path: str, query: dict | None = None):
        """Every item of a list endpoint, following the Link header."""
        url = self._url(path, {"per_page": 100, **(query or {})})
        while url:
            _status, items, headers = self.request("GET", url)
            yield from items or []
            url = _next_link(headers.get("Link"))

    # ---- the operations the platform uses

    def find_comment(self, repository: str, number: int, marker: str) -> dict | None:
        for comment in self.paginate(f"/repos/{repository}/issues/{number}/comments"):
            if marker in (comment.get("body") or ""):
                return comment
        return None

    def upsert_comment(self, repository: str, number: int, marker: str, body: str) -> tuple[str, dict]:
        """Edit the comment carrying `marker`, or create it; returns (action, comment)."""
        if marker not in body:
            raise ValueError("the comment body must contain its marker")
        existing = self.find_comment(repository, number, marker)
        if existing is None:
            created = self.request("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})[1]
            return "created", created
        if existing.get("body") == body:
            return "unchanged", existing
        updated = self.request("PATCH", f"/repos/{repository}/issues/comments/{existing['id']}", {"body": body})[1]
        return "updated", updated

    def pull_request(self, repository: str, number: int) -> dict:
        return self.get(f"/repos/{repository}/pulls/{number}")

    def permission(self, repository: str, username: str) -> str:
        data = self.get(f"/repos/{repository}/collaborators/{urllib.parse.quote(username)}/permission")
        return (data or {}).get("permission", "none")

    def react(self, repository: str, comment_id: int, content: str) -> None:
        self.request("POST", f"/repos/{repository}/issues/comments/{comment_id}/reactions", {"content": content})


def _next_link(link: str | None) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None
