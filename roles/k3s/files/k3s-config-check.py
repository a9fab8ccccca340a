# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a k3s config.yaml before it is put in place: `python3 k3s-config-check.py --role server FILE`.

The file must be a YAML mapping whose keys are flags of `k3s server` (or `k3s agent`) without the leading dashes,
with lists only where k3s takes a list, booleans where it takes a switch, and write-kubeconfig-mode as a quoted
octal string (an unquoted 0600 is the number 384 to YAML). Installed by the k3s role and used by its template's
validate step; k3s itself has no command that checks a configuration file without starting.
"""

import argparse
import re
import sys

import yaml


def _words(text):
    return frozenset(text.split())


AGENT_KEYS = _words(
    """
    config debug v vmodule log alsologtostderr token token-file server data-dir node-name with-node-id node-label
    node-taint image-credential-provider-bin-dir image-credential-provider-config docker container-runtime-endpoint
    default-runtime image-service-endpoint disable-default-registry-endpoint nonroot-devices pause-image snapshotter
    private-registry system-default-registry node-ip node-external-ip node-internal-dns node-external-dns resolv-conf
    flannel-iface flannel-conf flannel-cni-conf kubelet-arg kube-proxy-arg protect-kernel-defaults selinux
    lb-server-port rootless prefer-bundled-bin vpn-auth vpn-auth-file disable-apiserver-lb airgap-extra-registry
    enable-pprof
    """
)
SERVER_KEYS = AGENT_KEYS | _words(
    """
    bind-address advertise-address advertise-port tls-san tls-san-security https-listen-port supervisor-port
    apiserver-port apiserver-bind-address cluster-cidr service-cidr service-node-port-range cluster-dns cluster-domain
    flannel-backend flannel-ipv6-masq flannel-external-ip egress-selector-mode servicelb-namespace write-kubeconfig
    write-kubeconfig-mode write-kubeconfig-group helm-job-image agent-token agent-token-file cluster-init cluster-reset
    cluster-reset-restore-path kube-apiserver-arg etcd-arg kube-controller-manager-arg kube-scheduler-arg
    kube-cloud-controller-manager-arg kine-tls datastore-endpoint datastore-cafile datastore-certfile
    datastore-keyfile etcd-expose-metrics etcd-disable-snapshots etcd-snapshot-name etcd-snapshot-schedule-cron
    etcd-snapshot-retention etcd-snapshot-dir etcd-snapshot-compress etcd-s3 etcd-s3-endpoint etcd-s3-endpoint-ca
    etcd-s3-skip-ssl-verify etcd-s3-access-key etcd-s3-secret-key etcd-s3-session-token etcd-s3-bucket
    etcd-s3-bucket-lookup-type etcd-s3-region etcd-s3-folder etcd-s3-proxy etcd-s3-config-secret etcd-s3-insecure
    etcd-s3-timeout default-local-storage-path disable disable-scheduler disable-cloud-controller disable-kube-proxy
    disable-network-policy disable-helm-controller disable-etcd disable-apiserver disable-controller-manager
    embedded-registry supervisor-metrics secrets-encryption secrets-encryption-provider
    """
)
LIST_KEYS = _words(
    """
    tls-san disable node-label node-taint kubelet-arg kube-proxy-arg kube-apiserver-arg etcd-arg
    kube-controller-manager-arg kube-scheduler-arg kube-cloud-controller-manager-arg node-ip node-external-ip
    node-internal-dns node-external-dns cluster-cidr service-cidr cluster-dns
    """
)
BOOL_KEYS = _words(
    """
    debug alsologtostderr with-node-id docker disable-default-registry-endpoint protect-kernel-defaults selinux
    rootless prefer-bundled-bin disable-apiserver-lb enable-pprof tls-san-security flannel-ipv6-masq
    flannel-external-ip cluster-init cluster-reset kine-tls etcd-expose-metrics etcd-disable-snapshots
    etcd-snapshot-compress etcd-s3 etcd-s3-skip-ssl-verify etcd-s3-insecure disable-scheduler
    disable-cloud-controller disable-kube-proxy disable-network-policy disable-helm-controller disable-etcd
    disable-apiserver disable-controller-manager embedded-registry supervisor-metrics secrets-encryption
    """
)
DISABLE_VALUES = frozenset(["coredns", "servicelb", "traefik", "local-storage", "metrics-server", "runtimes"])


def problems(config, role):
    if not isinstance(config, dict):
        return [f"the file must be a mapping of k3s {role} flags, got {type(config).__name__}"]
    known = SERVER_KEYS if role == "server" else AGENT_KEYS
    found = []
    for key, value in config.items():
        name = key.removesuffix("+") if isinstance(key, str) else key
        if name not in known:
            hint = " (a server flag)" if name in SERVER_KEYS else ""
            found.append(f"{key!r} is not a flag of k3s {role}{hint}")
        elif name in BOOL_KEYS and not isinstance(value, bool):
            found.append(f"{key}: {value!r} must be true or false")
        elif name in LIST_KEYS:
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, str) and item for item in items):
                found.append(f"{key}: {value!r} must be a string or a list of strings")
            elif name == "disable" and set(items) - DISABLE_VALUES:
                found.append(f"disable: {sorted(set(items) - DISABLE_VALUES)} are not k3s components")
        elif name not in BOOL_KEYS and (isinstance(value, bool) or not isinstance(value, (str, int))):
            found.append(f"{key}: {value!r} must be a single value")
    mode = config.get("write-kubeconfig-mode")
    if mode is not None and not (isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3}", mode)):
        found.append(f'write-kubeconfig-mode: {mode!r} must be a quoted octal string such as "0600"')
    if role == "agent":
        if not re.match(r"^https://[^/\s]+$", str(config.get("server", ""))):
            found.append(f"server: {config.get('server')!r} must be the https URL of a k3s server")
        if not (config.get("token") or config.get("token-file")):
            found.append("an agent needs token or token-file")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["server", "agent"], required=True)
    parser.add_argument("path")
    args = parser.parse_args(argv)
    try:
        with open(args.path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 1
    found = problems(config, args.role)
    for problem in found:
        print(f"{args.path}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
