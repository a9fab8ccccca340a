# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis: a Deployment and Service `redis` with password authentication, in memory only (no volume, `maxmemory` 96 MB,
LRU eviction)."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import Database, budget
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import (
    database_pod,
    meta,
    resources,
    restricted_container,
    rollout_done,
    service,
)

IMAGE = "docker.io/library/redis:{version}-alpine"
PORT = 6379


def render(namespace: str, db: dict, creds: dict | None, settings: dict) -> list[dict]:
    labels = {"app.kubernetes.io/name": "redis"}
    return [
        DATABASE.secret(namespace, creds),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta("redis", namespace, "redis"),
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": labels},
                "template": database_pod(
                    labels,
                    settings,
                    {
                        "name": "redis",
                        "image": IMAGE.format(version=db["version"]),
                        "command": ["redis-server"],
                        "args": [
                            "--requirepass",
                            "$(REDIS_PASSWORD)",
                            "--maxmemory",
                            "96mb",
                            "--maxmemory-policy",
                            "allkeys-lru",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                        ],
                        "env": [
                            {
                                "name": "REDIS_PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "redis", "key": "password"}},
                            }
                        ],
                        "ports": [{"name": "redis", "containerPort": PORT}],
                        "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 5},
                        "livenessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 10},
                        "resources": resources("100m", "64Mi", "200m", "128Mi"),
                        "securityContext": restricted_container(),
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    },
                    [{"name": "data", "emptyDir": {"sizeLimit": "128Mi"}}],
                ),
            },
        },
        service("redis", namespace, labels, [{"name": "redis", "port": PORT, "targetPort": PORT}]),
    ]


DATABASE = Database(
    name="redis",
    title="Redis",
    api_version="apps/v1",
    kind="Deployment",
    plural="deployments",
    ready=rollout_done,
    render=render,
    port=PORT,
    budget=budget(100, 200, 64, 128, 0, 0, 1, 1),
    image=IMAGE,
    app_env={"REDIS_HOST": "redis", "REDIS_PORT": str(PORT)},
    secret_env=(("REDIS_URL", "redis", "url"), ("REDIS_PASSWORD", "redis", "password")),
    credentials_name="redis",
    generated_keys=("password",),
    connection=lambda creds: {"url": f"redis://:{creds['password']}@redis:{PORT}/0"},
)
