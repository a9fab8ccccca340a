"""The kubeconfig loader (_kubeconfig) against the `kubernetes` package's loader, case by case, so the two cannot
drift apart; bad kubeconfigs and the messages they get; a TLS server that checks the client certificate; and
that a plain kubeconfig no longer imports `kubernetes`."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _kubeconfig
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube, KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._kubeconfig import KubeconfigError

kubernetes_config = pytest.importorskip("kubernetes.config")
kubernetes_client = pytest.importorskip("kubernetes.client")


# ---------------------------------------------------------------- certificates (openssl, once per module)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> pathlib.Path:
    """A CA, a server certificate for 127.0.0.1 and api.test, a client certificate (CN=alice), all EC keys."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl to make test certificates")
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-ca", cwd=d)
    for name, subject, ext in (
        ("server", "/CN=api", "subjectAltName=DNS:api.test,IP:127.0.0.1"),
        ("client", "/CN=alice", "extendedKeyUsage=clientAuth"),
    ):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d,
        )  # fmt: skip
    return d


def b64(path: pathlib.Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: pathlib.Path, clusters: dict, users: dict, contexts: dict, current: str | None) -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }
    if current is not None:
        document["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return str(path)


def single(path, cluster: dict, user: dict) -> str:
    return write_kubeconfig(path, {"c": cluster}, {"u": user}, {"x": {"cluster": "c", "user": "u"}}, "x")


# ---------------------------------------------------------------- the matrix, compared with `kubernetes`

SERVER = "https://127.0.0.1:6443"


def _read(path) -> bytes | None:
    return pathlib.Path(path).read_bytes() if path else None


def theirs(path: str, context: str | None = None) -> dict:
    configuration = kubernetes_client.Configuration()
    kubernetes_config.load_kube_config(
        config_file=path, context=context, client_configuration=configuration, persist_config=False
    )
    return {
        "host": configuration.host,
        "verify": configuration.verify_ssl,
        "ca": _read(configuration.ssl_ca_cert),
        "cert": _read(configuration.cert_file),
        "key": _read(configuration.key_file),
        "authorization": (configuration.auth_settings().get("BearerToken") or {}).get("value"),
        "tls_server_name": configuration.tls_server_name,
    }


def ours(path: str, context: str | None = None) -> dict:
    access = _kubeconfig.from_kubeconfig(path, context)
    return {
        "host": access.host,
        "verify": access.verify_ssl,
        "ca": access.ca_data or _read(access.ssl_ca_cert),
        "cert": access.cert_data or _read(access.cert_file),
        "key": access.key_data or _read(access.key_file),
        "authorization": access.authorization(),
        "tls_server_name": access.tls_server_name,
    }


def case_ca_relative(d, pki):
    shutil.copytree(pki, d / "pki")
    return single(
        d / "kubeconfig",
        {"server": SERVER, "certificate-authority": "pki/ca.crt"},
        {"client-certificate": "pki/client.crt", "client-key": "./pki/client.key"},
    )


def case_ca_absolute(d, pki):
    return single(
        d / "sub" / "kubeconfig",
        {"server": SERVER + "/", "certificate-authority": str(pki / "ca.crt")},
        {"client-certificate": str(pki / "client.crt"), "client-key": str(pki / "client.key")},
    )


def case_ca_data(d, pki):
    return single(
        d / "kubeconfig", {"server": SERVER, "certificate-authority-data": b64(pki / "ca.crt")}, {"token": "t0k"}
    )


def case_data_wins_over_file(d, pki):
    return single(
        d / "kubeconfig",
        {"server": SERVER, "certificate-authority-data": b64(pki / "ca.crt"), "certificate-authority": "/nonexistent"},
        {"token": "t0k"},
    )


def case_insecure(d, pki):
    return single(d / "kubeconfig", {"server": SERVER, "insecure-skip-tls-verify": True}, {"token": "t0k"})


def case_client_cert_data(d, pki):
    return single(
        d / "kubeconfig",
        {"server": SERVER, "certificate-authority-data": b64(pki / "ca.crt")},
        {"client-certificate-data": b64(pki / "client.crt"), "client-key-data": b64(pki / "client.key")},
    )


def case_token_file(d, pki):
    (d / "secrets").mkdir()
    (d / "secrets" / "token").write_text("from-a-file")
    return single(
        d / "kubeconfig",
        {"server": SERVER, "certificate-authority": str(pki / "ca.crt")},
        {"tokenFile": "secrets/token"},
    )


def case_token_over_token_file(d, pki):
    return single(d / "kubeconfig", {"server": SERVER}, {"token": "inline", "tokenFile": "/nonexistent"})


def case_tls_server_name(d, pki):
    return single(
        d / "kubeconfig",
        {"server": SERVER, "certificate-authority": str(pki / "ca.crt"), "tls-server-name": "api.test"},
        {},
    )


def case_basic_auth(d, pki):
    return single(
        d / "kubeconfig", {"server": SERVER, "insecure-skip-tls-verify": True}, {"username": "u", "password": "p:w"}
    )


def case_plain_http(d, pki):
    return single(
        d / "kubeconfig",
        {"server": "http://127.0.0.1:8080", "certificate-authority": "/not/read/for/http"},
        {"client-certificate": "/not/read/either"},
    )


def case_unknown_user_is_anonymous(d, pki):
    return write_kubeconfig(
        d / "kubeconfig", {"c": {"server": SERVER}}, {}, {"x": {"cluster": "c", "user": "nobody"}}, "x"
    )


def several_contexts(d, pki):
    clusters = {
        "one": {"server": "https://one:6443", "insecure-skip-tls-verify": True},
        "two": {"server": "https://two:6443", "certificate-authority-data": b64(pki / "ca.crt")},
    }
    users = {
        "a": {"token": "a-token"},
        "b": {"client-certificate": str(pki / "client.crt"), "client-key": str(pki / "client.key")},
    }
    contexts = {"first": {"cluster": "one", "user": "a"}, "second": {"cluster": "two", "user": "b"}}
    return write_kubeconfig(d / "kubeconfig", clusters, users, contexts, "second")


def case_current_context_of_several(d, pki):
    return several_contexts(d, pki)


CASES = {name[len("case_") :]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_outcome_as_the_kubernetes_package(name, tmp_path, pki):
    path = CASES[name](tmp_path, pki)
    assert ours(path) == theirs(path)


@pytest.mark.parametrize("context", ["first", "second"])
def test_a_chosen_context_as_the_kubernetes_package(context, tmp_path, pki):
    path = several_contexts(tmp_path, pki)
    assert ours(path, context) == theirs(path, context)
    assert ours(path, context)["host"] == {"first": "https://one:6443", "second": "https://two:6443"}[context]


def test_several_files_merge_as_kubectl_merges(tmp_path, pki):
    """The first file that names something wins; paths are read relative to the file that holds them."""
    shutil.copytree(pki, tmp_path / "b" / "pki")
    a = write_kubeconfig(
        tmp_path / "a" / "config",
        {"c": {"server": "https://winner:6443"}},
        {},
        {"x": {"cluster": "c", "user": "tok"}, "z": {"cluster": "c", "user": "u"}},
        "x",
    )
    b = write_kubeconfig(
        tmp_path / "b" / "config",
        {"c": {"server": "https://loser:6443"}, "other": {"server": SERVER, "certificate-authority": "pki/ca.crt"}},
        {"u": {"client-certificate": "pki/client.crt", "client-key": "pki/client.key"}, "tok": {"token": "t"}},
        {"y": {"cluster": "other", "user": "u"}},
        None,
    )
    paths = os.pathsep.join([a, str(tmp_path / "missing"), b])
    assert ours(paths) == theirs(paths)
    assert ours(paths)["host"] == "https://winner:6443"
    assert ours(paths, "y") == theirs(paths, "y")
    assert _kubeconfig.from_kubeconfig(paths, "y").ssl_ca_cert == str(tmp_path / "b" / "pki" / "ca.crt")
    # a user's files are read relative to the user's file, as kubectl reads them; the kubernetes package reads them
    # relative to the cluster's file and fails here
    assert _kubeconfig.from_kubeconfig(paths, "z").cert_file == str(tmp_path / "b" / "pki" / "client.crt")
    with pytest.raises(kubernetes_config.ConfigException, match=r"a/pki/client\.crt"):
        theirs(paths, "z")


def test_kubectl_takes_the_first_current_context(tmp_path):
    a = single(tmp_path / "a", {"server": "https://a:6443"}, {})
    b = write_kubeconfig(tmp_path / "b", {"c2": {"server": "https://b:6443"}}, {}, {"y": {"cluster": "c2"}}, "y")
    assert _kubeconfig.from_kubeconfig(f"{a}{os.pathsep}{b}").host == "https://a:6443"


def test_a_token_file_is_read_for_every_request(tmp_path, pki):
    path = case_token_file(tmp_path, pki)
    access = _kubeconfig.from_kubeconfig(path)
    assert access.authorization() == "Bearer from-a-file"
    (tmp_path / "secrets" / "token").write_text("rotated\n")  # kubectl trims the newline too
    assert access.authorization() == "Bearer rotated"
    (tmp_path / "secrets" / "token").unlink()
    with pytest.raises(KubeconfigError, match=r"cannot read tokenFile .*secrets/token"):
        access.authorization()


# ---------------------------------------------------------------- exec and auth-provider: the `kubernetes` loader


def test_an_exec_user_goes_through_the_kubernetes_package(tmp_path, pki):
    plugin = tmp_path / "credential-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": "from-exec"},
    }
    plugin.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(credential))})\n")
    plugin.chmod(0o755)
    path = single(
        tmp_path / "kubeconfig",
        {"server": SERVER, "certificate-authority": str(pki / "ca.crt")},
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}},
    )
    access = _kubeconfig.from_kubeconfig(path)
    assert access.refresh is not None, "the kubernetes package's loader was not used"
    assert ours(path) == theirs(path)
    assert access.authorization() == "Bearer from-exec"
    assert Kube(kubeconfig=path).configuration.authorization() == "Bearer from-exec"


