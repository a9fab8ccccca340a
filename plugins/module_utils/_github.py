# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small GitHub REST v3 client (docs/security.md, "Comments"): pagination, bounded retries that honour Retry-After and
X-RateLimit-Reset, a timeout per call, a configurable base URL (GitHub Enterprise). The token is sent
only in the Authorization header and never appears in messages.

Retries (docs/security.md, "Comments"): a request GitHub did not carry out (a rate limit) is retried
whatever its method; after a 5xx or no answer only idempotent requests are retried, because a POST may
have been carried out before the answer was lost — `upsert_comment` looks again before it creates.
The platform's own comments are those its token's identity wrote (`login`): anybody can write the
hidden marker into a comment of their own.

Requests go out through one urllib3 pool per client: its connections are kept open between requests (cleanup asks
about hundreds of pull requests; a new TLS connection each time would be most of its time) and its TLS context is
made once. Proxies come from the environment (https_proxy, no_proxy, ...), as for any urllib client."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request

from ansible_collections.k8s_ee.platform.plugins.module_utils import _naming

DEFAULT_API_URL = "https://api.github.com"
# Who a workflow's GITHUB_TOKEN writes as; a GitHub App writes as "<app-slug>[bot]", a personal token as its user.
DEFAULT_LOGIN = "github-actions[bot]"
IDEMPOTENT = ("GET", "HEAD", "PUT", "PATCH", "DELETE")
MAX_ATTEMPTS = 4
MAX_WAIT = 60.0  # never sleep longer than this for one retry


