# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sample application of examples/sample-app: what an app needs to run as the platform runs it.

An HTTP server on $PORT (k8s-ee.yaml: 8080) that answers its health path and writes and reads one
value in each database the platform gives it, through exactly the variables docs/adopting.md lists:

    GET  /healthz               200 "ok" once it serves (no database is asked)
    GET  /                      the pull request's variables and, per database, whether its variables are set
    PUT  /kv/<db>/<key>         store the request body under <key>  (db: redis, mariadb, postgresql)
    GET  /kv/<db>/<key>         the value stored under <key>, 404 when there is none
    GET  /check/<db>            store a fresh value and read it back
    GET  /metrics               requests answered, by status, in Prometheus' text format (k8s-ee.yaml
                                metrics.enabled makes the platform scrape it, docs/observability.md)

The health path is /healthz (HEALTH_PATH overrides it, for a k8s-ee.yaml with another app.healthPath).

Each database is written with its discrete variables (REDIS_HOST, MYSQL_HOST, PGHOST, ...) and read back
through its URL (REDIS_URL, MYSQL_URL, DATABASE_URL), so a round trip proves both point at the same
database. A missing variable answers 503 naming it; an unreachable database answers 502. Credentials
never appear in an answer or a log line. Runs as any non-root user on a read-only root filesystem.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("sample-app")
TABLE = "k8s_ee_sample"
CREATE = "CREATE TABLE IF NOT EXISTS k8s_ee_sample (k VARCHAR(100) PRIMARY KEY, v TEXT NOT NULL)"
SELECT = "SELECT v FROM k8s_ee_sample WHERE k = %s"
UPSERT = {
    "mariadb": "INSERT INTO k8s_ee_sample (k, v) VALUES (%s, %s) ON DUPLICATE KEY UPDATE v = VALUES(v)",
    "postgresql": "INSERT INTO k8s_ee_sample (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
}
KEY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
MAX_BODY = 64 * 1024
TIMEOUT = 5

# The variables of each database (docs/adopting.md, "What the app receives").
VARIABLES = {
    "redis": ["REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"],
    "mariadb": ["MYSQL_URL", "MYSQL_HOST", "MYSQL_PORT", "MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD"],
    "postgresql": ["DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"],
}
PR_VARIABLES = ["PR_NUMBER", "COMMIT_SHA", "BRANCH_NAME", "PREVIEW_URL"]


class Missing(Exception):
    """A database's variables are not all set."""


class NotFound(Exception):
    """No value under that key."""


def settings(db: str) -> dict[str, str]:
    missing = [name for name in VARIABLES[db] if not os.environ.get(name)]
    if missing:
        raise Missing(f"{db}: missing environment variable(s) {', '.join(missing)}")
    return {name: os.environ[name] for name in VARIABLES[db]}


# --------------------------------------------------------------------------- databases


def redis_write(env: dict, key: str, value: str) -> None:
    import redis

    client = redis.Redis(
        host=env["REDIS_HOST"],
        port=int(env["REDIS_PORT"]),
        password=env["REDIS_PASSWORD"],
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )
    with client:
        client.set(f"{TABLE}:{key}", value.encode())


def redis_read(env: dict, key: str) -> str:
    import redis

    with redis.Redis.from_url(env["REDIS_URL"], socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT) as client:
        value = client.get(f"{TABLE}:{key}")
    if value is None:
        raise NotFound(key)
    return value.decode()


def _mysql(host, port, user, password, database):
    import pymysql

    return pymysql.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        database=database,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        write_timeout=TIMEOUT,
        charset="utf8mb4",
    )


