# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream components of the test cluster, built from their Go modules.

kube-router (only its network policy controller is used), CoreDNS, local-path-provisioner and the
CloudNativePG manager (the operator and the instance manager are one binary) for the real node;
Traefik, Pebble and Pebble's challenge test server for the cluster's edge (tests/cluster/edge.py).
Each is pinned to a release, built static (CGO_ENABLED=0, also packed into container images) and
cached under ~/.cache/k8s-ee (K8S_EE_CACHE) as <name>-<version>/<binary>, keyed by version, with the
same lock and build steps as the control plane in localcluster.py.

    python3 tests/cluster/components.py build [NAME...]   # build what is missing, print the paths

Each is built from a wrapper module, components/<name>/go.mod, that requires the module at the
pinned version and repeats its replace and exclude directives (only Traefik has any: three
replaces and one exclude), which only a main module's go.mod applies. Its other
requirements and go.sum are the module's own, verbatim, so the build list is the one the release
is built with: `go mod tidy` in a wrapper would change it (tidy resolves every platform's and
test's imports; kube-router v2.1.0's go.mod lacks some, and tidy pulls their newest versions,
upgrading otel, grpc and x/net). Its godebug line keeps the defaults of the module's own go line.
The ldflags are the ones the upstream release builds set, so every binary reports its real version;
commits and dates are those of the release tag.

The module's own two go.sum lines are in the wrapper's go.sum too, so the go command checks the
download against them and never asks the checksum database. For Traefik v3.5.1 that is required:
the module proxy here serves the module but refuses its checksum database lookup. Its two lines
were taken from that download (trust on first use: checked against no checksum database); every
other line is Traefik's own go.sum.

Traefik v3.5.1 does not build as a dependency: webui/embed.go embeds webui/static, which the
published module lacks (fixed upstream after v3.5.1 by traefik/traefik#12025, "Restore empty
webui/static to use traefik as library"; go:embed ignores -overlay). So its module, downloaded and
verified through the wrapper, is copied to a writable folder, a placeholder page is added there
(the dashboard is not used), and the build runs in a copy of the wrapper that replaces the module
by that folder.

To move a component to another release: change the version, commit and date here, and copy the
release's go.mod requirements and go.sum into its wrapper (plus the module's own two go.sum lines).
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import localcluster

HERE = pathlib.Path(__file__).resolve().parent
WRAPPERS = HERE / "components"


@dataclasses.dataclass(frozen=True)
class Component:
    name: str  # cache folder <name>-<version> and wrapper folder components/<name>
    module: str
    version: str
    package: str  # main package; the binary is named as go build names it (program_name)
    ldflags: str = ""
    replaces: tuple[str, ...] = ()  # the module's replace directives, as the wrapper repeats them
    excludes: tuple[str, ...] = ()  # the module's exclude directives, likewise
    more_packages: tuple[str, ...] = ()  # further main packages of the module, built beside the first
    # (path, content): files the published module lacks and its build needs, added to a copy of its source
    added_files: tuple[tuple[str, str], ...] = ()

    @property
    def binary(self) -> str:
        return program_name(self.package)

    @property
    def packages(self) -> list[str]:
        return [self.package, *self.more_packages]


def program_name(package: str) -> str:
    """What `go build` names the binary of a main package: its last element, or the one before a major version
    suffix (k8s.io/kube-state-metrics/v2 -> kube-state-metrics)."""
    parts = package.split("/")
    if len(parts) > 1 and re.fullmatch(r"v[0-9]+", parts[-1]):
        return parts[-2]
    return parts[-1]


def _x(package: str, **values: str) -> str:
    return " ".join(f"-X {package}.{key}={value}" for key, value in values.items())


KUBE_ROUTER_VERSION = "v2.1.0"
COREDNS_VERSION = "v1.12.4"
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"
CNPG_VERSION = "v1.30.0"
TRAEFIK_VERSION = "v3.5.1"  # what k3s v1.34.3+k3s1 bundles (chart traefik 37.1.0, appVersion v3.5.1)
PEBBLE_VERSION = "v2.10.3"
# the observability stack, at the versions the pinned charts ship (role observability's defaults)
PROMETHEUS_OPERATOR_VERSION = "v0.93.0"  # kube-prometheus-stack 88.2.0's appVersion, and its config reloader
PROMETHEUS_VERSION = "v3.13.2"  # the chart's prometheus.prometheusSpec.image.tag; Go module v0.313.2
NODE_EXPORTER_VERSION = "v1.12.1"  # chart prometheus-node-exporter 4.56.1
KUBE_STATE_METRICS_VERSION = "v2.18.0"  # role observability's observability_kube_state_metrics_version
LOKI_VERSION = "v3.6.5"  # chart loki 6.53.0's appVersion
PROMETHEUS_COMMON = "github.com/prometheus/common/version"

