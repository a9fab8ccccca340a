# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove the images of tests/cluster/images.py: import them into a throwaway containerd and run the
product's own containers from them.

    python3 tests/cluster/images_check.py        # as root, with the repository's venv Python

Starts Debian's containerd 1.6 (installed when missing) with its own root, state and socket under a
temporary folder and without the CRI plugin, imports every tarball with `ctr images import` and lists
the images. Then it renders examples/sample-app/k8s-ee.yaml with the product (plugins/module_utils/
_render.py) and runs the Redis, MariaDB and app containers of that rendering with `ctr run` as the
kubelet would: the image, command and args ($(VAR) expanded), env from the rendered ConfigMap and
Secrets, a read-only root, the pod's user and fsGroup with every capability dropped and no_new_privs
(through setpriv inside the container where the pod's user is not the image's, since `ctr run` 1.6
has no --user), RuntimeDefault-like seccomp, and a fresh folder for each volume mount (mode 0777, as
an emptyDir or a local-path volume). All containers share one network namespace made for the check
(loopback only); /etc/hosts there names the Services. PostgreSQL is Debian's from the host, started in
that namespace, since CloudNativePG's image is not built here (skipped when it is not installed).

It stops and removes everything it started (containers, containerd, the namespace, the folder) and
prints one line per check and "N passed, M failed".
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import images  # noqa: E402

COLLECTIONS = REPO / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "k8s_ee" / "platform"
if not LINK.exists():  # as tests/conftest.py: the checkout importable as the collection
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO)
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _render  # noqa: E402

NAMESPACE = "demo-pr-1"
PG_HOST = "postgresql-rw"  # the host CloudNativePG writes into Secret postgresql-app


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        detail = detail.strip()
        if ok:  # a passing check shows a short one-line detail only
            detail = "" if "\n" in detail else detail[:200]
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        return ok


