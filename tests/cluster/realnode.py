# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real node for the local cluster: kubelet, containerd, runc, CNI, kube-proxy and kube-router.

The parts a k3s server runs, started on this machine without touching the host's own network,
mounts or firewall:

- one network namespace (``k8s-ee-node``) joined to the host by a veth pair: the node has
  NODE_ADDRESS, the host end HOST_ADDRESS. etcd and the API server run in it too, as on a k3s server
  (tests/cluster/localcluster.py), so the API server's calls to pods leave from the node. The
  namespace has no default route: pods reach this machine's cluster addresses and nothing else.
- one mount namespace, held by a ``sleep`` process, in which /run is a fresh tmpfs and /var/lib and
  /var/log are folders of the cluster's work directory. containerd, the kubelet and everything they
  mount (overlay snapshots, volumes, pod network namespaces) live there and vanish with it.
- every node process is started with ``nsenter`` into both namespaces, so each can be stopped and
  started again on its own (the reboot test restarts kubelet and containerd).

What is host-wide and restored at teardown: the kubelet's cgroups (all under CGROUP_ROOT) and the
kernel sysctls the kubelet sets (SYSCTLS). `host_snapshot()` records everything a run could leak
(iptables, links, routes, ipsets, mounts, cgroups, sysctls, /run/netns) so a test compares it
before and after.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import components  # tests/cluster/components.py: kube-router, CoreDNS, local-path-provisioner
import images  # tests/cluster/images.py: images built from Debian packages

NETNS = "k8s-ee-node"
HOST_LINK, NODE_LINK = "k8see-host", "k8see-node"
HOST_ADDRESS, NODE_ADDRESS = "10.250.0.2", "10.250.0.1"
LINK_PREFIX = 30
NODE_NAME = "real-1"
CLUSTER_CIDR = "10.42.0.0/16"
POD_CIDR = "10.42.0.0/24"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
CGROUP_ROOT = "/k8s-ee-node"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
LOCAL_PATH = "/var/lib/rancher/k3s/storage"
# host-wide sysctls the kubelet sets when protectKernelDefaults is false (pkg/kubelet/cm/container_manager_linux.go)
SYSCTLS = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
# The images the node has (tests/cluster/images.py), the databases' under the versions Debian bookworm
# ships (examples/sample-app/k8s-ee.yaml asks for those): a config naming another version finds no image.
NODE_TAGS = {
    "pause": [PAUSE_IMAGE.rsplit(":", 1)[1]],
    "redis": ["7.0"],
    "mariadb": ["10.11"],
    "postgresql": ["15"],
    "sample-app": ["1"],
    "sample-app-next": ["2"],
    "probe": ["1"],
    "busybox": ["1.35"],
    "coredns": ["1.12.4"],
    "cloudnative-pg": ["1.30.0"],
}
NODE_IMAGES = list(NODE_TAGS)
# The observability stack's images (role observability's charts), imported by the tests that run it
OBSERVABILITY_TAGS = {
    name: images.DEFAULT_TAGS[name]
    for name in (
        "prometheus-operator",
        "prometheus-config-reloader",
        "prometheus",
        "node-exporter",
        "kube-state-metrics",
        "loki",
    )
}
HELPER_IMAGE = images.BUSYBOX_IMAGE.format(version="1.35")  # local-path-provisioner's helper pods
COREDNS_IMAGE = images.COREDNS_IMAGE.format(version="1.12.4")
CRI_READY = "Start streaming server"
# started in this order on the node, stopped in the reverse
NODE_PROCESSES = ("containerd", "kubelet", "kube-proxy", "kube-router", "local-path-provisioner")
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
APT_PACKAGES = {"containerd": "containerd", "runc": "runc", "ipset": "ipset", "iptables-save": "iptables"}
CNI_PLUGINS = pathlib.Path("/usr/lib/cni")


class NodeError(RuntimeError):
    pass


