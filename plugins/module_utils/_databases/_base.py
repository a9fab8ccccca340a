# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the platform knows about one database: the `Database` description each file of this package holds.

docs/adding-a-database.md says which part of pr_up reads each field and which test checks the places that must stay
literal (the JSON Schema, role YAML, the docs' tables).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import meta


def new_password(length: int = 32) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _index in range(length))


@dataclass(frozen=True)
class Budget:
    """One component's share of the environment's ResourceQuota (docs/quota.md): millicores, MiB, and counts."""

    cpu_request: Fraction
    cpu_limit: Fraction
    memory_request: Fraction
    memory_limit: Fraction
    storage: Fraction
    pvcs: int
    pods: int
    services: int


def budget(cpu_req, cpu_lim, mem_req, mem_lim, storage_gib, pvcs, pods, services) -> Budget:
    """A Budget from requests/limits in millicores and MiB and storage in GiB (the units of docs/quota.md)."""
    return Budget(
        Fraction(cpu_req),
        Fraction(cpu_lim),
        Fraction(mem_req),
        Fraction(mem_lim),
        Fraction(storage_gib * 1024),
        pvcs,
        pods,
        services,
    )


@dataclass(frozen=True)
class Operator:
    """The Kubernetes operator that serves a database's custom resource, installed by role operators."""

    # where role operators installs it by default (`operators_<role_name>_namespace`; role platform creates the
    # namespace) and where NetworkPolicy allow-operators admits it from (setting `operator_namespaces`)
    namespace: str
    # the infix of role operators' variables: operators_<role_name>_enabled, _namespace, ...
    role_name: str
    # ports the operator calls on the database's pods (NetworkPolicy allow-operators)
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Database:
    """One database an environment can have (`databases.<name>` of k8s-ee.yaml)."""

    name: str
    title: str  # as the docs write it
    # The object pr_up waits for: `kind` `name` of `api_version` (resource `plural`), ready when `ready(obj)`.
    api_version: str
    kind: str
    plural: str
    ready: Callable[[dict | None], bool]
    # Every object of the database: render(namespace, databases.<name> of the normalised config, the credentials
    # of `credentials_name` (None without one), the effective operator settings).
    render: Callable[[str, dict, dict | None, dict], list]
    port: int  # where the app connects
    budget: Budget  # its row of docs/quota.md
    storage_extra_mib: int = 0  # storage it claims besides its data volume (quota)
    image: str | None = None  # the image; `{version}` is the configured version
    exporter_port: int | None = None  # Prometheus scrapes it here (NetworkPolicy allow-observability)
    operator: Operator | None = None
    # What the app gets (docs/adopting.md): literal variables in ConfigMap app-env, and (variable, Secret, key)
    # references to Secrets.
    app_env: Mapping[str, str] = field(default_factory=dict)
    secret_env: tuple[tuple[str, str, str], ...] = ()
    # The Secret of the credentials the platform generates once (docs/pr-lifecycle.md), its generated keys, the
    # first values of keys that are not random passwords, and the keys made of the credentials (connection URLs).
    credentials_name: str | None = None
    generated_keys: tuple[str, ...] = ()
    first_credentials: Callable[[], dict] | None = None
    connection: Callable[[dict], dict] | None = None
    # Secrets that hold its credentials too: written by its operator, or rendered from the credentials. pr_up reads
    # them to mask their values in a failure report when it may not list the namespace's Secrets.
    other_secrets: tuple[str, ...] = ()
    # A ServiceAccount pr_up creates for the operator's pods, bound to the Role of the same name: the one RoleBinding
    # besides k8s-ee-ci that policy k8s-ee-ci-scope of role platform admits (docs/platform.md).
    service_account: str | None = None
    # Its custom resource can make the operator create Services, so policy k8s-ee-environments of role platform
    # checks the resource (docs/security.md, "Nothing is exposed beyond the cluster").
    makes_services: bool = False

    @property
    def group(self) -> str:
        """The API group of its object ('' for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def custom(self) -> bool:
        """Whether its object is a custom resource (served by its operator) rather than a built-in workload."""
        return self.group not in ("", "apps")

    def credentials(self, live: Mapping[str, str] | None) -> dict:
        """The generated credentials: the live Secret's values where they exist, new ones otherwise."""
        current = live or {}
        out = {key: current.get(key) or new_password() for key in self.generated_keys}
        if not live and self.first_credentials is not None:
            out.update(self.first_credentials())
        return out

    def secret(self, namespace: str, creds: Mapping[str, str]) -> dict:
        """The Secret `credentials_name`: the credentials and what is made of them alone (connection URLs)."""
        data = dict(creds)
        if self.connection is not None:
            data.update(self.connection(creds))
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta(self.credentials_name, namespace, self.name),
            "type": "Opaque",
            "stringData": data,
        }
