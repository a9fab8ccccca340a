"""Pure parts of the lifecycle: ownership, timestamps, the health check against a real HTTP server."""

import http.server
import threading

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import (
    _apply,
    _diagnose,
    _errors,
    _kube,
    _lifecycle,
    _naming,
    _readiness,
    _timestamps,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import normalise


def namespace(labels=None, annotations=None):
    return {"metadata": {"name": "shop-pr-1", "labels": labels or {}, "annotations": annotations or {}}}


MANAGED = {"app.kubernetes.io/managed-by": "k8s-ee"}


def test_ownership():
    assert _lifecycle.ownership(None, "acme/shop") == "missing"
    assert _lifecycle.ownership(namespace(MANAGED, {"k8s-ee/repository": "Acme/Shop"}), "acme/shop") == "ours"
    with pytest.raises(_errors.LifecycleError, match="belongs to evil/shop, not acme/shop"):
        _lifecycle.ownership(namespace(MANAGED, {"k8s-ee/repository": "evil/shop"}), "acme/shop")
    with pytest.raises(_errors.LifecycleError, match="belongs to no repository annotation"):
        _lifecycle.ownership(namespace(MANAGED), "acme/shop")
    with pytest.raises(_errors.LifecycleError, match="not managed by k8s-ee"):
        _lifecycle.ownership(namespace({}, {"k8s-ee/repository": "acme/shop"}), "acme/shop")


def test_seconds_between():
    assert _timestamps.seconds_between("2026-01-01T00:00:00Z", "2026-01-01T00:01:05Z") == 65
    assert _timestamps.seconds_between(None, "2026-01-01T00:00:00Z") is None


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
    fetch = _readiness.http_health_fetch(f"http://127.0.0.1:{server.server_port}/health")
    assert _readiness.check_health(fetch, deadline=60, clock=clock, sleep=clock.sleep) == 200
    assert server.paths == ["/health"] * 3
    assert clock.now == 4.0


def test_health_check_fails_at_the_deadline(server):
    server.statuses.extend([500] * 100)
    clock = Clock()
    fetch = _readiness.http_health_fetch(f"http://127.0.0.1:{server.server_port}/health")
    with pytest.raises(_errors.LifecycleError, match=r"did not return 2xx before the timeout \(last: 500\)") as raised:
        _readiness.check_health(fetch, deadline=10, clock=clock, sleep=clock.sleep)
    assert raised.value.step == "health check"
    assert len(server.paths) == 6


def test_health_check_reports_a_refused_connection():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock()
    fetch = _readiness.http_health_fetch(f"http://127.0.0.1:{port}/health", timeout=1)
    with pytest.raises(_errors.LifecycleError, match="Connection refused"):
        _readiness.check_health(fetch, deadline=3, clock=clock, sleep=clock.sleep)


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
    binding = _apply.access_binding(username, "shop-pr-1")
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
            raise _kube.KubeError(403, "Forbidden", "forbidden")
        return None

    def apply(self, obj, dry_run=False):
        self.calls.append(("apply", obj["kind"]))
        if obj["kind"] == "RoleBinding":
            self.bound = True
        return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "1"}}


def _objects():
    binding = _apply.access_binding("system:serviceaccount:arc-runners:k8s-ee-ci-shop", "shop-pr-1")
    quota = {"kind": "ResourceQuota", "metadata": {"name": "environment-quota", "namespace": "shop-pr-1"}}
    return [{"kind": "Namespace", "metadata": {"name": "shop-pr-1"}}, binding, quota]


def test_apply_retries_while_a_new_binding_reaches_the_authorizer():
    clock = Clock()
    kube = _Authorizer(denials=3)
    changed, results, _diffs = _apply.apply_all(kube, _objects(), False, False, False, clock, clock.sleep)
    assert changed and [r["action"] for r in results] == ["created"] * 3
    assert kube.calls.count(("get", "ResourceQuota")) == 4


def test_apply_gives_up_when_the_binding_never_takes_effect():
    clock = Clock()
    kube = _Authorizer(denials=10**6)
    with pytest.raises(_kube.KubeError):
        _apply.apply_all(kube, _objects(), False, False, False, clock, clock.sleep)
    assert clock.now >= _apply.BINDING_GRACE


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

    def list(self, kind, namespace=None, **kwargs):
        self.paths.append(f"list {kind}")
        return []


