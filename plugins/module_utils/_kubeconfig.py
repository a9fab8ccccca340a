# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the cluster is and who we are to it, read from a kubeconfig or a pod's service account without the
`kubernetes` package (importing it costs every module task a good part of a second).

What is read: the server, `certificate-authority` (a path relative to the kubeconfig's directory, as kubectl
resolves it) or `certificate-authority-data`, `insecure-skip-tls-verify`, `tls-server-name`, the client
certificate and key as files or `-data`, `token`, `tokenFile` (read again for every request: projected tokens
rotate) and `username`/`password`. Several files in one path (`a:b`, as in KUBECONFIG) are merged as kubectl
merges them: the first file that names a cluster, user or context wins, and so does the first `current-context`;
files that do not exist are skipped. A user with `exec` or `auth-provider` (EKS, GKE, OIDC, ...) is handed to
the `kubernetes` package's loader, which is then still needed; so is nothing else.

Key material given as `-data` never stays on disk: the client certificate and key are written to a private
directory only while `ssl` loads them into the `SSLContext`, then removed; CA data is passed to urllib3 in
memory."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass, field

SERVICE_HOST_ENV = "KUBERNETES_SERVICE_HOST"
SERVICE_PORT_ENV = "KUBERNETES_SERVICE_PORT"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_KUBECONFIG = "~/.kube/config"
_FIX = "set the module's kubeconfig option (or K8S_AUTH_KUBECONFIG / KUBECONFIG) to a readable kubeconfig"


class KubeconfigError(ValueError):
    """A kubeconfig (or the pod's service account) that cannot give the cluster's address and credentials; the
    message names the file, the context or the field, and the fix."""


@dataclass
class ClusterAccess:
    """What a client needs to talk to one API server. Field names follow `kubernetes.client.Configuration`
    (`host`, `verify_ssl`, `ssl_ca_cert`, `cert_file`, `key_file`, `tls_server_name`), so code written against
    that class reads these the same way."""

    host: str
    verify_ssl: bool = True
    ssl_ca_cert: str | None = None  # CA bundle file
    ca_data: bytes | None = None  # PEM, from certificate-authority-data
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = field(default=None, repr=False)
    key_data: bytes | None = field(default=None, repr=False)
    tls_server_name: str | None = None
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    source: str = ""  # where it came from, for messages: "kubeconfig /x (context y)"
    refresh: Callable[[], str | None] | None = field(default=None, repr=False)  # the `kubernetes` loader's header

    def authorization(self) -> str | None:
        """The Authorization header value, or None; a tokenFile is read now (it may have been rotated)."""
        if self.refresh is not None:
            return self.refresh()
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as handle:
                    token = handle.read().strip()
            except OSError as exc:
                raise KubeconfigError(
                    f"{self.source}: cannot read tokenFile {self.token_file}: {exc.strerror}"
                ) from None
            if not token:
                raise KubeconfigError(f"{self.source}: tokenFile {self.token_file} is empty")
            return f"Bearer {token}"
        if self.token:
            return f"Bearer {self.token}"
        if self.username is not None and self.password is not None:
            return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return None

    def pool_options(self) -> dict:
        """Keyword arguments for `urllib3.PoolManager` that verify the server and present the client certificate."""
        options: dict = {"cert_reqs": "CERT_REQUIRED" if self.verify_ssl else "CERT_NONE"}
        if self.verify_ssl:
            if self.ssl_ca_cert:
                options["ca_certs"] = self.ssl_ca_cert
            if self.ca_data:
                options["ca_cert_data"] = self.ca_data.decode("ascii", errors="replace")
            if self.tls_server_name:
                options["server_hostname"] = self.tls_server_name
        if self.cert_file or self.key_file:
            options["cert_file"] = self.cert_file
            options["key_file"] = self.key_file
        elif self.cert_data or self.key_data:
            options["ssl_context"] = self._context_with_client_certificate(options["cert_reqs"])
        return options

    def _context_with_client_certificate(self, cert_reqs: str):
        """An SSLContext holding the client certificate given as data: the files `ssl` has to read from exist
        (mode 0600 in a 0700 directory) only until it has read them."""
        import ssl
        import tempfile

        from urllib3.util.ssl_ import create_urllib3_context, resolve_cert_reqs

        context = create_urllib3_context(cert_reqs=resolve_cert_reqs(cert_reqs))
        with tempfile.TemporaryDirectory(prefix="k8s-ee-") as directory:
            cert = os.path.join(directory, "client.crt")
            key = os.path.join(directory, "client.key")
            for path, content in ((cert, self.cert_data), (key, self.key_data or self.cert_data)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(content or b"")
            try:
                context.load_cert_chain(cert, key)
            except ssl.SSLError as exc:
                raise KubeconfigError(
                    f"{self.source}: client-certificate-data and client-key-data are not a PEM certificate and its "
                    f"key ({exc.reason or exc})"
                ) from None
        return context


def from_client_configuration(configuration) -> ClusterAccess:
    """A `kubernetes.client.Configuration` (the `kubernetes` loader's result, or one a caller built) as
    ClusterAccess; the header comes from it at each request, so its refresh hooks (exec, OIDC) keep working."""

    def refresh() -> str | None:
        return (configuration.auth_settings().get("BearerToken") or {}).get("value")

    return ClusterAccess(
        host=configuration.host,
        verify_ssl=configuration.verify_ssl,
        ssl_ca_cert=configuration.ssl_ca_cert,
        cert_file=configuration.cert_file,
        key_file=configuration.key_file,
        tls_server_name=getattr(configuration, "tls_server_name", None),
        source="kubernetes client configuration",
        refresh=refresh,
    )


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    environ=None,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
) -> ClusterAccess:
    """The cluster of `kubeconfig` (one path or several joined with ':') and `context`; without either, the pod's
    service account when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG, else ~/.kube/config. Raises
    KubeconfigError."""
    environ = os.environ if environ is None else environ
    if not kubeconfig and not context and environ.get(SERVICE_HOST_ENV):
        return in_cluster(environ, service_account_dir)
    return from_kubeconfig(kubeconfig or environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG, context)