def test_an_auth_provider_user_goes_through_the_kubernetes_package(tmp_path):
    path = single(
        tmp_path / "kubeconfig",
        {"server": SERVER, "insecure-skip-tls-verify": True},
        {"auth-provider": {"name": "unknown-provider", "config": {}}},
    )
    assert _kubeconfig.from_kubeconfig(path).refresh is not None


def test_a_kubernetes_configuration_is_still_accepted():
    configuration = kubernetes_client.Configuration()
    configuration.host = "https://127.0.0.1:6443/"
    configuration.api_key = {"authorization": "Bearer given"}
    kube = Kube(configuration=configuration)
    assert kube.host == "https://127.0.0.1:6443"
    assert kube.configuration.authorization() == "Bearer given"


# ---------------------------------------------------------------- in-cluster


def test_in_cluster_as_the_kubernetes_package(tmp_path, pki):
    from kubernetes.config.incluster_config import InClusterConfigLoader

    (tmp_path / "token").write_text("sa-token")
    shutil.copy(pki / "ca.crt", tmp_path / "ca.crt")
    for host in ("10.43.0.1", "fd00::1"):
        environ = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443"}
        configuration = kubernetes_client.Configuration()
        InClusterConfigLoader(str(tmp_path / "token"), str(tmp_path / "ca.crt"), environ=environ).load_and_set(
            configuration
        )
        access = _kubeconfig.load(environ=environ, service_account_dir=str(tmp_path))
        assert (access.host, access.ssl_ca_cert) == (configuration.host, configuration.ssl_ca_cert)
        theirs_header = configuration.auth_settings()["BearerToken"]["value"]
        assert access.authorization().lower() == theirs_header.lower()  # "bearer" there, "Bearer" here
    (tmp_path / "token").write_text("rotated")
    assert access.authorization() == "Bearer rotated"