def _app_config(health_path="/health", env_from=()):
    return {"app": {"healthPath": health_path, "envFrom": list(env_from)}}


def test_service_health_fetch_goes_through_the_service_proxy():
    kube = _Proxy()
    assert _readiness.service_health_fetch(kube, "shop-pr-1", _app_config("/api/health"))() == 200
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
    with pytest.raises(_errors.LifecycleError) as raised:
        _readiness.service_health_fetch(kube, "shop-pr-1", _app_config(health_path))()
    assert raised.value.step == "health check"
    assert str(raised.value).startswith("app.healthPath: ")
    assert kube.paths == []


def test_service_health_fetch_refuses_a_namespace_that_is_not_a_name():
    with pytest.raises(_errors.LifecycleError):
        _readiness.service_health_fetch(_Proxy(), "kube-system/secrets/x", _app_config())


def test_env_from_may_not_read_the_wildcard_certificate():
    settings = {"tls_secret": "wildcard-tls"}
    refs = [{"configMapRef": {"name": "wildcard-tls"}}, {"secretRef": {"name": "mine"}}]
    assert _lifecycle.env_from_problems(_app_config(env_from=refs), settings) == []
    refs.append({"secretRef": {"name": "wildcard-tls"}})
    assert _lifecycle.env_from_problems(_app_config(env_from=refs), settings) == [
        'app.envFrom[2].secretRef.name: "wildcard-tls" is the platform\'s TLS certificate Secret, which is not the '
        "app's to read; name a Secret you created"
    ]
    assert _lifecycle.env_from_problems(_app_config(env_from=refs), {"tls_secret": ""}) == []


@pytest.mark.parametrize(
    "data",
    [
        {"projectId": "shop", "app": {"envFrom": [{"secretRef": {"name": "wildcard-tls"}}]}},
        {"projectId": "shop", "envFrom": [{"secretRef": {"name": "wildcard-tls"}}]},  # the reference's spelling
    ],
    ids=["app.envFrom", "envFrom"],
)
def test_up_refuses_the_wildcard_certificate_before_applying_anything(data):
    kube = _Proxy()
    request = _lifecycle.UpRequest(
        namespace="shop-pr-1",
        host="shop-pr-1.example.com",
        config=normalise(data),
        pr={"repository": "acme/shop", "number": 1},
        image="registry.example/shop@sha256:" + "1" * 64,
        settings={"tls_secret": "wildcard-tls"},
    )
    with pytest.raises(_errors.LifecycleError) as raised:
        _lifecycle.up(kube, request)
    assert raised.value.step == "preflight"
    assert "app.envFrom[0].secretRef.name" in str(raised.value)
    assert kube.paths[0] == "get Namespace"
    assert all(path.startswith(("get ", "list ")) for path in kube.paths), kube.paths  # read, nothing written


# ------------------------------------------------------------------ failure reports are public (docs/security.md)

import re  # noqa: E402
import secrets as _secrets  # noqa: E402

from fake_kube import FakeKube  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config  # noqa: E402

NS = "shop-pr-1"
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _token(length=32):
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(_secrets.choice(alphabet) for _index in range(length))


def _assert_hidden(text, values):
    """No value, not even its beginning (where a line was cut), is in `text`; a failure names them by index only."""
    shown = [index for index, value in enumerate(values) if value in text or value[:8] in text]
    assert not shown, f"secret values #{shown} are in the report"


