"""The real node's upstream components (tests/cluster/components.py): the pinned table against the wrapper modules.

No network and no building: the go.mod and go.sum files are read as text, and build() runs with a stand-in for
the Go build.
"""

import pathlib
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
    assert ("tool", [component.package]) in found
    assert component.package == component.module or component.package.startswith(component.module + "/")
    assert not [args for verb, args in found if verb == "exclude"]
    for suffix in ("", "/go.mod"):
        line = f"{component.module} {component.version}{suffix} h1:"
        assert [x for x in sums if x.startswith(line)], f"go.sum lacks {line}"


@pytest.mark.parametrize("name", sorted(components.COMPONENTS))
def test_wrapper_repeats_the_replace_directives(name):
    found = go_mod(name)
    replaces = sorted(" ".join(args) for verb, args in found if verb == "replace")
    assert replaces == sorted(components.COMPONENTS[name].replaces)


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


def test_binary_paths_are_keyed_by_version(tmp_path, monkeypatch):
    monkeypatch.setattr(localcluster, "CACHE", tmp_path)
    assert components.binary("cloudnative-pg") == tmp_path / "cloudnative-pg-v1.30.0" / "manager"
    assert components.binary("kube-router") == tmp_path / "kube-router-v2.1.0" / "kube-router"
    assert components.binary("coredns") == tmp_path / "coredns-v1.12.4" / "coredns"
    assert components.binary("local-path-provisioner") == (
        tmp_path / "local-path-provisioner-v0.0.30" / "local-path-provisioner"
    )


def test_build_builds_only_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(localcluster, "CACHE", tmp_path)
    calls = []

    def go_build(module_dir, out_dir, packages, log, ldflags=""):
        calls.append((module_dir, packages, ldflags))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / packages[0].rsplit("/", 1)[-1]).write_text("")

    monkeypatch.setattr(localcluster, "_go_build", go_build)
    present = components.binary("coredns")
    present.parent.mkdir(parents=True)
    present.write_text("")

    paths = components.build(["coredns", "cloudnative-pg"], log=lambda _: None)
    assert paths == {"coredns": present, "cloudnative-pg": components.binary("cloudnative-pg")}
    cnpg = components.COMPONENTS["cloudnative-pg"]
    assert calls == [(CLUSTER / "components" / "cloudnative-pg", [cnpg.package], cnpg.ldflags)]
    assert (tmp_path / ".build.lock").exists()

    calls.clear()
    assert set(components.build(log=lambda _: None)) == set(components.COMPONENTS)
    assert [c[0].name for c in calls] == ["kube-router", "local-path-provisioner"]


def test_build_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown components"):
        components.build(["kube-proxy"])