def test_a_kubeconfig_or_context_wins_over_in_cluster(tmp_path, pki):
    path = case_ca_data(tmp_path, pki)
    environ = {"KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBECONFIG": path}
    assert _kubeconfig.load(path, environ=environ, service_account_dir=str(tmp_path)).host == SERVER
    assert _kubeconfig.load(context="x", environ=environ, service_account_dir=str(tmp_path)).host == SERVER
    assert _kubeconfig.load(environ={"KUBECONFIG": path}).host == SERVER


def test_in_cluster_without_a_token(tmp_path):
    environ = {"KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(
        KubeconfigError, match=r"service account token .*token is missing.*automountServiceAccountToken"
    ):
        _kubeconfig.load(environ=environ, service_account_dir=str(tmp_path))
    with pytest.raises(KubeconfigError, match="KUBERNETES_SERVICE_PORT must both be set"):
        _kubeconfig.in_cluster(environ={"KUBERNETES_SERVICE_HOST": "10.43.0.1"})


# ---------------------------------------------------------------- bad kubeconfigs: both loaders refuse, ours says why


def bad_missing_file(d):
    return str(d / "nowhere" / "config"), r"no kubeconfig: .*nowhere/config does not exist; set the module's kubeconfig"


def bad_empty(d):
    (d / "config").write_text("")
    return str(d / "config"), r"kubeconfig .*config is empty"