def in_cluster(environ=None, service_account_dir: str = SERVICE_ACCOUNT_DIR) -> ClusterAccess:
    """The pod's service account: the API server from KUBERNETES_SERVICE_HOST/PORT, its token (read for every
    request: the kubelet rotates it) and the cluster's CA."""
    environ = os.environ if environ is None else environ
    host, port = environ.get(SERVICE_HOST_ENV), environ.get(SERVICE_PORT_ENV)
    if not host or not port:
        raise KubeconfigError(
            f"in-cluster configuration: {SERVICE_HOST_ENV} and {SERVICE_PORT_ENV} must both be set (they are in a "
            f"pod); outside a pod, {_FIX}"
        )
    token = os.path.join(service_account_dir, "token")
    ca = os.path.join(service_account_dir, "ca.crt")
    for path, what in ((token, "token"), (ca, "CA certificate")):
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            raise KubeconfigError(
                f"in-cluster configuration: the service account {what} {path} is missing or empty (is "
                f"automountServiceAccountToken off for this pod?); mount it, or {_FIX}"
            )
    address = f"[{host}]" if ":" in host or "%" in host else host
    return ClusterAccess(
        host=f"https://{address}:{port}", ssl_ca_cert=ca, token_file=token, source="in-cluster service account"
    )


def from_kubeconfig(paths: str, context: str | None = None) -> ClusterAccess:
    """The cluster, user and TLS settings of one context of a kubeconfig (or of several merged)."""
    files = [os.path.expanduser(p) for p in paths.split(os.pathsep) if p]
    existing = [p for p in files if os.path.isfile(p)]
    if not existing:
        missing = ", ".join(files) or repr(paths)
        if len(files) > 1:
            raise KubeconfigError(f"no kubeconfig: none of {missing} exists; {_FIX}")
        raise KubeconfigError(f"no kubeconfig: {missing} does not exist; {_FIX}")
    merged = _merge(existing)
    where = existing[0] if len(existing) == 1 else " + ".join(existing)
    name = context or merged["current-context"]
    if not name:
        raise KubeconfigError(
            f"kubeconfig {where} has no current-context; set the module's context option (or K8S_AUTH_CONTEXT) to "
            f"one of its contexts: {_names(merged['contexts'])}"
        )
    source = f"kubeconfig {where} (context {name!r})"
    if name not in merged["contexts"]:
        raise KubeconfigError(
            f"kubeconfig {where} has no context {name!r}; its contexts: {_names(merged['contexts'])} "
            f"(`kubectl config get-contexts --kubeconfig {existing[0]}` lists them)"
        )
    ctx, _ctx_file = merged["contexts"][name]
    cluster_name = ctx.get("cluster")
    if cluster_name not in merged["clusters"]:
        raise KubeconfigError(
            f"{source} names cluster {cluster_name!r}, which {where} does not define; its clusters: "
            f"{_names(merged['clusters'])}"
        )
    cluster, cluster_file = merged["clusters"][cluster_name]
    user, user_file = merged["users"].get(ctx.get("user"), ({}, cluster_file))  # an unknown user: anonymous
    if "exec" in user or "auth-provider" in user:
        return _with_kubernetes_package(existing, name, source)
    server = cluster.get("server")
    if not server or not isinstance(server, str):
        raise KubeconfigError(f"{source}: cluster {cluster_name!r} has no server address")
    access = ClusterAccess(host=server.rstrip("/"), source=source)
    if "insecure-skip-tls-verify" in cluster:
        access.verify_ssl = not cluster["insecure-skip-tls-verify"]
    if cluster.get("tls-server-name"):
        access.tls_server_name = str(cluster["tls-server-name"])
    if access.host.startswith("https"):  # as the `kubernetes` package: no TLS material for a plain-HTTP server
        access.ca_data, access.ssl_ca_cert = _file_or_data(cluster, "certificate-authority", cluster_file, source)
        access.cert_data, access.cert_file = _file_or_data(user, "client-certificate", user_file, source)
        access.key_data, access.key_file = _file_or_data(user, "client-key", user_file, source)
    if user.get("token"):
        access.token = str(user["token"]).strip()
    elif user.get("tokenFile"):
        access.token_file = _path(user["tokenFile"], user_file, source, "tokenFile")
        access.authorization()  # fails now, naming the file, if it cannot be read
    elif "username" in user and "password" in user:
        access.username, access.password = str(user["username"]), str(user["password"])
    return access


