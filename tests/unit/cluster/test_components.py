"""The real node's upstream components (tests/cluster/components.py): the pinned table against the wrapper modules.

No network and no building: the go.mod and go.sum files are read as text, and build() runs with a stand-in for
the Go build.
"""

import json
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "cluster"))

import components
import localcluster

CLUSTER = pathlib.Path(components.__file__).resolve().parent


def directives(text):
    """(verb, arguments) for every directive of a go.mod, blocks flattened, comments dropped."""
    found, block = [], None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block:
            if line == ")":
                block = None
            else:
                found.append((block, line.split()))
            continue
        verb, *args = line.split()
        if args == ["("]:
            block = verb
        else:
            found.append((verb, args))
    return found


def go_mod(name):
    return directives((CLUSTER / "components" / name / "go.mod").read_text())


def go_sum(name):
    return (CLUSTER / "components" / name / "go.sum").read_text().splitlines()


def test_every_wrapper_is_in_the_table():
    folders = {p.name for p in (CLUSTER / "components").iterdir() if p.is_dir()}
    assert folders == set(components.COMPONENTS)


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_requires_exactly_the_pinned_version(name):
    component = components.COMPONENTS[name]
    found, sums = go_mod(name), go_sum(name)
    assert ("module", [f"github.com/k8s-ee/platform/tests/cluster/components/{name}"]) in found
    versions = [args[1] for verb, args in found if verb == "require" and args[0] == component.module]
    assert versions == [component.version]
    for package in component.packages:
        assert ("tool", [package]) in found
        assert package == component.module or package.startswith(component.module + "/")
    for suffix in ("", "/go.mod"):
        line = f"{component.module} {component.version}{suffix} h1:"
        assert [x for x in sums if x.startswith(line)], f"go.sum lacks {line}"


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_repeats_the_replace_directives(name):
    found = go_mod(name)
    replaces = sorted(" ".join(args) for verb, args in found if verb == "replace")
    assert replaces == sorted(components.COMPONENTS[name].replaces)


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_repeats_the_exclude_directives(name):
    found = go_mod(name)
    excludes = sorted(" ".join(args) for verb, args in found if verb == "exclude")
    assert excludes == sorted(components.COMPONENTS[name].excludes)


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_pins_the_module_itself_once(name):
    """The module's own h1 and go.mod h1 lines, exactly one of each: with them the go command checks the download
    and never asks the checksum database (which the module proxy refuses for traefik v3.5.1)."""
    component = components.COMPONENTS[name]
    sums = go_sum(name)
    own = [line.split()[1] for line in sums if line.split()[0] == component.module]
    assert own == [component.version, f"{component.version}/go.mod"]
    assert len(set(sums)) == len(sums)


def test_traefik_repeats_its_module_directives():
    """What traefik v3.5.1's go.mod says (its three Containous forks and the tencentcloud exclude)."""
    traefik = components.COMPONENTS["traefik"]
    assert [r.split()[0] for r in traefik.replaces] == [
        "github.com/abbot/go-http-auth",
        "github.com/gorilla/mux",
        "github.com/mailgun/minheap",
    ]
    assert traefik.excludes == ("github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible",)
    assert [added[0] for added in traefik.added_files] == ["webui/static/index.html"]


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_keeps_godebug_defaults(name):
    found = go_mod(name)
    assert [args[0].startswith("default=go1.") for verb, args in found if verb == "godebug"] == [True]


def test_binaries_report_the_pinned_versions():
    flags = {name: c.ldflags for name, c in components.COMPONENTS.items()}
    assert "/pkg/version.Version=v2.1.0 " in flags["kube-router"] + " "
    assert "-X main.VERSION=v0.0.30" in flags["local-path-provisioner"]
    assert "/pkg/versions.buildVersion=1.30.0 " in flags["cloudnative-pg"]
    assert "coremain.GitCommit=" in flags["coredns"]  # CoreDNS' version is a constant of its source
    assert "/pkg/version.Version=3.5.1 " in flags["traefik"] + " "  # goreleaser's .Version has no "v"
    assert "/pkg/version.Codename=chabichou" in flags["traefik"]
    assert flags["pebble"] == "-X main.version=v2.10.3"
    # prometheus/common's version package, as promu and the Makefiles set it (Prometheus 3.13.2 is module v0.313.2)
    assert "/common/version.Version=3.13.2 " in flags["prometheus"] + " "
    assert "/common/version.Version=0.93.0 " in flags["prometheus-operator"] + " "
    assert "/common/version.Version=1.12.1 " in flags["node-exporter"] + " "
    assert "/common/version.Version=v2.18.0 " in flags["kube-state-metrics"] + " "
    assert "/loki/v3/pkg/util/build.Version=3.6.5 " in flags["loki"] + " "