def bad_not_a_mapping(d):
    (d / "config").write_text("- just\n- a list\n")
    return str(d / "config"), r"kubeconfig .*config is not a kubeconfig: a mapping .* found a list"


def bad_not_yaml(d):
    (d / "config").write_text("clusters: [\n")
    return str(d / "config"), r"kubeconfig .*config is not valid YAML"


def bad_no_current_context(d):
    path = write_kubeconfig(
        d / "config", {"c": {"server": SERVER}}, {}, {"a": {"cluster": "c"}, "b": {"cluster": "c"}}, None
    )
    return path, r"has no current-context; set the module's context option .* one of its contexts: a, b"


def bad_unknown_current_context(d):
    path = write_kubeconfig(d / "config", {"c": {"server": SERVER}}, {}, {"a": {"cluster": "c"}}, "gone")
    return path, r"has no context 'gone'; its contexts: a"


def bad_missing_cluster(d):
    path = write_kubeconfig(d / "config", {"c": {"server": SERVER}}, {}, {"a": {"cluster": "elsewhere"}}, "a")
    return path, r"\(context 'a'\) names cluster 'elsewhere', which .*config does not define; its clusters: c"


def bad_missing_ca_file(d):
    path = single(d / "config", {"server": SERVER, "certificate-authority": "ca.crt"}, {})
    return path, rf"certificate-authority {d}/ca.crt does not exist \(a relative path is read from the directory of"


def bad_missing_client_key(d):
    path = single(d / "config", {"server": SERVER}, {"client-certificate": "/etc/hostname", "client-key": "k.pem"})
    return path, rf"client-key {d}/k.pem does not exist"


def bad_missing_token_file(d):
    path = single(d / "config", {"server": SERVER}, {"tokenFile": "token"})
    return path, rf"cannot read tokenFile {d}/token"


BAD = {name[len("bad_") :]: fn for name, fn in dict(globals()).items() if name.startswith("bad_")}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_kubeconfig_is_refused_with_a_reason(name, tmp_path):
    path, message = BAD[name](tmp_path)
    with pytest.raises(KubeconfigError, match=message):
        _kubeconfig.from_kubeconfig(path)
    with pytest.raises(KubeError, match=message) as raised:  # what the modules catch and report
        Kube(kubeconfig=path)
    assert (raised.value.status, raised.value.reason) == (0, "Kubeconfig")
    with pytest.raises(Exception):  # noqa: B017 - the kubernetes package refuses them too (in its own ways)
        theirs(path)


