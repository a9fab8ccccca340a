# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kube reads a kubeconfig through the `kubernetes` package's loader and sends requests with its credentials.

The other unit tests use tests/fake_kube.py; this one is where the `kubernetes` package itself runs, so
`make floors` checks the loader at the declared floor (tests/unit/test_requirements.py)."""

import json
from http.server import BaseHTTPRequestHandler

import yaml
from loopback import LoopbackServer

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube


def test_requests_carry_the_kubeconfig_s_token(tmp_path):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            body = b'{"major": "1", "minor": "34"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with LoopbackServer(Handler) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "local", "cluster": {"server": server.url}}],
                    "users": [{"name": "ci", "user": {"token": "t0k3n"}}],
                    "contexts": [
                        {"name": "other", "context": {"cluster": "local", "user": "nobody"}},
                        {"name": "ci", "context": {"cluster": "local", "user": "ci"}},
                    ],
                    "current-context": "other",
                }
            )
        )
        kube = Kube(kubeconfig=str(kubeconfig), context="ci")
        status, body = kube.raw("GET", "/version")
    assert (status, kube.host, kube.requests) == (200, server.url, 1)
    assert b'"minor": "34"' in body
    assert seen == [("/version", "Bearer t0k3n")]


def test_serves_asks_discovery_once_per_group_version(tmp_path):
    """A group the cluster does not serve answers 404 (no CRD of it); a served one lists its resources."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.path)
            served = {"/apis/monitoring.coreos.com/v1": {"resources": [{"name": "servicemonitors"}]}}
            status = 200 if self.path in served else 404
            body = json.dumps(served.get(self.path, {"kind": "Status", "reason": "NotFound"})).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with LoopbackServer(Handler) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "local", "cluster": {"server": server.url}}],
                    "users": [{"name": "ci", "user": {"token": "t0k3n"}}],
                    "contexts": [{"name": "ci", "context": {"cluster": "local", "user": "ci"}}],
                    "current-context": "ci",
                }
            )
        )
        kube = Kube(kubeconfig=str(kubeconfig))
        answers = [kube.serves("Middleware"), kube.serves("Middleware"), kube.serves("ServiceMonitor")]
    assert answers == [False, False, True]
    assert seen == ["/apis/traefik.io/v1alpha1", "/apis/monitoring.coreos.com/v1"]