def _environment_with_secrets(kube):
    """The Secrets operators and the platform write, a user's Secret, and an app that prints them."""
    pg, mongo, redis, access, secret_key, token = (_token() for _index in range(6))
    uri = f"postgresql://app:{pg}@postgresql-rw.{NS}:5432/app"
    mongo_uri = f"mongodb://app:{mongo}@mongodb-0.mongodb-svc.{NS}.svc.cluster.local:27017/app?replicaSet=mongodb"
    for name, data in (
        ("postgresql-app", {"uri": uri, "password": pg, "host": "postgresql-rw", "port": "5432", "user": "app"}),
        ("mongodb-app", {"connectionString.standard": mongo_uri, "username": "app", "password": mongo}),
        ("redis", {"password": redis, "url": f"redis://:{redis}@redis:6379/0"}),
        ("minio", {"accessKey": access, "secretKey": secret_key}),
        ("extra", {"API_TOKEN": token}),
    ):
        kube.put({"kind": "Secret", "metadata": {"name": name, "namespace": NS}, "stringData": data})
    kube.put(
        {
            "kind": "Pod",
            "metadata": {"name": "app-1", "namespace": NS},
            "status": {
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": False,
                        "restartCount": 3,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"reason": "Error", "exitCode": 1}},
                    }
                ]
            },
        }
    )
    kube.logs[("app-1", "app")] = "\n".join(
        [
            f"\x1b[31mERROR\x1b[0m cannot connect to {uri.replace('postgresql-rw.' + NS, '10.43.0.12')}: refused",
            f"DATABASE_URL={uri}",
            f"redis password {redis[:10]}\x1b[0m{redis[10:]} rejected",
            f"s3 {access} {secret_key}",
            f"mongo {mongo_uri.replace(mongo, mongo.replace('a', '%61'))}",
            f"token={token}",
            "other database postgres://admin:hunter2hunter2@10.0.0.5:5432/db down",
            "x" * 100_000 + pg,
            "\r\x00\x07bell \u202eesrever\u202c and \x1b]0;title\x07 \x9b2J done",
            "listening on :3000",
        ]
    )
    kube.put(
        {
            "kind": "Event",
            "metadata": {"name": "app.1", "namespace": NS},
            "involvedObject": {"kind": "Pod", "name": "app-1"},
            "reason": "Echo",
            "message": f"started with REDIS_URL=redis://:{redis}@redis:6379/0\nand more",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        }
    )
    return [pg, mongo, redis, access, secret_key, token, "hunter2hunter2"]


def test_diagnose_masks_every_secret_of_the_namespace_and_cleans_logs():
    kube = FakeKube()
    hidden = _environment_with_secrets(kube)
    details = _diagnose.diagnose(kube, NS, "Deployment", "app", collect_logs=True)
    text = "\n".join(details)
    _assert_hidden(text, hidden)
    assert "[redacted]" in text
    assert not [line for line in details if CONTROL.search(line)]
    assert all(len(line) <= 300 for line in details)
    assert len(text) <= 8000 + len(details)
    # what helps to understand the failure stays
    assert "pod app-1 container app: CrashLoopBackOff (exited: Error, code 1)" in text
    assert "ERROR cannot connect to postgresql://app:[redacted]@10.43.0.12:5432/app: refused" in text
    assert "DATABASE_URL=[redacted]" in text
    assert "other database postgres://admin:[redacted]@10.0.0.5:5432/db down" in text
    assert "listening on :3000" in text
    assert "event Pod/app-1: Echo: started with REDIS_URL=[redacted] and more" in text


def test_diagnose_caps_the_total():
    kube = FakeKube()
    for pod in ("app-1", "app-2", "app-3"):
        kube.put(
            {
                "kind": "Pod",
                "metadata": {"name": pod, "namespace": NS},
                "status": {"containerStatuses": [{"name": "app", "ready": False, "state": {"terminated": {}}}]},
            }
        )
        kube.logs[(pod, "app")] = "\n".join("z" * 5000 for _index in range(40))
    for index in range(8):
        kube.put(
            {
                "kind": "Event",
                "metadata": {"name": f"e{index}", "namespace": NS},
                "involvedObject": {"kind": "Pod", "name": "app-1"},
                "reason": "Spam",
                "message": "y" * 1_000_000,
            }
        )
    details = _diagnose.diagnose(kube, NS, "Deployment", "app", collect_logs=True)
    assert all(len(line) <= 300 for line in details)
    assert sum(len(line) for line in details) <= 8000
    assert details[-1].endswith("more line(s) not shown")


def _request(databases, timeout=30):
    config = _config.normalise({"projectId": "shop", "databases": databases})
    pr = {"repository": "acme/shop", "number": 1, "head_sha": "a" * 40, "branch": "b", "author": "me"}
    return _lifecycle.UpRequest(
        namespace=NS,
        host=f"{NS}.example.com",
        config=config,
        pr=pr,
        image="registry.example/shop@sha256:" + "1" * 64,
        timeout=timeout,
        health_check=False,
    )


