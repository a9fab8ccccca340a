# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real Kubernetes control plane on loopback, for the tests and the demo.

Upstream kube-apiserver, kube-controller-manager and kube-scheduler built from
the Kubernetes Go modules at a pinned release, etcd built from its Go module,
and simulated nodes (the kubemark hollow kubelet, see go/hollownode) that run
pods with a fake container runtime. Binaries are built once and cached under
~/.cache/k8s-ee (K8S_EE_CACHE), keyed by version.

    python3 tests/cluster/localcluster.py up   [--dir DIR] [--edge]   # prints the kubeconfig path
    python3 tests/cluster/localcluster.py down [--dir DIR]   # stops exactly what `up` started
    python3 tests/cluster/localcluster.py build              # only build the binaries
    python3 tests/cluster/localcluster.py status [--json]    # running or not; --json: also the edge's ports

--edge adds Traefik and Pebble (tests/cluster/edge.py): `status --json` then names Traefik's HTTP and
HTTPS loopback ports and Pebble's root certificate, so a preview opens with
`curl --resolve <host>:<https_port>:127.0.0.1 --cacert <pebble_root> https://<host>:<https_port>/`.

Everything listens on 127.0.0.1. Nothing here makes the API server dial a
node or a pod (no logs, exec, port-forward or proxy).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import ipaddress
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import realnode  # tests/cluster/realnode.py, beside this file

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
K8S_VERSION = "v1.34.3"
ETCD_VERSION = "v3.6.16"
CACHE = pathlib.Path(os.environ.get("K8S_EE_CACHE", pathlib.Path.home() / ".cache" / "k8s-ee"))
DEFAULT_DIR = REPO / ".build" / "cluster"
SERVICE_CIDR = "10.96.0.0/16"
STORAGE_CLASS = "standard"
VOLUME_SIZE = "5Gi"


def shared_crds_dir() -> pathlib.Path:
    """The upstream CRDs: K8S_EE_CRDS as it is, or tests/upstream.py's `crds` (../shared/upstream/crds beside the
    checkout, or downloaded into the cache; checked against tests/upstream.lock.json either way)."""
    if os.environ.get("K8S_EE_CRDS"):
        return pathlib.Path(os.environ["K8S_EE_CRDS"])
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))
    import upstream

    return upstream.directory("crds")


# --------------------------------------------------------------------------- build


def _binary_dir(name: str, version: str) -> pathlib.Path:
    return CACHE / f"{name}-{version}"


def binaries() -> dict[str, pathlib.Path]:
    k8s = _binary_dir("k8s", K8S_VERSION)
    return {
        "etcd": _binary_dir("etcd", ETCD_VERSION) / "etcd",
        "kube-apiserver": k8s / "kube-apiserver",
        "kube-controller-manager": k8s / "kube-controller-manager",
        "kube-scheduler": k8s / "kube-scheduler",
        "hollownode": k8s / "hollownode",
        "kubectl": k8s / "kubectl",
        "kubelet": k8s / "kubelet",
        "kube-proxy": k8s / "kube-proxy",
    }


def _go_build(module_dir: pathlib.Path, out_dir: pathlib.Path, packages: list[str], log, ldflags="") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod -buildvcs=false")
    cmd = ["go", "build", "-trimpath", f"-ldflags=-s -w {ldflags}".strip(), "-o", str(tmp) + "/", *packages]
    log(f"building {', '.join(p.rsplit('/', 1)[-1] for p in packages)} in {module_dir.name} (cached afterwards)")
    subprocess.run(cmd, cwd=module_dir, env=env, check=True)
    for built in tmp.iterdir():
        built.replace(out_dir / built.name)
    tmp.rmdir()


def build(log=print) -> dict[str, pathlib.Path]:
    """Build whatever binary is missing from the cache; safe to run concurrently."""
    paths = binaries()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not paths["etcd"].exists():
            _go_build(HERE / "go-etcd", paths["etcd"].parent, ["go.etcd.io/etcd/server/v3"], log)
            (paths["etcd"].parent / "server").replace(paths["etcd"])  # go names it after .../server/v3
        k8s_missing = [
            n
            for n in (
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "hollownode",
                "kubectl",
                "kubelet",
                "kube-proxy",
            )
            if not paths[n].exists()
        ]
        if k8s_missing:
            packages = {
                "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
                "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
                "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
                "hollownode": "./hollownode",
                "kubectl": "k8s.io/kubernetes/cmd/kubectl",
                "kubelet": "k8s.io/kubernetes/cmd/kubelet",
                "kube-proxy": "k8s.io/kubernetes/cmd/kube-proxy",
            }
            major, minor = K8S_VERSION.lstrip("v").split(".")[:2]
            version = " ".join(
                f"-X k8s.io/component-base/version.{key}={value}"
                for key, value in (
                    ("gitVersion", K8S_VERSION),
                    ("gitMajor", major),
                    ("gitMinor", minor),
                    ("gitTreeState", "clean"),
                    ("buildDate", "1970-01-01T00:00:00Z"),
                )
            )
            _go_build(HERE / "go", paths["kube-apiserver"].parent, [packages[n] for n in k8s_missing], log, version)
    return paths