def mariadb_write(env: dict, key: str, value: str) -> None:
    connection = _mysql(
        env["MYSQL_HOST"], int(env["MYSQL_PORT"]), env["MYSQL_USER"], env["MYSQL_PASSWORD"], env["MYSQL_DATABASE"]
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(CREATE)
        cursor.execute(UPSERT["mariadb"], (key, value))
        connection.commit()


def mariadb_read(env: dict, key: str) -> str:
    url = urllib.parse.urlsplit(env["MYSQL_URL"])
    if url.scheme != "mysql" or not url.hostname:
        raise ValueError("MYSQL_URL is not a mysql:// URL")
    connection = _mysql(
        url.hostname,
        url.port or 3306,
        urllib.parse.unquote(url.username or ""),
        urllib.parse.unquote(url.password or ""),
        urllib.parse.unquote(url.path.lstrip("/")),
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(CREATE)
        cursor.execute(SELECT, (key,))
        row = cursor.fetchone()
    if row is None:
        raise NotFound(key)
    return row[0]


def postgresql_write(env: dict, key: str, value: str) -> None:
    import psycopg2

    connection = psycopg2.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        dbname=env["PGDATABASE"],
        user=env["PGUSER"],
        password=env["PGPASSWORD"],
        connect_timeout=TIMEOUT,
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(CREATE)
            cursor.execute(UPSERT["postgresql"], (key, value))
    finally:
        connection.close()


def postgresql_read(env: dict, key: str) -> str:
    import psycopg2

    connection = psycopg2.connect(env["DATABASE_URL"], connect_timeout=TIMEOUT)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(CREATE)
            cursor.execute(SELECT, (key,))
            row = cursor.fetchone()
    finally:
        connection.close()
    if row is None:
        raise NotFound(key)
    return row[0]


STORES = {
    "redis": (redis_write, redis_read),
    "mariadb": (mariadb_write, mariadb_read),
    "postgresql": (postgresql_write, postgresql_read),
}


# --------------------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    server_version = "k8s-ee-sample/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        LOG.info("%s %s", self.address_string(), format % args)

    def answer(self, status: int, body) -> None:
        ANSWERED[status] = ANSWERED.get(status, 0) + 1
        data = (json.dumps(body, sort_keys=True) + "\n").encode() if not isinstance(body, str) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def route(self) -> tuple[str, str, str] | None:
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "kv":
            return parts[0], parts[1], parts[2]
        if len(parts) == 2 and parts[0] == "check":
            return parts[0], parts[1], ""
        return None

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == HEALTH_PATH:
            self.answer(200, "ok\n")
        elif path == "/metrics":
            self.answer(200, metrics())
        elif path == "/":
            self.answer(200, overview())
        else:
            self.database(self.route(), None)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.answer(413, {"error": f"at most {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length)
        try:
            value = body.decode()
        except UnicodeDecodeError:
            self.answer(400, {"error": "the value is not UTF-8"})
            return
        route = self.route()
        self.database(route if route and route[0] == "kv" else None, value)

    do_POST = do_PUT

    def database(self, route, value: str | None) -> None:
        if route is None:
            self.answer(404, {"error": "no such path"})
            return
        kind, db, key = route
        if db not in STORES:
            self.answer(404, {"error": f"unknown database {db!r} (one of {', '.join(STORES)})"})
            return
        if kind == "kv" and not KEY.match(key):
            self.answer(400, {"error": "a key is 1 to 100 of A-Z a-z 0-9 . _ -"})
            return
        write, read = STORES[db]
        try:
            env = settings(db)
            if kind == "check":
                key, value = "check", secrets.token_hex(8)
                write(env, key, value)
                read_back = read(env, key)
                if read_back != value:
                    self.answer(500, {"db": db, "error": "read back a different value", "ok": False})
                    return
                self.answer(200, {"db": db, "ok": True})
            elif value is not None:
                write(env, key, value)
                self.answer(200, {"db": db, "key": key, "stored": len(value.encode())})
            else:
                self.answer(200, {"db": db, "key": key, "value": read(env, key)})
        except Missing as error:
            LOG.error("%s", error)
            self.answer(503, {"db": db, "error": str(error)})
        except NotFound:
            self.answer(404, {"db": db, "key": key, "error": "no value under this key"})
        except Exception as error:  # noqa: BLE001 - any failure of the database is the answer
            LOG.error("%s: %s", db, type(error).__name__)
            self.answer(502, {"db": db, "error": f"{type(error).__name__}: {redact(str(error))}"})


def redact(text: str) -> str:
    """The text without any credential of the environment (a driver's message may quote a URL)."""
    for name in ("REDIS_PASSWORD", "MYSQL_PASSWORD", "PGPASSWORD", "REDIS_URL", "MYSQL_URL", "DATABASE_URL"):
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text[:500]


ANSWERED: dict[int, int] = {}  # HTTP status -> requests answered with it


def metrics() -> str:
    """Prometheus' text exposition format (version 0.0.4): one counter."""
    lines = [
        "# HELP sample_app_requests_total HTTP requests answered, by status.",
        "# TYPE sample_app_requests_total counter",
    ]
    lines += [f'sample_app_requests_total{{code="{code}"}} {count}' for code, count in sorted(ANSWERED.items())]
    return "\n".join(lines) + "\n"


def overview() -> dict:
    return {
        "app": "k8s-ee sample",
        "pullRequest": {name: os.environ.get(name, "") for name in PR_VARIABLES},
        "databases": {
            db: {"missing": [name for name in names if not os.environ.get(name)]} for db, names in VARIABLES.items()
        },
    }


HEALTH_PATH = os.environ.get("HEALTH_PATH", "/healthz")


def main() -> int:
    level = os.environ.get("LOG_LEVEL", "info").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("", port), Handler)
    server.daemon_threads = True

    def stop(signum, _frame):
        LOG.info("signal %d: stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for db, names in VARIABLES.items():
        missing = [name for name in names if not os.environ.get(name)]
        LOG.info("%s: %s", db, f"missing {', '.join(missing)}" if missing else "configured")
    LOG.info("listening on port %d, health path %s", port, HEALTH_PATH)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