def test_a_failed_up_reports_no_secret():
    """An event that repeats the Redis URL (an app can write events and logs with anything in them)."""
    kube = FakeKube(ready=False)

    def echo(kube):
        url = kube.secret("redis", NS)["url"]
        kube.put(
            {
                "kind": "Event",
                "metadata": {"name": "echo", "namespace": NS},
                "involvedObject": {"kind": "Pod", "name": "redis-0"},
                "reason": "Echo",
                "message": f"connecting to {url}",
            }
        )

    kube.before[("get", "Deployment", "redis")] = echo
    clock = Clock()
    with pytest.raises(_errors.LifecycleError) as raised:
        _lifecycle.up(kube, _request({"redis": True}), clock=clock, sleep=clock.sleep)
    password = kube.secret("redis", NS)["password"]
    report = str(raised.value) + "\n".join(raised.value.details)
    assert "event Pod/redis-0: Echo: connecting to [redacted]" in report
    _assert_hidden(report, [password])
    kept_out = password in raised.value.secret_values
    assert kept_out, "the password is not among the values to keep out of the output"


def test_an_api_error_that_echoes_a_credential_is_masked():
    """An admission policy's message may quote any field of what it refuses."""
    kube = FakeKube()

    def refuse(kube):
        password = kube.secret("mariadb", NS)["password"]
        raise _kube.KubeError(422, "Invalid", f"denied: MYSQL_URL mysql://app:{password}@mariadb:3306/app")

    kube.before[("apply", "Deployment", "app")] = refuse
    with pytest.raises(_kube.KubeError) as raised:
        _lifecycle.up(kube, _request({"mariadb": True}))
    password = kube.secret("mariadb", NS)["password"]
    assert "denied: MYSQL_URL [redacted]" in str(raised.value)
    _assert_hidden(str(raised.value), [password])
    kept_out = password in raised.value.secret_values
    assert kept_out, "the password is not among the values to keep out of the output"


# ------------------------------------------------------------------ credentials are created once (docs/pr-lifecycle.md)

from ansible_collections.k8s_ee.platform.plugins.module_utils import _render  # noqa: E402

GENERATED = {"redis": True, "mariadb": True, "minio": True, "mongodb": True}
CREDENTIAL_SECRETS = {"redis": "redis", "mariadb": "mariadb", "minio": "minio", "mongodb": "mongodb-app-password"}


def _credential_secret(db, creds):
    """The Secret as pr_up writes it (what another run would have created)."""
    data = dict(creds)
    if db == "redis":
        data["url"] = f"redis://:{creds['password']}@redis:6379/0"
    if db == "mariadb":
        data["url"] = f"mysql://app:{creds['password']}@mariadb:3306/app"
    labels = {**_render.MANAGED, "app.kubernetes.io/name": db, "app.kubernetes.io/part-of": "k8s-ee"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": CREDENTIAL_SECRETS[db], "namespace": NS, "labels": labels},
        "type": "Opaque",
        "stringData": data,
    }


def _actions(result, kind="Secret"):
    return {o["name"]: o["action"] for o in result["objects"] if o["kind"] == kind}


def test_credentials_are_created_with_post_once_and_a_rerun_writes_nothing():
    kube = FakeKube()
    first = _lifecycle.up(kube, _request(GENERATED))
    names = set(CREDENTIAL_SECRETS.values())
    assert {("create", "Secret", name) for name in names} <= set(kube.writes)
    assert not [w for w in kube.writes if w[0] == "apply" and w[1:] in {("Secret", n) for n in names}]
    assert {name: _actions(first)[name] for name in names} == dict.fromkeys(names, "created")
    stored = {name: kube.secret(name, NS) for name in names}
    writes = len(kube.writes)
    again = _lifecycle.up(kube, _request(GENERATED))
    assert again["changed"] is False
    assert set(_actions(again).values()) == {"unchanged"}
    assert len(kube.writes) == writes
    same = {name: kube.secret(name, NS) for name in names} == stored
    assert same, "a credential changed on the re-run"


