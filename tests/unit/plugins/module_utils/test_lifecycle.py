"""Pure parts of the lifecycle: ownership, timestamps, the health check against a real HTTP server."""

import http.server
import threading

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _lifecycle
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import normalise


def namespace(labels=None, annotations=None):
    return {"metadata": {"name": "shop-pr-1", "labels": labels or {}, "annotations": annotations or {}}}


MANAGED = {"app.kubernetes.io/managed-by": "k8s-ee"}


def test_ownership():
    assert _lifecycle.ownership(None, "acme/shop") == "missing"
    assert _lifecycle.ownership(namespace(MANAGED, {"k8s-ee/repository": "Acme/Shop"}), "acme/shop") == "ours"
    with pytest.raises(_lifecycle.LifecycleError, match="belongs to evil/shop, not acme/shop"):
        _lifecycle.ownership(namespace(MANAGED, {"k8s-ee/repository": "evil/shop"}), "acme/shop")
    with pytest.raises(_lifecycle.LifecycleError, match="belongs to no repository annotation"):
        _lifecycle.ownership(namespace(MANAGED), "acme/shop")
    with pytest.raises(_lifecycle.LifecycleError, match="not managed by k8s-ee"):
        _lifecycle.ownership(namespace({}, {"k8s-ee/repository": "acme/shop"}), "acme/shop")


def test_seconds_between():
    assert _lifecycle.seconds_between("2026-01-01T00:00:00Z", "2026-01-01T00:01:05Z") == 65
    assert _lifecycle.seconds_between(None, "2026-01-01T00:00:00Z") is None


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def server():
    """A real HTTP server on loopback answering the statuses queued in `server.statuses`."""
    statuses = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.server.paths.append(self.path)  # before answering, so the client never sees an unrecorded call
            status = statuses.pop(0) if statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.paths = []
    httpd.statuses = statuses
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_health_check_waits_for_2xx(server):
    server.statuses.extend([503, 502])
    clock = Clock()
    fetch = _lifecycle.http_health_fetch(f"http://127.0.0.1:{server.server_port}/health")
    assert _lifecycle.check_health(fetch, deadline=60, clock=clock, sleep=clock.sleep) == 200
    assert server.paths == ["/health"] * 3
    assert clock.now == 4.0


def test_health_check_fails_at_the_deadline(server):
    server.statuses.extend([500] * 100)
    clock = Clock()
    fetch = _lifecycle.http_health_fetch(f"http://127.0.0.1:{server.server_port}/health")
    with pytest.raises(
        _lifecycle.LifecycleError, match=r"did not return 2xx before the timeout \(last: 500\)"
    ) as raised:
        _lifecycle.check_health(fetch, deadline=10, clock=clock, sleep=clock.sleep)
    assert raised.value.step == "health check"
    assert len(server.paths) == 6


def test_health_check_reports_a_refused_connection():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    fetch = _lifecycle.http_health_fetch(f"http://127.0.0.1:{port}/health", timeout=1)
    with pytest.raises(_lifecycle.LifecycleError, match="Connection refused"):
        _lifecycle.check_health(fetch, deadline=3, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    "username, expected",
    [
        ("system:serviceaccount:arc-runners:k8s-ee-ci-shop", ("k8s-ee-ci-shop", "arc-runners")),
        ("system:serviceaccount:ci:runner", ("runner", "ci")),
        ("kubernetes-admin", None),
        ("system:admin", None),
        ("system:serviceaccount:too:many:parts", None),
    ],
)
def test_access_binding_only_for_service_accounts(username, expected):
    binding = _lifecycle.access_binding(username, "shop-pr-1")
    if expected is None:
        assert binding is None
        return
    assert binding["metadata"] == {
        "name": "k8s-ee-ci",
        "namespace": "shop-pr-1",
        "labels": {"app.kubernetes.io/managed-by": "k8s-ee"},
    }
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "k8s-ee-environment",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": expected[0], "namespace": expected[1]}]


class _Authorizer:
    """Answers 403 for the first `denials` requests after the RoleBinding, as an authorizer cache would."""

    def __init__(self, denials):
        self.denials, self.bound, self.calls = denials, False, []

    def get(self, kind, name, namespace=None):
        self.calls.append(("get", kind))
        if self.bound and kind != "RoleBinding" and self.denials:
            self.denials -= 1
            raise _lifecycle.KubeError(403, "Forbidden", "forbidden")
        return None

    def apply(self, obj, dry_run=False):
        self.calls.append(("apply", obj["kind"]))
        if obj["kind"] == "RoleBinding":
            self.bound = True
        return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "1"}}