COMPONENTS = {
    c.name: c
    for c in (
        # Makefile: Version=$(git describe --tags --dirty), BuildDate=$(date +%Y-%m-%dT%H:%M:%S%z).
        Component(
            "kube-router",
            "github.com/cloudnativelabs/kube-router/v2",
            KUBE_ROUTER_VERSION,
            "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",
            _x(
                "github.com/cloudnativelabs/kube-router/v2/pkg/version",
                Version=KUBE_ROUTER_VERSION,
                BuildDate="2024-03-02T21:45:54+0000",
            ),
        ),
        # The version is a constant (coremain.CoreVersion); the Makefile sets the commit only.
        Component(
            "coredns",
            "github.com/coredns/coredns",
            COREDNS_VERSION,
            "github.com/coredns/coredns",
            _x("github.com/coredns/coredns/coremain", GitCommit="f323295"),
        ),
        # scripts/build: main.VERSION is the tag (otherwise it says 0.0.1).
        Component(
            "local-path-provisioner",
            "github.com/rancher/local-path-provisioner",
            LOCAL_PATH_PROVISIONER_VERSION,
            "github.com/rancher/local-path-provisioner",
            _x("main", VERSION=LOCAL_PATH_PROVISIONER_VERSION),
        ),
        # Makefile and .goreleaser.yml: the version without "v", the short commit, the commit's date.
        Component(
            "cloudnative-pg",
            "github.com/cloudnative-pg/cloudnative-pg",
            CNPG_VERSION,
            "github.com/cloudnative-pg/cloudnative-pg/cmd/manager",
            _x(
                "github.com/cloudnative-pg/cloudnative-pg/pkg/versions",
                buildVersion=CNPG_VERSION.lstrip("v"),
                buildCommit="4b5e244",
                buildDate="2026-06-29",
            ),
        ),
        # .goreleaser.yml.tmpl: the version without "v" (goreleaser's .Version), the codename of
        # .github/workflows/release.yaml, the build date (here the tag commit's).
        Component(
            "traefik",
            "github.com/traefik/traefik/v3",
            TRAEFIK_VERSION,
            "github.com/traefik/traefik/v3/cmd/traefik",
            _x(
                "github.com/traefik/traefik/v3/pkg/version",
                Version=TRAEFIK_VERSION.lstrip("v"),
                Codename="chabichou",
                BuildDate="2025-08-27T09:05:05Z",
            ),
            replaces=(
                "github.com/abbot/go-http-auth => "
                "github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e",
                "github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59",
                "github.com/mailgun/minheap => github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595",
            ),
            excludes=("github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible",),
            added_files=(
                (
                    "webui/static/index.html",
                    "<!doctype html><title>Traefik</title><p>The dashboard is not built into this test binary.\n",
                ),
            ),
        ),
        # .github/workflows/release.yml sets main.version to "<tag> (<commit>)"; the module proxy does not
        # say the commit, so the tag alone. pebble-challtestsrv has no version.
        Component(
            "pebble",
            "github.com/letsencrypt/pebble/v2",
            PEBBLE_VERSION,
            "github.com/letsencrypt/pebble/v2/cmd/pebble",
            _x("main", version=PEBBLE_VERSION),
            more_packages=("github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv",),
        ),
        # Makefile GO_BUILD_LDFLAGS: prometheus/common's version fields, the version from its VERSION file.
        Component(
            "prometheus-operator",
            "github.com/prometheus-operator/prometheus-operator",
            PROMETHEUS_OPERATOR_VERSION,
            "github.com/prometheus-operator/prometheus-operator/cmd/operator",
            _x(PROMETHEUS_COMMON, Version=PROMETHEUS_OPERATOR_VERSION.lstrip("v"), Branch="HEAD"),
            more_packages=("github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader",),
        ),
        # .promu.yml: prometheus/common's version fields (Prometheus 3.x is published as module v0.3xx.y).
        Component(
            "prometheus",
            "github.com/prometheus/prometheus",
            "v0.313.2",
            "github.com/prometheus/prometheus/cmd/prometheus",
            _x(PROMETHEUS_COMMON, Version=PROMETHEUS_VERSION.lstrip("v"), Branch="HEAD"),
            replaces=("cloud.google.com/go => cloud.google.com/go v0.123.0",),
            excludes=(
                "github.com/linode/linodego v1.0.0",
                "github.com/grpc-ecosystem/grpc-gateway v1.14.7",
                "google.golang.org/api v0.30.0",
            ),
        ),
        Component(
            "node-exporter",
            "github.com/prometheus/node_exporter",
            NODE_EXPORTER_VERSION,
            "github.com/prometheus/node_exporter",
            _x(PROMETHEUS_COMMON, Version=NODE_EXPORTER_VERSION.lstrip("v"), Branch="HEAD"),
        ),
        # Makefile: prometheus/common's version fields, the tag as Version.
        Component(
            "kube-state-metrics",
            "k8s.io/kube-state-metrics/v2",
            KUBE_STATE_METRICS_VERSION,
            "k8s.io/kube-state-metrics/v2",
            _x(PROMETHEUS_COMMON, Version=KUBE_STATE_METRICS_VERSION, Branch="HEAD"),
        ),
        # Makefile GO_LDFLAGS (VPREFIX is pkg/util/build, Version the image tag) and its build tag netgo.
        Component(
            "loki",
            "github.com/grafana/loki/v3",
            LOKI_VERSION,
            "github.com/grafana/loki/v3/cmd/loki",
            _x("github.com/grafana/loki/v3/pkg/util/build", Version=LOKI_VERSION.lstrip("v"), Branch="HEAD"),
            # the log agent of the same release: the tests' stand-in for Alloy, whose module does not build here
            more_packages=("github.com/grafana/loki/v3/clients/cmd/promtail",),
            replaces=(
                "github.com/Azure/azure-sdk-for-go => github.com/Azure/azure-sdk-for-go v68.0.0+incompatible",
                "github.com/Azure/azure-storage-blob-go => "
                "github.com/MasslessParticle/azure-storage-blob-go v0.14.1-0.20240322194317-344980fda573",
                "github.com/gocql/gocql => github.com/grafana/gocql v0.0.0-20200605141915-ba5dc39ece85",
                "github.com/hashicorp/memberlist => github.com/grafana/memberlist v0.3.1-0.20220714140823-09ffed8adbbe",
                "github.com/grafana/regexp => github.com/grafana/regexp v0.0.0-20240518133315-a468a5bfb3bc",
                "github.com/influxdata/go-syslog/v3 => github.com/leodido/go-syslog/v4 v4.2.0",
                "github.com/thanos-io/objstore => github.com/grafana/objstore v0.0.0-20250728171719-b5d3b766d1b0",
            ),
            excludes=("k8s.io/client-go v8.0.0+incompatible",),
        ),
    )
}