def test_binary_paths_are_keyed_by_version(tmp_path, monkeypatch):
    monkeypatch.setattr(localcluster, "CACHE", tmp_path)
    assert components.binary("cloudnative-pg") == tmp_path / "cloudnative-pg-v1.30.0" / "manager"
    assert components.binary("kube-router") == tmp_path / "kube-router-v2.1.0" / "kube-router"
    assert components.binary("coredns") == tmp_path / "coredns-v1.12.4" / "coredns"
    assert components.binary("local-path-provisioner") == (
        tmp_path / "local-path-provisioner-v0.0.30" / "local-path-provisioner"
    )
    assert components.binary("traefik") == tmp_path / "traefik-v3.5.1" / "traefik"
    assert components.binary("pebble", "pebble-challtestsrv") == tmp_path / "pebble-v2.10.3" / "pebble-challtestsrv"
    # go build names a main package by its last element, or the one before a major version suffix
    assert components.binary("kube-state-metrics") == tmp_path / "kube-state-metrics-v2.18.0" / "kube-state-metrics"
    assert components.binary("prometheus-operator", "prometheus-config-reloader") == (
        tmp_path / "prometheus-operator-v0.93.0" / "prometheus-config-reloader"
    )


def test_build_builds_only_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(localcluster, "CACHE", tmp_path)
    calls = []

    def go_build(module_dir, out_dir, packages, log, ldflags=""):
        calls.append((module_dir, packages, ldflags))
        out_dir.mkdir(parents=True, exist_ok=True)
        for package in packages:
            (out_dir / components.program_name(package)).write_text("")

    monkeypatch.setattr(localcluster, "_go_build", go_build)
    present = components.binary("coredns")
    present.parent.mkdir(parents=True)
    present.write_text("")

    paths = components.build(["coredns", "cloudnative-pg"], log=lambda _: None)
    assert paths == {"coredns": present, "cloudnative-pg": components.binary("cloudnative-pg")}
    cnpg = components.COMPONENTS["cloudnative-pg"]
    assert calls == [(CLUSTER / "components" / "cloudnative-pg", [cnpg.package], cnpg.ldflags)]
    assert (tmp_path / ".build-components.lock").exists()

    calls.clear()
    without_copy = [name for name, c in components.COMPONENTS.items() if not c.added_files]
    assert set(components.build(without_copy, log=lambda _: None)) == set(without_copy)
    assert [c[0].name for c in calls] == [
        "kube-router",
        "local-path-provisioner",
        "pebble",
        "prometheus-operator",
        "prometheus",
        "node-exporter",
        "kube-state-metrics",
        "loki",
    ]
    pebble = components.COMPONENTS["pebble"]
    assert calls[2][1] == [pebble.package, "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv"]


def test_build_again_when_one_of_the_binaries_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(localcluster, "CACHE", tmp_path)
    built = []

    def go_build(module_dir, out_dir, packages, log, ldflags=""):
        built.append(packages)
        out_dir.mkdir(parents=True, exist_ok=True)
        for package in packages:
            (out_dir / components.program_name(package)).write_text("")

    monkeypatch.setattr(localcluster, "_go_build", go_build)
    components.binary("pebble").parent.mkdir(parents=True)
    components.binary("pebble").write_text("")  # pebble-challtestsrv missing
    components.build(["pebble"], log=lambda _: None)
    assert built == [components.COMPONENTS["pebble"].packages]
    assert components.binary("pebble", "pebble-challtestsrv").exists()


def test_traefik_builds_from_a_copy_with_the_missing_page(tmp_path, monkeypatch):
    """The module is downloaded through the wrapper (its go.sum), copied, completed, and replaced by the copy."""
    monkeypatch.setattr(localcluster, "CACHE", tmp_path / "cache")
    module = tmp_path / "modcache" / "traefik"
    (module / "webui").mkdir(parents=True)
    (module / "webui" / "embed.go").write_text("package webui\n")
    (module / "webui").chmod(0o555)
    seen = {}

    def run(argv, cwd=None, env=None, **kwargs):
        if argv[:3] == ["go", "mod", "download"]:
            seen["download"] = (argv[-1], pathlib.Path(cwd))
            return subprocess.CompletedProcess(argv, 0, json.dumps({"Dir": str(module)}), "")
        assert argv[:3] == ["go", "mod", "edit"]
        seen["edit"] = argv[3]
        return subprocess.CompletedProcess(argv, 0, "", "")

    def go_build(module_dir, out_dir, packages, log, ldflags=""):
        seen["page"] = (module_dir / "module" / "webui" / "static" / "index.html").read_text()
        seen["go.sum"] = (module_dir / "go.sum").read_text()
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "traefik").write_text("")

    monkeypatch.setattr(components.subprocess, "run", run)
    monkeypatch.setattr(localcluster, "_go_build", go_build)
    try:
        path = components.build(["traefik"], log=lambda _: None)["traefik"]
    finally:
        (module / "webui").chmod(0o755)
    assert path.exists()
    assert seen["download"] == ("github.com/traefik/traefik/v3@v3.5.1", CLUSTER / "components" / "traefik")
    assert seen["edit"] == "-replace=github.com/traefik/traefik/v3=./module"
    assert seen["page"] == components.COMPONENTS["traefik"].added_files[0][1]
    assert seen["go.sum"] == (CLUSTER / "components" / "traefik" / "go.sum").read_text()
    assert not path.with_name(path.name + ".src").exists() and not (tmp_path / "cache" / "traefik-v3.5.1.src").exists()


def test_build_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown components"):
        components.build(["kube-proxy"])
