"""The real node's images (tests/cluster/images.py) without building any: names as the product renders them,
the OCI layout containerd imports, deterministic layers, cache keys, and the sample app's contract."""

import gzip
import hashlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "cluster"))

import images  # noqa: E402
import images_check  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _render  # noqa: E402
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import REGISTRY  # noqa: E402

SAMPLE = REPO / "examples" / "sample-app"


def rendered(databases: dict) -> list[dict]:
    config = _config.normalise({"projectId": "shop", "databases": databases})
    creds = _render.credentials(_config.enabled_databases(config), {})
    pr = {
        "repository": "a/b",
        "number": 1,
        "head_sha": "c" * 40,
        "branch": "x",
        "author": "d",
        "now": "2026-01-01T00:00:00Z",
    }
    return _render.render("shop-pr-1", config, pr, "app@sha256:" + "1" * 64, "h.example", {}, [], creds)


def container_images(objects) -> dict[str, str]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]["image"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }


# --------------------------------------------------------------------------- names


def test_the_builder_reads_the_products_images():
    assert images.product_images() == {name: db.image for name, db in REGISTRY.items() if db.image}


def test_default_names_are_what_the_product_renders_by_default():
    rendered_images = container_images(rendered({"redis": True, "mariadb": True}))
    recipes = images.recipes()
    assert recipes["redis"].refs == (rendered_images["redis"],)
    assert recipes["mariadb"].refs == (rendered_images["mariadb"],)
    assert rendered_images["redis"] == "docker.io/library/redis:7.4-alpine"  # the schema's default today
    assert rendered_images["mariadb"] == "docker.io/library/mariadb:11.4"


def test_any_list_of_tags_names_the_image_as_the_product_would():
    recipes = images.recipes({"redis": ["7.2", "7.4.2"], "mariadb": ["10.11"], "pause": ["3.10", "3.6"]})
    config = _config.normalise({"projectId": "shop", "databases": {"redis": {"version": "7.2"}}})
    assert recipes["redis"].refs[0] == REGISTRY["redis"].image.format(version=config["databases"]["redis"]["version"])
    assert recipes["redis"].refs == tuple(REGISTRY["redis"].image.format(version=v) for v in ("7.2", "7.4.2"))
    assert recipes["mariadb"].refs == ("docker.io/library/mariadb:10.11",)
    assert recipes["pause"].refs == ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.6")
    with pytest.raises(ValueError, match="no tag"):
        images.recipes({"probe": []})