# --------------------------------------------------------------------------- certificates


def _write_pki(pki: pathlib.Path, real_node: bool = False) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=30)

    def key_pem(key):
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(name, data, mode=0o600):
        path = pki / name
        path.write_bytes(data)
        path.chmod(mode)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k8s-ee-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write("ca.crt", ca.public_bytes(serialization.Encoding.PEM), 0o644)
    write("ca.key", key_pem(ca_key))

    def leaf(name, subject, usage, sans=()):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(later)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        write(f"{name}.crt", builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), 0o644)
        write(f"{name}.key", key_pem(key))

    service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())
    dns = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    leaf(
        "apiserver",
        [x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")],
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", realnode.NODE_ADDRESS)]
        + [x509.IPAddress(service_ip)]
        + [x509.DNSName(d) for d in dns],
    )
    leaf(
        "admin",
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "k8s-ee-admin"),
        ],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    if real_node:
        # the kubelet's identity, its serving certificate, and the API server's client certificate for it
        leaf(
            "node",
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{realnode.NODE_NAME}"),
            ],
            ExtendedKeyUsageOID.CLIENT_AUTH,
        )
        leaf(
            "kubelet",
            [x509.NameAttribute(NameOID.COMMON_NAME, realnode.NODE_NAME)],
            ExtendedKeyUsageOID.SERVER_AUTH,
            [x509.IPAddress(ipaddress.ip_address(realnode.NODE_ADDRESS)), x509.DNSName(realnode.NODE_NAME)],
        )
        leaf(
            "apiserver-kubelet-client",
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver-kubelet-client"),
            ],
            ExtendedKeyUsageOID.CLIENT_AUTH,
        )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("sa.key", key_pem(sa_key))
    write(
        "sa.pub",
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        0o644,
    )


def _kubeconfig(pki: pathlib.Path, server: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "k8s-ee-test", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}
        ],
        "users": [
            {
                "name": "admin",
                "user": {"client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")},
            }
        ],
        "contexts": [{"name": "k8s-ee-test", "context": {"cluster": "k8s-ee-test", "user": "admin"}}],
        "current-context": "k8s-ee-test",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- cluster


class ClusterError(RuntimeError):
    pass