class Containerd:
    """containerd with its own root, state and socket under `work`; nothing shared with another one."""

    def __init__(self, work: pathlib.Path):
        self.work = work
        self.socket = work / "containerd.sock"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if not shutil.which("containerd"):
            subprocess.run(["apt-get", "install", "-y", "-qq", "containerd"], check=True)
        config = self.work / "containerd.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.work}/root"\nstate = "{self.work}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{self.socket}"\n'
            f'[ttrpc]\n  address = "{self.socket}.ttrpc"\n'
            '[debug]\n  address = ""\n'
            f'[plugins."io.containerd.internal.v1.opt"]\n  path = "{self.work}/opt"\n'
        )
        log = open(self.work / "containerd.log", "wb")  # noqa: SIM115 - kept open for the daemon's life
        self.proc = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"containerd did not start; see {self.work / 'containerd.log'}")
            time.sleep(0.2)

    def ctr(self, *args, check=True, timeout=300, **kwargs) -> subprocess.CompletedProcess:
        cmd = ["ctr", "--address", str(self.socket), "--namespace", "k8s.io", *args]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise RuntimeError(f"ctr {' '.join(args)}: {result.stderr.strip()}")
        return result

    def stop(self) -> None:
        if self.proc is None:
            return
        for container in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "kill", "-s", "SIGKILL", container, check=False)
            time.sleep(0.2)
            self.ctr("tasks", "rm", "-f", container, check=False)
            self.ctr("containers", "rm", container, check=False)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Check:
    def __init__(self, work: pathlib.Path, results: Results):
        self.work = work
        self.results = results
        self.containerd = Containerd(work)
        self.netns = f"k8s-ee-images-{os.getpid()}"
        self.running: dict[str, subprocess.Popen] = {}
        self.configs: dict[str, dict] = {}

    # ------------------------------------------------------------------ plumbing

    def netns_python(self, code: str, timeout=30) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def wait_port(self, port: int, seconds: float = 60) -> bool:
        code = (
            "import socket,sys,time\n"
            f"end=time.time()+{seconds}\n"
            "while time.time()<end:\n"
            "    try:\n"
            f"        socket.create_connection(('127.0.0.1',{port}),1).close(); sys.exit(0)\n"
            "    except OSError: time.sleep(0.3)\n"
            "sys.exit(1)\n"
        )
        return self.netns_python(code, timeout=seconds + 10).returncode == 0

    def http(self, method: str, port: int, path: str, body: str | None = None) -> tuple[int, str]:
        code = (
            "import json,sys,urllib.request,urllib.error\n"
            f"req=urllib.request.Request('http://127.0.0.1:{port}{path}',method={method!r},"
            f"data={body.encode() if body is not None else None!r})\n"
            "try:\n"
            "    r=urllib.request.urlopen(req,timeout=20); print(r.status); print(r.read().decode())\n"
            "except urllib.error.HTTPError as e:\n"
            "    print(e.code); print(e.read().decode())\n"
        )
        out = self.netns_python(code).stdout
        status, _newline, text = out.partition("\n")
        return int(status or 0), text

    def volume(self, name: str) -> pathlib.Path:
        path = self.work / "volumes" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        path.chmod(0o777)
        return path

    def start(self, cid: str, ref: str, argv: list[str], env: dict, mounts: dict, user=None, groups=()) -> None:
        """`ctr run` in the foreground (its exit status is the container's), logged to <cid>.log."""
        if user is not None:  # the pod's user where the image's differs: setpriv, as runc would set it
            argv = [
                "setpriv",
                f"--reuid={user[0]}",
                f"--regid={user[1]}",
                f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                *argv,
            ]
        env_file = self.work / f"{cid}.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        env_file.chmod(0o600)
        cmd = ["ctr", "--address", str(self.containerd.socket), "--namespace", "k8s.io", "run", "--rm"]
        cmd += ["--read-only", "--seccomp", "--with-ns", f"network:/var/run/netns/{self.netns}"]
        cmd += ["--cgroup", f"/{self.netns}/{cid}"]
        cmd += [
            "--env-file",
            str(env_file),
            "--mount",
            f"type=bind,src={self.work / 'hosts'},dst=/etc/hosts,options=rbind:ro",
        ]
        for target, source in mounts.items():
            cmd += ["--mount", f"type=bind,src={source},dst={target},options=rbind:rw"]
        log = open(self.work / f"{cid}.log", "ab")  # noqa: SIM115 - the child writes to it
        self.running[cid] = subprocess.Popen([*cmd, ref, cid, *argv], stdout=log, stderr=subprocess.STDOUT)

    def stop(self, cid: str, seconds: float = 30) -> int | None:
        """SIGTERM as the kubelet sends it; the container's exit status (None: it had to be killed)."""
        proc = self.running.pop(cid)
        self.containerd.ctr("tasks", "kill", "-s", "SIGTERM", cid, check=False)
        try:
            return proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.containerd.ctr("tasks", "kill", "-s", "SIGKILL", cid, check=False)
            proc.wait(10)
            return None

    def log(self, cid: str) -> str:
        return (self.work / f"{cid}.log").read_text(errors="replace")

    def task_uid(self, cid: str) -> str:
        for line in self.containerd.ctr("tasks", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == cid:
                status = pathlib.Path(f"/proc/{fields[1]}/status").read_text()
                return re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)[1]
        return "?"

    # ------------------------------------------------------------------ the product's containers

    def render(self) -> tuple[list[dict], dict[str, dict[str, str]]]:
        text = (REPO / "examples" / "sample-app" / "k8s-ee.yaml").read_text()
        config = _config.normalise(_config.load_yaml(text))
        creds = _render.credentials(_config.enabled_databases(config), {})
        pr = {
            "repository": "demo-org/sample-app",
            "number": 1,
            "head_sha": "0" * 40,
            "branch": "feature/demo",
            "author": "octocat",
            "now": "2026-01-01T00:00:00Z",
        }
        image = images.recipes()["sample-app"].refs[0]
        objects = _render.render(NAMESPACE, config, pr, image, f"{NAMESPACE}.preview.localhost", {}, [], creds)
        data = {
            o["metadata"]["name"]: o.get("stringData") or o.get("data") or {}
            for o in objects
            if o["kind"] in ("Secret", "ConfigMap")
        }
        password = secrets.token_hex(16)
        data["postgresql-app"] = {  # what CloudNativePG writes for cluster `postgresql`
            "uri": f"postgresql://app:{password}@{PG_HOST}.{NAMESPACE}:5432/app",
            "host": PG_HOST,
            "port": "5432",
            "dbname": "app",
            "user": "app",
            "password": password,
        }
        return objects, data

    def run_workload(self, obj: dict, data: dict, cid: str, volumes: dict[str, pathlib.Path], override=None) -> None:
        """Run the one container of a rendered Deployment or StatefulSet."""
        spec = obj["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        config = self.configs[container["image"]]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            env.update(data[ref["name"]])
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = expand(item["value"], env)
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = data[ref["name"]][ref["key"]]
        env.update(override or {})
        command = [expand(arg, env) for arg in container.get("command", [])]
        args = [expand(arg, env) for arg in container.get("args", [])]
        argv = pod_argv(config.get("Entrypoint"), config.get("Cmd"), command or None, args or None)
        security = spec["securityContext"]
        user = (security["runAsUser"], security["runAsGroup"])
        image_user = config.get("User", "")
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}
        assert container["securityContext"]["readOnlyRootFilesystem"]
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        same = image_user == f"{user[0]}:{user[1]}"
        self.start(cid, container["image"], argv, env, mounts, None if same else user, [security["fsGroup"]])

    # ------------------------------------------------------------------ the checks

    def run(self) -> None:
        r = self.results
        started = time.monotonic()
        paths = images.build()
        r.check("build or find every image in the cache", True, f"{time.monotonic() - started:.1f}s")
        self.containerd.start()
        for name, path in paths.items():
            result = self.containerd.ctr("images", "import", str(path), check=False)
            r.check(f"import {name}", result.returncode == 0, result.stderr.strip()[-300:])
            _index, _manifest, config = images.read_oci(path)
            for ref in images.recipes()[name].refs:
                self.configs[ref] = config["config"]
        listed = set(self.containerd.ctr("images", "ls", "-q").stdout.split())
        wanted = {ref for recipe in images.recipes().values() for ref in recipe.refs}
        r.check("ctr images ls names every image", wanted <= listed, " ".join(sorted(listed)))

        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run(["ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up"], check=True)
        (self.work / "hosts").write_text(f"127.0.0.1 localhost redis mariadb {PG_HOST} {PG_HOST}.{NAMESPACE}\n")

        pause = images.recipes()["pause"].refs[0]
        self.start("pause", pause, ["/pause"], {}, {})
        time.sleep(1)
        r.check("pause runs as 65535", self.task_uid("pause") == "65535", self.task_uid("pause"))
        r.check("pause exits 0 on SIGTERM", self.stop("pause", 5) == 0)

        objects, data = self.render()
        by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        redis, mariadb, app = (
            by_name["Deployment", "redis"],
            by_name["StatefulSet", "mariadb"],
            by_name["Deployment", "app"],
        )

        # Redis as rendered: command redis-server with the password from the Secret, user 999
        self.run_workload(redis, data, "redis", {"data": self.volume("redis-data")})
        r.check("redis listens (rendered command, user 999)", self.wait_port(6379, 30), self.log("redis")[-300:])
        r.check("redis runs as 999", self.task_uid("redis") == "999")

        # MariaDB as rendered: first start initialises the volume
        pvc = self.volume("mariadb-data")
        mariadb_volumes = {"data": pvc, "run": self.volume("mariadb-run"), "tmp": self.volume("mariadb-tmp")}
        self.run_workload(mariadb, data, "mariadb", mariadb_volumes)
        up = self.wait_port(3306, 90)
        r.check(
            "mariadb first start initialises and listens",
            up and "init process done" in self.log("mariadb"),
            self.log("mariadb")[-600:],
        )
        r.check("mariadb runs as 999", self.task_uid("mariadb") == "999")

        postgres = self.start_postgres(data["postgresql-app"])

        # the app as rendered (user 10001 = the image's, PORT from app-env)
        app_volumes = {"writable-0": self.volume("app-tmp")}
        self.run_workload(app, data, "app", app_volumes)
        port = int(data["app-env"]["PORT"])
        r.check(f"app listens on {port}", self.wait_port(port, 30), self.log("app")[-300:])
        status, text = self.http("GET", port, "/healthz")
        r.check("app health path answers 200", status == 200, text.strip())
        status, text = self.http("GET", port, "/")
        missing = {db: v["missing"] for db, v in json.loads(text or "{}").get("databases", {}).items()}
        r.check("app gets every variable of its databases", status == 200 and not any(missing.values()), str(missing))
        dbs = ["redis", "mariadb"] + (["postgresql"] if postgres else [])
        for db in dbs:
            status, text = self.http("PUT", port, f"/kv/{db}/greeting", f"hello {db}")
            r.check(f"app writes {db}", status == 200, text.strip()[:300])
            status, text = self.http("GET", port, f"/kv/{db}/greeting")
            value = json.loads(text or "{}").get("value")
            r.check(
                f"app reads {db} back through its URL", status == 200 and value == f"hello {db}", text.strip()[:300]
            )
            status, text = self.http("GET", port, f"/check/{db}")
            r.check(f"app round trip /check/{db}", status == 200, text.strip()[:300])
        if not postgres:
            r.check("postgresql (host's Debian PostgreSQL) skipped: not installed", True)

        # the app without REDIS_HOST answers 503 naming it (a second container on another port)
        self.run_workload(
            app, data, "app-missing", {"writable-0": self.volume("app2-tmp")}, {"REDIS_HOST": "", "PORT": "8081"}
        )
        self.wait_port(8081, 30)
        status, text = self.http("GET", 8081, "/kv/redis/greeting")
        r.check("app without REDIS_HOST answers 503 naming it", status == 503 and "REDIS_HOST" in text, text.strip())
        self.stop("app-missing")

        # MariaDB restarted on the same volume with other passwords: data and users are kept
        r.check("mariadb exits 0 on SIGTERM", self.stop("mariadb") == 0)
        mariadb_volumes.update(run=self.volume("mariadb-run"), tmp=self.volume("mariadb-tmp"))
        other = {"MARIADB_PASSWORD": "changed-" + secrets.token_hex(8), "MARIADB_ROOT_PASSWORD": "changed"}
        (self.work / "mariadb.log").rename(self.work / "mariadb-first.log")
        self.run_workload(mariadb, data, "mariadb", mariadb_volumes, other)
        self.wait_port(3306, 60)
        log = self.log("mariadb")
        r.check("mariadb second start keeps the data", "data found" in log and "Initializing" not in log, log[-400:])
        status, text = self.http("GET", port, "/kv/mariadb/greeting")
        r.check("app reads the earlier row after the restart", status == 200 and "hello mariadb" in text, text.strip())

        # the probe image: TCP open and refused, names through /etc/hosts, HTTP
        probe = images.recipes()["probe"].refs[0]
        for name, argv, expect in (
            ("probe tcp open", ["probe", "tcp", "mariadb", "3306"], 0),
            ("probe tcp refused", ["probe", "tcp", "127.0.0.1", "9"], 1),
            ("probe dns (C library resolver)", ["probe", "dns", "redis"], 0),
            ("probe http 2xx", ["probe", "http", "127.0.0.1", str(port), "/healthz"], 0),
        ):
            self.start("probe", probe, argv, {}, {})
            code = self.running.pop("probe").wait(30)
            r.check(f"{name} exits {expect}", code == expect, self.log("probe").strip().splitlines()[-1])
            (self.work / "probe.log").unlink()

        # local-path-provisioner's helper pod: /bin/sh /script/setup with VOL_DIR, as root
        script = self.work / "setup"
        script.write_text('#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n')
        storage = self.volume("local-path")
        busybox = images.recipes()["busybox"].refs[0]
        self.start(
            "helper",
            busybox,
            ["/bin/sh", "/script/setup"],
            {"VOL_DIR": "/opt/pvc-1"},
            {"/script/setup": script, "/opt": storage},
        )
        code = self.running.pop("helper").wait(30)
        made = storage / "pvc-1"
        r.check(
            "busybox runs local-path's setup script",
            code == 0 and made.is_dir() and (made.stat().st_mode & 0o777) == 0o777,
        )

        # the images' own entrypoints started as root drop to their users (as upstream's)
        redis_ref = images.recipes()["redis"].refs[0]
        config = self.configs[redis_ref]
        self.start(
            "redis-root", redis_ref, [*config["Entrypoint"], "--port", "6380"], {}, {"/data": self.volume("redis-root")}
        )
        r.check("redis entrypoint as root serves", self.wait_port(6380, 30), self.log("redis-root")[-300:])
        r.check("redis entrypoint as root drops to 999", self.task_uid("redis-root") == "999")
        self.stop("redis-root")
        mariadb_ref = images.recipes()["mariadb"].refs[0]
        config = self.configs[mariadb_ref]
        env = {
            "MARIADB_RANDOM_ROOT_PASSWORD": "1",
            "MARIADB_DATABASE": "other",
            "MARIADB_USER": "u",
            "MARIADB_PASSWORD": "p",
        }
        volumes = {
            "/var/lib/mysql": self.volume("mariadb-root"),
            "/run/mysqld": self.volume("mariadb-root-run"),
            "/tmp": self.volume("mariadb-root-tmp"),
        }
        self.start("mariadb-root", mariadb_ref, [*config["Entrypoint"], *config["Cmd"], "--port=3307"], env, volumes)
        up = self.wait_port(3307, 90)
        r.check(
            "mariadb entrypoint as root initialises and drops to 999",
            up and self.task_uid("mariadb-root") == "999",
            self.log("mariadb-root")[-300:],
        )
        self.stop("mariadb-root")
        half = self.volume("mariadb-half")  # a first start that died after writing some files
        (half / ".k8s-ee-init-incomplete").touch()
        (half / "mysql").mkdir()
        (half / "mysql" / "junk").write_text("x")
        volumes = {"/var/lib/mysql": half, "/run/mysqld": self.volume("half-run"), "/tmp": self.volume("half-tmp")}
        env = {"MARIADB_ROOT_PASSWORD": "pw"}
        self.start("mariadb-half", mariadb_ref, [*config["Entrypoint"], *config["Cmd"], "--port=3308"], env, volumes)
        up = self.wait_port(3308, 90)
        log = self.log("mariadb-half")
        redone = (
            up and "did not finish" in log and "init process done" in log and not (half / "mysql" / "junk").exists()
        )
        r.check("mariadb redoes a first start that did not finish", redone, log[-400:])
        self.stop("mariadb-half")
        self.start(
            "mariadb-nopw",
            mariadb_ref,
            [*config["Entrypoint"], *config["Cmd"]],
            {},
            {
                "/var/lib/mysql": self.volume("nopw"),
                "/run/mysqld": self.volume("nopw-run"),
                "/tmp": self.volume("nopw-tmp"),
            },
        )
        code = self.running.pop("mariadb-nopw").wait(60)
        r.check(
            "mariadb refuses a first start without a root password option",
            code != 0 and "password option is not specified" in self.log("mariadb-nopw"),
        )

        for cid in list(self.running):
            self.stop(cid)
        if postgres:
            postgres.terminate()
            postgres.wait(30)

    def start_postgres(self, secret: dict[str, str]) -> subprocess.Popen | None:
        """The host's PostgreSQL in the check's namespace with database and owner `app` (None: not installed)."""
        binaries = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not binaries:
            return None
        bindir = binaries[-1].parent
        folder = self.work / "postgresql"
        folder.mkdir()
        (folder / "pw").write_text(secret["password"])
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(folder / "pw", "postgres", "postgres")
        as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "app",
                f"--pwfile={folder / 'pw'}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        log = open(self.work / "postgresql.log", "wb")  # noqa: SIM115 - the server writes to it
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.netns,
                *as_postgres,
                str(bindir / "postgres"),
                "-D",
                str(folder / "data"),
                "-k",
                str(folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-p",
                "5432",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not self.wait_port(5432, 30):
            raise RuntimeError(f"PostgreSQL did not start; see {self.work / 'postgresql.log'}")
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "psql"),
                "-h",
                str(folder),
                "-U",
                "app",
                "-d",
                "postgres",
                "-c",
                "CREATE DATABASE app OWNER app",
            ],
            env={**os.environ, "PGPASSWORD": secret["password"]},
            check=True,
            capture_output=True,
        )
        return proc

    def cleanup(self) -> None:
        for cid in list(self.running):
            with contextlib.suppress(Exception):
                self.stop(cid, 5)
        self.containerd.stop()
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)
        for parent in pathlib.Path("/sys/fs/cgroup").glob(f"*/{self.netns}"):  # the containers' cgroups' parent
            for child in parent.iterdir():
                if child.is_dir():
                    with contextlib.suppress(OSError):
                        child.rmdir()
            with contextlib.suppress(OSError):
                parent.rmdir()
        for line in reversed(pathlib.Path("/proc/self/mounts").read_text().splitlines()):
            target = line.split()[1]
            if target.startswith(str(self.work)):
                subprocess.run(["umount", "-l", target], check=False)


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of command, args and env values ($$ escapes; unknown names stay)."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: "$" if m[0] == "$$" else env.get(m[1], m[0]), text)


def pod_argv(entrypoint, cmd, command, args) -> list[str]:
    """The process of a container as the kubelet makes it: command replaces the image's Entrypoint (and
    drops its Cmd), args replace the Cmd."""
    if command:
        return [*command, *(args or [])]
    return [*(entrypoint or []), *(args if args is not None else cmd or [])]


def main() -> int:
    if os.geteuid() != 0:
        print("images_check.py needs root (containerd, network namespaces)", file=sys.stderr)
        return 2
    results = Results()
    work = pathlib.Path(tempfile.mkdtemp(prefix="k8s-ee-images-check.", dir="/tmp"))
    work.chmod(0o755)
    check = Check(work, results)
    try:
        check.run()
    except Exception as error:  # noqa: BLE001 - reported as a failed check, then cleaned up
        results.check("check ran to the end", False, f"{type(error).__name__}: {error}")
    finally:
        check.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