def test_the_database_pods_run_as_the_images_users_expect():
    workloads = ("Deployment", "StatefulSet")
    objects = {o["metadata"]["name"]: o for o in rendered({"redis": True, "mariadb": True}) if o["kind"] in workloads}
    for name in ("redis", "mariadb"):
        pod = objects[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 999  # the images' redis and mysql users
        assert "999" in images.recipes()[name].before
    app = objects["app"]["spec"]["template"]["spec"]
    assert images.recipes()["sample-app"].config["User"] == "{0}:{0}".format(app["securityContext"]["runAsUser"])


# --------------------------------------------------------------------------- OCI layout


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/bin/tool").write_text("#!/bin/sh\necho tool\n")
    (root / "usr/bin/tool").chmod(0o755)
    (root / "etc/config").write_text("a=1\n")
    (root / "usr/bin/alias").symlink_to("tool")
    os.link(root / "etc/config", root / "etc/config-link")
    return root


def layer_members(layer: images.Layer) -> list[tarfile.TarInfo]:
    with tarfile.open(layer.path, "r:gz") as tar:
        return tar.getmembers()


def test_layer_digests_and_entries(tree, tmp_path):
    layer = images.write_layer(tree, images._walk(tree), [], tmp_path / "layer.tar.gz")
    raw = layer.path.read_bytes()
    assert layer.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert layer.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest()
    assert layer.size == len(raw)
    members = layer_members(layer)
    names = [m.name for m in members]
    assert names == ["etc", "etc/config", "etc/config-link", "usr", "usr/bin", "usr/bin/alias", "usr/bin/tool"]
    assert all(m.mtime == images.MTIME and m.uname == "" and m.gname == "" for m in members)
    by_name = {m.name: m for m in members}
    assert by_name["etc/config-link"].islnk() and by_name["etc/config-link"].linkname == "etc/config"
    assert by_name["usr/bin/alias"].issym() and by_name["usr/bin/alias"].linkname == "tool"
    assert by_name["usr/bin/tool"].mode == 0o755


def test_layers_are_deterministic(tree, tmp_path):
    first = images.write_layer(tree, images._walk(tree), [], tmp_path / "a.tar.gz")
    os.utime(tree / "etc/config", (1, 1))
    second = images.write_layer(tree, images._walk(tree), [], tmp_path / "b.tar.gz")
    assert first.digest == second.digest and first.diff_id == second.diff_id
    (tree / "etc/config").write_text("a=2\n")
    third = images.write_layer(tree, images._walk(tree), [], tmp_path / "c.tar.gz")
    assert third.diff_id != first.diff_id


def test_diff_writes_changes_with_their_parents_and_whites_out_removals(tree, tmp_path):
    (tree / "var/lib/gone").mkdir(parents=True)
    (tree / "var/lib/gone/file").write_text("x")
    before = images.snapshot(tree)
    (tree / "etc/config").unlink()  # a new file: etc/config-link keeps the old inode and content
    (tree / "etc/config").write_text("changed\n")
    (tree / "opt/new").mkdir(parents=True)
    (tree / "opt/new/file").write_text("new\n")
    (tree / "usr/bin/alias").unlink()
    (tree / "var/lib/gone/file").unlink()
    (tree / "var/lib/gone").rmdir()
    paths, whiteouts = images.diff(before, tree)
    assert paths == ["etc", "etc/config", "opt", "opt/new", "opt/new/file"]
    assert whiteouts == ["usr/bin/alias", "var/lib/gone"]  # not var/lib/gone/file: its folder goes
    layer = images.write_layer(tree, paths, whiteouts, tmp_path / "diff.tar.gz")
    names = [m.name for m in layer_members(layer)]
    assert "usr/bin/.wh.alias" in names and "var/lib/.wh.gone" in names
    assert "etc/config-link" not in names


def test_oci_tarball_is_what_ctr_import_reads(tree, tmp_path):
    layer = images.write_layer(tree, images._walk(tree), [], tmp_path / "layer.tar.gz")
    config = {"Entrypoint": ["/usr/bin/tool"], "Cmd": ["x"], "User": "10:10", "ExposedPorts": {"80/tcp": {}}}
    refs = ("docker.io/library/thing:1.2-alpine", "localhost:5000/thing")
    out = tmp_path / "image.tar"
    images.write_oci(out, [layer], config, refs, ["test"])
    with tarfile.open(out) as tar:
        members = tar.getmembers()
        assert [m.name for m in members][:2] == ["blobs", "blobs/sha256"]
        assert {m.name for m in members} >= {"index.json", "oci-layout"}
        assert all(m.mtime == images.MTIME and m.uid == 0 and m.gid == 0 for m in members)
        assert json.loads(tar.extractfile("oci-layout").read()) == {"imageLayoutVersion": "1.0.0"}
        blobs = {m.name.rsplit("/", 1)[1]: tar.extractfile(m).read() for m in members if m.name.count("/") == 2}
    for digest, data in blobs.items():
        assert hashlib.sha256(data).hexdigest() == digest
    idx, man, cfg = images.read_oci(out)
    assert idx["schemaVersion"] == 2 and idx["mediaType"] == images.MEDIA["index"]
    assert [m["annotations"] for m in idx["manifests"]] == [
        {"io.containerd.image.name": refs[0], "org.opencontainers.image.ref.name": "1.2-alpine"},
        {"io.containerd.image.name": refs[1], "org.opencontainers.image.ref.name": "latest"},
    ]
    assert {m["digest"] for m in idx["manifests"]} == {"sha256:" + hashlib.sha256(images._json(man)).hexdigest()}
    assert all(m["platform"]["os"] == "linux" and m["platform"]["architecture"] for m in idx["manifests"])
    assert man["mediaType"] == images.MEDIA["manifest"] and man["config"]["mediaType"] == images.MEDIA["config"]
    assert man["layers"] == [{"mediaType": images.MEDIA["layer"], "digest": layer.digest, "size": layer.size}]
    assert cfg["config"] == config and cfg["os"] == "linux"
    assert cfg["rootfs"] == {"type": "layers", "diff_ids": [layer.diff_id]}
    again = tmp_path / "again.tar"
    images.write_oci(again, [layer], config, refs, ["test"])
    assert again.read_bytes() == out.read_bytes()


def test_every_image_has_a_runnable_configuration():
    for name, recipe in images.recipes().items():
        config = recipe.config
        assert config.get("Entrypoint") or config.get("Cmd"), name
        assert any(e.startswith("PATH=") for e in config["Env"]), name
        user = config.get("User", "")
        assert user == "" or all(part.isdigit() for part in user.split(":")), name  # runAsNonRoot needs numbers
    recipes = images.recipes()
    assert recipes["redis"].config["ExposedPorts"] == {f"{REGISTRY['redis'].port}/tcp": {}}
    assert recipes["mariadb"].config["ExposedPorts"] == {f"{REGISTRY['mariadb'].port}/tcp": {}}
    sample_port = _config.load_yaml((SAMPLE / "k8s-ee.yaml").read_text())["app"]["port"]
    assert recipes["sample-app"].config["ExposedPorts"] == {f"{sample_port}/tcp": {}}


# --------------------------------------------------------------------------- cache keys


def test_cache_key_changes_with_recipe_and_versions_only():
    recipe = images.recipes()["redis"]
    versions = {"redis-server": "5:7.0.15-1", "libc6": "2.36-9"}
    key = images.content_key(recipe, versions, "base1")
    assert key == images.content_key(images.recipes()["redis"], dict(versions), "base1")
    assert len(key) == 16
    changed = {
        "a package version": images.content_key(recipe, {**versions, "libc6": "2.36-10"}, "base1"),
        "another package": images.content_key(recipe, {**versions, "libssl3": "3.0"}, "base1"),
        "the base layer": images.content_key(recipe, versions, "base2"),
        "a file": images.content_key(
            images.dataclasses.replace(
                recipe, files=(*recipe.files[:-1], ("/usr/local/bin/redis-server", 0o755, b"x"))
            ),
            versions,
            "base1",
        ),
        "a file's mode": images.content_key(
            images.dataclasses.replace(
                recipe, files=((*recipe.files[0][:1], 0o700, recipe.files[0][2]), *recipe.files[1:])
            ),
            versions,
            "base1",
        ),
        "the names": images.content_key(images.recipes({"redis": ["7.2"]})["redis"], versions, "base1"),
        "the configuration": images.content_key(
            images.dataclasses.replace(recipe, config={**recipe.config, "Cmd": ["other"]}), versions, "base1"
        ),
        "the packages": images.content_key(images.dataclasses.replace(recipe, packages=("redis",)), versions, "base1"),
    }
    assert len(set(changed.values())) == len(changed)
    assert key not in changed.values()


def test_cache_keys_follow_the_repositorys_files(monkeypatch, tmp_path):
    before = {name: images.recipe_digest(recipe) for name, recipe in images.recipes().items()}
    for source in (REPO / "tests/cluster/imagefiles").iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "mariadb-entrypoint.sh").write_text('#!/bin/bash\nexec "$@"\n')
    monkeypatch.setattr(images, "FILES", tmp_path)
    after = {name: images.recipe_digest(recipe) for name, recipe in images.recipes().items()}
    assert {name for name in before if before[name] != after[name]} == {"mariadb"}