def repository_path(repository: str) -> str:
    """`/repos/owner/repo`, refusing anything that is not one repository's name (it becomes part of a URL)."""
    return f"/repos/{_naming.repository(repository)}"


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
        login: str = DEFAULT_LOGIN,
    ):
        self.token = token
        self.login = login or DEFAULT_LOGIN
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max_attempts
        self.requests = 0
        self._pools: dict = {}

    def _pool(self, url: str):
        """The connection pool for `url`: through the environment's proxy for its scheme unless no_proxy
        exempts its host."""
        import urllib3

        parts = urllib.parse.urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
            proxy = None
        if proxy not in self._pools:
            self._pools[proxy] = (
                urllib3.ProxyManager(proxy, num_pools=2, maxsize=2) if proxy else urllib3.PoolManager(num_pools=2)
            )
        return self._pools[proxy]

    # ---- transport

    def _url(self, path: str, query: dict | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        return url

    def _retry_after(self, status: int, headers, attempt: int, idempotent: bool = True) -> float | None:
        """Seconds to wait before retrying, or None when the response is final. A rate limit means GitHub
        did nothing, so any request may be sent again; after a 5xx or no answer only an idempotent one."""
        retry_after = headers.get("Retry-After")
        remaining = headers.get("X-RateLimit-Remaining")
        reset = headers.get("X-RateLimit-Reset")
        if status in (403, 429):
            if retry_after:
                return min(float(retry_after), MAX_WAIT)
            if remaining == "0" and reset:
                return min(max(float(reset) - self.clock(), 0) + 1, MAX_WAIT)
            return None  # a plain 403 is a permission problem, not a rate limit
        if not idempotent:
            return None
        if status >= 500 or status == 0:
            return min(float(retry_after), MAX_WAIT) if retry_after else min(2.0**attempt, MAX_WAIT)
        return None

    def request(self, method: str, path: str, body=None, query: dict | None = None, idempotent: bool | None = None):
        """Returns (status, decoded body, headers); raises GitHubError for final failures. `idempotent`
        (default: by method) says whether a request that may have been carried out can be sent again."""
        if idempotent is None:
            idempotent = method in IDEMPOTENT
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
        import urllib3  # imported when a request is sent, as in _kube

        redirects = 0
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            status, response_headers, message = 0, {}, ""
            try:
                # redirects are followed here, not by urllib3, which would send the token to any address
                response = self._pool(url).request(
                    method,
                    url,
                    body=data,
                    headers=headers,
                    timeout=urllib3.Timeout(total=self.timeout),
                    retries=False,
                    redirect=False,
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                message = f"no response ({getattr(exc, 'reason', None) or exc})"
            else:
                status, response_headers, raw = response.status, response.headers, response.data
                if 200 <= status < 300:
                    return status, (json.loads(raw) if raw else None), response_headers
                location = response_headers.get("Location") if status in (301, 302, 307, 308) else None
                if location and redirects < 3:
                    url = urllib.parse.urljoin(url, location)
                    if not url.startswith(self.api_url + "/"):
                        raise GitHubError(status, method, shown, "redirected away from the API's address") from None
                    redirects += 1
                    continue
                try:
                    message = json.loads(raw or b"{}").get("message", "")
                except (ValueError, AttributeError):
                    message = ""
            wait = self._retry_after(status, response_headers, attempt, idempotent)
            if wait is None or attempt == self.max_attempts:
                raise GitHubError(status, method, shown, message or "request failed")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def get(self, path: str, query: dict | None = None):
        return self.request("GET", path, query=query)[1]

    def paginate(self, path: str, query: dict | None = None):
        """Every item of a list endpoint, following the Link header (only to the API's own address, which
        is where the token goes)."""
        url = self._url(path, {"per_page": 100, **(query or {})})
        while url:
            _status, items, headers = self.request("GET", url)
            yield from items or []
            url = _next_link(headers.get("Link"))
            if url and not url.startswith(self.api_url + "/"):
                raise GitHubError(
                    0, "GET", urllib.parse.urlsplit(url).path, "the next page is not on the API's address"
                )

    # ---- the operations the platform uses

    def comments(self, repository: str, number: int):
        """Every comment of an issue or pull request, oldest first."""
        return self.paginate(f"{repository_path(repository)}/issues/{int(number)}/comments")

    def is_own(self, comment: dict) -> bool:
        """Whether the token's identity wrote `comment` (GitHub logins are case-insensitive)."""
        return ((comment.get("user") or {}).get("login") or "").lower() == self.login.lower()

    def find_comment(self, repository: str, number: int, marker: str) -> dict | None:
        """The first comment carrying `marker` that the token's own identity wrote."""
        for comment in self.comments(repository, number):
            if self.is_own(comment) and marker in (comment.get("body") or ""):
                return comment
        return None

    def upsert_comment(self, repository: str, number: int, marker: str, body: str) -> tuple[str, dict]:
        """Edit the own comment carrying `marker`, or create it; returns (action, comment). A creation whose
        answer was lost is not sent again blindly: the comments are read again first."""
        if marker not in body:
            raise ValueError("the comment body must contain its marker")
        existing = self.find_comment(repository, number, marker)
        if existing is None:
            return "created", self._create_comment(repository, number, marker, body)
        if existing.get("body") == body:
            return "unchanged", existing
        updated = self.request(
            "PATCH", f"{repository_path(repository)}/issues/comments/{int(existing['id'])}", {"body": body}
        )[1]
        return "updated", updated

    def _create_comment(self, repository: str, number: int, marker: str, body: str) -> dict:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.request(
                    "POST", f"{repository_path(repository)}/issues/{int(number)}/comments", {"body": body}
                )[1]
            except GitHubError as exc:
                if not (exc.status == 0 or exc.status >= 500) or attempt == self.max_attempts:
                    raise
            self.sleep(min(2.0**attempt, MAX_WAIT))
            found = self.find_comment(repository, number, marker)
            if found is not None:  # the creation was carried out; only its answer was lost
                return found
        raise AssertionError("unreachable")

    def repository(self, repository: str) -> dict:
        return self.get(repository_path(repository))

    def pull_request(self, repository: str, number: int) -> dict:
        return self.get(f"{repository_path(repository)}/pulls/{int(number)}")

    def permission(self, repository: str, username: str) -> str:
        user = urllib.parse.quote(username, safe="")
        data = self.get(f"{repository_path(repository)}/collaborators/{user}/permission")
        return (data or {}).get("permission", "none")

    def react(self, repository: str, comment_id: int, content: str) -> None:
        # GitHub answers an existing reaction of the same user and content with 200: sending it twice is harmless
        self.request(
            "POST",
            f"{repository_path(repository)}/issues/comments/{int(comment_id)}/reactions",
            {"content": content},
            idempotent=True,
        )


def _next_link(link: str | None) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None
