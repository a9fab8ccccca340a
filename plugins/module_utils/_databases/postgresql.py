# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL: a CloudNativePG `Cluster` `postgresql`, one instance, database and owner `app`; the operator writes the
connection Secret `postgresql-app`."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import Database, Operator, budget
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import conditions, meta, resources

IMAGE = "ghcr.io/cloudnative-pg/postgresql:{version}"


def render(namespace: str, db: dict, creds: dict | None, settings: dict) -> list[dict]:
    initdb = {"database": "app", "owner": "app"}
    if db["bootstrap"]["initSQL"]:
        initdb["postInitSQL"] = list(db["bootstrap"]["initSQL"])
    if db["bootstrap"]["postInitApplicationSQL"]:
        initdb["postInitApplicationSQL"] = list(db["bootstrap"]["postInitApplicationSQL"])
    return [
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": meta("postgresql", namespace, "postgresql"),
            "spec": {
                "instances": 1,
                "imageName": IMAGE.format(version=db["version"]),
                "priorityClassName": settings["priority_class"],
                "storage": {"size": db["storage"]},
                "bootstrap": {"initdb": initdb},
                "resources": resources("250m", "256Mi", "500m", "512Mi"),
                "enablePDB": False,
            },
        }
    ]


def ready(obj: dict | None) -> bool:
    return bool(
        obj
        and obj.get("status", {}).get("readyInstances", 0) >= obj["spec"].get("instances", 1)
        and conditions(obj).get("Ready") == "True"
    )


DATABASE = Database(
    name="postgresql",
    title="PostgreSQL",
    api_version="postgresql.cnpg.io/v1",
    kind="Cluster",
    plural="clusters",
    ready=ready,
    render=render,
    port=5432,
    budget=budget(250, 500, 256, 512, 2, 1, 2, 3),
    image=IMAGE,
    exporter_port=9187,  # CloudNativePG's instance exporter
    # CloudNativePG's instance manager status port
    operator=Operator(namespace="cnpg-system", role_name="cloudnative_pg", ports=(8000,)),
    secret_env=(
        ("DATABASE_URL", "postgresql-app", "uri"),
        ("PGHOST", "postgresql-app", "host"),
        ("PGPORT", "postgresql-app", "port"),
        ("PGDATABASE", "postgresql-app", "dbname"),
        ("PGUSER", "postgresql-app", "user"),
        ("PGPASSWORD", "postgresql-app", "password"),
    ),
    other_secrets=("postgresql-app",),
    makes_services=True,
)