def test_tarballs_live_in_the_cache_root_k8s_ee_cache_names(tmp_path):
    code = "import images; print(images.tarball('redis', 'abc'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO / "tests" / "cluster",
        env={**os.environ, "K8S_EE_CACHE": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(tmp_path / "images" / "redis-abc.tar")


DUMPAVAIL = """\
Package: app
Version: 1.0
Priority: optional
Depends: libfoo (>= 2), python3:any, mail-transport-agent | postfix, awk
Description: an app
 with a long description: Depends: nothing

Package: libfoo
Version: 2.1
Pre-Depends: libc6
Priority: optional

Package: libc6
Version: 2.36
Priority: required

Package: python3
Version: 3.11
Priority: optional

Package: postfix
Version: 3.7
Provides: mail-transport-agent
Priority: optional

Package: exim4
Version: 4.96
Provides: mail-transport-agent
Priority: optional

Package: mawk
Version: 1.3
Provides: awk
Priority: required

Package: gawk
Version: 5.2
Provides: awk
Priority: optional

Package: libc6
Version: 2.35
Priority: required
"""


def test_archive_resolves_dependencies_for_the_key():
    archive = images.Archive.parse(DUMPAVAIL)
    assert archive.packages["libc6"]["Version"] == "2.36"  # the first record is apt's candidate
    assert archive.required() == ["apt", "libc6", "mawk"]
    assert archive.closure(["app"]) == {
        "app": "1.0",
        "exim4": "4.96",  # the first provider of a virtual package, by name
        "gawk": "5.2",
        "libc6": "2.36",
        "libfoo": "2.1",
        "python3": "3.11",
    }
    assert archive.closure(["app", "mawk", "postfix"])["mawk"] == "1.3"
    assert "gawk" not in archive.closure(["app", "mawk"])  # a wanted provider wins
    assert archive.closure(["missing"]) == {}


def test_the_debootstrap_mirror_comes_from_the_hosts_sources(tmp_path):
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://security.invalid/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb deb-src\n# a comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
    )
    one_line = tmp_path / "sources.list"
    one_line.write_text(
        "# deb http://old.invalid/debian bookworm main\ndeb [arch=amd64] http://list.invalid/debian bookworm main\n"
    )
    assert images._host_mirror([deb822]) == "http://mirror.invalid/debian"
    assert images._host_mirror([one_line, deb822]) == "http://list.invalid/debian"
    assert images._host_mirror([tmp_path / "missing.list"]) is None


