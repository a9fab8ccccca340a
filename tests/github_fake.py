"""A local GitHub REST server for tests, shaped by the upstream github-rest-subset.json (tests/upstream.py).

Only operations of that OpenAPI description are served (anything else is a 404 and recorded as a
violation). Response objects start from the description's own examples; every response body and
request body is validated against the description's schemas. Every request is recorded (without the
token). Failures can be queued: `fail_next(path_regex, status, headers, times)`; with `after=True` the
request is carried out first and only its answer is replaced (a lost answer).

The token writes as `login` (GitHub's login for a workflow's GITHUB_TOKEN by default). Comments carry
`created_at`/`updated_at` from the server's clock (`clock`, injectable), as GitHub sets them.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import pathlib
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import jsonschema
import upstream
from loopback import LoopbackServer


def spec_path() -> pathlib.Path:
    """K8S_EE_GITHUB_SPEC as it is, or the verified github-rest-subset.json of tests/upstream.py."""
    if os.environ.get("K8S_EE_GITHUB_SPEC"):
        return pathlib.Path(os.environ["K8S_EE_GITHUB_SPEC"])
    return upstream.path("github-rest-subset.json")


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0 `nullable` to JSON Schema; everything else is already JSON Schema."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    def __init__(self, path: pathlib.Path):
        self.doc = json.loads(path.read_text())
        self.routes = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$"
            self.routes.append((re.compile(pattern), template, item))
        converted = _openapi_to_jsonschema(self.doc)
        self.root = {"components": converted["components"]}
        self._validators: dict = {}  # validators of the description's schemas, each made once (it is slow)

    def match(self, method: str, path: str):
        for pattern, template, item in self.routes:
            found = pattern.match(path)
            if found and method.lower() in item:
                return template, item[method.lower()], found.groups()
        return None

    def example(self, name: str):
        return copy.deepcopy(self.doc["components"]["examples"][name]["value"])

    def _schema(self, schema: dict) -> dict:
        return {**self.root, **_openapi_to_jsonschema(schema)}

    def _validate(self, body, schema: dict) -> None:
        """jsonschema.validate(body, self._schema(schema)), with the schema converted and checked once."""
        validator = self._validators.get(id(schema))
        if validator is None:
            full = self._schema(schema)
            cls = jsonschema.validators.validator_for(full)
            cls.check_schema(full)
            validator = self._validators[id(schema)] = cls(full)
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is not None:
            raise error

    def check_response(self, operation: dict, status: int, body) -> None:
        response = operation["responses"].get(str(status))
        if response is None:
            raise AssertionError(f"status {status} is not a documented response")
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content", {}).get("application/json")
        if content and body is not None:
            self._validate(body, content["schema"])

    def complete(self, operation: dict, status: int, body):
        """Add the required properties an upstream example leaves out (with empty values of their type), so
        responses built from the description's examples satisfy the description's schemas."""
        schema = self._response_schema(operation, status)
        if schema is None:
            return body
        key = ("complete", id(operation), status)
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft4Validator(schema)
        validator = self._validators[key]
        empty = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}, "null": None}
        for _attempt in range(200):
            errors = [e for e in validator.iter_errors(body) if e.validator == "required"]
            if not errors:
                return body
            error = errors[0]
            missing = error.message.split("'")[1]
            prop = error.schema.get("properties", {}).get(missing, {})
            kind = prop.get("type", "null")
            kind = (
                "null" if isinstance(kind, list) and "null" in kind else (kind[0] if isinstance(kind, list) else kind)
            )
            value = prop["enum"][0] if prop.get("enum") else copy.deepcopy(empty.get(kind))
            error.instance[missing] = value
        return body

    def _response_schema(self, operation: dict, status: int):
        response = operation["responses"].get(str(status))
        if response is None:
            return None
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content", {}).get("application/json")
        return self._schema(content["schema"]) if content else None

    def check_request(self, operation: dict, body) -> None:
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content:
            self._validate(body, content["schema"])


class FakeGitHub(LoopbackServer):
    def __init__(self, token: str = "test-token", login: str = "github-actions[bot]", clock=time.time):
        self.spec = Spec(spec_path())
        self.token = token
        self.login = login
        self.clock = clock
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.violations: list[str] = []
        self.comments: dict[tuple[str, int], list[dict]] = {}
        self.pulls: dict[tuple[str, int], dict] = {}
        self.permissions: dict[tuple[str, str], str] = {}
        self.reactions: list[tuple[int, str]] = []
        self.unreadable_repos: set[str] = set()
        self._failures: list[dict] = []
        self._next_id = 1000
        super().__init__(self._handler())

    # ---- test controls

    def fail_next(
        self,
        path_regex: str,
        status: int,
        headers: dict | None = None,
        times: int = 1,
        method=None,
        after: bool = False,
    ):
        self._failures.append(
            {
                "re": re.compile(path_regex),
                "status": status,
                "headers": headers or {},
                "times": times,
                "method": method,
                "after": after,
            }
        )

    def add_comment(self, repository: str, number: int, body: str, user: str = "someone") -> dict:
        with self.lock:
            comment = self._new_comment(repository, number, body, user)
            self.comments.setdefault((repository.lower(), number), []).append(comment)
            return comment

    def set_pull(
        self,
        repository: str,
        number: int,
        state: str = "open",
        merged: bool = False,
        closed_at: str | None = None,
        head_sha: str = "a" * 40,
        author: str = "octocat",
        association: str = "MEMBER",
        branch: str = "feature/login",
    ):
        self.pulls[(repository.lower(), number)] = {
            "state": state,
            "merged": merged,
            "closed_at": closed_at,
            "head_sha": head_sha,
            "author": author,
            "association": association,
            "branch": branch,
        }

    def now(self) -> str:
        return datetime.datetime.fromtimestamp(self.clock(), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def comments_of(self, repository: str, number: int) -> list[dict]:
        return self.comments.get((repository.lower(), number), [])

    def count(self, method: str | None = None, path_regex: str = ".*") -> int:
        pattern = re.compile(path_regex)
        return sum(1 for r in self.requests if (method is None or r["method"] == method) and pattern.search(r["path"]))

    # ---- objects

    def _new_comment(self, repository, number, body, user):
        self._next_id += 1
        comment = self.spec.example("issue-comment")
        comment.update(
            id=self._next_id,
            body=body,
            node_id=f"IC_{self._next_id}",
            url=f"{self.url}/repos/{repository}/issues/comments/{self._next_id}",
            html_url=f"https://github.com/{repository}/pull/{number}#issuecomment-{self._next_id}",
            issue_url=f"{self.url}/repos/{repository}/issues/{number}",
        )
        comment["user"]["login"] = user
        comment["created_at"] = comment["updated_at"] = self.now()
        return comment

    # ---- HTTP

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # as GitHub's: a connection stays open for the client's next request
            disable_nagle_algorithm = True  # headers and body leave at once, as from a real server

            def log_message(self, *args):
                pass

            def _send(self, status, body=None, headers=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                auth = self.headers.get("Authorization")
                with fake.lock:
                    fake.requests.append(
                        {
                            "method": method,
                            "path": url.path,
                            "query": query,
                            "body": body,
                            "authorized": auth == f"Bearer {fake.token}",
                        }
                    )
                    lost = None
                    for failure in fake._failures:
                        if (
                            failure["times"] > 0
                            and failure["re"].search(url.path)
                            and failure["method"] in (None, method)
                        ):
                            failure["times"] -= 1
                            if not failure["after"]:
                                return self._send(
                                    failure["status"], {"message": "injected failure"}, failure["headers"]
                                )
                            lost = failure
                            break
                if auth != f"Bearer {fake.token}":
                    return self._send(
                        401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
                    )
                matched = fake.spec.match(method, url.path)
                if matched is None:
                    fake.violations.append(f"{method} {url.path} is not in the GitHub description")
                    return self._send(404, {"message": "Not Found"})
                template, operation, params = matched
                try:
                    fake.spec.check_request(operation, body)
                except jsonschema.ValidationError as exc:
                    fake.violations.append(f"{method} {template}: request body: {exc.message}")
                    return self._send(422, {"message": f"Validation Failed: {exc.message}"})
                with fake.lock:
                    status, payload, headers = fake._route(method, template, params, query, body)
                if lost is not None:  # carried out, but the answer is lost on the way
                    return self._send(lost["status"], {"message": "injected failure"}, lost["headers"])
                if payload is not None and 200 <= status < 300:
                    payload = fake.spec.complete(operation, status, payload)
                    try:
                        fake.spec.check_response(operation, status, payload)
                    except (jsonschema.ValidationError, AssertionError) as exc:
                        fake.violations.append(f"{method} {template}: response: {exc}")
                return self._send(status, payload, headers)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

            def do_DELETE(self):
                self._handle("DELETE")

        return Handler

    # GitHub refuses a comment body longer than this many characters (422, "body is too long").
    BODY_LIMIT = 65536

    def _too_long(self, body):
        if len(body["body"]) <= self.BODY_LIMIT:
            return None
        error = {
            "resource": "IssueComment",
            "code": "custom",
            "field": "body",
            "message": f"body is too long (maximum is {self.BODY_LIMIT} characters)",
        }
        payload = {
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": "https://docs.github.com/rest",
        }
        return 422, payload, None

    def _route(self, method, template, params, query, body):
        not_found = (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, None)
        if method in ("POST", "PATCH") and "comments" in template and "reactions" not in template:
            refused = self._too_long(body)
            if refused:
                return refused
        if template == "/repos/{owner}/{repo}/issues/{issue_number}/comments":
            owner, repo, number = params
            key = (f"{owner}/{repo}".lower(), int(number))
            if method == "POST":
                comment = self._new_comment(f"{owner}/{repo}", int(number), body["body"], self.login)
                self.comments.setdefault(key, []).append(comment)
                return 201, comment, None
            per_page = min(int(query.get("per_page", 30)), 100)
            page = int(query.get("page", 1))
            items = self.comments.get(key, [])
            chunk = items[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(items):
                base = f"{self.url}/repos/{owner}/{repo}/issues/{number}/comments"
                headers["Link"] = (
                    f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                    f'<{base}?per_page={per_page}&page={(len(items) - 1) // per_page + 1}>; rel="last"'
                )
            return 200, chunk, headers
        if template == "/repos/{owner}/{repo}/issues/comments/{comment_id}":
            comment_id = int(params[2])
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == comment_id:
                        if method == "PATCH":
                            comment["body"] = body["body"]
                            comment["updated_at"] = self.now()
                            return 200, comment, None
                        if method == "DELETE":
                            comments.remove(comment)
                            return 204, None, None
                        return 200, comment, None
            return not_found
        if template == "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions":
            self.reactions.append((int(params[2]), body["content"]))
            reaction = self.spec.example("reaction")
            reaction["content"] = body["content"]
            return 201, reaction, None
        if template == "/repos/{owner}/{repo}":
            repository = f"{params[0]}/{params[1]}"
            if repository.lower() in self.unreadable_repos:
                return not_found
            data = self.spec.example("full-repository-default-response")
            data.update(name=params[1], full_name=repository)
            return 200, data, None
        if template == "/repos/{owner}/{repo}/pulls/{pull_number}":
            repository = f"{params[0]}/{params[1]}"
            pull = self.pulls.get((repository.lower(), int(params[2])))
            if pull is None or repository.lower() in self.unreadable_repos:
                return not_found
            data = self.spec.example("pull-request")
            data.update(
                number=int(params[2]),
                state=pull["state"],
                merged=pull["merged"],
                closed_at=pull["closed_at"],
                merged_at=pull["closed_at"] if pull["merged"] else None,
                author_association=pull["association"],
            )
            data["head"].update(sha=pull["head_sha"], ref=pull["branch"])
            data["user"]["login"] = pull["author"]
            return 200, data, None
        if template == "/repos/{owner}/{repo}/collaborators/{username}/permission":
            repository, user = f"{params[0]}/{params[1]}", params[2]
            permission = self.permissions.get((repository.lower(), user.lower()), "none")
            data = self.spec.example("repository-collaborator-permission-response-if-user-has-admin-permissions")
            data["permission"] = permission
            data["role_name"] = permission
            data["user"]["login"] = user
            return 200, data, None
        if template == "/rate_limit":
            return 200, self.spec.example("rate-limit-overview"), None
        return not_found