class LocalCluster:
    """One control plane, its simulated nodes and optionally the real node, all state under `workdir`."""

    def __init__(
        self,
        workdir: pathlib.Path | str = DEFAULT_DIR,
        nodes: int = 1,
        node_cpu: int = 4,
        node_memory: str = "24Gi",
        volumes: int = 40,
        log=None,
        real_node: bool = False,
        edge: bool = False,
        without_crds: tuple[str, ...] = (),
    ):
        self.workdir = pathlib.Path(workdir).resolve()
        # API groups whose upstream CRDs are left out (a cluster without Traefik: ("traefik.io",))
        self.without_crds = tuple(without_crds)
        self.nodes = nodes
        self.node_cpu = node_cpu
        self.node_memory = node_memory
        self.volumes = volumes
        self.log = log or (lambda msg: print(f"[cluster] {msg}", file=sys.stderr, flush=True))
        self.pki = self.workdir / "pki"
        self.kubeconfig = self.workdir / "kubeconfig"
        self.state_file = self.workdir / "processes.json"
        self.real_node = realnode.RealNode(self, self.workdir / "node", log=self.log) if real_node else None
        self.edge = edge

    # ---- processes

    def _start(
        self, name: str, argv: list[str], env: dict | None = None, exe: str | None = None, launchers: tuple = ()
    ) -> dict:
        """Start `argv` in its own session, logging to logs/<name>.log. `exe` is the binary it ends up running
        when `argv[0]` is a launcher (nsenter, unshare) that execs it; `launchers` are what it runs until then."""
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env or os.environ.copy(),
            )
        entry = {"name": name, "pid": proc.pid, "exe": exe or argv[0], "launchers": list(launchers)}
        state = self._state()
        state.append(entry)
        self.state_file.write_text(json.dumps(state, indent=1))
        return entry

    def _state(self) -> list[dict]:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return []

    @staticmethod
    def _alive(entry: dict) -> bool:
        """True when the recorded pid still runs the recorded binary (never a reused pid)."""
        try:
            exe = os.readlink(f"/proc/{entry['pid']}/exe")
        except OSError:
            return False
        return any(exe == known or exe.startswith(known + " ") for known in [entry["exe"], *entry.get("launchers", ())])

    def running(self) -> bool:
        state = self._state()
        return bool(state) and all(self._alive(e) for e in state)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop exactly the processes this cluster started: newest first (nodes, scheduler, controller-manager,
        then the API server while etcd still answers, then etcd), each SIGTERM, SIGKILL after `timeout`;
        then the real node's containers, namespaces, cgroups and sysctls (tests/cluster/realnode.py)."""
        state = self._state()
        node = self.real_node
        if node is None and (self.workdir / "node").is_dir():  # `down` of a cluster started with --real-node
            node = realnode.RealNode(self, self.workdir / "node", log=self.log)
        if node and state:
            # the node's own processes first (a kubelet restarts the containers it finds killed), then every container:
            # their shims would keep the node's namespaces alive
            for name in reversed(realnode.NODE_PROCESSES):
                self.stop_process(name, timeout)
            node.kill_containers()
            state = self._state()
        for entry in reversed(state):
            self._terminate(entry, timeout)
        if self.state_file.exists():
            self.state_file.unlink()
        if node:
            node.cleanup()

    def stop_process(self, name: str, timeout: float = 10.0) -> None:
        """Stop one of the processes by its name (SIGTERM, SIGKILL after `timeout`) and forget it."""
        state = self._state()
        for entry in [e for e in state if e["name"] == name]:
            self._terminate(entry, timeout)
            state.remove(entry)
        self.state_file.write_text(json.dumps(state, indent=1))

    def _terminate(self, entry: dict, timeout: float) -> None:
        if not self._alive(entry):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(entry["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._alive(entry) and time.monotonic() < deadline:
            self._reap(entry)
            time.sleep(0.05)
        if self._alive(entry):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(entry["pid"], signal.SIGKILL)
            while self._alive(entry):
                self._reap(entry)
                time.sleep(0.05)

    @staticmethod
    def _reap(entry: dict) -> None:
        """Collect our own exited child so it does not linger as a zombie."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(entry["pid"], os.WNOHANG)

    # ---- start

    def start(self, build_log=None) -> pathlib.Path:
        if self.running():
            self.log(f"already running ({self.kubeconfig})")
            return self.kubeconfig
        self.stop()
        started = time.monotonic()
        bins = build(log=build_log or self.log)
        built = time.monotonic()
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        _write_pki(self.pki, real_node=bool(self.real_node))
        try:
            if self.real_node:
                realnode.ensure_packages(log=self.log)
                self.real_node.create_network(SERVICE_CIDR)
            self._start_processes(bins)
            if self.real_node:
                self.real_node.start(bins, self.kubeconfig, self.pki)
            self._wait_ready()
            self._install()
            if self.real_node:
                self.real_node.finish()
            if self.edge:
                import edge  # tests/cluster/edge.py, beside this file

                edge.Edge(self).start(log=self.log)
        except BaseException:
            self.log(f"start failed; logs in {self.workdir / 'logs'}")
            self.stop()
            raise
        self.log(
            f"ready in {time.monotonic() - built:.1f}s (build/cache check {built - started:.1f}s); "
            f"KUBECONFIG={self.kubeconfig}"
        )
        return self.kubeconfig

    def _start_processes(self, bins: dict) -> None:
        etcd_port, etcd_peer, api_port = _free_port(), _free_port(), _free_port()
        # With a real node, etcd and the API server run in the node's network namespace, as on a k3s server: the
        # API server listens on the node's address, its pods reach it there, and its calls to pods (service
        # proxy, webhooks) leave from the node itself, which is what NetworkPolicy implementations let through.
        address = realnode.NODE_ADDRESS if self.real_node else "127.0.0.1"
        on_node = self.real_node.in_network if self.real_node else (lambda argv: {"argv": argv})
        self.server = f"https://{address}:{api_port}"
        (self.workdir / "server").write_text(self.server)
        import yaml

        self.kubeconfig.write_text(yaml.safe_dump(_kubeconfig(self.pki, self.server)))
        self.kubeconfig.chmod(0o600)
        pki = self.pki
        self._start(
            "etcd",
            **on_node(
                [
                    str(bins["etcd"]),
                    "--name=k8s-ee-test",
                    f"--data-dir={self.workdir / 'etcd'}",
                    f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                    f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                    f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                    f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                    f"--initial-cluster=k8s-ee-test=http://127.0.0.1:{etcd_peer}",
                    "--unsafe-no-fsync=true",
                    "--quota-backend-bytes=4294967296",
                    "--log-level=warn",
                ]
            ),
        )
        self._start(
            "kube-apiserver",
            **on_node(
                [
                    str(bins["kube-apiserver"]),
                    f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                    f"--bind-address={address}",
                    # without a real node the API server advertises the host's own address (a loopback address is
                    # not a valid endpoint, and the `kubernetes` EndpointSlice is a parameter of role platform)
                    *([f"--advertise-address={address}"] if self.real_node else []),
                    f"--secure-port={api_port}",
                    *(
                        [
                            "--kubelet-preferred-address-types=InternalIP",
                            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                        ]
                        if self.real_node
                        else []
                    ),
                    f"--tls-cert-file={pki / 'apiserver.crt'}",
                    f"--tls-private-key-file={pki / 'apiserver.key'}",
                    f"--client-ca-file={pki / 'ca.crt'}",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    f"--service-account-key-file={pki / 'sa.pub'}",
                    f"--service-account-signing-key-file={pki / 'sa.key'}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    "--authorization-mode=Node,RBAC",
                    # the defaults plus the ones a production cluster adds; listed so they cannot drift away
                    "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,"
                    "DefaultStorageClass,PodSecurity,Priority,DefaultTolerationSeconds,StorageObjectInUseProtection,"
                    "PersistentVolumeClaimResize,RuntimeClass,TaintNodesByCondition,NodeRestriction,"
                    "MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,DefaultIngressClass",
                    "--allow-privileged=true",
                    "--profiling=false",
                    "--watch-cache=true",
                    "--endpoint-reconciler-type=lease",
                    "--v=1",
                ]
            ),
        )
        self._wait_http(f"{self.server}/readyz", 60, "kube-apiserver")
        common = [
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            "--v=1",
        ]
        self._start(
            "kube-controller-manager",
            [
                str(bins["kube-controller-manager"]),
                *common,
                f"--secure-port={_free_port()}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--controllers=*",
                *(
                    [
                        "--allocate-node-cidrs=true",
                        f"--cluster-cidr={realnode.CLUSTER_CIDR}",
                        "--node-cidr-mask-size=24",
                    ]
                    if self.real_node
                    else []
                ),
                "--concurrent-namespace-syncs=10",
                "--concurrent-gc-syncs=20",
            ],
        )
        self._start("kube-scheduler", [str(bins["kube-scheduler"]), *common, f"--secure-port={_free_port()}"])
        node_env = dict(os.environ, TMPDIR=str(self.workdir / "nodes"))
        (self.workdir / "nodes").mkdir()
        for index in range(1, self.nodes + 1):
            self._start(
                f"node-{index}",
                [
                    str(bins["hollownode"]),
                    f"--kubeconfig={self.kubeconfig}",
                    f"--name=node-{index}",
                    f"--cpu={self.node_cpu}",
                    f"--memory={self.node_memory}",
                    f"--kubelet-port={_free_port()}",
                    "--v=1",
                ],
                env=node_env,
            )

    def status(self) -> dict:
        """What `status --json` prints: whether it runs, its kubeconfig and API server, and the edge when started."""
        edge_state = self.workdir / "edge" / "edge.json"
        server = self.workdir / "server"
        running = self.running()
        edge = json.loads(edge_state.read_text()) if running and edge_state.exists() else None
        return {
            "running": running,
            "dir": str(self.workdir),
            "kubeconfig": str(self.kubeconfig) if running else None,
            "server": server.read_text() if running and server.exists() else None,
            "edge": {key: edge[key] for key in ("http_port", "https_port", "pebble_root")} if edge else None,
        }

    def ssl_context(self) -> ssl.SSLContext:
        """TLS to the API server as its admin."""
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return context

    def _wait_http(self, url: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        context = self.ssl_context()
        last = None
        while time.monotonic() < deadline:
            self._check_processes()
            try:
                with urllib.request.urlopen(url, context=context, timeout=2) as response:  # noqa: S310 - https only
                    if response.status == 200:
                        return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last = exc
            time.sleep(0.2)
        raise ClusterError(f"{what} not ready after {timeout}s: {last}")

    def _check_processes(self) -> None:
        for entry in self._state():
            if not self._alive(entry):
                log = self.workdir / "logs" / f"{entry['name']}.log"
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise ClusterError(f"{entry['name']} exited; last log lines:\n{tail}")

    def client(self):
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def _wait_ready(self, timeout: float = 90) -> None:
        from kubernetes import client

        api = client.CoreV1Api(self.client())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_processes()
            nodes = api.list_node().items
            ready = [
                n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
            ]
            accounts = api.list_namespaced_service_account("default").items
            if len(ready) == self.nodes + bool(self.real_node) and accounts:
                return
            time.sleep(0.3)
        raise ClusterError(f"nodes not Ready after {timeout}s")

    # ---- contents

    def _install(self) -> None:
        from kubernetes import client

        api_client = self.client()
        if self.real_node:
            # the real node's volumes come from local-path-provisioner, k3s' default (tests/cluster/node-addons.yaml)
            self.install_crds(api_client)
            return
        storage = client.StorageV1Api(api_client)
        storage.create_storage_class(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "reclaimPolicy": "Retain",
                "volumeBindingMode": "Immediate",
            }
        )
        self.replenish_volumes(self.volumes, api_client)
        self.install_crds(api_client)

    def replenish_volumes(self, available: int | None = None, api_client=None) -> int:
        """Delete released volumes and create new ones until `available` are free; returns how many were made."""
        from kubernetes import client

        wanted = self.volumes if available is None else available
        core = client.CoreV1Api(api_client or self.client())
        volumes = core.list_persistent_volume().items
        free = 0
        for volume in volumes:
            if volume.status.phase in ("Released", "Failed"):
                core.delete_persistent_volume(volume.metadata.name)
            elif volume.status.phase in ("Available", "Pending") and not volume.spec.claim_ref:
                free += 1
        made = 0
        while free + made < wanted:
            name = f"pv-{time.time_ns():x}"
            core.create_persistent_volume(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": name, "labels": {"k8s-ee.test/volume": "true"}},
                    "spec": {
                        "capacity": {"storage": VOLUME_SIZE},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": STORAGE_CLASS,
                        "hostPath": {"path": f"/var/lib/k8s-ee-test/{name}", "type": ""},
                    },
                }
            )
            made += 1
        return made

    def install_crds(self, api_client=None) -> list[str]:
        import yaml
        from kubernetes import client

        directory = shared_crds_dir()
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise ClusterError(
                f"no upstream CRDs in {directory}; set K8S_EE_CRDS to the folder of shared/upstream/crds"
            )
        ext = client.ApiextensionsV1Api(api_client or self.client())
        names = []
        for path in files:
            crd = yaml.safe_load(path.read_text())
            if crd["spec"]["group"] in self.without_crds:
                continue
            ext.create_custom_resource_definition(crd)
            names.append(crd["metadata"]["name"])
        deadline = time.monotonic() + 60
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                status = ext.read_custom_resource_definition(name).status
                if any(c.type == "Established" and c.status == "True" for c in (status.conditions or [])):
                    pending.discard(name)
            time.sleep(0.2)
        if pending:
            raise ClusterError(f"CRDs not established: {sorted(pending)}")
        return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["up", "down", "build", "status"])
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="state folder (default: %(default)s)")
    parser.add_argument("--nodes", type=int, default=1, help="simulated nodes (default: %(default)s)")
    parser.add_argument("--real-node", action="store_true", help="add the real node (tests/cluster/realnode.py)")
    parser.add_argument("--edge", action="store_true", help="add Traefik and Pebble (tests/cluster/edge.py)")
    parser.add_argument("--json", action="store_true", help="status: as JSON, with the edge's ports and paths")
    args = parser.parse_args(argv)
    cluster = LocalCluster(args.dir, nodes=args.nodes, real_node=args.real_node, edge=args.edge)
    if args.command == "build":
        for name, path in build().items():
            print(f"{name}: {path}")
    elif args.command == "up":
        print(cluster.start())
    elif args.command == "down":
        cluster.stop()
        print(f"stopped ({cluster.workdir})")
    elif args.json:
        print(json.dumps(cluster.status(), indent=1))
        return 0 if cluster.running() else 1
    else:
        print("running" if cluster.running() else "stopped")
        return 0 if cluster.running() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
