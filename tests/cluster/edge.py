# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local cluster's edge: Traefik as k3s runs it, with Pebble as its ACME certificate authority.

What runs, each a process of the cluster (localcluster.py stops them with the rest):

- pebble-challtestsrv: the DNS server Pebble asks where a host is. It answers every A query with
  127.0.0.1 and no AAAA query (Pebble dials the first address it gets, and Traefik listens on IPv4
  loopback only); its HTTP-01, HTTPS, DoH and TLS-ALPN listeners are switched off.
- Pebble, Let's Encrypt's ACME test server, on loopback, with a TLS certificate of its own test CA
  (made here, like the cluster's PKI), PEBBLE_VA_NOSLEEP=1 (no random wait before it validates) and
  PEBBLE_WFE_NONCEREJECT=0 (no deliberately rejected nonces). It validates every challenge for real:
  PEBBLE_VA_ALWAYS_VALID is never set. Its issuing root is made anew at each start; it is fetched
  from the management API and written to pebble/root.pem.
- Traefik v3.5.1 (tests/cluster/components.py), started with the container arguments `helm
  template` renders from the pinned traefik chart for k3s' own HelmChart values and the platform
  role's HelmChartConfig (roles/platform/templates/traefik.yml.j2, rendered here with the role's
  defaults, the ACME e-mail and platform_acme_ca_server set to Pebble's directory). HOST_CHANGES
  lists, in one place, each argument a host process must change and why.
- a forwarder (`edge.py forward`, this file): Traefik runs in a network namespace of its own, which
  has nothing but loopback (with a real node, the node's namespace). The forwarder carries the
  entry points from free loopback ports of this machine into it, and the API server's and Pebble's
  ports out of it. So Traefik keeps the chart's entry point addresses, and it reaches nothing else:
  a simulated node's pod address (the fake runtime's 192.168.192.168, which this machine would route
  away) is unreachable for it, and so is Traefik's own update check.

The cluster gets what k3s' chart installs beside the Deployment: the traefik.io CRDs of the chart's
crds/ (replacing the newer ones of shared/upstream/crds), the IngressClass `traefik`, the Service
kube-system/traefik (publishedService), and the ServiceAccount with its ClusterRole and binding;
Traefik talks to the API server with that ServiceAccount's token, so the chart's RBAC is what it has.

edge.json in the edge folder records the ports and paths; `localcluster.py status --json` shows them:

    curl --resolve <host>:<https_port>:127.0.0.1 --cacert <pebble_root> https://<host>:<https_port>/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime
import ipaddress
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import time
import typing
import urllib.request

import components
import localcluster

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
TRAEFIK_CHART = "traefik-37.1.0"  # what k3s v1.34.3+k3s1 installs (as traefik-37.1.1+up37.1.0)
K3S_MANIFEST = "charts/k3s-v1.34.3+k3s1-traefik.yaml"  # k3s' manifests/traefik.yaml, tests/upstream.lock.json
RELEASE, NAMESPACE = "traefik", "kube-system"  # helm-controller: the HelmChart's name and namespace
ACME_EMAIL = "ops@example.com"
# the chart's entry points (ports.<name>.port in its values.yaml) carried to loopback ports of this machine
ENTRY_POINTS = {"web": 8000, "websecure": 8443, "traefik": 8080}
FIELD_MANAGER = "k8s-ee-edge"
CLONE_NEWNET = 0x40000000


def host_changes(storage: pathlib.Path) -> dict[str, tuple[str, str]]:
    """Each rendered argument a host process must change: {argument: (replacement, why)}. Nothing else differs."""
    return {
        "--certificatesresolvers.letsencrypt.acme.storage=/data/acme.json": (
            f"--certificatesresolvers.letsencrypt.acme.storage={storage}",
            "/data is the pod's volume (the chart's PVC); here a file of the edge folder",
        ),
    }


# Also not an argument, and for the same reason: the environment. In the pod it is POD_NAME and POD_NAMESPACE (the
# chart's), plus KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount token the kubelet mounts; here KUBECONFIG names
# a kubeconfig with a token of the same ServiceAccount (Traefik's providers read KUBECONFIG when not in a pod), and
# LEGO_CA_CERTIFICATES names Pebble's TLS CA, which a server's Traefik finds in its system pool for Let's Encrypt.


def _import_tests():
    for path in (REPO / "tests", REPO / ".build" / "collections"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


# --------------------------------------------------------------------------- what the chart renders


def role_values(**variables) -> str:
    """valuesContent of the platform role's HelmChartConfig, from its template, its defaults and `variables`."""
    _import_tests()
    import yaml
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    role = REPO / "roles" / "platform"
    values = dict(yaml.safe_load((role / "defaults" / "main.yml").read_text()), **variables)
    text = Templar(loader=DataLoader(), variables=values).template(
        trust_as_template((role / "templates" / "traefik.yml.j2").read_text())
    )
    (config,) = [doc for doc in yaml.safe_load_all(text) if doc]
    return config["spec"]["valuesContent"]


def k3s_helm_chart() -> dict:
    """k3s' own HelmChart kube-system/traefik (its manifests/traefik.yaml)."""
    _import_tests()
    import upstream
    import yaml

    docs = yaml.safe_load_all(upstream.path(K3S_MANIFEST).read_text())
    (chart,) = [d for d in docs if d and d["kind"] == "HelmChart" and d["metadata"]["name"] == RELEASE]
    return chart


def render(platform_values: str) -> list[dict]:
    """`helm template` as k3s' helm-controller runs it for the HelmChart traefik: release traefik in kube-system, the
    HelmChart's valuesContent, then the HelmChartConfig's (it merges them in that order), and its spec.set (k3s
    substitutes an empty system default registry)."""
    _import_tests()
    import yaml
    from observability import helm_binary, upstream_chart

    chart = k3s_helm_chart()
    argv = [str(helm_binary()), "template", RELEASE, str(upstream_chart(TRAEFIK_CHART)), "-n", NAMESPACE]
    argv += ["--kube-version", localcluster.K8S_VERSION]
    for key in chart["spec"].get("set") or {}:
        argv += ["--set-string", f"{key}="]  # "%{SYSTEM_DEFAULT_REGISTRY_RAW}%", empty without a system registry
    with contextlib.ExitStack() as stack:
        for index, content in enumerate((chart["spec"]["valuesContent"], platform_values)):
            path = pathlib.Path(stack.enter_context(_temporary(f"values-{index}.yaml")))
            path.write_text(content)
            argv += ["-f", str(path)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@contextlib.contextmanager
def _temporary(name: str):
    import tempfile

    with tempfile.TemporaryDirectory(prefix="k8s-ee-edge-") as folder:
        yield pathlib.Path(folder) / name


def container(objects: list[dict]) -> dict:
    """The traefik container of the rendered Deployment."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == RELEASE]
    (main,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == RELEASE]
    return main


def host_args(rendered: list[str], storage: pathlib.Path) -> list[str]:
    """The rendered arguments with HOST_CHANGES applied; every change must find its argument."""
    changes = host_changes(storage)
    missing = sorted(set(changes) - set(rendered))
    if missing:
        raise ValueError(f"the chart no longer renders {missing}; review edge.host_changes")
    return [changes[arg][0] if arg in changes else arg for arg in rendered]


def crds() -> list[dict]:
    """The traefik.io CRDs the chart ships (k3s installs them from its traefik-crd chart, the same version)."""
    _import_tests()
    import yaml
    from observability import upstream_chart

    folder = upstream_chart(TRAEFIK_CHART) / "crds"
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("traefik.io_*.yaml"))]


# --------------------------------------------------------------------------- Pebble's TLS


def _write_pebble_tls(folder: pathlib.Path) -> None:
    """A test CA of its own and a certificate for 127.0.0.1 and localhost (the module's test certificate expires)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=30)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k8s-ee-test pebble TLS CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pebble")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "tls-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private = folder / "tls.key"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private.chmod(0o600)


# --------------------------------------------------------------------------- the edge


class EdgeError(RuntimeError):
    pass


class Edge:
    """Pebble, its DNS server and Traefik for one LocalCluster; state in <cluster workdir>/edge."""

    def __init__(self, cluster, email: str = ACME_EMAIL):
        self.cluster = cluster
        self.email = email
        self.dir = cluster.workdir / "edge"
        self.state = self.dir / "edge.json"

    # ---- facts for the tests and `localcluster.py status --json`

    def info(self) -> dict:
        return json.loads(self.state.read_text()) if self.state.exists() else {}

    @property
    def acme_directory(self) -> str:
        return self.info()["acme_directory"]

    def platform_variables(self) -> dict:
        """The platform role's variables the running Traefik was rendered with."""
        return {"platform_acme_email": self.email, "platform_acme_ca_server": self.acme_directory}

    # ---- start and stop

    def start(self, log=None) -> dict:
        log = log or self.cluster.log
        paths = components.build(["traefik", "pebble"], log=log)
        self.dir.mkdir(parents=True, exist_ok=True)
        pebble_dir, traefik_dir = self.dir / "pebble", self.dir / "traefik"
        traefik_dir.mkdir(exist_ok=True)
        _write_pebble_tls(pebble_dir)
        free = localcluster._free_port
        ports = {"dns": free(), "challtestsrv": free(), "acme": free(), "pebble_management": free()}
        ports.update({f"{name}_entry": free() for name in ENTRY_POINTS})
        info = {
            "http_port": ports["web_entry"],
            "https_port": ports["websecure_entry"],
            "traefik_port": ports["traefik_entry"],
            "pebble_root": str(pebble_dir / "root.pem"),
            "acme_directory": f"https://127.0.0.1:{ports['acme']}/dir",
            "dns": f"127.0.0.1:{ports['dns']}",
            "challtestsrv_management": f"http://127.0.0.1:{ports['challtestsrv']}",
        }
        self.state.write_text(json.dumps(info, indent=1))
        try:
            self._start_pebble(paths["pebble"].parent, pebble_dir, ports)
            self._start_traefik(paths["traefik"], traefik_dir, pebble_dir, ports, log)
        except BaseException:
            self.stop()
            raise
        return info

    def stop(self) -> None:
        """Stop the edge's processes and delete what it applied but the CRDs (the cluster goes on as before, with
        the chart's traefik.io CRDs)."""
        for name in ("traefik", "edge-forwarder", "pebble", "challtestsrv"):
            self.cluster.stop_process(name)
        applied = self.dir / "applied.yaml"
        if applied.exists() and self.cluster.running():
            self._kubectl("delete", "--ignore-not-found", "--wait=false", "-f", str(applied))
            applied.unlink()
        if self.state.exists():
            self.state.unlink()

    def _server(self) -> str:
        return (self.cluster.workdir / "server").read_text().strip()

    def _kubectl(self, *args: str, input: str | None = None) -> None:
        argv = [str(localcluster.binaries()["kubectl"]), f"--kubeconfig={self.cluster.kubeconfig}", *args]
        proc = subprocess.run(argv, input=input, text=True, capture_output=True, check=False, timeout=120)
        if proc.returncode:
            raise EdgeError(f"kubectl {' '.join(args[:2])} failed: {proc.stderr[-2000:]}")

    def _start_pebble(self, bin_dir: pathlib.Path, folder: pathlib.Path, ports: dict) -> None:
        self.cluster._start(
            "challtestsrv",
            [
                str(bin_dir / "pebble-challtestsrv"),
                "-http01=",
                "-https01=",
                "-doh=",
                "-tlsalpn01=",
                f"-dnsserver=127.0.0.1:{ports['dns']}",
                f"-management=127.0.0.1:{ports['challtestsrv']}",
                "-defaultIPv4=127.0.0.1",
                "-defaultIPv6=",
            ],
            env=_plain_env(),
        )
        config = {
            "pebble": {
                "listenAddress": f"127.0.0.1:{ports['acme']}",
                "managementListenAddress": f"127.0.0.1:{ports['pebble_management']}",
                "certificate": str(folder / "tls.pem"),
                "privateKey": str(folder / "tls.key"),
                "httpPort": ports["web_entry"],  # HTTP-01: Traefik's web entry point, on this machine's loopback
                "tlsPort": ports["websecure_entry"],
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
                "domainBlocklist": [],
                "retryAfter": {"authz": 3, "order": 5},
                "profiles": {"default": {"description": "Let's Encrypt's 90 days", "validityPeriod": 7776000}},
            }
        }
        (folder / "pebble-config.json").write_text(json.dumps(config, indent=1))
        self.cluster._start(
            "pebble",
            [
                str(bin_dir / "pebble"),
                f"-config={folder / 'pebble-config.json'}",
                f"-dnsserver=127.0.0.1:{ports['dns']}",
            ],
            env=_plain_env(PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0"),
        )
        context = ssl.create_default_context(cafile=str(folder / "tls-ca.pem"))
        root = self._wait(
            lambda: _get(f"https://127.0.0.1:{ports['pebble_management']}/roots/0", context),
            "Pebble's management API",
        )
        _get(self.acme_directory, context)
        (folder / "root.pem").write_bytes(root)

    def _start_traefik(self, binary, folder: pathlib.Path, pebble_dir: pathlib.Path, ports: dict, log) -> None:
        values = role_values(**self.platform_variables())
        (folder / "platform-values.yaml").write_text(values)
        objects = render(values)
        main = container(objects)
        env_names = [e["name"] for e in main.get("env", [])]
        if env_names != ["POD_NAME", "POD_NAMESPACE"] or main.get("envFrom"):
            raise EdgeError(
                f"the chart renders another environment ({env_names}, {main.get('envFrom')}): review edge.py"
            )
        args = host_args(main["args"], folder / "acme.json")
        (folder / "args.json").write_text(json.dumps({"rendered": main["args"], "run": args}, indent=1))
        self._apply(objects)
        kubeconfig = self._service_account_kubeconfig(folder, objects)
        # into Traefik's namespace: its entry points from this machine's loopback; out of it: the API server, Pebble
        api_port = int(self._server().rsplit(":", 1)[1])
        spec = {
            "netns": None,
            "into": [[ports[f"{name}_entry"], port] for name, port in ENTRY_POINTS.items()],
            "out_of": [ports["acme"], *([] if self.cluster.real_node else [api_port])],
        }
        if self.cluster.real_node:
            from realnode import NETNS

            spec["netns"] = f"/run/netns/{NETNS}"
        (folder / "forward.json").write_text(json.dumps(spec))
        (folder / "forward.json.ready").unlink(missing_ok=True)
        self.cluster._start(
            "edge-forwarder",
            [sys.executable, str(pathlib.Path(__file__)), "forward", str(folder / "forward.json")],
            exe=os.path.realpath(sys.executable),
        )
        netns = self._wait(lambda: _forwarder_ready(folder), "the edge forwarder")
        env = _plain_env(
            KUBECONFIG=str(kubeconfig),
            LEGO_CA_CERTIFICATES=str(pebble_dir / "tls-ca.pem"),
            # the chart's env: the downward API's pod name and namespace
            POD_NAME="traefik-edge",
            POD_NAMESPACE=NAMESPACE,
        )
        nsenter = localcluster.realnode.NSENTER
        self.cluster._start(
            "traefik",
            [nsenter, f"--net={netns}", str(binary), *args],
            env=env,
            exe=str(binary),
            launchers=(nsenter,),
        )
        self._wait(lambda: _get(f"http://127.0.0.1:{ports['traefik_entry']}/ping") == b"OK", "Traefik's ping")
        log(f"edge: Traefik on 127.0.0.1:{ports['web_entry']} (web) and :{ports['websecure_entry']} (websecure)")

    def _apply(self, objects: list[dict]) -> None:
        """What k3s installs with the chart, except the Deployment (Traefik runs here) and its volume claim."""
        import yaml

        wanted = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "IngressClass")
        chart_objects = [o for o in objects if o["kind"] in wanted]
        for obj in chart_objects:  # helm leaves `annotations: null` where a template renders none
            obj["metadata"] = {k: v for k, v in obj["metadata"].items() if v is not None}
        (self.dir / "applied.yaml").write_text(yaml.safe_dump_all(chart_objects))
        apply = ["apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
        self._kubectl(*apply, input=yaml.safe_dump_all(crds() + chart_objects))
        names = [crd["metadata"]["name"] for crd in crds()]
        self._kubectl("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names))

    def _service_account_kubeconfig(self, folder: pathlib.Path, objects: list[dict]) -> pathlib.Path:
        """A kubeconfig with a token of the chart's ServiceAccount (TokenRequest), as the pod would have."""
        import yaml
        from kubernetes import client

        (account,) = [o for o in objects if o["kind"] == "ServiceAccount"]
        core = client.CoreV1Api(self.cluster.client())
        token = core.create_namespaced_service_account_token(
            account["metadata"]["name"],
            NAMESPACE,
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 86400}},
        ).status.token
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "k8s-ee-test",
                    "cluster": {
                        "server": self._server(),
                        "certificate-authority": str(self.cluster.pki / "ca.crt"),
                    },
                }
            ],
            "users": [{"name": "traefik", "user": {"token": token}}],
            "contexts": [{"name": "traefik", "context": {"cluster": "k8s-ee-test", "user": "traefik"}}],
            "current-context": "traefik",
        }
        path = folder / "kubeconfig"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config))
        return path

    def _wait(self, probe, what: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.cluster._check_processes()
            try:
                result = probe()
                if result:
                    return result
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last = exc
            time.sleep(0.2)
        raise EdgeError(f"{what} not ready after {timeout}s: {last}; logs in {self.cluster.workdir / 'logs'}")


def _plain_env(**extra: str) -> dict:
    """Only PATH from this process: no proxy settings, no KUBERNETES_SERVICE_* (Traefik would think it is in a pod)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


def _get(url: str, context: ssl.SSLContext | None = None) -> bytes:
    handler = urllib.request.HTTPSHandler(context=context) if context else urllib.request.HTTPHandler()
    opener = urllib.request.build_opener(handler, urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=2) as response:  # loopback only
        return response.read()


def _forwarder_ready(folder: pathlib.Path) -> str | None:
    """The network namespace Traefik joins (a path for nsenter --net), once the forwarder listens."""
    ready = folder / "forward.json.ready"
    return ready.read_text().strip() if ready.exists() else None


# --------------------------------------------------------------------------- requests as a reviewer makes them


class Answer(typing.NamedTuple):
    status: int
    headers: dict  # lower-case names
    certificate: bytes | None  # the peer's, DER, for HTTPS
    body: bytes


def fetch(
    port: int,
    host: str,
    path: str = "/",
    tls: ssl.SSLContext | None = None,
    timeout: float = 30,
    headers: dict | None = None,
) -> Answer:
    """GET http(s)://<host><path> from 127.0.0.1:<port>, as `curl --resolve host:port:127.0.0.1` does (SNI and Host
    are the host), with `headers` besides Host. `tls` is an SSLContext for HTTPS (pebble_context verifies,
    unverified does not)."""
    import http.client

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    certificate = None
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname=host)
        certificate = sock.getpeercert(binary_form=True)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    try:
        connection.request("GET", path, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, certificate, body)
    finally:
        connection.close()


def served_certificate(port: int, host: str):
    """The certificate Traefik presents for `host` (not verified: it may still be Traefik's default one)."""
    from cryptography import x509

    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        unverified().wrap_socket(sock, server_hostname=host) as tls,
    ):
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def issued_by_pebble(port: int, host: str):
    """The certificate served for `host` when Pebble issued it (not Traefik's self-signed default), else None."""
    certificate = served_certificate(port, host)
    return certificate if "Pebble" in certificate.issuer.rfc4514_string() else None