def _objects():
    binding = _lifecycle.access_binding("system:serviceaccount:arc-runners:k8s-ee-ci-shop", "shop-pr-1")
    quota = {"kind": "ResourceQuota", "metadata": {"name": "environment-quota", "namespace": "shop-pr-1"}}
    return [{"kind": "Namespace", "metadata": {"name": "shop-pr-1"}}, binding, quota]


def test_apply_retries_while_a_new_binding_reaches_the_authorizer():
    clock = Clock()
    kube = _Authorizer(denials=3)
    changed, results, _diffs = _lifecycle.apply_all(kube, _objects(), False, False, False, clock, clock.sleep)
    assert changed and [r["action"] for r in results] == ["created"] * 3
    assert kube.calls.count(("get", "ResourceQuota")) == 4


def test_apply_gives_up_when_the_binding_never_takes_effect():
    clock = Clock()
    kube = _Authorizer(denials=10**6)
    with pytest.raises(_lifecycle.KubeError):
        _lifecycle.apply_all(kube, _objects(), False, False, False, clock, clock.sleep)
    assert clock.now >= _lifecycle.BINDING_GRACE


class _Proxy:
    """Records the API paths the health check would GET."""

    def __init__(self):
        self.paths = []

    def raw(self, method, path, **kwargs):
        self.paths.append(path)
        return 200, b"ok"

    def get(self, kind, name, namespace=None):
        self.paths.append(f"get {kind}")
        return None


def _config(health_path="/health", env_from=()):
    return {"app": {"healthPath": health_path, "envFrom": list(env_from)}}


def test_service_health_fetch_goes_through_the_service_proxy():
    kube = _Proxy()
    assert _lifecycle.service_health_fetch(kube, "shop-pr-1", _config("/api/health"))() == 200
    assert kube.paths == ["/api/v1/namespaces/shop-pr-1/services/http:app:http/proxy/api/health"]


@pytest.mark.parametrize(
    "health_path",
    [
        "/../../../../secrets",  # urllib3 removes dot segments: /api/v1/namespaces/shop-pr-1/secrets
        "/./x",
        "/health%2F..%2F..%2Fsecrets",
        "/health?watch=true",
        "/health#x",
        "/health\\..\\x",
        "health",
    ],
)
def test_service_health_fetch_refuses_a_path_that_leaves_the_proxy(health_path):
    """The config reached here without env_config (or the schema changed): still no GET of another API path."""
    kube = _Proxy()
    with pytest.raises(_lifecycle.LifecycleError) as raised:
        _lifecycle.service_health_fetch(kube, "shop-pr-1", _config(health_path))()
    assert raised.value.step == "health check"
    assert str(raised.value).startswith("app.healthPath: ")
    assert kube.paths == []


def test_service_health_fetch_refuses_a_namespace_that_is_not_a_name():
    with pytest.raises(_lifecycle.LifecycleError):
        _lifecycle.service_health_fetch(_Proxy(), "kube-system/secrets/x", _config())


def test_env_from_may_not_read_the_wildcard_certificate():
    settings = {"tls_secret": "wildcard-tls"}
    refs = [{"configMapRef": {"name": "wildcard-tls"}}, {"secretRef": {"name": "mine"}}]
    assert _lifecycle.env_from_problems(_config(env_from=refs), settings) == []
    refs.append({"secretRef": {"name": "wildcard-tls"}})
    assert _lifecycle.env_from_problems(_config(env_from=refs), settings) == [
        'app.envFrom[2].secretRef.name: "wildcard-tls" is the platform\'s TLS certificate Secret, which is not the '
        "app's to read; name a Secret you created"
    ]
    assert _lifecycle.env_from_problems(_config(env_from=refs), {"tls_secret": ""}) == []


def test_up_refuses_the_wildcard_certificate_before_applying_anything():
    kube = _Proxy()
    request = _lifecycle.UpRequest(
        namespace="shop-pr-1",
        host="shop-pr-1.example.com",
        config=normalise({"projectId": "shop", "app": {"envFrom": [{"secretRef": {"name": "wildcard-tls"}}]}}),
        pr={"repository": "acme/shop", "number": 1},
        image="registry.example/shop@sha256:" + "1" * 64,
        settings={"tls_secret": "wildcard-tls"},
    )
    with pytest.raises(_lifecycle.LifecycleError) as raised:
        _lifecycle.up(kube, request)
    assert raised.value.step == "preflight"
    assert "app.envFrom[0].secretRef.name" in str(raised.value)
    assert kube.paths == ["get Namespace"]
