"""A plain-HTTP proxy on loopback in front of the test cluster's API server, to make races happen on purpose.

Requests are forwarded as the cluster's admin (with the `Kube` client's connection). The first `parties`
requests that match `hold` ("METHOD /path", a regular expression) wait for each other before any is forwarded:
two pr_up runs pointed at the proxy both read the namespace before either has created anything, which is the
race two workflows started at once can run into."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler

import urllib3
import yaml
from loopback import LoopbackServer


class BarrierProxy(LoopbackServer):
    def __init__(self, kube, hold: str, parties: int = 2, timeout: float = 120):
        config = kube.configuration
        self.host = kube.host
        self.http = urllib3.PoolManager(
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=config.ssl_ca_cert,
            cert_file=config.cert_file,
            key_file=config.key_file,
        )
        self.hold = re.compile(hold)
        self.parties = parties
        self.barrier = threading.Barrier(parties, timeout=timeout)
        self.lock = threading.Lock()
        self.held = 0  # matching requests that waited at the barrier
        self.released = False  # all parties arrived and went on together
        super().__init__(self._handler())

    def __exit__(self, *exc):
        self.barrier.abort()
        super().__exit__(*exc)

    def kubeconfig(self, path) -> str:
        """A kubeconfig that reaches the cluster through the proxy."""
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "proxy", "cluster": {"server": self.url}}],
                    "users": [{"name": "proxy", "user": {}}],
                    "contexts": [{"name": "proxy", "context": {"cluster": "proxy", "user": "proxy"}}],
                    "current-context": "proxy",
                }
            )
        )
        return str(path)

    def _wait_for_the_others(self, method: str, path: str) -> None:
        with self.lock:
            if self.held >= self.parties or not self.hold.search(f"{method} {path}"):
                return
            self.held += 1
        try:
            self.barrier.wait()
            self.released = True
        except threading.BrokenBarrierError:
            pass  # the test sees `released` is False

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                method = self.command
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy._wait_for_the_others(method, self.path.split("?", 1)[0])
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() in ("accept", "content-type", "user-agent")
                }
                response = proxy.http.request(
                    method, proxy.host + self.path, body=body, headers=headers, retries=False, timeout=60
                )
                self.send_response(response.status)
                self.send_header("Content-Type", response.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(response.data)))
                self.end_headers()
                self.wfile.write(response.data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler
