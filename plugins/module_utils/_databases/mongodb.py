# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MongoDB: a `MongoDBCommunity` replica set `mongodb` (served by MongoDB Controllers for Kubernetes) with SCRAM user
`app` on database `app`. The platform generates the user's password (Secret `mongodb-app-password`); the operator
writes the connection Secret `mongodb-app`."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import Database, Operator, budget
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import meta, resources, volume_claim

SERVICE_ACCOUNT = "mongodb-database"
APP_CREDENTIALS = "mongodb-app-password"


def identity(namespace: str) -> list[dict]:
    """The ServiceAccount the operator's StatefulSet runs as, with what its agent needs in the namespace (read
    Secrets, annotate and restart its pods). The operator's chart creates these only in its own namespace."""
    name = SERVICE_ACCOUNT
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, namespace, "mongodb")},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(name, namespace, "mongodb"),
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch", "delete"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(name, namespace, "mongodb"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def render(namespace: str, db: dict, creds: dict | None, settings: dict) -> list[dict]:
    return [
        *identity(namespace),
        DATABASE.secret(namespace, creds),
        {
            "apiVersion": "mongodbcommunity.mongodb.com/v1",
            "kind": "MongoDBCommunity",
            "metadata": meta("mongodb", namespace, "mongodb"),
            "spec": {
                "members": 1,
                "type": "ReplicaSet",
                "version": db["version"],
                "security": {"authentication": {"modes": ["SCRAM"]}},
                "users": [
                    {
                        "name": "app",
                        "db": "app",
                        "passwordSecretRef": {"name": APP_CREDENTIALS},
                        "connectionStringSecretName": "mongodb-app",
                        "scramCredentialsSecretName": "mongodb-app-scram",
                        "roles": [{"name": "readWrite", "db": "app"}, {"name": "dbAdmin", "db": "app"}],
                    }
                ],
                "statefulSet": {
                    "spec": {
                        "template": {
                            "spec": {
                                "serviceAccountName": SERVICE_ACCOUNT,
                                "priorityClassName": settings["priority_class"],
                                "containers": [
                                    {"name": "mongod", "resources": resources("250m", "192Mi", "500m", "384Mi")},
                                    {
                                        "name": "mongodb-agent",
                                        "resources": resources("250m", "128Mi", "500m", "256Mi"),
                                    },
                                ],
                            }
                        },
                        "volumeClaimTemplates": [
                            volume_claim("data-volume", db["storage"]),
                            volume_claim("logs-volume", "2Gi"),  # the quota's storage_extra_mib
                        ],
                    }
                },
            },
        },
    ]


def ready(obj: dict | None) -> bool:
    return bool(obj and obj.get("status", {}).get("phase") == "Running")


DATABASE = Database(
    name="mongodb",
    title="MongoDB",
    api_version="mongodbcommunity.mongodb.com/v1",
    kind="MongoDBCommunity",
    plural="mongodbcommunity",
    ready=ready,
    render=render,
    port=27017,
    budget=budget(500, 1000, 320, 640, 3, 2, 2, 1),
    storage_extra_mib=2048,  # the logs volume
    exporter_port=9216,  # the MongoDB agent's exporter
    # the MongoDB agent's mongod
    operator=Operator(namespace="mongodb-operator", role_name="mongodb", ports=(27017,)),
    app_env={"MONGODB_DATABASE": "app"},
    secret_env=(("MONGODB_URI", "mongodb-app", "connectionString.standard"),),
    credentials_name=APP_CREDENTIALS,
    generated_keys=("password",),
    other_secrets=("mongodb-app",),
    service_account=SERVICE_ACCOUNT,
)