def _merge(files: list[str]) -> dict:
    """clusters, users and contexts by name, each with the file that defined it first; the first current-context."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged: dict = {"clusters": {}, "users": {}, "contexts": {}, "current-context": None}
    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                document = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
        except OSError as exc:
            raise KubeconfigError(f"kubeconfig {path} cannot be read: {exc.strerror}; {_FIX}") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {exc}") from None
        if document is None:
            raise KubeconfigError(f"kubeconfig {path} is empty; {_FIX}")
        if not isinstance(document, dict):
            raise KubeconfigError(
                f"kubeconfig {path} is not a kubeconfig: a mapping with clusters, users and contexts was expected, "
                f"found a {type(document).__name__}"
            )
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            entries = document.get(section) or []
            if not isinstance(entries, list):
                raise KubeconfigError(f"kubeconfig {path}: {section} must be a list")
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise KubeconfigError(f"kubeconfig {path}: every entry of {section} needs a name")
                body = entry.get(inner) or {}
                if not isinstance(body, dict):
                    raise KubeconfigError(f"kubeconfig {path}: {section} {entry['name']!r}: {inner} must be a mapping")
                merged[section].setdefault(entry["name"], (body, path))
        if not merged["current-context"] and document.get("current-context"):
            merged["current-context"] = str(document["current-context"])
    return merged


def _names(entries: dict) -> str:
    return ", ".join(sorted(entries)) or "none"


def _path(value, defined_in: str, source: str, key: str) -> str:
    """A path of the kubeconfig, relative to the directory of the file that holds it (as kubectl reads it)."""
    if not isinstance(value, str) or not value:
        raise KubeconfigError(f"{source}: {key} must be a path")
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(defined_in)), os.path.expanduser(value)))


def _file_or_data(stanza: dict, key: str, defined_in: str, source: str) -> tuple[bytes | None, str | None]:
    """(`<key>-data` decoded, None), or (None, the existing file of `<key>`), or (None, None); data wins, as in the
    `kubernetes` package and kubectl."""
    data = stanza.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode("".join(str(data).split()), validate=True), None
        except (binascii.Error, ValueError):
            raise KubeconfigError(
                f"{source}: {key}-data is not base64 (it holds the PEM text, base64-encoded)"
            ) from None
    if stanza.get(key):
        path = _path(stanza[key], defined_in, source, key)
        if not os.path.isfile(path):
            raise KubeconfigError(
                f"{source}: {key} {path} does not exist (a relative path is read from the directory of "
                f"{defined_in}); fix the path or use {key}-data"
            )
        return None, path
    return None, None


def _with_kubernetes_package(files: list[str], context: str, source: str) -> ClusterAccess:
    """A user whose credentials come from a program (`exec`) or an `auth-provider`: the `kubernetes` package's
    loader, as before this module existed, given the context this module chose."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise KubeconfigError(
            f"{source}: the user's credentials come from exec or auth-provider, which needs the Python package "
            "kubernetes on the controller (pip install kubernetes)"
        ) from None
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=os.pathsep.join(files), context=context, client_configuration=configuration)
    except config.ConfigException as exc:
        raise KubeconfigError(f"{source}: {exc}") from None
    access = from_client_configuration(configuration)
    access.source = source
    return access
