"""tests/upstream.py and tests/upstream.lock.json: every upstream file the tests read is locked, a local copy is
verified, and a download from a server on 127.0.0.1 (standing in for the upstream hosts) is verified before it is
used or cached."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import pathlib
import re
import stat
import sys
import tarfile
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest
import yaml

TESTS = pathlib.Path(__file__).resolve().parents[1]
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "tools"))

import upstream  # noqa: E402
import upstream_lock  # noqa: E402
from charts import chart_folder  # noqa: E402
from loopback import LoopbackServer  # noqa: E402

SHARED = upstream.shared_root()
needs_shared = pytest.mark.skipif(
    not (SHARED / "PROVENANCE.md").is_file(), reason=f"no shared upstream folder at {SHARED}"
)


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch):
    """Each test starts as a new process would: nothing verified yet, no mirror from the environment."""
    monkeypatch.setattr(upstream, "_VERIFIED", {})
    monkeypatch.delenv("K8S_EE_UPSTREAM_MIRROR", raising=False)


# ---------------------------------------------------------------- a file server on 127.0.0.1


class Files:
    """Serves `files` (URL path -> bytes, or a file to read) on 127.0.0.1 and records every request path."""

    def __init__(self, files: dict):
        self.files = files
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urllib.parse.unquote(self.path)
                outer.requests.append(path)
                body = outer.files.get(path)
                if isinstance(body, pathlib.Path):
                    body = body.read_bytes()
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = LoopbackServer(Handler)

    def __enter__(self):
        self.server.__enter__()
        self.mirror = self.server.url + "/"
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)


def served_path(url: str) -> str:
    """Where the mirror asks for url: /<host>/<path>, unquoted as the handler sees it."""
    return "/" + urllib.parse.unquote(url.split("://", 1)[1])


BASE = "https://raw.githubusercontent.com/example/charts/refs/tags/v1.0.0"


def make_lock(tmp_path: pathlib.Path, files: dict[str, bytes]) -> tuple[pathlib.Path, dict[str, bytes]]:
    """A lock of these files at URLs under BASE, and what a server must answer for them."""
    entries = {
        rel: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "url": f"{BASE}/{rel}"}
        for rel, data in files.items()
    }
    lock = tmp_path / "upstream.lock.json"
    lock.write_text(json.dumps({"version": 1, "sources": {}, "files": entries}))
    return lock, {served_path(entry["url"]): files[rel] for rel, entry in entries.items()}


CHART = {
    "charts/demo-1.0.0/Chart.yaml": b"apiVersion: v2\nname: demo\nversion: 1.0.0\n",
    "charts/demo-1.0.0/values.yaml": b"replicas: 1\n",
    "charts/demo-1.0.0/templates/deployment.yaml": b"kind: Deployment\n",
    "charts/demo-1.0.0/charts/sub/Chart.yaml": b"apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    "crds/example.com_widgets.yaml": b"kind: CustomResourceDefinition\n",
}


def write_tree(root: pathlib.Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def cache_files(cache: pathlib.Path) -> list[str]:
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


# ---------------------------------------------------------------- the lock covers every file the tests use


def sources() -> list[pathlib.Path]:
    """The Python files that may read upstream files (not this test, whose calls name made-up files)."""
    files = [*TESTS.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py"), *(REPO / "hack").rglob("*.py")]
    return [py for py in files if py != pathlib.Path(__file__).resolve()]


def _string_calls(source: str) -> list[tuple[str, str]]:
    """(function, first argument) of the calls upstream.path/directory(...) and upstream_chart(...) whose first
    argument is a string literal."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        if (owner == "upstream" and name in ("path", "directory")) or name == "upstream_chart":
            calls.append((name, node.args[0].value))
    return calls