def wait_for(probe, what: str, timeout: float = 180, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"{what} after {timeout}s")


def pebble_context(root: str | pathlib.Path) -> ssl.SSLContext:
    """Trusts Pebble's issuing root only (edge.json's pebble_root), and checks the host name."""
    return ssl.create_default_context(cafile=str(root))


def unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# --------------------------------------------------------------------------- the forwarder


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


@contextlib.contextmanager
def _in(netns_fd: int, home_fd: int):
    """Sockets made inside belong to that network namespace for good; the thread returns home afterwards."""
    _setns(netns_fd)
    try:
        yield
    finally:
        _setns(home_fd)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pass


def _connecting(port: int, target_fd: int, home_fd: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with _in(target_fd, home_fd):
            sock = socket.socket()
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            up_reader, up_writer = await asyncio.open_connection(sock=sock)
        except OSError:
            sock.close()
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        for w in (writer, up_writer):
            w.close()

    return handle


def _listener(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


async def _forward(spec: dict, ready: pathlib.Path) -> None:
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    if spec["netns"]:
        inner = os.open(spec["netns"], os.O_RDONLY)
        shown = spec["netns"]
    else:
        # a namespace of its own: loopback only, brought up by `ip`, which inherits this thread's namespace
        if _libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        inner = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        _setns(home)
        shown = f"/proc/{os.getpid()}/fd/{inner}"  # the namespace lives as long as this process holds it
    servers = []
    for host_port, inner_port in spec["into"]:
        servers.append(await asyncio.start_server(_connecting(inner_port, inner, home), sock=_listener(host_port)))
    for port in spec["out_of"]:
        with _in(inner, home):
            sock = _listener(port)
        servers.append(await asyncio.start_server(_connecting(port, home, home), sock=sock))
    partial = ready.with_name(ready.name + ".partial")
    partial.write_text(shown)
    partial.replace(ready)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def forward_main(spec_path: str) -> int:
    path = pathlib.Path(spec_path)
    asyncio.run(_forward(json.loads(path.read_text()), path.with_name(path.name + ".ready")))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["forward"])
    parser.add_argument("spec")
    args = parser.parse_args(argv)
    return forward_main(args.spec)


if __name__ == "__main__":
    sys.exit(main())
