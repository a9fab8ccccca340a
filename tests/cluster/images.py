# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container images for the tests' real node, built on this machine from Debian bookworm packages.

No container registry is reachable here, so every image a pod uses is built locally and imported into
containerd under the exact name the product renders (IMAGE of plugins/module_utils/_databases/<db>.py at the
schema's default versions), and the product's manifests run unchanged:

    registry.k8s.io/pause:3.10            the pod sandbox (containerd's sandbox_image): imagefiles/pause.c
    docker.io/library/redis:7.4-alpine    Debian's redis-server, upstream's entrypoint and user 999
    docker.io/library/mariadb:11.4        Debian's MariaDB, upstream's MARIADB_* first-start contract
    localhost/k8s-ee-sample-app:1         examples/sample-app on Debian's Python
    localhost/k8s-ee-probe:1              busybox-static and imagefiles/probe, for network tests
    docker.io/library/busybox:latest      local-path-provisioner's helper pod (its `image: busybox`)

Each image is an OCI image-layout tarball for `ctr -n k8s.io images import`, cached as
~/.cache/k8s-ee/images/<name>-<key>.tar (K8S_EE_CACHE moves the root). The key hashes the recipe
(packages, files, configuration, names) and the Debian versions the host's apt lists offer for the
packages and their dependencies, so an image is rebuilt only when one of them changes. The images on
Debian share one base layer (`debootstrap --variant=minbase bookworm`, upgraded, without docs, man
pages, locales and apt lists, cached as bookworm-base-<key>.tar) and add one layer each; pause and
busybox are one layer from scratch. Tarballs are deterministic: sorted entries, fixed mtimes, numeric
owners. Building needs root (debootstrap, chroot) and the Debian package mirror; nothing else.

    python3 tests/cluster/images.py build [NAME ...] [--tag redis=7.2 ...]   # prints name, tarball, refs
    python3 tests/cluster/images.py list  [--tag ...]                         # keys and whether cached
    python3 tests/cluster/images.py import --address SOCKET [NAME ...]        # into a running containerd
    python3 tests/cluster/images.py prune [--tag ...]                         # drop tarballs of older keys

tests/cluster/images_check.py imports them into a throwaway containerd and runs their entrypoints.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import fcntl
import functools
import gzip
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
FILES = HERE / "imagefiles"
CACHE = pathlib.Path(os.environ.get("K8S_EE_CACHE", pathlib.Path.home() / ".cache" / "k8s-ee")) / "images"
SUITE = "bookworm"
# Bump when the way layers or tarballs are made changes: every key changes with it.
FORMAT = "k8s-ee-images/1"
MTIME = 1767225600  # 2026-01-01T00:00:00Z, every file's mtime
CREATED = "2026-01-01T00:00:00Z"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

BASE_HISTORY = f"debootstrap --variant=minbase {SUITE}, upgraded, stripped"
PAUSE_IMAGE = "registry.k8s.io/pause:{version}"
SAMPLE_APP_IMAGE = "localhost/k8s-ee-sample-app:{version}"
PROBE_IMAGE = "localhost/k8s-ee-probe:{version}"
BUSYBOX_IMAGE = "docker.io/library/busybox:{version}"
BASE_IMAGE = "localhost/k8s-ee-bookworm-base:12"
COREDNS_IMAGE = "localhost/k8s-ee-coredns:{version}"
CNPG_OPERATOR_IMAGE = "ghcr.io/cloudnative-pg/cloudnative-pg:{version}"
# the observability stack, as the pinned charts render their images (tests/cluster/components.py builds the programs)
PROMETHEUS_OPERATOR_IMAGE = "quay.io/prometheus-operator/prometheus-operator:{version}"
CONFIG_RELOADER_IMAGE = "quay.io/prometheus-operator/prometheus-config-reloader:{version}"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:{version}"
NODE_EXPORTER_IMAGE = "quay.io/prometheus/node-exporter:{version}"
KUBE_STATE_METRICS_IMAGE = "registry.k8s.io/kube-state-metrics/kube-state-metrics:{version}"
LOKI_IMAGE = "docker.io/grafana/loki:{version}"
DEFAULT_TAGS = {
    "pause": ["3.10"],
    "sample-app": ["1"],
    "sample-app-next": ["2"],
    "probe": ["1"],
    "busybox": ["latest"],
    "coredns": ["1.12.4"],
    "cloudnative-pg": ["1.30.0"],
    "prometheus-operator": ["v0.93.0"],
    "prometheus-config-reloader": ["v0.93.0"],
    "prometheus": ["v3.13.2-distroless"],
    "node-exporter": ["v1.12.1-distroless"],
    "kube-state-metrics": ["v2.18.0"],
    "loki": ["3.6.5"],
}

MEDIA = {
    "index": "application/vnd.oci.image.index.v1+json",
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
}
NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"

# dpkg leaves these out of every package installed on the base (copyright files stay)
DPKG_EXCLUDES = """\
# k8s-ee test images: no documentation, manual pages or translations
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
"""
# removed from every rootfs before its layer is made (relative globs; folders stay, their content goes)
STRIP = [
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "usr/share/lintian/*",
    "var/lib/apt/lists/*",
    "var/cache/apt/*",
    "var/cache/debconf/*-old",
    "var/cache/ldconfig/aux-cache",
    "var/lib/dpkg/*-old",
    "var/log/*",
    "etc/*-",
    "etc/resolv.conf",
    "etc/hostname",
    "etc/apt/sources.list",
    "etc/apt/sources.list.d/*",
    "usr/sbin/policy-rc.d",
    "root/.cache",
    "root/.*_history",
    "tmp/*",
    "var/tmp/*",
    "dev/*",
]
# folders whose files are removed but whose folders stay (a package's /run/<name>)
STRIP_FILES = ["run"]
# the top folders whose content is never part of a layer (the runtime provides it)
RUNTIME_DIRS = ("dev", "proc", "sys")


def log_stderr(msg: str) -> None:
    print(f"[images] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- recipes


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one image is made. `packages` key the image by their Debian versions (and their dependencies');
    on the base they are installed with apt, from scratch `populate` uses them."""

    name: str
    refs: tuple[str, ...]
    packages: tuple[str, ...] = ()
    base: bool = True
    populate: str = ""  # scratch images: the function that fills the rootfs (_populate_<name>)
    before: str = ""  # shell run in the chroot before the packages are installed
    after: str = ""  # shell run in the chroot after the files are written
    files: tuple[tuple[str, int, bytes], ...] = ()  # (path in the image, mode, content)
    config: dict = dataclasses.field(default_factory=dict, compare=False)
    host_tools: tuple[str, ...] = ()  # host packages whose installed versions key the image (a compiler)
    # scratch images of Go programs built here (tests/cluster/components.py): (component, path in the image); a
    # component's other program is named "<component>/<program>"
    binaries: tuple[tuple[str, str], ...] = ()


def product_images() -> dict[str, str]:
    """The IMAGE of each database of plugins/module_utils/_databases/ (database -> image with `{version}`), read
    from the source (no Ansible needed to build)."""
    images = {}
    for path in sorted((REPO / "plugins" / "module_utils" / "_databases").glob("[!_]*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "IMAGE" for t in node.targets):
                images[path.stem] = ast.literal_eval(node.value)
    if not images:
        raise RuntimeError("no IMAGE in plugins/module_utils/_databases/*.py")
    return images


def default_versions() -> dict[str, str]:
    """The default version of each database, from schemas/k8s-ee.schema.json."""
    schema = json.loads((REPO / "schemas" / "k8s-ee.schema.json").read_text())
    databases = schema["properties"]["databases"]["properties"]
    return {name: db["properties"]["version"]["default"] for name, db in databases.items()}


def _file(name: str) -> bytes:
    return (FILES / name).read_bytes()


def recipes(tags: dict[str, list[str]] | None = None) -> dict[str, Recipe]:
    """Every image, named for the tags given per image (default: what the product renders by default).
    For redis and mariadb a tag is the database version, formatted as the product formats it."""
    product = product_images()
    versions = default_versions()
    chosen = {
        "redis": [versions["redis"]],
        "mariadb": [versions["mariadb"]],
        "postgresql": [versions["postgresql"]],
        **DEFAULT_TAGS,
        **(tags or {}),
    }

    def refs(name: str, pattern: str) -> tuple[str, ...]:
        if not chosen[name]:
            raise ValueError(f"no tag for image {name}")
        return tuple(pattern.format(version=tag) for tag in chosen[name])

    entrypoint = "/usr/local/bin/docker-entrypoint.sh"
    every = {
        "pause": Recipe(
            name="pause",
            refs=refs("pause", PAUSE_IMAGE),
            base=False,
            populate="pause",
            files=(("pause.c", 0o644, _file("pause.c")),),
            host_tools=("gcc-12", "libc6-dev"),
            config={"Env": [f"PATH={PATH}"], "Entrypoint": ["/pause"], "User": "65535:65535", "WorkingDir": "/"},
        ),
        "redis": Recipe(
            name="redis",
            refs=refs("redis", product["redis"]),
            packages=("redis-server",),
            # upstream's user: uid 999, group redis 1000
            before="groupadd -r -g 1000 redis && useradd -r -u 999 -g redis -d /data -s /usr/sbin/nologin -M redis",
            after="mkdir -p /data && chown redis:redis /data",
            files=(
                (entrypoint, 0o755, _file("redis-entrypoint.sh")),
                ("/usr/local/bin/redis-server", 0o755, _file("redis-server")),
            ),
            config={
                "Env": [f"PATH={PATH}"],
                "Entrypoint": ["docker-entrypoint.sh"],
                "Cmd": ["redis-server"],
                "WorkingDir": "/data",
                "ExposedPorts": {"6379/tcp": {}},
                "Volumes": {"/data": {}},
            },
        ),
        "mariadb": Recipe(
            name="mariadb",
            refs=refs("mariadb", product["mariadb"]),
            packages=("mariadb-server-core", "mariadb-client-core"),
            # upstream's user: mysql, uid and gid 999 (the platform's pod runs as 999:999)
            before="groupadd -r -g 999 mysql"
            " && useradd -r -u 999 -g mysql -d /var/lib/mysql -s /usr/sbin/nologin -M mysql",
            after="mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d"
            " && chown mysql:mysql /var/lib/mysql /run/mysqld && chmod 1777 /run/mysqld",
            files=(
                (entrypoint, 0o755, _file("mariadb-entrypoint.sh")),
                # as upstream: no host name cache, no reverse lookups of clients
                (
                    "/etc/mysql/mariadb.conf.d/05-skipcache.cnf",
                    0o644,
                    b"[mariadb]\nhost-cache-size=0\nskip-name-resolve\n",
                ),
            ),
            config={
                "Env": [f"PATH={PATH}", "LANG=C.UTF-8"],
                "Entrypoint": ["docker-entrypoint.sh"],
                "Cmd": ["mariadbd"],
                "ExposedPorts": {"3306/tcp": {}},
                "Volumes": {"/var/lib/mysql": {}},
            },
        ),
        "sample-app": Recipe(
            name="sample-app",
            refs=refs("sample-app", SAMPLE_APP_IMAGE),
            packages=("python3", "python3-redis", "python3-pymysql", "python3-psycopg2"),
            before="groupadd -g 10001 app && useradd -u 10001 -g app -d /app -s /usr/sbin/nologin -M app",
            files=(("/app/app.py", 0o644, (REPO / "examples" / "sample-app" / "app.py").read_bytes()),),
            config={
                "Env": [f"PATH={PATH}", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "PORT=8080"],
                "Cmd": ["python3", "/app/app.py"],
                "WorkingDir": "/app",
                "User": "10001:10001",
                "ExposedPorts": {"8080/tcp": {}},
            },
        ),
        "probe": Recipe(
            name="probe",
            refs=refs("probe", PROBE_IMAGE),
            packages=("busybox-static",),
            files=(
                ("/usr/local/bin/probe", 0o755, _file("probe")),
                ("/srv/probe/index.html", 0o644, b"probe\n"),
            ),
            config={"Env": [f"PATH={PATH}"], "Cmd": ["probe", "sleep"], "User": "65534:65534", "WorkingDir": "/"},
        ),
        "coredns": Recipe(
            name="coredns",
            refs=refs("coredns", COREDNS_IMAGE),
            base=False,
            populate="component",
            binaries=(("coredns", "/coredns"),),
            files=(("/etc/passwd", 0o644, b"nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"),),
            config={"Env": [f"PATH={PATH}"], "Entrypoint": ["/coredns"], "User": "0:0", "ExposedPorts": {"53/udp": {}}},
        ),
        # the operator image: /manager is the operator and, copied into each instance pod, the instance manager
        "cloudnative-pg": Recipe(
            name="cloudnative-pg",
            refs=refs("cloudnative-pg", CNPG_OPERATOR_IMAGE),
            base=False,
            populate="component",
            # the operator hands each instance pod the manager of the pod's architecture from /operator
            # (pkg/utils/discovery.go: operator/manager_*, relative to WorkingDir /)
            binaries=(("cloudnative-pg", "/manager"), ("cloudnative-pg", "/operator/manager_amd64")),
            files=(("/etc/passwd", 0o644, b"nonroot:x:10001:10001::/:/sbin/nologin\n"),),
            config={"Env": [f"PATH={PATH}"], "Entrypoint": ["/manager"], "User": "10001:10001", "WorkingDir": "/"},
        ),
        # The observability stack: each upstream image is its static program on a distroless or busybox base, run as
        # nobody (65534) unless the chart's securityContext says otherwise; the manifests set the arguments.
        **{
            name: Recipe(
                name=name,
                refs=refs(name, pattern),
                base=False,
                populate="component",
                binaries=((program, path),),
                files=(("/etc/passwd", 0o644, b"nobody:x:65534:65534:nobody:/home:/sbin/nologin\n"),),
                config={"Env": [f"PATH={PATH}"], "Entrypoint": [path], "User": "65534:65534", "WorkingDir": workdir},
            )
            for name, pattern, program, path, workdir in (
                ("prometheus-operator", PROMETHEUS_OPERATOR_IMAGE, "prometheus-operator", "/bin/operator", "/"),
                (
                    "prometheus-config-reloader",
                    CONFIG_RELOADER_IMAGE,
                    "prometheus-operator/prometheus-config-reloader",
                    "/bin/prometheus-config-reloader",
                    "/",
                ),
                # the distroless image: its WorkingDir is the data folder the operator mounts
                ("prometheus", PROMETHEUS_IMAGE, "prometheus", "/bin/prometheus", "/prometheus"),
                ("node-exporter", NODE_EXPORTER_IMAGE, "node-exporter", "/bin/node_exporter", "/"),
                ("kube-state-metrics", KUBE_STATE_METRICS_IMAGE, "kube-state-metrics", "/kube-state-metrics", "/"),
            )
        },
        # Loki's image runs as 10001 with its data under /loki (the chart mounts its volume at /var/loki)
        "loki": Recipe(
            name="loki",
            refs=refs("loki", LOKI_IMAGE),
            base=False,
            populate="component",
            binaries=(("loki", "/usr/bin/loki"),),
            files=(("/etc/passwd", 0o644, b"loki:x:10001:10001::/loki:/sbin/nologin\n"),),
            config={
                "Env": [f"PATH={PATH}"],
                "Entrypoint": ["/usr/bin/loki"],
                "Cmd": ["-config.file=/etc/loki/local-config.yaml"],
                "User": "10001:10001",
                "WorkingDir": "/",
                "ExposedPorts": {"3100/tcp": {}},
            },
        ),
        # the operand image CloudNativePG runs its instance manager in: PostgreSQL's programs on PATH, user 26
        "postgresql": Recipe(
            name="postgresql",
            refs=refs("postgresql", product["postgresql"]),
            packages=("postgresql-15", "locales-all"),
            # CloudNativePG's images run as 26:26; Debian's group 26 is tape, so only the user is added
            before="useradd -r -u 26 -g 26 -d /var/lib/postgresql -s /bin/sh -M postgres",
            after="mkdir -p /var/lib/postgresql /run/postgresql && chown 26:26 /var/lib/postgresql /run/postgresql",
            config={
                "Env": [f"PATH=/usr/lib/postgresql/15/bin:{PATH}", "LANG=C.UTF-8"],
                # CloudNativePG replaces the command with its instance manager; alone the image runs postgres
                "Cmd": ["postgres"],
                "User": "26:26",
                "WorkingDir": "/var/lib/postgresql",
                "ExposedPorts": {"5432/tcp": {}},
            },
        ),
        "busybox": Recipe(
            name="busybox",
            refs=refs("busybox", BUSYBOX_IMAGE),
            packages=("busybox-static",),
            base=False,
            populate="busybox",
            files=(
                (
                    "/etc/passwd",
                    0o644,
                    b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
                ),
                ("/etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n"),
            ),
            config={"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        ),
    }
    # the same app built again as a new image (another digest): what a redeploy of a new commit brings
    app = every["sample-app"]
    every["sample-app-next"] = dataclasses.replace(
        app,
        name="sample-app-next",
        refs=refs("sample-app-next", SAMPLE_APP_IMAGE),
        config={**app.config, "Env": [*app.config["Env"], "BUILD=next"]},
    )
    return every


def base_recipe() -> Recipe:
    return Recipe(
        name="bookworm-base",
        refs=(BASE_IMAGE,),
        files=(("/etc/dpkg/dpkg.cfg.d/90-k8s-ee-slim", 0o644, DPKG_EXCLUDES.encode()),),
        after="DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 upgrade",
        config={"Env": [f"PATH={PATH}", "LANG=C.UTF-8"], "Cmd": ["bash"]},
    )


# --------------------------------------------------------------------------- Debian versions and keys


def _paragraphs(text: str):
    record: dict[str, str] = {}
    field = None
    for line in text.splitlines():
        if not line.strip():
            if record:
                yield record
            record, field = {}, None
        elif line[0] in " \t" and field:
            record[field] += "\n" + line
        elif ":" in line:
            field, value = line.split(":", 1)
            record[field] = value.strip()
    if record:
        yield record


@dataclasses.dataclass
class Archive:
    """What apt would install: the candidate version and dependencies of every package it knows."""

    packages: dict[str, dict[str, str]]
    provides: dict[str, list[str]]

    @classmethod
    def parse(cls, dumpavail: str) -> Archive:
        packages: dict[str, dict[str, str]] = {}
        provides: dict[str, list[str]] = {}
        for chunk in dumpavail.split("\n\n"):
            record = dict(_FIELDS.findall(chunk))
            name = record.get("Package")
            if not name or name in packages:
                continue
            packages[name] = record
            for provided in _names(record.get("Provides", "")):
                provides.setdefault(provided, []).append(name)
        return cls(packages, provides)

    def required(self) -> list[str]:
        """What `debootstrap --variant=minbase` installs: the required packages and apt."""
        return sorted({n for n, r in self.packages.items() if r.get("Priority") == "required"} | {"apt"})

    def closure(self, names) -> dict[str, str]:
        """Package -> candidate version for `names` and everything they depend on. Of alternatives, one
        of `names` wins, else the first: near enough to apt's choice for a key (a few extra packages at most)."""
        wanted = {self._real(name) for name in names} - {None}
        out: dict[str, str] = {}
        todo = sorted(wanted)
        while todo:
            name = todo.pop()
            if name in out:
                continue
            record = self.packages[name]
            out[name] = record["Version"]
            for field in ("Pre-Depends", "Depends"):
                for group in record.get(field, "").split(","):
                    choices = [r for alt in _names(group.replace("|", ",")) if (r := self._real(alt, wanted))]
                    if choices:
                        todo.append(next((c for c in choices if c in wanted), choices[0]))
        return dict(sorted(out.items()))

    def _real(self, name: str, wanted=frozenset()) -> str | None:
        """The package itself, or for a virtual one a provider (one of `wanted` first)."""
        if name in self.packages:
            return name
        providers = sorted(self.provides.get(name, []), key=lambda p: (p not in wanted, p))
        return providers[0] if providers else None


_FIELDS = re.compile(r"^(Package|Version|Priority|Pre-Depends|Depends|Provides): (.*)$", re.MULTILINE)


def _names(field: str) -> list[str]:
    """The package names of a Depends-like field, without versions and architecture qualifiers."""
    return [re.split(r"[\s(:]", part.strip(), maxsplit=1)[0] for part in field.split(",") if part.strip()]


@functools.cache
def archive() -> Archive:
    text = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    if "Package: base-files" not in text:
        if os.geteuid() != 0:
            raise RuntimeError("apt has no package lists: run `apt-get update` as root")
        subprocess.run(["apt-get", "update", "-qq", "-o", "DPkg::Lock::Timeout=600"], check=True)
        text = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    return Archive.parse(text)


def installed_versions(names) -> dict[str, str]:
    """Installed versions of host packages (a missing one answers "")."""
    out = {}
    for name in names:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True, check=False
        )
        out[name] = result.stdout.strip() if result.returncode == 0 else ""
    return out


def recipe_digest(recipe: Recipe) -> str:
    """sha256 of everything that makes the image besides package versions."""
    data = {
        "format": FORMAT,
        "suite": SUITE,
        "name": recipe.name,
        "refs": list(recipe.refs),
        "packages": list(recipe.packages),
        "base": recipe.base,
        "populate": recipe.populate,
        "before": recipe.before,
        "after": recipe.after,
        "files": [[path, mode, hashlib.sha256(content).hexdigest()] for path, mode, content in recipe.files],
        "config": recipe.config,
        "host_tools": list(recipe.host_tools),
        # a component's binary is keyed by its pinned version and build flags (components.py caches it so)
        "binaries": [[name, path, _component_key(name)] for name, path in recipe.binaries],
    }
    if recipe.name == "bookworm-base":
        data["strip"] = [STRIP, STRIP_FILES]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def content_key(recipe: Recipe, versions: dict[str, str], base_key: str | None = None) -> str:
    """The cache key: the recipe, the Debian versions it is made of, and the base layer's key."""
    data = {"recipe": recipe_digest(recipe), "versions": sorted(versions.items()), "base": base_key}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def versions_for(recipe: Recipe, apt: Archive | None = None) -> dict[str, str]:
    apt = apt or archive()
    versions = apt.closure(apt.required() if recipe.name == "bookworm-base" else recipe.packages)
    if recipe.host_tools:
        versions.update({f"host:{k}": v for k, v in installed_versions(recipe.host_tools).items()})
    return versions


def keys(selected: dict[str, Recipe]) -> tuple[str, dict[str, str]]:
    """(base key, key per image) for the host's apt lists as they are now."""
    base = base_recipe()
    base_key = content_key(base, versions_for(base))
    return base_key, {
        name: content_key(recipe, versions_for(recipe), base_key if recipe.base else None)
        for name, recipe in selected.items()
    }


def tarball(name: str, key: str) -> pathlib.Path:
    return CACHE / f"{name}-{key}.tar"


# --------------------------------------------------------------------------- layers and OCI tarballs


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to `inner`."""

    def __init__(self, inner):
        self.inner, self.hash, self.size = inner, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        self.inner.write(data)
        return len(data)


@dataclasses.dataclass(frozen=True)
class Layer:
    path: pathlib.Path  # the gzip-compressed layer
    digest: str  # sha256:... of the compressed bytes
    diff_id: str  # sha256:... of the uncompressed tar
    size: int


def _sort_key(relpath: str):
    return relpath.split("/")


def _walk(root: pathlib.Path) -> list[str]:
    """Every path under root (relative, no leading "./"), parents before children, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel in RUNTIME_DIRS:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            out.append(name if rel == "." else f"{rel}/{name}")
    return sorted(out, key=_sort_key)


def signature(root: pathlib.Path, relpath: str) -> tuple:
    """What a layer records of one path: type, mode, owner and content."""
    full = root / relpath
    st = os.lstat(full)
    common = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    if stat.S_ISLNK(st.st_mode):
        return ("link", *common, os.readlink(full))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", *common)
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256()
        with open(full, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return ("file", *common, st.st_size, digest.hexdigest())
    return ("other", *common, st.st_rdev)


def snapshot(root: pathlib.Path) -> dict[str, tuple]:
    return {rel: signature(root, rel) for rel in _walk(root)}


def diff(before: dict[str, tuple], root: pathlib.Path) -> tuple[list[str], list[str]]:
    """(paths to write, paths to white out) that turn `before` into the tree at root. Parent folders of
    a written path are written too; a removed folder's content needs no whiteout of its own."""
    now = snapshot(root)
    changed = {rel for rel, sig in now.items() if before.get(rel) != sig}
    for rel in list(changed):
        parts = rel.split("/")
        changed.update("/".join(parts[:i]) for i in range(1, len(parts)))
    present = now.keys() | {""}
    removed = [rel for rel in before if rel not in now and rel.rpartition("/")[0] in present]
    return sorted(changed, key=_sort_key), sorted(removed, key=_sort_key)


def _tarinfo(name: str, **fields) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.uname, info.gname = MTIME, "", ""
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def write_layer(root: pathlib.Path, paths: list[str], whiteouts: list[str], out: pathlib.Path) -> Layer:
    """A gzip-compressed layer tar of `paths` under root plus whiteouts, deterministic to the byte."""
    entries = sorted(
        [(rel, False) for rel in paths] + [(rel, True) for rel in whiteouts], key=lambda e: _sort_key(e[0])
    )
    seen: dict[tuple[int, int], str] = {}
    with open(out, "wb") as raw:
        compressed = _Hashing(raw)
        with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, compresslevel=6) as gz:
            plain = _Hashing(gz)
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for rel, whiteout in entries:
                    if whiteout:
                        parent, _slash, name = rel.rpartition("/")
                        tar.addfile(_tarinfo(f"{parent}/.wh.{name}".lstrip("/"), mode=0o644))
                        continue
                    full = root / rel
                    st = os.lstat(full)
                    info = _tarinfo(rel, mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
                    if stat.S_ISDIR(st.st_mode):
                        info.type = tarfile.DIRTYPE
                        tar.addfile(info)
                    elif stat.S_ISLNK(st.st_mode):
                        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(full)
                        tar.addfile(info)
                    elif stat.S_ISREG(st.st_mode):
                        inode = (st.st_dev, st.st_ino)
                        if st.st_nlink > 1 and inode in seen:
                            info.type, info.linkname = tarfile.LNKTYPE, seen[inode]
                            tar.addfile(info)
                            continue
                        seen[inode] = rel
                        info.size = st.st_size
                        with open(full, "rb") as f:
                            tar.addfile(info, f)
                    elif stat.S_ISFIFO(st.st_mode):
                        info.type = tarfile.FIFOTYPE
                        tar.addfile(info)
                    # devices and sockets are the runtime's
    return Layer(out, f"sha256:{compressed.hash.hexdigest()}", f"sha256:{plain.hash.hexdigest()}", compressed.size)


def _json(data) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def platform() -> dict[str, str]:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=False).stdout
    return {"architecture": arch.strip() or "amd64", "os": "linux"}


def image_config(config: dict, layers: list[Layer], created_by: list[str], plat: dict[str, str]) -> dict:
    """The OCI image configuration: the runtime settings and the layers' uncompressed digests."""
    return {
        **plat,
        "created": CREATED,
        "config": dict(config),
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": text} for text in created_by],
    }


def descriptor(media: str, data: bytes, **extra) -> dict:
    return {
        "mediaType": MEDIA[media],
        "digest": f"sha256:{hashlib.sha256(data).hexdigest()}",
        "size": len(data),
    } | extra


def manifest(config_blob: bytes, layers: list[Layer]) -> dict:
    return {
        "schemaVersion": 2,
        "mediaType": MEDIA["manifest"],
        "config": descriptor("config", config_blob),
        "layers": [{"mediaType": MEDIA["layer"], "digest": layer.digest, "size": layer.size} for layer in layers],
    }


def tag_of(ref: str) -> str:
    _name, sep, tag = ref.rpartition(":")
    return tag if sep and "/" not in tag else "latest"


def index(manifest_blob: bytes, refs, plat: dict[str, str]) -> dict:
    """index.json: one entry per name, each naming the same manifest; containerd takes the name from
    io.containerd.image.name, other tools the tag from org.opencontainers.image.ref.name."""
    return {
        "schemaVersion": 2,
        "mediaType": MEDIA["index"],
        "manifests": [
            descriptor(
                "manifest",
                manifest_blob,
                platform=dict(plat),
                annotations={NAME_ANNOTATION: ref, REF_ANNOTATION: tag_of(ref)},
            )
            for ref in refs
        ],
    }


def write_oci(path: pathlib.Path, layers: list[Layer], config: dict, refs, created_by: list[str]) -> None:
    """An OCI image-layout tarball (oci-layout, index.json, blobs/sha256/...) at path, atomically."""
    plat = platform()
    config_blob = _json(image_config(config, layers, created_by, plat))
    manifest_blob = _json(manifest(config_blob, layers))
    blobs: dict[str, bytes | pathlib.Path] = {
        descriptor("config", config_blob)["digest"]: config_blob,
        descriptor("manifest", manifest_blob)["digest"]: manifest_blob,
    }
    blobs.update({layer.digest: layer.path for layer in layers})
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, content: bytes | pathlib.Path) -> None:
            if isinstance(content, bytes):
                tar.addfile(_tarinfo(name, mode=0o644, size=len(content)), io.BytesIO(content))
            else:
                with open(content, "rb") as f:
                    tar.addfile(_tarinfo(name, mode=0o644, size=content.stat().st_size), f)

        for folder in ("blobs", "blobs/sha256"):
            tar.addfile(_tarinfo(folder, type=tarfile.DIRTYPE, mode=0o755))
        for digest in sorted(blobs):
            add(f"blobs/sha256/{digest.removeprefix('sha256:')}", blobs[digest])
        add("index.json", _json(index(manifest_blob, refs, plat)))
        add("oci-layout", _json({"imageLayoutVersion": "1.0.0"}))
    partial.replace(path)


def digests(paths) -> dict[str, str]:
    """name:tag -> the manifest digest it is imported with, for each of the tarballs."""
    found = {}
    for path in paths:
        with tarfile.open(path) as tar:
            for entry in json.loads(tar.extractfile("index.json").read())["manifests"]:
                found[entry["annotations"][NAME_ANNOTATION]] = entry["digest"]
    return found


def read_oci(path: pathlib.Path) -> tuple[dict, dict, dict]:
    """(index, manifest, config) of an OCI tarball written by write_oci."""
    with tarfile.open(path) as tar:

        def blob(digest: str) -> bytes:
            return tar.extractfile(f"blobs/sha256/{digest.removeprefix('sha256:')}").read()

        idx = json.loads(tar.extractfile("index.json").read())
        man = json.loads(blob(idx["manifests"][0]["digest"]))
        return idx, man, json.loads(blob(man["config"]["digest"]))


# --------------------------------------------------------------------------- building


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def chroot(root: pathlib.Path, script: str) -> None:
    env = {"PATH": PATH, "HOME": "/root", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
    _run(["chroot", str(root), "/bin/sh", "-ec", script], env=env)


def _host_mirror(sources=None) -> str | None:
    """The host's apt mirror for the suite (deb822 .sources or one-line .list), for debootstrap."""
    if sources is None:
        sources = [pathlib.Path("/etc/apt/sources.list"), *sorted(pathlib.Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".sources":
            for record in _paragraphs(text):
                if "deb" in record.get("Types", "").split() and SUITE in record.get("Suites", "").split():
                    return record.get("URIs", "").split()[0]
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                    return words[1]
    return None


def _apt_setup(root: pathlib.Path) -> None:
    """Let apt in the chroot see what the host's apt sees: its sources, lists and resolver."""
    for name in ("etc/apt/sources.list", "etc/apt/sources.list.d"):
        target = root / name
        if target.is_dir():
            for child in target.iterdir():
                child.unlink()
        else:
            target.unlink(missing_ok=True)
    host_sources = pathlib.Path("/etc/apt")
    if (host_sources / "sources.list").is_file():
        shutil.copy2(host_sources / "sources.list", root / "etc/apt/sources.list")
    (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
    for source in sorted((host_sources / "sources.list.d").glob("*")):
        if source.is_file() and source.suffix in (".list", ".sources"):
            shutil.copy2(source, root / "etc/apt/sources.list.d" / source.name)
    lists = root / "var/lib/apt/lists"
    lists.mkdir(parents=True, exist_ok=True)
    for item in pathlib.Path("/var/lib/apt/lists").iterdir():
        if item.is_file() and item.name != "lock":
            shutil.copy2(item, lists / item.name)
    shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# no service starts while an image is built\nexit 101\n")
    policy.chmod(0o755)
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    for name, minor in (("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)):
        if not (dev / name).exists():
            os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
            (dev / name).chmod(0o666)


def strip(root: pathlib.Path) -> None:
    """Remove what no container needs (docs, caches, logs, apt's lists and sources, build leftovers)."""
    for pattern in STRIP:
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for name in STRIP_FILES:
        for dirpath, _dirnames, filenames in os.walk(root / name):
            for filename in filenames:
                os.unlink(os.path.join(dirpath, filename))
    docs = root / "usr/share/doc"
    if docs.is_dir():
        for dirpath, dirnames, filenames in os.walk(docs, topdown=False):
            for name in filenames:
                if name != "copyright":
                    os.unlink(os.path.join(dirpath, name))
            for name in dirnames:
                full = os.path.join(dirpath, name)
                if not os.path.islink(full) and not os.listdir(full):
                    os.rmdir(full)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    shadow = root / "etc/shadow"
    if shadow.is_file():  # the day of the last password change is the build's date: leave it empty
        lines = [line.split(":") for line in shadow.read_text().splitlines()]
        shadow.write_text("".join(":".join([*f[:2], "", *f[3:]]) + "\n" for f in lines if len(f) > 3))
    for name in ("tmp", "var/tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name).chmod(0o1777)


def _write_files(root: pathlib.Path, recipe: Recipe) -> None:
    for path, mode, content in recipe.files:
        if not path.startswith("/"):
            continue  # a build input only (pause.c)
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(mode)
        os.chown(target, 0, 0)


def _extract_layer(image: pathlib.Path, root: pathlib.Path) -> None:
    _index, man, _config = read_oci(image)
    with tarfile.open(image) as tar:
        blob = tar.extractfile(f"blobs/sha256/{man['layers'][0]['digest'].removeprefix('sha256:')}")
        proc = subprocess.Popen(["tar", "-xzpf", "-", "--numeric-owner", "-C", str(root)], stdin=subprocess.PIPE)
        shutil.copyfileobj(blob, proc.stdin)
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"could not extract the base layer of {image}")


def _base_layer(image: pathlib.Path, work: pathlib.Path) -> Layer:
    _index, man, config = read_oci(image)
    with tarfile.open(image) as tar:
        out = work / "base.tar.gz"
        with open(out, "wb") as f:
            shutil.copyfileobj(tar.extractfile(f"blobs/sha256/{man['layers'][0]['digest'].removeprefix('sha256:')}"), f)
    return Layer(out, man["layers"][0]["digest"], config["rootfs"]["diff_ids"][0], man["layers"][0]["size"])


def _populate_pause(root: pathlib.Path, recipe: Recipe, work: pathlib.Path) -> None:
    source = work / "pause.c"
    source.write_bytes({path: content for path, _mode, content in recipe.files}["pause.c"])
    _run(["gcc", "-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o", str(root / "pause"), str(source)])
    (root / "pause").chmod(0o755)


def _populate_busybox(root: pathlib.Path, recipe: Recipe, work: pathlib.Path) -> None:
    version = archive().packages["busybox-static"]["Version"]
    _run(["apt-get", "download", "-qq", f"busybox-static={version}"], cwd=work)
    (deb,) = work.glob("busybox-static_*.deb")
    unpacked = work / "busybox-static"
    _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    for folder, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777), ("home", 0o755)):
        (root / folder).mkdir(exist_ok=True)
        (root / folder).chmod(mode)
    for folder in ("usr", "var", "dev", "proc", "sys"):
        (root / folder).mkdir(exist_ok=True)
    shutil.copy2(unpacked / "bin/busybox", root / "bin/busybox")
    applets = _run([str(root / "bin/busybox"), "--list"]).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    _write_files(root, recipe)


def _component_key(name: str) -> str:
    import components  # tests/cluster/components.py, beside this file

    component_name, program = name.partition("/")[::2]
    component = components.COMPONENTS[component_name]
    key = f"{component.module}@{component.version} {component.package} {component.ldflags}"
    return f"{key} {program}" if program else key


def _populate_component(root: pathlib.Path, recipe: Recipe, work: pathlib.Path) -> None:
    """A static Go program and nothing else, as the upstream images (distroless/scratch) ship it."""
    import components

    del work
    components.build(sorted({entry[0].partition("/")[0] for entry in recipe.binaries}), log=log_stderr)
    for folder, mode in (("etc", 0o755), ("tmp", 0o1777)):
        (root / folder).mkdir(mode=mode, exist_ok=True)
    for name, target in recipe.binaries:
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        component, program = name.partition("/")[::2]
        shutil.copyfile(components.binary(component, program or None), destination)
        destination.chmod(0o755)
    _write_files(root, recipe)


def _build_scratch(recipe: Recipe, path: pathlib.Path, work: pathlib.Path) -> None:
    root = work / "rootfs"
    root.mkdir(mode=0o755)
    globals()[f"_populate_{recipe.populate}"](root, recipe, work)
    for entry in [root, *root.rglob("*")]:
        os.lchown(entry, 0, 0)
    layer = write_layer(root, _walk(root), [], work / "layer.tar.gz")
    write_oci(path, [layer], recipe.config, recipe.refs, [f"k8s-ee {recipe.name}: {recipe.populate} from scratch"])


def build_base(log=log_stderr) -> pathlib.Path:
    """The shared base image (cached): debootstrap minbase, upgraded with the host's apt lists, stripped."""
    recipe = base_recipe()
    path = tarball(recipe.name, content_key(recipe, versions_for(recipe)))
    if path.exists():
        return path
    with _workdir() as work:
        root = work / "rootfs"
        log(f"debootstrap --variant=minbase {SUITE} (about a minute; cached as {path.name})")
        mirror = _host_mirror()
        _run(["debootstrap", "--variant=minbase", SUITE, str(root), *([mirror] if mirror else [])])
        _apt_setup(root)
        _write_files(root, recipe)
        chroot(root, recipe.after)
        strip(root)
        layer = write_layer(root, _walk(root), [], work / "layer.tar.gz")
        write_oci(path, [layer], recipe.config, recipe.refs, [BASE_HISTORY])
    return path


def _build_debian(recipe: Recipe, path: pathlib.Path, base: pathlib.Path, work: pathlib.Path) -> None:
    root = work / "rootfs"
    root.mkdir(mode=0o755)
    _extract_layer(base, root)
    before = snapshot(root)
    _apt_setup(root)
    if recipe.before:
        chroot(root, recipe.before)
    if recipe.packages:
        chroot(
            root,
            "apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends " + " ".join(recipe.packages),
        )
    _write_files(root, recipe)
    if recipe.after:
        chroot(root, recipe.after)
    strip(root)
    paths, whiteouts = diff(before, root)
    layer = write_layer(root, paths, whiteouts, work / "layer.tar.gz")
    installed = " ".join(recipe.packages) or "nothing"
    write_oci(
        path,
        [_base_layer(base, work), layer],
        recipe.config,
        recipe.refs,
        [BASE_HISTORY, f"k8s-ee {recipe.name}: {installed}"],
    )


@contextlib.contextmanager
def _workdir():
    work = pathlib.Path(tempfile.mkdtemp(prefix="k8s-ee-image.", dir="/var/tmp"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _locked():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(names=None, tags: dict[str, list[str]] | None = None, log=log_stderr) -> dict[str, pathlib.Path]:
    """Build whatever image is missing from the cache; name -> tarball. Safe to run concurrently."""
    every = recipes(tags)
    selected = {name: every[name] for name in (names or every)}
    with _locked():
        _base_key, image_keys = keys(selected)
        out = {name: tarball(name, image_keys[name]) for name in selected}
        todo = [name for name in selected if not out[name].exists()]
        if not todo:
            return out
        if os.geteuid() != 0:
            raise RuntimeError(f"building images needs root (debootstrap, chroot): {', '.join(todo)}")
        if not shutil.which("debootstrap"):  # as extensions/molecule/build-image.sh
            # make cluster-build installs podman beside this on a fresh machine: wait for dpkg's lock, do not fail
            _run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", "debootstrap"])
        base = build_base(log) if any(selected[name].base for name in todo) else None
        for name in todo:
            recipe = selected[name]
            log(f"building {name} ({', '.join(recipe.refs)}) as {out[name].name}")
            with _workdir() as work:
                if recipe.base:
                    _build_debian(recipe, out[name], base, work)
                else:
                    _build_scratch(recipe, out[name], work)
    return out


def prune(tags: dict[str, list[str]] | None = None, log=log_stderr) -> list[pathlib.Path]:
    """Remove the cached tarballs of these recipes (and base layers) other than the current keys'."""
    every = recipes(tags)
    base_key, image_keys = keys(every)
    keep = {tarball(name, key) for name, key in image_keys.items()} | {tarball("bookworm-base", base_key)}
    removed = []
    with _locked():
        for name in [*every, "bookworm-base"]:
            for path in CACHE.glob(f"{name}-*.tar"):
                if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}\.tar", path.name) and path not in keep:
                    log(f"removing {path.name}")
                    path.unlink()
                    removed.append(path)
    return removed


def import_images(paths, address: str, namespace: str = "k8s.io", log=log_stderr) -> None:
    """`ctr images import` each tarball into the containerd at `address` (names come from index.json)."""
    for path in paths:
        log(f"importing {pathlib.Path(path).name}")
        _run(["ctr", "--address", address, "--namespace", namespace, "images", "import", str(path)])


# --------------------------------------------------------------------------- command line


def _tags(values) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for value in values or []:
        name, sep, tag = value.partition("=")
        if not sep or not tag:
            raise SystemExit(f"--tag takes NAME=TAG, not {value!r}")
        tags.setdefault(name, []).append(tag)
    return tags


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["build", "list", "import", "prune"])
    parser.add_argument("names", nargs="*", help="images (default: all)")
    parser.add_argument("--tag", action="append", help="NAME=TAG, repeatable (redis and mariadb: the version)")
    parser.add_argument("--address", help="containerd socket (import)")
    parser.add_argument("--namespace", default="k8s.io")
    args = parser.parse_args(argv)
    tags = _tags(args.tag)
    every = recipes(tags)
    unknown = sorted(set(args.names) - set(every))
    if unknown:
        parser.error(f"unknown image(s) {', '.join(unknown)}; known: {', '.join(every)}")
    if args.command == "prune":
        prune(tags)
        return 0
    if args.command == "list":
        selected = {name: every[name] for name in (args.names or every)}
        base_key, image_keys = keys(selected)
        base = tarball("bookworm-base", base_key)
        print(f"bookworm-base {base_key} {'cached' if base.exists() else 'missing'} {BASE_IMAGE}")
        for name, key in image_keys.items():
            state = "cached" if tarball(name, key).exists() else "missing"
            print(f"{name} {key} {state} {' '.join(every[name].refs)}")
        return 0
    paths = build(args.names or None, tags)
    if args.command == "build":
        for name, path in paths.items():
            print(f"{name} {path} {' '.join(every[name].refs)}")
    else:
        if not args.address:
            parser.error("import needs --address")
        import_images(paths.values(), args.address, args.namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