# --------------------------------------------------------------------------- the sample app


def test_the_sample_config_is_valid_and_enables_three_databases():
    data = _config.load_yaml((SAMPLE / "k8s-ee.yaml").read_text())
    assert _config.validate(data) == []
    config = _config.normalise(data)
    assert {"postgresql", "redis", "mariadb"} <= set(_config.enabled_databases(config))


@pytest.fixture
def app_module():
    spec = importlib.util.spec_from_file_location("sample_app", SAMPLE / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_app_uses_exactly_the_documented_variables(app_module):
    adopting = (REPO / "docs" / "adopting.md").read_text()
    pr = {"number": 1, "head_sha": "c", "branch": "b"}
    plain = set(_render.app_environment(_config.normalise({"projectId": "x"}), pr, "u"))
    for db, names in app_module.VARIABLES.items():
        config = _config.normalise({"projectId": "x", "databases": {db: True}})
        from_config_map = set(_render.app_environment(config, pr, "u")) - plain
        from_secrets = {name for name, _secret, _key in REGISTRY[db].secret_env}
        assert set(names) == from_config_map | from_secrets, db
        assert all(f"`{name}`" in adopting for name in names), db
    assert all(f"`{name}`" in adopting for name in app_module.PR_VARIABLES)


def test_the_dockerfile_installs_what_the_test_image_installs():
    dockerfile = (SAMPLE / "Dockerfile").read_text()
    install = dockerfile.split("--no-install-recommends", 1)[1].split("\\", 1)[0].split()
    assert tuple(install) == images.recipes()["sample-app"].packages
    assert "USER 10001:10001" in dockerfile and images.recipes()["sample-app"].config["User"] == "10001:10001"


@pytest.fixture
def app_server(app_module, monkeypatch):
    for names in app_module.VARIABLES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MYSQL_PASSWORD", "s3cret")
    server = ThreadingHTTPServer(("127.0.0.1", 0), app_module.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    try:
        req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - the test's own http://127.0.0.1
        with urllib.request.urlopen(req, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_sample_app_answers_health_and_names_missing_variables(app_server):
    assert request(app_server + "/healthz") == (200, "ok\n")
    status, text = request(app_server + "/")
    assert status == 200 and json.loads(text)["databases"]["redis"]["missing"] == [
        "REDIS_URL",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_PASSWORD",
    ]
    status, text = request(app_server + "/kv/mariadb/key", "PUT", b"value")
    assert status == 503
    assert "MYSQL_URL, MYSQL_HOST, MYSQL_PORT, MYSQL_DATABASE, MYSQL_USER" in json.loads(text)["error"]
    assert "s3cret" not in text
    assert request(app_server + "/kv/mongodb/key")[0] == 404
    assert request(app_server + "/kv/redis/bad%20key")[0] == 400
    assert request(app_server + "/check/postgresql")[0] == 503
    assert request(app_server + "/nothing")[0] == 404


def test_the_sample_app_counts_its_answers_for_prometheus(app_module, app_server):
    app_module.ANSWERED.clear()
    request(app_server + "/healthz")
    request(app_server + "/nothing")
    status, text = request(app_server + "/metrics")
    assert status == 200
    assert "# TYPE sample_app_requests_total counter\n" in text
    assert 'sample_app_requests_total{code="200"} 1\n' in text
    assert 'sample_app_requests_total{code="404"} 1\n' in text


def test_the_sample_app_reports_a_failing_database_without_its_credentials(app_module, app_server, monkeypatch):
    for name, value in {
        "REDIS_URL": "redis://:topsecret@redis:6379/0",
        "REDIS_HOST": "redis",
        "REDIS_PORT": "6379",
        "REDIS_PASSWORD": "topsecret",
    }.items():
        monkeypatch.setenv(name, value)

    def failing(env, key, value=None):
        raise ConnectionError(f"cannot reach {env['REDIS_URL']} with {env['REDIS_PASSWORD']}")

    monkeypatch.setitem(app_module.STORES, "redis", (failing, failing))
    status, text = request(app_server + "/kv/redis/key", "PUT", b"v")
    assert status == 502 and "topsecret" not in text and "ConnectionError" in text


# --------------------------------------------------------------------------- entrypoints and the check's kubelet rules


def test_mariadb_entrypoint_escapes_sql_strings():
    script = (REPO / "tests/cluster/imagefiles/mariadb-entrypoint.sh").read_text()
    function = script[script.index("sql_string() {") : script.index("\n}\n", script.index("sql_string() {")) + 3]
    out = subprocess.run(
        ["bash", "-c", f'{function}\nsql_string "$1"', "_", "it's a \\ back\nslash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "it\\'s a \\\\ back\\nslash"


def test_the_check_builds_processes_as_the_kubelet_does():
    assert images_check.pod_argv(["ep"], ["cmd"], None, None) == ["ep", "cmd"]
    assert images_check.pod_argv(["ep"], ["cmd"], None, ["a"]) == ["ep", "a"]
    assert images_check.pod_argv(["ep"], ["cmd"], ["redis-server"], ["--x"]) == ["redis-server", "--x"]
    assert images_check.pod_argv(["ep"], ["cmd"], ["c"], None) == ["c"]
    env = {"REDIS_PASSWORD": "pw"}
    assert images_check.expand("$(REDIS_PASSWORD)", env) == "pw"
    assert images_check.expand("$$(REDIS_PASSWORD)", env) == "$(REDIS_PASSWORD)"
    assert images_check.expand("$(UNKNOWN)", env) == "$(UNKNOWN)"


def test_gzip_header_carries_no_time_or_name(tree, tmp_path):
    layer = images.write_layer(tree, images._walk(tree), [], tmp_path / "layer.tar.gz")
    header = layer.path.read_bytes()[:10]
    assert header[3] == 0  # no FNAME flag
    assert header[4:8] == b"\0\0\0\0"  # MTIME 0