def binary(name: str, program: str | None = None) -> pathlib.Path:
    """Where the component's binary (or `program`, another of its binaries) is cached, whether or not it is built."""
    component = COMPONENTS[name]
    return localcluster._binary_dir(component.name, component.version) / (program or component.binary)


def _programs(component: Component) -> list[pathlib.Path]:
    return [binary(component.name, program_name(package)) for package in component.packages]


def _build_from_copy(component: Component, out_dir: pathlib.Path, log) -> None:
    """Build from a writable copy of the module's source with component.added_files in it: the module is downloaded
    through its wrapper (so checked against the wrapper's go.sum), copied, and a copy of the wrapper replaces it by
    that folder."""
    wrapper = WRAPPERS / component.name
    env = dict(os.environ, GOFLAGS="-mod=mod -buildvcs=false")
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{component.module}@{component.version}"],
        cwd=wrapper,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    info = json.loads(downloaded.stdout or "{}")
    if downloaded.returncode or info.get("Error") or not info.get("Dir"):
        raise RuntimeError(
            f"downloading {component.module}@{component.version}: {info.get('Error') or downloaded.stderr}"
        )
    work = out_dir.with_name(out_dir.name + ".src")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        source = work / "module"
        shutil.copytree(info["Dir"], source, copy_function=shutil.copyfile)
        for folder in [source, *source.rglob("*")]:  # the module cache's folders are read-only, and copytree keeps that
            if folder.is_dir():
                folder.chmod(folder.stat().st_mode | 0o700)
        for relative, content in component.added_files:
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            (source / relative).write_text(content)
        for name in ("go.mod", "go.sum"):
            shutil.copyfile(wrapper / name, work / name)
        subprocess.run(["go", "mod", "edit", f"-replace={component.module}=./module"], cwd=work, env=env, check=True)
        localcluster._go_build(work, out_dir, component.packages, log, component.ldflags)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(names=None, log=print) -> dict[str, pathlib.Path]:
    """Build whichever of the components (default: all) is missing from the cache; safe to run concurrently."""
    names = list(COMPONENTS) if names is None else list(names)
    unknown = sorted(set(names) - set(COMPONENTS))
    if unknown:
        raise ValueError(f"unknown components {unknown}; known: {sorted(COMPONENTS)}")
    paths = {name: binary(name) for name in names}
    localcluster.CACHE.mkdir(parents=True, exist_ok=True)
    # its own lock: the components build beside the control plane (Makefile cluster-build), each into its own folder
    with open(localcluster.CACHE / ".build-components.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            component = COMPONENTS[name]
            if all(path.exists() for path in _programs(component)):
                continue
            if component.added_files:
                _build_from_copy(component, paths[name].parent, log)
            else:
                localcluster._go_build(WRAPPERS / name, paths[name].parent, component.packages, log, component.ldflags)
            missing = [str(path) for path in _programs(component) if not path.exists()]
            if missing:
                raise RuntimeError(f"building {name} left no {', '.join(missing)}")
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {', '.join(COMPONENTS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(COMPONENTS))
    if unknown:
        parser.error(f"unknown components {unknown}; known: {', '.join(COMPONENTS)}")
    for name, path in build(args.names or None).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