def test_an_unknown_context_asked_for(tmp_path, pki):
    path = several_contexts(tmp_path, pki)
    with pytest.raises(KubeconfigError, match=r"has no context 'third'; its contexts: first, second"):
        _kubeconfig.from_kubeconfig(path, "third")
    with pytest.raises(kubernetes_config.ConfigException):
        theirs(path, "third")


def test_bad_certificate_data(tmp_path):
    path = single(tmp_path / "config", {"server": SERVER, "certificate-authority-data": "not base64!"}, {})
    with pytest.raises(KubeconfigError, match="certificate-authority-data is not base64"):
        _kubeconfig.from_kubeconfig(path)
    garbage = base64.b64encode(b"not a certificate").decode()
    path = single(
        tmp_path / "config", {"server": SERVER}, {"client-certificate-data": garbage, "client-key-data": garbage}
    )
    with pytest.raises(KubeError, match="client-certificate-data and client-key-data are not a PEM certificate"):
        Kube(kubeconfig=path)


# ---------------------------------------------------------------- over TLS


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        peer = self.connection.getpeercert() or {}
        subject = dict(item[0] for item in peer.get("subject", ()))
        body = json.dumps({"user": subject.get("commonName"), "authorization": self.headers.get("Authorization")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tls_server(pki):
    """An HTTPS server on 127.0.0.1 that asks for a client certificate of the test CA and echoes who sent it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.crt", pki / "server.key")
    context.load_verify_locations(pki / "ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_client_certificate_data_over_tls(tmp_path, pki, tls_server):
    path = single(
        tmp_path / "config",
        {"server": f"https://127.0.0.1:{tls_server}", "certificate-authority-data": b64(pki / "ca.crt")},
        {"client-certificate-data": b64(pki / "client.crt"), "client-key-data": b64(pki / "client.key")},
    )
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    assert Kube(kubeconfig=path).request("GET", "/") == {"user": "alice", "authorization": None}
    left = {name for name in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - before if name.startswith("k8s-ee-")}
    assert not left, f"key material left behind: {left}"


def test_tls_server_name_and_token_file_over_tls(tmp_path, pki, tls_server):
    (tmp_path / "token").write_text("abc")
    path = single(
        tmp_path / "config",
        {"server": f"https://localhost:{tls_server}", "certificate-authority": str(pki / "ca.crt"),
         "tls-server-name": "api.test"},
        {"tokenFile": "token"},
    )  # fmt: skip
    kube = Kube(kubeconfig=path)
    assert kube.request("GET", "/") == {"user": None, "authorization": "Bearer abc"}
    (tmp_path / "token").write_text("def")
    assert kube.request("GET", "/")["authorization"] == "Bearer def"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_wrong_ca_is_refused_unless_insecure(tmp_path, pki, tls_server):
    other = tmp_path / "other"
    other.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=other", cwd=other)
    path = single(
        tmp_path / "a",
        {"server": f"https://127.0.0.1:{tls_server}", "certificate-authority": str(other / "ca.crt")},
        {},
    )
    with pytest.raises(KubeError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        Kube(kubeconfig=path).request("GET", "/")
    path = single(
        tmp_path / "b", {"server": f"https://127.0.0.1:{tls_server}", "insecure-skip-tls-verify": True}, {"token": "t"}
    )
    assert Kube(kubeconfig=path).request("GET", "/")["authorization"] == "Bearer t"


# ---------------------------------------------------------------- the point of it all


def test_a_plain_kubeconfig_does_not_import_kubernetes(tmp_path, pki):
    path = case_client_cert_data(tmp_path, pki)
    program = (
        "import sys\n"
        "from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube\n"
        f"kube = Kube(kubeconfig={path!r})\n"
        "assert kube.host == 'https://127.0.0.1:6443', kube.host\n"
        "assert 'kubernetes' not in sys.modules, 'kubernetes was imported'\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