def used_upstream_files() -> tuple[set[str], set[str]]:
    """(files, folders) of shared/upstream that the repository's tests, benchmarks and tools read: the literal
    arguments of the calls, and the charts whose version comes from the roles' defaults at run time."""
    files, folders = set(), {"crds"}
    for py in sources():
        for name, argument in _string_calls(py.read_text()):
            if name == "path":
                files.add(argument)
            elif name == "directory":
                folders.add(argument)
            else:
                folders.add(f"charts/{argument}")
    observability = yaml.safe_load((REPO / "roles" / "observability" / "defaults" / "main.yml").read_text())
    for chart in ("kube-prometheus-stack", "loki", "alloy"):
        version = observability[f"observability_{chart.replace('-', '_')}_chart_version"]
        folders.add(f"charts/{chart}-{version}")
    # tests/integration/test_observability.py: the Prometheus CRD of the kube-prometheus-stack chart.
    version = observability["observability_kube_prometheus_stack_chart_version"]
    files.add(f"charts/kube-prometheus-stack-{version}/charts/crds/crds/crd-prometheuses.yaml")
    files.add("github-rest-subset.json")  # tests/github_fake.py
    arc = yaml.safe_load((REPO / "roles" / "arc" / "defaults" / "main.yml").read_text())
    folders.add(f"charts/gha-runner-scale-set-{arc['arc_chart_version']}")
    # tests/integration/test_charts.py: every chart the roles write a HelmChart for, and k3s' own Traefik HelmChart
    # (tests/charts.py reads the manifest of the pinned k3s release and renders its chart).
    folders.add(f"charts/gha-runner-scale-set-controller-{arc['arc_chart_version']}")
    operators = yaml.safe_load((REPO / "roles" / "operators" / "defaults" / "main.yml").read_text())
    for chart, key in (("cloudnative-pg", "cloudnative_pg"), ("mongodb-kubernetes", "mongodb"), ("operator", "minio")):
        folders.add(f"charts/{chart}-{operators[f'operators_{key}_chart_version']}")
    platform = yaml.safe_load((REPO / "roles" / "platform" / "defaults" / "main.yml").read_text())
    folders.add(f"charts/sealed-secrets-{platform['platform_sealed_secrets_chart_version']}")
    k3s = yaml.safe_load((REPO / "roles" / "k3s" / "defaults" / "main.yml").read_text())["k3s_version"]
    files.add(f"charts/k3s-{k3s}-traefik.yaml")
    traefik = [d for d in yaml.safe_load_all(upstream.path(f"charts/k3s-{k3s}-traefik.yaml").read_text()) if d]
    folders.add(f"charts/{chart_folder(next(d for d in traefik if d['metadata']['name'] == 'traefik')['spec'])}")
    return files, folders


def test_the_lock_covers_every_upstream_file_the_tests_use():
    locked = upstream.load_lock()["files"]
    files, folders = used_upstream_files()
    assert {"charts/gha-runner-scale-set-0.14.2", "charts/loki-6.53.0", "crds"} <= folders
    assert sorted(files - locked.keys()) == []
    assert [folder for folder in sorted(folders) if not any(rel.startswith(f"{folder}/") for rel in locked)] == []
    # install_crds() installs every *.yaml of the folder: they are all locked, and nothing else is there.
    crds = [rel for rel in locked if rel.startswith("crds/")]
    assert crds and all(re.fullmatch(r"crds/[\w.-]+\.yaml", rel) for rel in crds)


def test_nothing_reads_the_shared_folder_but_tests_upstream():
    """Every reader goes through tests/upstream.py: no other code builds a path into shared/upstream."""
    pattern = re.compile(r"""["']shared["']\s*\)?\s*/\s*["']upstream["']|["'][^"'\n]*shared/upstream/?["']""")
    offenders = [
        f"{py.relative_to(REPO)}:{number}"
        for py in sources()
        if py.name != "upstream.py"
        for number, line in enumerate(py.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_every_locked_file_has_a_pinned_https_source():
    lock = upstream.load_lock()
    for rel, entry in lock["files"].items():
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]), rel
        origin = entry["extract"]["source"] if "extract" in entry else entry
        assert origin["url"].startswith("https://"), rel
        if "extract" not in entry:
            repo = "/".join(entry["url"].split("/")[3:5])
            assert any(key.startswith(f"{repo}@") for key in lock["sources"]), rel


@needs_shared
def test_the_lock_is_what_the_generator_makes_of_the_shared_folder():
    """Regenerating from ../shared/upstream and its PROVENANCE.md gives the committed lock byte for byte: every file
    of the folder is locked, with the sha256 of the local copy."""
    assert upstream_lock.dumps(upstream_lock.build(SHARED)) == upstream.LOCK.read_text()


# ---------------------------------------------------------------- a local copy