def test_a_run_that_loses_the_race_uses_the_credentials_of_the_run_that_won():
    """Both runs found no namespace; the other one created the credentials while this one applied the frame."""
    kube = FakeKube()
    winner = {}

    def other_run(kube):
        winner.update(
            redis={"password": _token()},
            mariadb={"rootPassword": _token(), "password": _token()},
            minio={"accessKey": "app" + _token(17).lower(), "secretKey": _token()},
            mongodb={"password": _token()},
        )
        for db, creds in winner.items():
            kube.put(_credential_secret(db, creds))

    kube.before[("apply", "NetworkPolicy", "allow-operators")] = other_run
    result = _lifecycle.up(kube, _request(GENERATED))
    kept = all(
        all(kube.secret(name, NS)[key] == value for key, value in winner[db].items())
        for db, name in CREDENTIAL_SECRETS.items()
    )
    assert kept, "a credential of the run that won was replaced"
    config = kube.secret("minio-env-configuration", NS)["config.env"]
    made_of = f'"{winner["minio"]["accessKey"]}"' in config and f'"{winner["minio"]["secretKey"]}"' in config
    assert made_of, "minio-env-configuration is not made of the credentials in use"
    assert {_actions(result)[name] for name in CREDENTIAL_SECRETS.values()} == {"unchanged"}
    kept_out = set(winner["redis"].values()) <= set(result["secret_values"])
    assert kept_out, "the credentials in use are not among the values to keep out of the output"


def test_an_existing_credential_is_kept_and_only_what_is_missing_added():
    kube = FakeKube()
    _lifecycle.up(kube, _request({"redis": True}))
    stored = kube.objects[kube.key("Secret", "redis", NS)]
    password = kube.secret("redis", NS)["password"]
    del stored["data"]["url"]  # an older Secret, without what is made of the password

    def rewritten_meanwhile(kube):  # another run completes it first: the guarded write is refused, then not needed
        kube.put({**stored, "stringData": {"url": f"redis://:{password}@redis:6379/0"}})

    kube.before[("apply", "Secret", "redis")] = rewritten_meanwhile
    result = _lifecycle.up(kube, _request({"redis": True}))
    same = kube.secret("redis", NS) == {"password": password, "url": f"redis://:{password}@redis:6379/0"}
    assert same, "the password changed or the URL is not made of it"
    assert _actions(result)["redis"] == "unchanged"

    del kube.objects[kube.key("Secret", "redis", NS)]["data"]["url"]
    result = _lifecycle.up(kube, _request({"redis": True}))
    same = kube.secret("redis", NS) == {"password": password, "url": f"redis://:{password}@redis:6379/0"}
    assert same, "the password changed or the URL is not made of it"
    assert _actions(result)["redis"] == "configured"


def test_check_mode_writes_no_credential():
    kube = FakeKube()
    result = _lifecycle.up(kube, _request(GENERATED), check_mode=True, want_diff=True)
    assert kube.writes == []
    assert set(_actions(result).values()) == {"created"}
    assert all(
        d["after"]["stringData"] == dict.fromkeys(d["after"]["stringData"], "VALUE_HIDDEN")
        for d in result["diff"]
        if d["after"].get("kind") == "Secret"
    )
    _lifecycle.up(kube, _request({"redis": True}))
    writes = list(kube.writes)
    result = _lifecycle.up(kube, _request(GENERATED), check_mode=True)
    assert kube.writes == writes
    assert _actions(result)["redis"] == "unchanged" and _actions(result)["mariadb"] == "created"


class TerminatingNamespace(FakeKube):
    """A namespace the controller deletes: its pods go after `pods_for` polls; the namespace goes two polls after
    an update once they are gone (as the namespace controller looks again after an update), else never."""

    def __init__(self, pods_for):
        super().__init__()
        self.pods_for, self.polls, self.patches, self.gone_at = pods_for, 0, [], None
        self.put({"kind": "Namespace", "metadata": {"name": NS, "labels": dict([_naming.MANAGED_BY])}})
        self.objects[self.key("Namespace", NS)]["metadata"]["annotations"] = {"k8s-ee/repository": "acme/shop"}

    def delete(self, kind, name, namespace=None, body=None):
        self.objects[self.key(kind, name, namespace)]["metadata"]["deletionTimestamp"] = "2030-01-01T00:00:00Z"
        return True

    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        assert kind == "Pod"
        return [{"metadata": {"name": "app-1"}}] if self.polls < self.pods_for else []

    def get(self, kind, name, namespace=None):
        self.polls += 1
        if self.gone_at is not None and self.polls >= self.gone_at:
            return None
        return super().get(kind, name, namespace)

    def merge_patch(self, kind, name, patch, namespace=None):
        self.patches.append((self.polls, patch))
        self.gone_at = self.polls + 2
        return {}