def _run(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)


def ensure_packages(log=print) -> None:
    """containerd, runc, ipset and iptables from Debian; the CNI plugins come with containerd's Recommends."""
    missing = [pkg for tool, pkg in APT_PACKAGES.items() if not shutil.which(tool)]
    if not (CNI_PLUGINS / "bridge").exists():
        missing.append("containernetworking-plugins")
    if missing:
        log(f"installing {' '.join(missing)} from Debian")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    # Debian's package starts containerd.service where systemd runs; the node never uses it
    if shutil.which("systemctl") and pathlib.Path("/run/systemd/system").exists():
        _run("systemctl", "disable", "--now", "containerd", check=False)


# --------------------------------------------------------------------------- host state


def _sysctl_path(name: str) -> pathlib.Path:
    return pathlib.Path("/proc/sys") / name.replace(".", "/")


def read_sysctls() -> dict[str, str]:
    return {name: _sysctl_path(name).read_text().strip() for name in SYSCTLS if _sysctl_path(name).exists()}


def _cgroup_dirs() -> list[str]:
    found = []
    base = pathlib.Path("/sys/fs/cgroup")
    for hierarchy in sorted(base.iterdir()) if base.exists() else []:
        if (hierarchy / CGROUP_ROOT.strip("/")).exists():
            found.append(str(hierarchy / CGROUP_ROOT.strip("/")))
    return found


# What podman makes for the molecule tests, which may run beside the real node's (make integration): its
# firewall chains, veths, bridge, routes, network namespaces and storage mounts are left out of the comparison.
PODMAN_OBJECTS = (
    "NETAVARK",
    "netavark",
    "podman",
    "veth",
    "netns-",
    "/var/lib/containers/",
    "/run/containers/",
    "/var/tmp/k8s-ee-rootfs",  # the molecule image's debootstrap
)


def host_snapshot() -> dict:
    """What a run of the node could leave behind on the host, in a form two runs can be compared by (podman's own
    objects aside, PODMAN_OBJECTS)."""

    def lines(*argv):
        result = _run(*argv, check=False)
        return sorted(line for line in result.stdout.splitlines() if line and not line.startswith("#"))

    def iptables(tool):
        if not shutil.which(tool):
            return []
        # counters change on their own; keep rules and chains only
        return [line.split(" [")[0] if line.startswith(":") else line for line in lines(tool)]

    snapshot = {
        "iptables": iptables("iptables-save"),
        "ip6tables": iptables("ip6tables-save"),
        "iptables-legacy": iptables("iptables-legacy-save"),
        "links": sorted(line.split(":")[1].strip().split("@")[0] for line in lines("ip", "-o", "link")),
        "routes": lines("ip", "route", "show", "table", "all"),
        "ipsets": lines("ipset", "list", "-n") if shutil.which("ipset") else [],
        "mounts": sorted(line.split()[4] for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines()),
        "cgroups": _cgroup_dirs(),
        "sysctls": read_sysctls(),
        "netns": sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else [],
    }
    markers = PODMAN_OBJECTS + _podman_storage()
    for key, value in snapshot.items():
        if isinstance(value, list):
            snapshot[key] = [line for line in value if not any(marker in line for marker in markers)]
    # The first `ip netns add` since boot (the node's, or podman's beside it) makes /run/netns a shared bind mount of
    # itself, which iproute2 keeps for every later namespace: the mount point alone is the host's from then on. Each
    # namespace's own mount below it (/run/netns/<name>) is still compared, and so is "netns".
    snapshot["mounts"] = [mount for mount in snapshot["mounts"] if mount != "/run/netns"]
    return snapshot


