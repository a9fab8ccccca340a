# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream components of the test cluster's real node, built from their Go modules.

kube-router (only its network policy controller is used), CoreDNS, local-path-provisioner and the
CloudNativePG manager (the operator and the instance manager are one binary), each at a pinned
release, built static (CGO_ENABLED=0, also packed into container images) and cached under
~/.cache/k8s-ee (K8S_EE_CACHE) as <name>-<version>/<binary>, keyed by version, with the same lock
and build steps as the control plane in localcluster.py.

    python3 tests/cluster/components.py build [NAME...]   # build what is missing, print the paths

Each is built from a wrapper module, components/<name>/go.mod, that requires the module at the
pinned version and repeats its replace directives (none of the four has any). Its other
requirements and go.sum are the module's own, verbatim, so the build list is the one the release
is built with: `go mod tidy` in a wrapper would change it (tidy resolves every platform's and
test's imports; kube-router v2.1.0's go.mod lacks some, and tidy pulls their newest versions,
upgrading otel, grpc and x/net). Its godebug line keeps the defaults of the module's own go line.
The ldflags are the ones the upstream Makefiles set, so every binary reports its real version;
commits and dates are those of the release tag.

To move a component to another release: change the version, commit and date here, and copy the
release's go.mod requirements and go.sum into its wrapper (plus the module's own two go.sum lines).
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import pathlib
import sys

import localcluster

HERE = pathlib.Path(__file__).resolve().parent
WRAPPERS = HERE / "components"


@dataclasses.dataclass(frozen=True)
class Component:
    name: str  # cache folder <name>-<version> and wrapper folder components/<name>
    module: str
    version: str
    package: str  # main package; the binary is named after its last element
    ldflags: str = ""
    replaces: tuple[str, ...] = ()  # the module's replace directives, as the wrapper repeats them

    @property
    def binary(self) -> str:
        return self.package.rsplit("/", 1)[-1]


def _x(package: str, **values: str) -> str:
    return " ".join(f"-X {package}.{key}={value}" for key, value in values.items())


KUBE_ROUTER_VERSION = "v2.1.0"
COREDNS_VERSION = "v1.12.4"
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"
CNPG_VERSION = "v1.30.0"

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
    )
}


def binary(name: str) -> pathlib.Path:
    """Where the component's binary is cached (whether or not it is built yet)."""
    component = COMPONENTS[name]
    return localcluster._binary_dir(component.name, component.version) / component.binary


def build(names=None, log=print) -> dict[str, pathlib.Path]:
    """Build whichever of the components (default: all) is missing from the cache; safe to run concurrently."""
    names = list(COMPONENTS) if names is None else list(names)
    unknown = sorted(set(names) - set(COMPONENTS))
    if unknown:
        raise ValueError(f"unknown components {unknown}; known: {sorted(COMPONENTS)}")
    paths = {name: binary(name) for name in names}
    localcluster.CACHE.mkdir(parents=True, exist_ok=True)
    with open(localcluster.CACHE / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            if paths[name].exists():
                continue
            component = COMPONENTS[name]
            localcluster._go_build(WRAPPERS / name, paths[name].parent, [component.package], log, component.ldflags)
            if not paths[name].exists():
                raise RuntimeError(f"building {name} left no {paths[name]}")
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