def test_down_has_the_namespace_controller_look_again_once_the_pods_are_gone():
    kube = TerminatingNamespace(pods_for=4)
    ticks = iter(range(10**6))  # one second per call: without the nudge it would run into its timeout
    result = _lifecycle.down(kube, NS, "acme/shop", timeout=60, clock=lambda: next(ticks), sleep=lambda s: None)
    assert result["state"] == "deleted"
    ((polled, patch),) = kube.patches  # once, and only when no pod was left
    assert polled >= 4
    assert list(patch["metadata"]["annotations"]) == ["k8s-ee/pods-gone-at"]


def test_down_deletes_the_pods_right_after_the_namespace():
    kube = TerminatingNamespace(pods_for=1)
    kube.put({"kind": "Pod", "metadata": {"name": "app-1", "namespace": NS}})
    kube.put({"kind": "Pod", "metadata": {"name": "other", "namespace": "elsewhere"}})
    ticks = iter(range(10**6))
    _lifecycle.down(kube, NS, "acme/shop", timeout=60, clock=lambda: next(ticks), sleep=lambda s: None)
    assert kube.writes[0] == ("delete_all", "Pod", NS)
    assert [key for key in kube.objects if key[0] == "Pod"] == [kube.key("Pod", "other", "elsewhere")]


@pytest.mark.parametrize("status", [403, 404])
def test_down_leaves_the_pods_to_the_namespace_controller_when_it_may_not_delete_them(status):
    class Refusing(TerminatingNamespace):
        def delete_all(self, kind, namespace):
            raise _kube.KubeError(status, "Forbidden", "no")

    kube = Refusing(pods_for=1)
    ticks = iter(range(10**6))
    result = _lifecycle.down(kube, NS, "acme/shop", timeout=60, clock=lambda: next(ticks), sleep=lambda s: None)
    assert result["state"] == "deleted"


def test_up_on_a_cluster_without_traefik_s_middleware_kind():
    """pr_up asks discovery once whether middlewares.traefik.io is served; without it, no Middleware is applied (the
    fake answers 404 to a write of it, as the API server does) and the Ingress names none."""
    kube = FakeKube(absent={"Middleware"})
    result = _lifecycle.up(kube, _request({}), clock=Clock(), sleep=lambda s: None)
    assert "Middleware" not in [o["kind"] for o in result["objects"]]
    annotations = kube.get("Ingress", "app", NS)["metadata"]["annotations"]
    assert "traefik.ingress.kubernetes.io/router.middlewares" not in annotations
    assert kube.discovered == ["traefik.io/v1alpha1"]
    assert [w for w in result["warnings"] if "not marked noindex" in w] == [
        "the cluster serves no middlewares.traefik.io, so the preview is not marked noindex (X-Robots-Tag); install "
        "Traefik's CRDs, or set settings.ingress_controller for the controller in use (docs/platform.md, \"Other "
        'ingress controllers")'
    ]
    again = _lifecycle.up(kube, _request({}), clock=Clock(), sleep=lambda s: None)
    assert again["changed"] is False


def test_up_with_traefik_s_middleware_kind_and_with_another_controller():
    kube = FakeKube()
    result = _lifecycle.up(kube, _request({}), clock=Clock(), sleep=lambda s: None)
    assert kube.get("Middleware", "app", NS) is not None
    assert not [w for w in result["warnings"] if "noindex" in w]
    other = FakeKube()
    request = _request({})
    request.settings = {"ingress_class": "nginx"}
    _lifecycle.up(other, request, clock=Clock(), sleep=lambda s: None)
    assert other.discovered == []  # no question about Traefik for another controller
    assert other.get("ConfigMap", "app-response-headers", NS)["data"] == {"X-Robots-Tag": "noindex, nofollow"}


@pytest.mark.parametrize(
    ("settings", "config", "message"),
    [
        (
            {"ingress_controller": "nginx"},
            {},
            "settings.ingress_controller: 'nginx' is not valid: must be one of traefik, ingress-nginx, none",
        ),
        (
            {"ingress_annotations": {"cert-manager.io/cluster-issuer": "le"}},
            {"ingress": {"annotations": {"cert-manager.io/cluster-issuer": "self-signed"}}},
            "ingress.annotations.cert-manager.io/cluster-issuer: is set by the platform (settings.ingress_annotations)",
        ),
    ],
)
def test_up_refuses_ingress_settings_before_writing(settings, config, message):
    kube = FakeKube()
    request = _request({})
    request.config = _config.normalise({"projectId": "shop", **config})
    request.settings = settings
    with pytest.raises(_errors.LifecycleError) as raised:
        _lifecycle.up(kube, request, clock=Clock(), sleep=lambda s: None)
    assert raised.value.step == "preflight"
    assert message in str(raised.value)
    assert kube.writes == []