def _podman_storage() -> tuple[str, ...]:
    """Where this machine's podman keeps its containers, when not in the default places PODMAN_OBJECTS names
    (storage.conf or CONTAINERS_STORAGE_CONF may move them): its mounts are podman's, not the node's."""
    if not shutil.which("podman"):
        return ()
    result = _run("podman", "info", "--format", "{{.Store.GraphRoot}}\n{{.Store.RunRoot}}", check=False)
    return tuple(line.rstrip("/") + "/" for line in result.stdout.splitlines() if line.startswith("/"))


# --------------------------------------------------------------------------- the node


class RealNode:
    """The node's namespaces and processes; `start` and `stop` go through the cluster's process list."""

    def __init__(self, cluster, workdir: pathlib.Path, log=print):
        self.cluster = cluster
        self.workdir = workdir
        self.log = log
        self.var_lib = workdir / "var-lib"
        self.var_log = workdir / "var-log"
        self.config_dir = workdir / "config"
        self.containerd_socket = "/run/k8s-ee-node/containerd.sock"  # inside the node's own /run
        self.saved_sysctls = workdir / "host-sysctls.json"
        self.mount_namespace_file = workdir / "mount-namespace"
        self.image_digests: dict[str, str] = {}  # reference -> digest of each image imported

    # ---- network (before the API server starts: it listens on HOST_ADDRESS)

    def create_network(self, service_cidr: str) -> None:
        self.cleanup()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.saved_sysctls.write_text(json.dumps(read_sysctls()))
        _run("ip", "netns", "add", NETNS)
        _run("ip", "link", "add", HOST_LINK, "type", "veth", "peer", "name", NODE_LINK)
        _run("ip", "link", "set", NODE_LINK, "netns", NETNS)
        _run("ip", "addr", "add", f"{HOST_ADDRESS}/{LINK_PREFIX}", "dev", HOST_LINK)
        _run("ip", "link", "set", HOST_LINK, "up")
        inside = ["ip", "netns", "exec", NETNS]
        _run(*inside, "ip", "link", "set", "lo", "up")
        _run(*inside, "ip", "addr", "add", f"{NODE_ADDRESS}/{LINK_PREFIX}", "dev", NODE_LINK)
        _run(*inside, "ip", "link", "set", NODE_LINK, "up")
        # a route for ClusterIPs, so the node's own processes (the API server calling a webhook) get to
        # kube-proxy's DNAT; without a default route the connect would fail before it
        _run(*inside, "ip", "route", "add", service_cidr, "via", HOST_ADDRESS, "dev", NODE_LINK)
        for name, value in (
            ("net.ipv4.ip_forward", "1"),
            ("net.bridge.bridge-nf-call-iptables", "1"),
            ("net.ipv6.conf.all.disable_ipv6", "1"),
        ):
            _run(*inside, "sysctl", "-qw", f"{name}={value}", check=name != "net.ipv6.conf.all.disable_ipv6")

    # ---- processes

    def _holder_pid(self) -> int:
        for entry in self.cluster._state():
            if entry["name"] == "node-namespace" and self.cluster._alive(entry):
                return entry["pid"]
        raise NodeError("the node's namespace holder is not running")

    def _inside(self, argv: list[str]) -> list[str]:
        return [NSENTER, f"--target={self._holder_pid()}", "--mount", "--net", "--", *argv]

    def run(self, *argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        """Run a command on the node (its network and mount namespaces)."""
        return _run(*self._inside(list(argv)), check=check, **kwargs)

    def start(self, bins: dict, kubeconfig: pathlib.Path, pki: pathlib.Path) -> None:
        self.bins = bins
        self.components = components.build(["kube-router", "coredns", "local-path-provisioner"], log=self.log)
        for path in (self.var_lib, self.var_log, self.config_dir):
            path.mkdir(parents=True, exist_ok=True)
        sleep = shutil.which("sleep")
        self.cluster._start(
            "node-namespace",
            ["unshare", "--mount", "--propagation", "slave", NSENTER, f"--net=/run/netns/{NETNS}", sleep, "infinity"],
            exe=os.path.realpath(sleep),
            launchers=(os.path.realpath(shutil.which("unshare")), os.path.realpath(NSENTER)),
        )
        self._wait_holder()
        # so that cleanup finds the node's processes (shims) even when the holder is gone
        self.mount_namespace_file.write_text(os.readlink(f"/proc/{self._holder_pid()}/ns/mnt"))
        # A server's / is a shared mount (systemd makes it one), which a hostPath with HostToContainer propagation
        # needs (node-exporter mounts / so). Here the host's may be private, and a slave of a private mount is
        # private: / is made shared in the node's namespace, a peer group of its own that never reaches the host's.
        self.run("mount", "--make-rshared", "/")
        for source, target in ((self.var_lib, "/var/lib"), (self.var_log, "/var/log")):
            self.run("mount", "--bind", str(source), target)
        self._fresh_run()
        self._write_configs(kubeconfig, pki)
        self._create_cgroup_root()
        self.start_containerd()
        self.import_images()
        self.start_kubelet(bins)
        self.start_kube_proxy(bins)

    def pinned(self, reference: str) -> str:
        """`repository@sha256:…` of an image the node has, as pr_build hands images to pr_up (by digest)."""
        return f"{reference.rsplit(':', 1)[0]}@{self.image_digests[reference]}"

    def _fresh_run(self) -> None:
        self.run("mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run")
        self.run("mkdir", "-p", "/run/k8s-ee-node", "/run/netns", "/var/log/containers", "/var/log/pods")

    def reboot(self) -> None:
        """What a server's reboot does to the node: every node process and container stops, /run starts empty,
        /var/lib (images, volumes, the kubelet's and containerd's state) stays; then the node starts again."""
        for name in reversed(NODE_PROCESSES):
            self.cluster.stop_process(name)
        self.kill_containers()
        self.run("umount", "--recursive", "--lazy", "/run")
        self._fresh_run()
        self.start_containerd()
        self.start_kubelet(self.bins)
        self.start_kube_proxy(self.bins)
        self.start_node_services()

    def finish(self) -> None:
        """Once the node is registered: the cluster's add-ons, kube-router and local-path-provisioner; DNS ready."""
        self.apply_addons()
        self.start_node_services()
        self.wait_dns()

    @staticmethod
    def _create_cgroup_root() -> None:
        """The kubelet wants its cgroupRoot in every v1 hierarchy; cpuset needs its cpus and mems filled in."""
        for hierarchy in sorted(pathlib.Path("/sys/fs/cgroup").iterdir()):
            if hierarchy.name == "unified" or not (hierarchy / "cgroup.procs").exists():
                continue
            root = hierarchy / CGROUP_ROOT.strip("/")
            root.mkdir(exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):
                if (root / name).exists() and not (root / name).read_text().strip():
                    (root / name).write_text((hierarchy / name).read_text())

    def _wait_holder(self) -> None:
        """Wait until unshare and nsenter have exec'd the holder's `sleep` inside both namespaces."""
        (entry,) = (e for e in self.cluster._state() if e["name"] == "node-namespace")
        sleep = os.path.realpath(shutil.which("sleep"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry['pid']}/exe") == sleep:
                    return
            time.sleep(0.02)
        raise NodeError("the node's namespace holder did not enter its namespaces")

    @staticmethod
    def in_network(argv: list[str]) -> dict:
        """LocalCluster._start arguments that run `argv` in the node's network namespace only (etcd and the
        API server: the host's files, the node's addresses)."""
        return {
            "argv": [NSENTER, f"--net=/run/netns/{NETNS}", "--", *argv],
            "exe": os.path.realpath(argv[0]),
            "launchers": (os.path.realpath(NSENTER),),
        }

    def _start(self, name: str, argv: list[str], env: dict | None = None) -> None:
        self.cluster._start(
            name,
            self._inside(argv),
            env=dict(os.environ, **(env or {})),
            exe=os.path.realpath(argv[0]),
            launchers=(os.path.realpath(NSENTER),),
        )

    def _write_configs(self, kubeconfig: pathlib.Path, pki: pathlib.Path) -> None:
        config = self.config_dir
        cni = config / "cni"
        cni.mkdir(exist_ok=True)
        (cni / "10-k8s-ee.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "1.0.0",
                    "name": "k8s-ee",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": "cni0",
                            "isGateway": True,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "dataDir": "/var/lib/cni/networks",
                                "ranges": [[{"subnet": POD_CIDR}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                            },
                        },
                        {"type": "portmap", "capabilities": {"portMappings": True}},
                    ],
                },
                indent=1,
            )
        )
        (config / "containerd.toml").write_text(
            f"""version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{self.containerd_socket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj is refused (docs/testing.md)
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_PLUGINS}"
    conf_dir = "{cni}"
"""
        )
        import yaml

        (config / "kubelet.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": NODE_ADDRESS,
                    "port": 10250,
                    "readOnlyPort": 0,
                    "healthzBindAddress": "127.0.0.1",
                    "healthzPort": 10248,
                    "tlsCertFile": str(pki / "kubelet.crt"),
                    "tlsPrivateKeyFile": str(pki / "kubelet.key"),
                    "authentication": {
                        "anonymous": {"enabled": False},
                        "webhook": {"enabled": True},
                        "x509": {"clientCAFile": str(pki / "ca.crt")},
                    },
                    "authorization": {"mode": "Webhook"},
                    "cgroupDriver": "cgroupfs",
                    "cgroupRoot": CGROUP_ROOT,
                    "cgroupsPerQOS": True,
                    "failSwapOn": False,
                    "failCgroupV1": False,
                    "protectKernelDefaults": False,
                    "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
                    "clusterDNS": [DNS_SERVICE_IP],
                    "clusterDomain": CLUSTER_DOMAIN,
                    "resolvConf": str(config / "resolv.conf"),
                    "evictionHard": {
                        "memory.available": "100Mi",
                        "nodefs.available": "1%",
                        "imagefs.available": "1%",
                        "nodefs.inodesFree": "1%",
                    },
                    "imageGCHighThresholdPercent": 100,
                    "imageGCLowThresholdPercent": 99,
                    "serializeImagePulls": False,
                    "maxPods": 110,
                    "podPidsLimit": 4096,
                    "shutdownGracePeriod": "0s",
                    "nodeStatusReportFrequency": "10s",
                }
            )
        )
        # pods get the cluster DNS only; the host's resolvers are never handed to them
        (config / "resolv.conf").write_text("")
        node_kubeconfig = yaml.safe_load(kubeconfig.read_text())
        node_kubeconfig["users"][0]["user"] = {
            "client-certificate": str(pki / "node.crt"),
            "client-key": str(pki / "node.key"),
        }
        (config / "kubelet.kubeconfig").write_text(yaml.safe_dump(node_kubeconfig))
        (config / "kubelet.kubeconfig").chmod(0o600)
        # as k3s: volumes of every node under /var/lib/rancher/k3s/storage (the node's /var/lib is its own)
        (config / "local-path.json").write_text(
            json.dumps({"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [LOCAL_PATH]}]})
        )

    def start_containerd(self) -> None:
        """Start containerd and wait until its CRI service is initialised: the kubelet exits at once when it
        finds the socket answering but CRI not ready ("server is not initialized yet"). containerd 1.6's CRI
        logs "Start streaming server" as the last step before it is (pkg/cri/server/service.go, Run)."""
        log = self.cluster.workdir / "logs" / "containerd.log"
        started_before = log.read_text(errors="replace").count(CRI_READY) if log.exists() else 0
        # The kubelet's cAdvisor asks containerd at its default socket which pod and container a cgroup is: without
        # that, container_* metrics carry no pod, namespace or container label (k3s points it at its own socket).
        # The node's /run is its own, so the default path leads to this containerd and nothing of the host's.
        self.run("mkdir", "-p", "/run/containerd")
        self.run("ln", "-sfn", self.containerd_socket, "/run/containerd/containerd.sock")
        self._start("containerd", [shutil.which("containerd"), f"--config={self.config_dir / 'containerd.toml'}"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.cluster._check_processes()
            ready = log.exists() and log.read_text(errors="replace").count(CRI_READY) > started_before
            if ready and self.run("ctr", f"--address={self.containerd_socket}", "version", check=False).returncode == 0:
                time.sleep(0.2)
                return
            time.sleep(0.2)
        raise NodeError(f"containerd's CRI was not ready within 60s; see {log}")

    def import_images(self, names=None, tags=None) -> None:
        """Images the node's pods use, built here (tests/cluster/images.py) and imported under their names: by default
        every image of NODE_IMAGES; a test adds others (OBSERVABILITY_TAGS) to the running node."""
        built = images.build(names or NODE_IMAGES, tags=tags or NODE_TAGS, log=self.log)
        digests = images.digests(built.values())
        self.image_digests.update(digests)
        ctr = ["ctr", f"--address={self.containerd_socket}", "-n", "k8s.io", "images"]
        for tarball in built.values():
            self.run(*ctr, "import", str(tarball))
        # the name a pull by digest would have left behind, so `repository@sha256:…` resolves as after a pull
        for reference, digest in digests.items():
            self.run(*ctr, "tag", "--force", reference, f"{reference.rsplit(':', 1)[0]}@{digest}")

    def start_kubelet(self, bins: dict) -> None:
        self._start(
            "kubelet",
            [
                str(bins["kubelet"]),
                f"--config={self.config_dir / 'kubelet.yaml'}",
                f"--kubeconfig={self.config_dir / 'kubelet.kubeconfig'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_ADDRESS}",
                "--root-dir=/var/lib/kubelet",
                "--v=1",
            ],
        )

    def start_kube_proxy(self, bins: dict) -> None:
        self._start(
            "kube-proxy",
            [
                str(bins["kube-proxy"]),
                f"--kubeconfig={self.cluster.kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--proxy-mode=iptables",
                # leave the host's conntrack settings alone
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                f"--nodeport-addresses={NODE_ADDRESS}/32",
                "--metrics-bind-address=127.0.0.1:10249",
                "--healthz-bind-address=127.0.0.1:10256",
                "--v=1",
            ],
        )

    def start_node_services(self) -> None:
        # NetworkPolicy as k3s enforces it: kube-router's policy controller only (k3s embeds the same code)
        self._start(
            "kube-router",
            [
                str(self.components["kube-router"]),
                f"--kubeconfig={self.cluster.kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                "--run-firewall=true",
                "--run-router=false",
                "--run-service-proxy=false",
                "--enable-cni=false",
                "--enable-ipv6=false",
                "--metrics-port=0",
                "--health-port=20244",
                "--v=1",
            ],
        )
        # k3s' default StorageClass: a process on the node, as k3s runs it, volumes under /var/lib
        self._start(
            "local-path-provisioner",
            [
                str(self.components["local-path-provisioner"]),
                "start",
                f"--config={self.config_dir / 'local-path.json'}",
                "--namespace=kube-system",
                "--configmap-name=local-path-config",
                "--service-account-name=local-path-provisioner-helper",
                "--provisioner-name=rancher.io/local-path",
                f"--helper-image={HELPER_IMAGE}",
            ],
            env={"KUBECONFIG": str(self.cluster.kubeconfig)},
        )

    def apply_addons(self) -> None:
        """CoreDNS and the local-path StorageClass with its configuration (tests/cluster/node-addons.yaml)."""
        text = (pathlib.Path(__file__).parent / "node-addons.yaml").read_text()
        for placeholder, value in (
            ("COREDNS_IMAGE", COREDNS_IMAGE),
            ("HELPER_IMAGE", HELPER_IMAGE),
            ("DNS_SERVICE_IP", DNS_SERVICE_IP),
        ):
            text = text.replace(placeholder, value)
        kubectl = [str(self.bins["kubectl"]), f"--kubeconfig={self.cluster.kubeconfig}"]
        subprocess.run(
            [*kubectl, "apply", "--server-side", "-f", "-"], input=text, text=True, check=True, capture_output=True
        )

    def wait_dns(self) -> None:
        kubectl = [str(self.bins["kubectl"]), f"--kubeconfig={self.cluster.kubeconfig}"]
        subprocess.run(
            [*kubectl, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s"],
            check=True,
            capture_output=True,
        )

    # ---- teardown

    def node_processes(self) -> list[int]:
        """Every process in the node's mount namespace or its cgroups: shims and containers outlive containerd."""
        holder = None
        with contextlib.suppress(NodeError, OSError):
            holder = os.readlink(f"/proc/{self._holder_pid()}/ns/mnt")
        if holder is None and self.mount_namespace_file.exists():
            holder = self.mount_namespace_file.read_text().strip()
        pids = set()
        for cgroup in _cgroup_dirs():
            for procs in pathlib.Path(cgroup).rglob("cgroup.procs"):
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in procs.read_text().split())
        if holder:
            for proc in pathlib.Path("/proc").iterdir():
                if proc.name.isdigit():
                    with contextlib.suppress(OSError):
                        if os.readlink(proc / "ns" / "mnt") == holder:
                            pids.add(int(proc.name))
        pids.discard(os.getpid())
        return sorted(pids)

    def kill_containers(self) -> None:
        """Kill shims and container processes (the cluster stops the node's own processes)."""
        for _attempt in range(50):
            pids = [p for p in self.node_processes() if not self._is_cluster_process(p)]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)

    def _is_cluster_process(self, pid: int) -> bool:
        return any(entry["pid"] == pid for entry in self.cluster._state())

    def cleanup(self) -> None:
        """Return the host to how it was: processes, namespaces, cgroups, sysctls. Safe to run twice."""
        for pid in self.node_processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.mount_namespace_file.unlink(missing_ok=True)  # a namespace's id may be reused once it is gone
        if os.path.exists(f"/run/netns/{NETNS}"):
            _run("ip", "netns", "del", NETNS, check=False)
        if any(
            line.split(":")[1].strip().startswith(HOST_LINK) for line in _run("ip", "-o", "link").stdout.splitlines()
        ):
            _run("ip", "link", "del", HOST_LINK, check=False)
        deadline = time.monotonic() + 10
        for cgroup in _cgroup_dirs():
            deepest_first = sorted(pathlib.Path(cgroup).rglob("*"), key=lambda p: -len(p.parts))
            for directory in [*deepest_first, pathlib.Path(cgroup)]:
                if not directory.is_dir():
                    continue
                while True:
                    try:
                        directory.rmdir()
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
        if self.saved_sysctls.exists():
            for name, value in json.loads(self.saved_sysctls.read_text()).items():
                if _sysctl_path(name).read_text().strip() != value:
                    _sysctl_path(name).write_text(value)
            self.saved_sysctls.unlink()


def prebuild(log=print) -> list[str]:
    """Build into the cache the node's images made from Debian packages alone (no Go component in them), so
    `make cluster-build` can make them while the Go builds run; the rest are built when the node starts."""
    every = images.recipes(NODE_TAGS)
    names = [name for name in NODE_IMAGES if not every[name].binaries]
    images.build(names, tags=NODE_TAGS, log=log)
    return names


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["prebuild"]:
        sys.exit("usage: realnode.py prebuild  (the node itself starts with localcluster.py up --real-node)")
    print("built:", " ".join(prebuild()))
