"""Cleanup's decision for one pull request: only GitHub's own "closed" deletes."""

import http.server
import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))

from loopback import LoopbackServer

from ansible_collections.k8s_ee.platform.plugins.module_utils._cleanup import _verdict
from ansible_collections.k8s_ee.platform.plugins.module_utils._github import GitHub

NOW = 2_000_000_000.0


@pytest.fixture
def proxy():
    """A misconfigured proxy in front of GitHub: every request gets 200 and the body `answer` holds."""
    answer = {"body": {}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            data = json.dumps(answer["body"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with LoopbackServer(Handler) as server:
        yield answer, GitHub("t", server.url, timeout=5)


@pytest.mark.parametrize("body", [{}, {"state": None}, {"state": "OPEN"}, {"state": "merged"}, {"message": "ok"}])
def test_an_answer_without_closed_is_an_error_never_a_deletion(proxy, body):
    answer, github = proxy
    answer["body"] = body
    verdict, why = _verdict(github, "acme/shop", 1, NOW, 600, {})
    assert verdict == "error"
    assert "neither open nor closed" in why


def test_closed_past_the_grace_period_deletes(proxy):
    answer, github = proxy
    answer["body"] = {"state": "closed", "closed_at": "2020-01-01T00:00:00Z", "merged": True}
    assert _verdict(github, "acme/shop", 1, NOW, 600, {}) == ("delete", "merged")
    answer["body"] = {"state": "open"}
    assert _verdict(github, "acme/shop", 1, NOW, 600, {}) == ("skip", "open")