# ---- capacity admission under the Lease platform/k8s-ee-capacity


def _capacity_holder(kube):
    lease = kube.objects.get(kube.key("Lease", _lifecycle.CAPACITY_LOCK, "platform"))
    return (lease or {}).get("spec", {}).get("holderIdentity")


def test_a_new_environment_is_admitted_under_the_capacity_lease_until_its_quota_exists():
    kube = FakeKube()
    held = {}
    kube.before[("get", "PriorityClass", "default-app")] = lambda k: held.update(preflight=_capacity_holder(k))
    kube.before[("apply", "Namespace", NS)] = lambda k: held.update(namespace=_capacity_holder(k))
    kube.before[("apply", "ResourceQuota", "environment-quota")] = lambda k: held.update(quota=_capacity_holder(k))
    kube.before[("apply", "Deployment", "app")] = lambda k: held.update(app=_capacity_holder(k))
    _lifecycle.up(kube, _request({}))
    assert held["preflight"] is None  # not before the checks that need no room
    assert held["namespace"] and held["quota"] == held["namespace"]  # measured, then namespace and quota, one hold
    assert held["app"] == ""  # released once the quota exists: the rest of the environment runs unlocked
    assert _capacity_holder(kube) == ""


def test_an_update_takes_neither_room_nor_the_lock():
    kube = FakeKube()
    _lifecycle.up(kube, _request({}))
    writes = len(kube.writes)
    _lifecycle.up(kube, _request({"redis": True}))
    assert not [w for w in kube.writes[writes:] if w[1] == "Lease"]


def _capacity_lease(kube, holder: str, renewed: float) -> None:
    """The capacity Lease as another run left it: held by `holder`, last renewed at `renewed` (epoch seconds)."""
    kube.put(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": _lifecycle.CAPACITY_LOCK, "namespace": "platform"},
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": 30,
                "renewTime": _timestamps.rfc3339_micro(renewed),
            },
        }
    )


def test_a_held_capacity_lease_is_waited_for_and_then_refused_with_nothing_written():
    kube, clock = FakeKube(), Clock()
    clock.now = 2_000_000_000.0
    _capacity_lease(kube, "another-run", renewed=clock.now + 3600)  # never expires in this test
    with pytest.raises(_errors.LifecycleError) as raised:
        _lifecycle.up(kube, _request({}, timeout=20), clock=clock, wall=clock, sleep=clock.sleep)
    assert raised.value.step == "capacity"
    assert str(raised.value) == (
        "capacity: other new environments are being admitted (Lease platform/k8s-ee-capacity); try again in a minute"
    )
    assert clock.now >= 2_000_000_000.0 + 19  # it waited for the holder as long as pr_up's timeout allowed
    assert kube.get("Namespace", NS) is None and not [w for w in kube.writes if w[1] != "Lease"]


def test_a_capacity_lease_whose_holder_died_is_taken_once_it_expired():
    kube, clock = FakeKube(), Clock()
    clock.now = 2_000_000_000.0
    _capacity_lease(kube, "dead-run", renewed=clock.now - 20)  # and never again: free 10 s after the start
    _lifecycle.up(kube, _request({}, timeout=60), clock=clock, wall=clock, sleep=clock.sleep)
    assert kube.get("Namespace", NS) is not None
    assert 2_000_000_000.0 + 10 <= clock.now <= 2_000_000_000.0 + 11  # when its 30 s ran out, not pr_up's timeout


@pytest.mark.parametrize("status", [403, 404])
def test_a_missing_capacity_lease_that_cannot_be_created_names_the_fix(status):
    kube = FakeKube()

    def refuse(kube):
        raise _kube.KubeError(status, "Forbidden" if status == 403 else "NotFound", "no")

    kube.before[("create", "Lease", _lifecycle.CAPACITY_LOCK)] = refuse
    with pytest.raises(
        _errors.LifecycleError,
        match=r"platform/k8s-ee-capacity does not exist and could not be created .*run site.yml \(role platform\)",
    ):
        _lifecycle.up(kube, _request({}))
    assert kube.get("Namespace", NS) is None
