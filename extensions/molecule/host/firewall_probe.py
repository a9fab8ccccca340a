# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe the host role's firewall in the scenario's container as outside machines and as a pod would.

Runs as root on the machine that runs molecule and changes only network namespaces it creates and the container's
own network namespace (entered with nsenter). What stands in for what:

- the container's network namespace is the k3s node; its eth0 address is the node's public address;
- a bridge `cni0` (10.42.0.1/24, fd42:42::1/64) in the container is flannel's pod bridge, and a network namespace
  `k8s-ee-probe-pod` (10.42.0.5, fd42:42::5) on a veth attached to it is a pod;
- an nftables table `ip k8s_ee_probe_kube_proxy` in the container DNATs port 30080 (TCP and UDP) to the pod's 8080,
  as kube-proxy does for a NodePort; a server in the pod answers there;
- servers in the container on 6443, 10250, 9100 and 5000 are the API server, the kubelet, node-exporter and "anything
  else listening on the node" (sshd on 22 is the real one);
- this machine (on podman's network) is an outside machine that is not a NodePort source, and a network namespace
  `k8s-ee-probe-client` (198.51.100.7 on a veth to the container's 198.51.100.1) is an outside machine that is one.

Prints one JSON object: {"<from> -> <port>/<proto>": "open" | "refused" | "dropped"}, then removes the namespaces,
the bridge, the table and the servers. Nothing leaves this machine.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

POD_NS = "k8s-ee-probe-pod"
CLIENT_NS = "k8s-ee-probe-client"
NODE_PORTS = (6443, 10250, 9100, 5000)
NODEPORT = 30080
POD_PORT = 8080
TIMEOUT = 3

SERVER = """
import socket, sys, threading
def tcp(port, family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(512); s.sendto(data, peer)
for arg in sys.argv[1:]:
    proto, port = arg.split("/")[1], int(arg.split("/")[0])
    if proto == "tcp":
        for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            threading.Thread(target=tcp, args=(port, family, address), daemon=True).start()
    else:
        threading.Thread(target=udp, args=(port,), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"""

PROBE = """
import socket, sys
host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if proto == "tcp":
    try:
        socket.create_connection((host, port), timeout=float(sys.argv[4])).close()
        print("open")
    except ConnectionRefusedError:
        print("refused")
    except (TimeoutError, socket.timeout):
        print("dropped")
else:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(float(sys.argv[4]))
    try:
        s.sendto(b"probe", (host, port))
        print("open" if s.recvfrom(512)[0] == b"probe" else "garbled")
    except ConnectionRefusedError:
        print("refused")
    except (TimeoutError, socket.timeout):
        print("dropped")
"""

KUBE_PROXY = f"""
table ip k8s_ee_probe_kube_proxy {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport {NODEPORT} dnat to 10.42.0.5:{POD_PORT}
    udp dport {NODEPORT} dnat to 10.42.0.5:{POD_PORT}
  }}
}}
"""


def run(*argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def in_node(pid, *argv, **kwargs):
    return run("nsenter", "-t", str(pid), "-n", *argv, **kwargs)


def node_address(pid):
    out = in_node(pid, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
    return out.split()[3].split("/")[0]


def set_up(pid):
    for ns in (POD_NS, CLIENT_NS):
        run("ip", "netns", "add", ns)
    # the pod on flannel's bridge
    in_node(pid, "ip", "link", "add", "cni0", "type", "bridge")
    in_node(pid, "ip", "addr", "add", "10.42.0.1/24", "dev", "cni0")
    in_node(pid, "ip", "addr", "add", "fd42:42::1/64", "dev", "cni0", "nodad")
    in_node(pid, "ip", "link", "set", "cni0", "up")
    in_node(pid, "ip", "link", "add", "vethprobe0", "type", "veth", "peer", "name", "eth0", "netns", POD_NS)
    in_node(pid, "ip", "link", "set", "vethprobe0", "master", "cni0", "up")
    pod = ("ip", "netns", "exec", POD_NS)
    run(*pod, "ip", "link", "set", "lo", "up")
    run(*pod, "ip", "addr", "add", "10.42.0.5/24", "dev", "eth0")
    run(*pod, "ip", "addr", "add", "fd42:42::5/64", "dev", "eth0", "nodad")
    run(*pod, "ip", "link", "set", "eth0", "up")
    run(*pod, "ip", "route", "add", "default", "via", "10.42.0.1")
    # another outside machine, listed in host_firewall_nodeport_sources
    in_node(pid, "ip", "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", CLIENT_NS)
    in_node(pid, "ip", "addr", "add", "198.51.100.1/24", "dev", "ext0")
    in_node(pid, "ip", "link", "set", "ext0", "up")
    client = ("ip", "netns", "exec", CLIENT_NS)
    run(*client, "ip", "addr", "add", "198.51.100.7/24", "dev", "eth0")
    run(*client, "ip", "link", "set", "eth0", "up")
    run(*client, "ip", "route", "add", "default", "via", "198.51.100.1")
    # kube-proxy's NodePort DNAT; forwarding as the role's sysctls set it on a machine
    in_node(pid, "nft", "-f", "-", input=KUBE_PROXY)
    in_node(pid, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")


def tear_down(pid):
    for argv in (
        ("nft", "delete", "table", "ip", "k8s_ee_probe_kube_proxy"),
        ("ip", "link", "del", "ext0"),
        ("ip", "link", "del", "vethprobe0"),
        ("ip", "link", "del", "cni0"),
    ):
        subprocess.run(("nsenter", "-t", str(pid), "-n", *argv), capture_output=True, check=False)
    for ns in (POD_NS, CLIENT_NS):
        subprocess.run(("ip", "netns", "del", ns), capture_output=True, check=False)


def start_server(prefix, ports):
    proc = subprocess.Popen(
        (*prefix, sys.executable, "-c", SERVER, *ports), stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    if proc.stdout.readline().strip() != "listening":
        raise RuntimeError(f"server {prefix} {ports} did not start")
    return proc


def probe(prefix, host, port, proto):
    out = run(*prefix, sys.executable, "-c", PROBE, host, str(port), proto, str(TIMEOUT), timeout=TIMEOUT + 20)
    return out.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--container", required=True)
    args = parser.parse_args()
    pid = int(run("podman", "inspect", "-f", "{{.State.Pid}}", args.container).stdout)
    node = node_address(pid)
    servers = []
    tear_down(pid)  # a run that was interrupted
    try:
        set_up(pid)
        servers.append(start_server(("nsenter", "-t", str(pid), "-n"), [f"{p}/tcp" for p in NODE_PORTS]))
        servers.append(start_server(("ip", "netns", "exec", POD_NS), [f"{POD_PORT}/tcp", f"{POD_PORT}/udp"]))
        outside, client, pod = (), ("ip", "netns", "exec", CLIENT_NS), ("ip", "netns", "exec", POD_NS)
        cases = {
            "outside -> 22/tcp": (outside, node, 22, "tcp"),
            "outside -> 80/tcp": (outside, node, 80, "tcp"),
            "outside -> 6443/tcp": (outside, node, 6443, "tcp"),
            "outside -> 10250/tcp": (outside, node, 10250, "tcp"),
            "outside -> 9100/tcp": (outside, node, 9100, "tcp"),
            f"outside -> {NODEPORT}/tcp": (outside, node, NODEPORT, "tcp"),
            f"outside -> {NODEPORT}/udp": (outside, node, NODEPORT, "udp"),
            "nodeport source -> 22/tcp": (client, node, 22, "tcp"),
            "nodeport source -> 10250/tcp": (client, node, 10250, "tcp"),
            f"nodeport source -> {NODEPORT}/tcp": (client, node, NODEPORT, "tcp"),
            f"nodeport source -> {NODEPORT}/udp": (client, node, NODEPORT, "udp"),
        }
        for port in (22, *NODE_PORTS):
            cases[f"pod -> {port}/tcp"] = (pod, node, port, "tcp")
            cases[f"pod ipv6 -> {port}/tcp"] = (pod, "fd42:42::1", port, "tcp")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            futures = {name: pool.submit(probe, *case) for name, case in cases.items()}
            results = {name: future.result() for name, future in futures.items()}
        results["_seconds"] = round(time.monotonic() - started, 1)
        results["_node"] = node
        print(json.dumps(results, indent=1, sort_keys=True))
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
        tear_down(pid)


if __name__ == "__main__":
    main()
