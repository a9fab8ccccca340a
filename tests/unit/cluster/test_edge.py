"""tests/cluster/edge.py without a cluster: the host changes to Traefik's arguments, and the forwarder between this
machine's loopback and Traefik's own network namespace (root: it makes the namespace)."""

import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "cluster"))

import edge
import localcluster

RENDERED = [
    "--entryPoints.web.address=:8000/tcp",
    "--certificatesresolvers.letsencrypt.acme.email=ops@example.com",
    "--certificatesresolvers.letsencrypt.acme.storage=/data/acme.json",
]


def test_host_args_change_only_the_listed_arguments(tmp_path):
    changed = edge.host_args(RENDERED, tmp_path / "acme.json")
    assert changed == [*RENDERED[:2], f"--certificatesresolvers.letsencrypt.acme.storage={tmp_path / 'acme.json'}"]
    assert [a for a, b in zip(RENDERED, changed, strict=True) if a != b] == list(edge.host_changes(tmp_path))


def test_host_args_refuse_a_rendering_without_the_changed_argument(tmp_path):
    with pytest.raises(ValueError, match="no longer renders"):
        edge.host_args(RENDERED[:2], tmp_path / "acme.json")


def test_every_host_change_says_why(tmp_path):
    for argument, (replacement, why) in edge.host_changes(tmp_path).items():
        assert argument.split("=")[0] == replacement.split("=")[0] and why


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def inside(netns, *argv):
    return subprocess.run(["nsenter", f"--net={netns}", *argv], capture_output=True, text=True, timeout=30, check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a network namespace needs root")
def test_forwarder_joins_loopback_and_traefiks_namespace(tmp_path):
    host_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    host_server.text = "host"
    threading.Thread(target=host_server.serve_forever, daemon=True).start()
    into = localcluster._free_port()
    spec = tmp_path / "forward.json"
    spec.write_text(json.dumps({"netns": None, "into": [[into, 8000]], "out_of": [host_server.server_port]}))
    forwarder = subprocess.Popen([sys.executable, edge.__file__, "forward", str(spec)])
    inner = None
    try:
        deadline = time.monotonic() + 20
        while not (netns := edge._forwarder_ready(tmp_path)) and time.monotonic() < deadline:
            assert forwarder.poll() is None
            time.sleep(0.05)
        assert netns and os.stat(netns).st_ino != os.stat("/proc/self/ns/net").st_ino
        # nothing but loopback in it, and no route: an address outside it is unreachable, not sent anywhere
        assert [line.split()[1] for line in inside(netns, "ip", "-o", "link").stdout.splitlines()] == ["lo:"]
        assert inside(netns, "ip", "route").stdout.strip() == ""
        inner = subprocess.Popen(
            ["nsenter", f"--net={netns}", sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "8000"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (tmp_path / "inside.txt").write_text("inside")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 20
        while True:  # into the namespace: this machine's loopback port to the server inside
            try:
                with opener.open(f"http://127.0.0.1:{into}/inside.txt", timeout=5) as response:
                    assert response.read() == b"inside"
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        # out of it: the same port number inside reaches this machine's loopback
        fetch = (
            "import urllib.request as u; o = u.build_opener(u.ProxyHandler({})); "
            f"print(o.open('http://127.0.0.1:{host_server.server_port}/').read().decode())"
        )
        assert inside(netns, sys.executable, "-c", fetch).stdout.strip() == "host"
    finally:
        if inner:
            inner.terminate()
            inner.wait(10)
        forwarder.terminate()
        forwarder.wait(10)
        host_server.shutdown()
