# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MariaDB: a StatefulSet and Service `mariadb` with database and user `app`, data on a volume of the configured
size."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import Database, budget
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import (
    database_pod,
    meta,
    resources,
    restricted_container,
    rollout_done,
    service,
    volume_claim,
)

IMAGE = "docker.io/library/mariadb:{version}"
PORT = 3306


def render(namespace: str, db: dict, creds: dict | None, settings: dict) -> list[dict]:
    labels = {"app.kubernetes.io/name": "mariadb"}

    def from_secret(name, key):
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": "mariadb", "key": key}}}

    return [
        DATABASE.secret(namespace, creds),
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta("mariadb", namespace, "mariadb"),
            "spec": {
                "replicas": 1,
                "serviceName": "mariadb",
                "selector": {"matchLabels": labels},
                "template": database_pod(
                    labels,
                    settings,
                    {
                        "name": "mariadb",
                        "image": IMAGE.format(version=db["version"]),
                        "env": [
                            from_secret("MARIADB_ROOT_PASSWORD", "rootPassword"),
                            from_secret("MARIADB_PASSWORD", "password"),
                            {"name": "MARIADB_DATABASE", "value": "app"},
                            {"name": "MARIADB_USER", "value": "app"},
                        ],
                        "ports": [{"name": "mysql", "containerPort": PORT}],
                        "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 5},
                        "livenessProbe": {
                            "tcpSocket": {"port": PORT},
                            "periodSeconds": 10,
                            "initialDelaySeconds": 30,
                        },
                        "resources": resources("150m", "128Mi", "300m", "256Mi"),
                        "securityContext": restricted_container(),
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/var/lib/mysql"},
                            {"name": "run", "mountPath": "/run/mysqld"},
                            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a mount path in the pod
                        ],
                    },
                    [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                ),
                "volumeClaimTemplates": [volume_claim("data", db["storage"])],
            },
        },
        service("mariadb", namespace, labels, [{"name": "mysql", "port": PORT, "targetPort": PORT}]),
    ]


DATABASE = Database(
    name="mariadb",
    title="MariaDB",
    api_version="apps/v1",
    kind="StatefulSet",
    plural="statefulsets",
    ready=rollout_done,
    render=render,
    port=PORT,
    budget=budget(150, 300, 128, 256, 2, 1, 1, 1),
    image=IMAGE,
    app_env={"MYSQL_HOST": "mariadb", "MYSQL_PORT": str(PORT), "MYSQL_DATABASE": "app", "MYSQL_USER": "app"},
    secret_env=(("MYSQL_URL", "mariadb", "url"), ("MYSQL_PASSWORD", "mariadb", "password")),
    credentials_name="mariadb",
    generated_keys=("rootPassword", "password"),
    connection=lambda creds: {"url": f"mysql://app:{creds['password']}@mariadb:{PORT}/app"},
)