@needs_shared
def test_the_shared_copy_is_verified_and_used_in_place():
    assert upstream.directory("crds") == SHARED / "crds"
    assert upstream.path("github-rest-subset.json") == SHARED / "github-rest-subset.json"
    assert upstream.directory("charts/gha-runner-scale-set-0.14.2") == SHARED / "charts" / "gha-runner-scale-set-0.14.2"


def test_a_local_copy_that_matches_is_used_and_nothing_is_downloaded(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    root = tmp_path / "shared"
    write_tree(root, CHART)
    with Files(served) as server:
        kwargs = {"lock": lock, "root": root, "cache": tmp_path / "cache", "mirror": server.mirror}
        assert upstream.directory("charts/demo-1.0.0", **kwargs) == root / "charts" / "demo-1.0.0"
        assert upstream.path("crds/example.com_widgets.yaml", **kwargs) == root / "crds" / "example.com_widgets.yaml"
    assert server.requests == []
    assert cache_files(tmp_path / "cache") == []


def test_a_tampered_local_copy_is_refused_and_not_replaced_by_a_download(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    root = tmp_path / "shared"
    write_tree(root, CHART)
    rel = "charts/demo-1.0.0/values.yaml"
    (root / rel).write_bytes(b"replicas: 100\n")
    with Files(served) as server:
        kwargs = {"lock": lock, "root": root, "cache": tmp_path / "cache", "mirror": server.mirror}
        for call in (lambda: upstream.path(rel, **kwargs), lambda: upstream.directory("charts/demo-1.0.0", **kwargs)):
            with pytest.raises(upstream.UpstreamError) as error:
                call()
            message = str(error.value)
            assert rel in message
            assert hashlib.sha256(CHART[rel]).hexdigest() in message
            assert hashlib.sha256(b"replicas: 100\n").hexdigest() in message
            assert f"{BASE}/{rel}" in message
    assert server.requests == []


def test_a_local_folder_with_an_extra_or_a_missing_file_is_refused(tmp_path):
    lock, _served = make_lock(tmp_path, CHART)
    root = tmp_path / "shared"
    write_tree(root, CHART)
    (root / "charts/demo-1.0.0/templates/extra.yaml").write_bytes(b"kind: Secret\n")
    with pytest.raises(upstream.UpstreamError, match=r"templates/extra\.yaml"):
        upstream.directory("charts/demo-1.0.0", lock=lock, root=root, cache=tmp_path / "cache")
    (root / "charts/demo-1.0.0/templates/extra.yaml").unlink()
    (root / "charts/demo-1.0.0/charts/sub/Chart.yaml").unlink()
    with pytest.raises(upstream.UpstreamError, match=r"missing: \['charts/demo-1\.0\.0/charts/sub/Chart\.yaml'\]"):
        upstream.directory("charts/demo-1.0.0", lock=lock, root=root, cache=tmp_path / "cache")


def test_a_file_outside_the_lock_is_refused(tmp_path):
    lock, _served = make_lock(tmp_path, CHART)
    with pytest.raises(upstream.UpstreamError, match="not in"):
        upstream.path("charts/other-1.0.0/Chart.yaml", lock=lock, root=tmp_path, cache=tmp_path / "cache")
    with pytest.raises(upstream.UpstreamError, match="no file"):
        upstream.directory("charts/other-1.0.0", lock=lock, root=tmp_path, cache=tmp_path / "cache")


# ---------------------------------------------------------------- downloads


def test_a_download_is_verified_cached_and_laid_out_as_upstream(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    cache = tmp_path / "cache"
    with Files(served) as server:
        kwargs = {"lock": lock, "root": tmp_path / "no-shared-folder", "cache": cache, "mirror": server.mirror}
        chart = upstream.directory("charts/demo-1.0.0", **kwargs)
        crd = upstream.path("crds/example.com_widgets.yaml", **kwargs)
    assert chart.is_relative_to(cache) and crd.is_relative_to(cache)
    assert {p.relative_to(chart).as_posix(): p.read_bytes() for p in chart.rglob("*") if p.is_file()} == {
        rel.removeprefix("charts/demo-1.0.0/"): data for rel, data in CHART.items() if rel.startswith("charts/demo")
    }
    assert crd.read_bytes() == CHART["crds/example.com_widgets.yaml"] and crd.name == "example.com_widgets.yaml"
    assert sorted(server.requests) == sorted(served)
    assert not any(p.stat().st_mode & stat.S_IWUSR for p in (cache / "sha256").iterdir())
    assert list((cache / "tmp").iterdir()) == []


def test_a_tampered_download_is_refused_and_nothing_is_kept(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    rel = "charts/demo-1.0.0/templates/deployment.yaml"
    url = f"{BASE}/{rel}"
    served[served_path(url)] = b"kind: DaemonSet\n"
    cache = tmp_path / "cache"
    with Files(served) as server:
        kwargs = {"lock": lock, "root": tmp_path / "no-shared-folder", "cache": cache, "mirror": server.mirror}
        for call in (lambda: upstream.path(rel, **kwargs), lambda: upstream.directory("charts/demo-1.0.0", **kwargs)):
            with pytest.raises(upstream.UpstreamError) as error:
                call()
            message = str(error.value)
            assert rel in message and url in message
            assert hashlib.sha256(CHART[rel]).hexdigest() in message
            assert hashlib.sha256(b"kind: DaemonSet\n").hexdigest() in message
    assert [f for f in cache_files(cache) if f.endswith("deployment.yaml")] == []
    assert hashlib.sha256(b"kind: DaemonSet\n").hexdigest() not in " ".join(cache_files(cache))
    assert list((cache / "tmp").iterdir()) == []


def test_an_oversized_download_is_refused_without_reading_it_all(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    rel = "charts/demo-1.0.0/values.yaml"
    served[served_path(f"{BASE}/{rel}")] = CHART[rel] + b"x" * (8 << 20)
    with (
        Files(served) as server,
        pytest.raises(upstream.UpstreamError, match=r"larger than 12 bytes .*, but the lock pins"),
    ):
        upstream.path(rel, lock=lock, root=tmp_path / "none", cache=tmp_path / "cache", mirror=server.mirror)
    assert [f for f in cache_files(tmp_path / "cache") if not f.startswith("tmp/")] == []


def test_an_unreachable_file_is_an_error_naming_it(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    rel = "crds/example.com_widgets.yaml"
    del served[served_path(f"{BASE}/{rel}")]
    with Files(served) as server, pytest.raises(upstream.UpstreamError, match=rf"{re.escape(rel)}: .*HTTP 404"):
        upstream.path(rel, lock=lock, root=tmp_path / "none", cache=tmp_path / "cache", mirror=server.mirror)


def test_the_cache_is_reused_without_a_request_and_checked_again(tmp_path):
    lock, served = make_lock(tmp_path, CHART)
    cache = tmp_path / "cache"
    kwargs = {"lock": lock, "root": tmp_path / "no-shared-folder", "cache": cache}
    with Files(served) as server:
        first = upstream.directory("charts/demo-1.0.0", **kwargs, mirror=server.mirror)
        count = len(server.requests)
    upstream._VERIFIED.clear()  # a new process
    # The server is gone and there is no mirror: only the cache can answer.
    assert upstream.directory("charts/demo-1.0.0", **kwargs, mirror="") == first
    assert upstream.path("charts/demo-1.0.0/values.yaml", **kwargs, mirror="") == first / "values.yaml"
    assert count == 4
    # A cached file changed behind the cache's back is refused, not used.
    cached = first / "values.yaml"
    cached.chmod(0o644)
    cached.write_bytes(b"replicas: 7\n")
    upstream._VERIFIED.clear()
    with pytest.raises(upstream.UpstreamError, match=r"cached copy .*values\.yaml"):
        upstream.directory("charts/demo-1.0.0", **kwargs, mirror="")


def test_the_mirror_comes_from_the_environment_too(tmp_path, monkeypatch):
    lock, served = make_lock(tmp_path, CHART)
    with Files(served) as server:
        monkeypatch.setenv("K8S_EE_UPSTREAM_MIRROR", server.mirror)
        monkeypatch.setenv("K8S_EE_CACHE", str(tmp_path / "cache-root"))
        monkeypatch.setenv("K8S_EE_UPSTREAM", str(tmp_path / "no-shared-folder"))
        got = upstream.path("crds/example.com_widgets.yaml", lock=lock)
    assert got.is_relative_to(tmp_path / "cache-root" / "upstream")
    assert got.read_bytes() == CHART["crds/example.com_widgets.yaml"]


@needs_shared
def test_the_real_lock_downloads_through_its_own_urls(tmp_path):
    """The committed lock's URLs (quoting of `+` and spaces included), answered from the shared folder by a server
    on 127.0.0.1, give the same files as the shared folder."""
    lock = upstream.load_lock()
    served = {served_path(entry["url"]): SHARED / rel for rel, entry in lock["files"].items() if "url" in entry}
    cache = tmp_path / "cache"
    picks = ["charts/k3s-v1.34.3+k3s1-traefik.yaml", "charts/mongodb-kubernetes-1.10.0/LICENSE-Apache-2.0.upstream"]
    with Files(served) as server:
        kwargs = {"root": tmp_path / "no-shared-folder", "cache": cache, "mirror": server.mirror}
        crds = upstream.directory("crds", **kwargs)
        chart = upstream.directory("charts/gha-runner-scale-set-0.14.2", **kwargs)
        files = [upstream.path(rel, **kwargs) for rel in picks]
    assert sorted(p.name for p in crds.iterdir()) == sorted(p.name for p in (SHARED / "crds").iterdir())
    for folder, rel in ((crds, "crds"), (chart, "charts/gha-runner-scale-set-0.14.2")):
        for file in (SHARED / rel).rglob("*"):
            if file.is_file():
                assert (folder / file.relative_to(SHARED / rel)).read_bytes() == file.read_bytes()
    assert [f.read_bytes() for f in files] == [(SHARED / rel).read_bytes() for rel in picks]


# ---------------------------------------------------------------- the extract github-rest-subset.json


def octokit_like_source() -> bytes:
    """A small description shaped like Octokit's api.github.com.json, with every kept operation."""
    doc = {
        "openapi": "3.0.3",
        "info": {
            "version": "23.0.2",
            "title": "Octokit",
            "description": "Octokit's",
            "license": {"name": "MIT"},
            "contact": {"name": "Support", "url": "https://example.com/octokit"},
        },
        "tags": [{"name": "apps"}, {"name": "issues"}, {"name": "repos"}],
        "servers": [{"url": "https://api.github.com"}],
        "externalDocs": {"url": "https://docs.github.com/rest/"},
        "paths": {},
        "components": {
            "schemas": {
                "z-last": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/a-first"}}},
                "a-first": {"type": "string"},
                "unused": {"type": "integer"},
            },
            "parameters": {"owner": {"name": "owner", "in": "path", "schema": {"type": "string"}}},
        },
    }
    for method, template in upstream.GITHUB_OPERATIONS:
        doc["paths"].setdefault(template, {})[method] = {
            "tags": ["repos" if template == "/repos/{owner}/{repo}" else "issues"],
            "parameters": [{"$ref": "#/components/parameters/owner"}],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/z-last"}}}}
            },
            "x-octokit": {"changes": []},
        }
        doc["paths"][template].setdefault("put", {"tags": ["apps"], "x-octokit": {}})
    return json.dumps(doc, indent=2).encode()


def test_github_rest_subset_keeps_the_operations_and_what_they_reference():
    subset = json.loads(upstream.github_rest_subset(octokit_like_source()))
    assert [(m, p) for p, item in subset["paths"].items() for m in item] == sorted(
        upstream.GITHUB_OPERATIONS, key=lambda op: list(subset["paths"]).index(op[1])
    )
    assert not any("x-octokit" in op for item in subset["paths"].values() for op in item.values())
    assert subset["components"] == {
        "parameters": {"owner": {"name": "owner", "in": "path", "schema": {"type": "string"}}},
        "schemas": {
            "a-first": {"type": "string"},
            "z-last": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/a-first"}}},
        },
    }
    assert [tag["name"] for tag in subset["tags"]] == ["issues", "repos"]
    assert subset["info"]["version"] == "1.1.4" and subset["info"]["title"] == "GitHub v3 REST API"
    assert subset["info"]["contact"] == {
        "name": "Support",
        "url": "https://support.github.com/contact?tags=dotcom-rest-api",
    }


def extract_lock(tmp_path, source: bytes, *, npm=None) -> tuple[pathlib.Path, dict[str, bytes], bytes]:
    output = upstream.github_rest_subset(source)
    url = "https://github.com/octokit/openapi/releases/download/v0.0.0/api.github.com.json"
    entry = {
        "sha256": hashlib.sha256(output).hexdigest(),
        "size": len(output),
        "extract": {
            "function": "github_rest_subset",
            "source": {"url": url, "sha256": hashlib.sha256(source).hexdigest(), "size": len(source), **(npm or {})},
        },
    }
    lock = tmp_path / "upstream.lock.json"
    lock.write_text(json.dumps({"version": 1, "sources": {}, "files": {"github-rest-subset.json": entry}}))
    return lock, {served_path(url): source}, output


def test_the_extract_is_made_again_from_its_verified_source(tmp_path):
    source = octokit_like_source()
    lock, served, output = extract_lock(tmp_path, source)
    cache = tmp_path / "cache"
    with Files(served) as server:
        kwargs = {"lock": lock, "root": tmp_path / "none", "cache": cache, "mirror": server.mirror}
        got = upstream.path("github-rest-subset.json", **kwargs)
        assert got.read_bytes() == output and got.name == "github-rest-subset.json"
        upstream._VERIFIED.clear()
        assert upstream.path("github-rest-subset.json", **kwargs) == got
    assert len(server.requests) == 1
    assert (cache / "sha256" / hashlib.sha256(source).hexdigest()).read_bytes() == source


def test_a_tampered_extract_source_is_refused(tmp_path):
    source = octokit_like_source()
    lock, served, _output = extract_lock(tmp_path, source)
    (path,) = served
    served[path] = source.replace(b'"string"', b'"STRING"')  # same size: only the hash tells
    with Files(served) as server, pytest.raises(upstream.UpstreamError) as error:
        upstream.path(
            "github-rest-subset.json", lock=lock, root=tmp_path / "none", cache=tmp_path / "c", mirror=server.mirror
        )
    message = str(error.value)
    assert "github-rest-subset.json" in message and "api.github.com.json" in message
    assert hashlib.sha256(source).hexdigest() in message
    assert hashlib.sha256(served[path]).hexdigest() in message
    assert [f for f in cache_files(tmp_path / "c") if not f.startswith("tmp/")] == []


def fake_npm(tmp_path, monkeypatch, package: bytes) -> None:
    """An `npm` on PATH whose `pack` writes this package into --pack-destination, as npm does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "package.tgz").write_bytes(package)
    script = bin_dir / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, shutil, sys\n"
        "destination = sys.argv[sys.argv.index('--pack-destination') + 1]\n"
        f"shutil.copy({str(tmp_path / 'package.tgz')!r}, pathlib.Path(destination) / 'octokit-openapi.tgz')\n"
        "print(json.dumps([{'filename': 'octokit-openapi.tgz'}]))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def npm_package(member: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize("tampered", [False, True])
def test_the_extract_source_comes_from_its_npm_package_when_the_url_is_unreachable(tmp_path, monkeypatch, tampered):
    source = octokit_like_source()
    member = "package/generated/api.github.com.json"
    package = npm_package(member, source)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(package).digest()).decode()
    npm = {"npm": "@octokit/openapi@0.0.0", "npm_integrity": integrity, "npm_member": member}
    lock, _served, output = extract_lock(tmp_path, source, npm=npm)
    fake_npm(tmp_path, monkeypatch, npm_package(member, source + b" ") if tampered else package)
    with Files({}) as server:  # answers 404: the URL cannot be reached
        kwargs = {"lock": lock, "root": tmp_path / "none", "cache": tmp_path / "c", "mirror": server.mirror}
        if tampered:
            with pytest.raises(upstream.UpstreamError, match=f"refused npm package .*{re.escape(integrity)}"):
                upstream.path("github-rest-subset.json", **kwargs)
        else:
            assert upstream.path("github-rest-subset.json", **kwargs).read_bytes() == output


@needs_shared
def test_the_extraction_gives_the_shared_subset_byte_for_byte():
    """github_rest_subset() of the pinned source is github-rest-subset.json (needs the source in the cache, where a
    download puts it, or K8S_EE_GITHUB_SOURCE)."""
    entry = upstream.load_lock()["files"]["github-rest-subset.json"]
    source = pathlib.Path(
        os.environ.get("K8S_EE_GITHUB_SOURCE")
        or upstream.cache_root() / "sha256" / entry["extract"]["source"]["sha256"]
    )
    if not source.is_file():
        pytest.skip(f"the pinned source of github-rest-subset.json is not at {source}")
    assert upstream.sha256_file(source) == entry["extract"]["source"]["sha256"]
    assert upstream.github_rest_subset(source.read_bytes()) == (SHARED / "github-rest-subset.json").read_bytes()
