# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MinIO: a MinIO operator `Tenant` `minio` with one server and bucket `app`. Its root credentials are the generated
Secret `minio`; `minio-env-configuration`, the file the operator hands to the server, is rendered from them."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._databases._base import (
    Database,
    Operator,
    budget,
    new_password,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import (
    meta,
    resources,
    restricted_container,
    volume_claim,
)

IMAGE = "quay.io/minio/minio:{version}"
PORT = 9000
CONFIGURATION = "minio-env-configuration"


def render(namespace: str, db: dict, creds: dict | None, settings: dict) -> list[dict]:
    access, secret = creds["accessKey"], creds["secretKey"]
    return [
        DATABASE.secret(namespace, creds),
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta(CONFIGURATION, namespace, "minio"),
            "type": "Opaque",
            "stringData": {
                "config.env": f'export MINIO_ROOT_USER="{access}"\nexport MINIO_ROOT_PASSWORD="{secret}"\n'
                'export MINIO_BROWSER="off"\n'
            },
        },
        {
            "apiVersion": "minio.min.io/v2",
            "kind": "Tenant",
            "metadata": meta("minio", namespace, "minio"),
            "spec": {
                "image": IMAGE.format(version=db["version"]),
                "configuration": {"name": CONFIGURATION},
                "requestAutoCert": False,
                "priorityClassName": settings["priority_class"],
                "buckets": [{"name": "app"}],
                "pools": [
                    {
                        "name": "pool-0",
                        "servers": 1,
                        "volumesPerServer": 1,
                        "resources": resources("100m", "256Mi", "500m", "512Mi"),
                        "volumeClaimTemplate": volume_claim("data", db["storage"]),
                        "containerSecurityContext": restricted_container() | {"readOnlyRootFilesystem": False},
                    }
                ],
            },
        },
    ]


def ready(obj: dict | None) -> bool:
    return bool(obj and obj.get("status", {}).get("currentState") == "Initialized")


DATABASE = Database(
    name="minio",
    title="MinIO",
    api_version="minio.min.io/v2",
    kind="Tenant",
    plural="tenants",
    ready=ready,
    render=render,
    port=PORT,
    budget=budget(200, 1000, 384, 1024, 2, 1, 2, 2),
    image=IMAGE,
    exporter_port=PORT,  # MinIO serves metrics on its API port
    # the operator's health calls on the API port
    operator=Operator(namespace="minio-operator", role_name="minio", ports=(PORT,)),
    app_env={"S3_ENDPOINT": "http://minio", "S3_BUCKET": "app"},
    secret_env=(("S3_ACCESS_KEY", "minio", "accessKey"), ("S3_SECRET_KEY", "minio", "secretKey")),
    credentials_name="minio",
    generated_keys=("accessKey", "secretKey"),
    # an access key is a user name: lower case, recognisable
    first_credentials=lambda: {"accessKey": "app" + new_password(17).lower()},
    other_secrets=(CONFIGURATION,),
    makes_services=True,
)
