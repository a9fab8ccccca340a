# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object of one environment (SPEC 4), rendered from the normalised configuration.

`render()` returns the objects in apply order. Nothing here talks to a cluster: the caller passes
the facts discovered at run time (API endpoints) and the credentials to use (kept from the live
Secrets, generated only on first deploy).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string

from ansible_collections.k8s_ee.platform.plugins.module_utils import _manifests
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases

MANAGED = dict(_manifests.MANAGED_LABELS)
CHECKSUM_ANNOTATION = "k8s-ee/config-checksum"

# Images per database; the tag comes from the configured version. All are multi-arch (amd64 + arm64).
IMAGES = {
    "postgresql": "ghcr.io/cloudnative-pg/postgresql:{version}",
    "redis": "docker.io/library/redis:{version}-alpine",
    "mariadb": "docker.io/library/mariadb:{version}",
    "minio": "quay.io/minio/minio:{version}",
}
PORTS = {"postgresql": 5432, "mongodb": 27017, "redis": 6379, "minio": 9000, "mariadb": 3306}
# Prometheus exporter ports scraped in the namespace (CloudNativePG 9187, MongoDB agent 9216,
# MinIO serves metrics on its API port).
EXPORTER_PORTS = {"postgresql": 9187, "mongodb": 9216, "minio": 9000}
# Ports database operators call inside the namespace: CloudNativePG's instance manager status
# port, the MongoDB agent's mongod, the MinIO operator's health calls on the API port.
OPERATOR_PORTS = {"postgresql": [8000], "mongodb": [27017], "minio": [9000]}

# Where role operators installs each database operator (operators_cloudnative_pg_namespace,
# operators_mongodb_namespace, operators_minio_namespace; role platform creates them): allow-operators admits these.
# tests/unit/roles/test_operator_namespaces.py fails when the roles, the docs and this mapping disagree.
OPERATOR_NAMESPACES = {"postgresql": "cnpg-system", "mongodb": "mongodb-operator", "minio": "minio-operator"}

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]

DEFAULT_SETTINGS = {
    "ingress_class": "traefik",
    "ingress_namespace": "kube-system",
    "ingress_pod_labels": {"app.kubernetes.io/name": "traefik"},
    "tls_cert_resolver": "letsencrypt",
    "tls_secret": "",
    "dns_namespace": "kube-system",
    "dns_pod_labels": {"k8s-app": "kube-dns"},
    "observability_namespace": "observability",
    "prometheus_pod_labels": {"app.kubernetes.io/name": "prometheus"},
    "operator_namespaces": dict(OPERATOR_NAMESPACES),
    "internet_egress": True,
    "priority_class": "default-app",
    # the app runs as this non-root user whatever the image's USER is (runAsNonRoot needs a numeric user)
    "app_run_as_user": 10001,
}

# Credentials the platform generates (database -> keys); PostgreSQL's and MongoDB's connection Secrets are
# written by their operators.
GENERATED_SECRETS = {
    "redis": ("password",),
    "mariadb": ("rootPassword", "password"),
    "minio": ("accessKey", "secretKey"),
    "mongodb": ("password",),
}
# The Secret that holds them (database -> name). It is created once and its credentials never change; a Secret
# derived from it (minio-env-configuration) is rendered from what it holds.
CREDENTIAL_SECRETS = {"redis": "redis", "mariadb": "mariadb", "minio": "minio", "mongodb": "mongodb-app-password"}


def effective_settings(settings: dict | None) -> dict:
    """The operator's settings over DEFAULT_SETTINGS; `operator_namespaces` is merged per database, so naming one
    operator's namespace keeps the others' defaults."""
    settings = settings or {}
    merged = {**DEFAULT_SETTINGS, **settings}
    merged["operator_namespaces"] = {**OPERATOR_NAMESPACES, **(settings.get("operator_namespaces") or {})}
    return merged


def new_password(length: int = 32) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _index in range(length))


def credentials(enabled: list[str], live: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Credentials per database: the live Secret's values where they exist, new ones otherwise."""
    out = {}
    for db in enabled:
        if db not in GENERATED_SECRETS:
            continue
        current = live.get(db) or {}
        out[db] = {key: current.get(key) or new_password() for key in GENERATED_SECRETS[db]}
        if db == "minio" and not live.get(db):
            out[db]["accessKey"] = "app" + new_password(17).lower()
    return out


def credential_secret(namespace: str, db: str, creds: dict[str, str]) -> dict:
    """The Secret CREDENTIAL_SECRETS[db]: the credentials and what is made of them alone (connection URLs)."""
    data = dict(creds)
    if db == "redis":
        data["url"] = f"redis://:{creds['password']}@redis:6379/0"
    elif db == "mariadb":
        data["url"] = f"mysql://app:{creds['password']}@mariadb:3306/app"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(CREDENTIAL_SECRETS[db], namespace, db),
        "type": "Opaque",
        "stringData": data,
    }


def is_credential_secret(obj: dict) -> bool:
    return obj["kind"] == "Secret" and obj["metadata"]["name"] in CREDENTIAL_SECRETS.values()


def _meta(name: str, namespace: str, component: str, **extra) -> dict:
    labels = {**MANAGED, "app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "k8s-ee"}
    meta = {"name": name, "namespace": namespace, "labels": labels}
    meta.update(extra)
    return meta


def _restricted_container() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _pod_security(uid: int) -> dict:
    """Pod-level security of every workload the platform runs itself: a fixed non-root user and group."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _database_pod(labels: dict, settings: dict, container: dict, volumes: list) -> dict:
    """Pod template of a database the platform runs itself (Redis, MariaDB): one container, user 999."""
    return {
        "metadata": {"labels": {**MANAGED, **labels}},
        "spec": {
            "priorityClassName": settings["priority_class"],
            "automountServiceAccountToken": False,
            "securityContext": _pod_security(999),
            "containers": [container],
            "volumes": volumes,
        },
    }


def _resources(cpu_request, memory_request, cpu_limit, memory_limit) -> dict:
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


# ------------------------------------------------------------------ network policies


def network_policies(namespace: str, config: dict, settings: dict, api_endpoints: list[dict]) -> list[dict]:
    enabled = enabled_databases(config)
    every_pod = {}
    app_port = config["app"]["port"]

    def policy(name, spec):
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(name, namespace, "network-policy"),
            "spec": {"podSelector": every_pod, **spec},
        }

    def ns_selector(ns):
        return {"matchLabels": {"kubernetes.io/metadata.name": ns}}

    def pods_of(ns, labels, ports):
        """Ingress from the pods with `labels` in namespace `ns`, on `ports` only."""
        return {
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": ns_selector(ns), "podSelector": {"matchLabels": dict(labels)}}],
                    "ports": [{"protocol": "TCP", "port": port} for port in ports],
                }
            ],
        }

    observed_ports = [app_port] + [EXPORTER_PORTS[db] for db in enabled if db in EXPORTER_PORTS]
    egress = [
        {"to": [{"podSelector": {}}]},
        {
            "to": [
                {
                    "namespaceSelector": ns_selector(settings["dns_namespace"]),
                    "podSelector": {"matchLabels": dict(settings["dns_pod_labels"])},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
    ]
    for endpoint in api_endpoints:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": _host_cidr(endpoint["ip"])}}],
                "ports": [{"protocol": "TCP", "port": int(endpoint["port"])}],
            }
        )
    if settings["internet_egress"]:
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]})
    operator_rules = []
    for db in enabled:
        if db in OPERATOR_PORTS and settings["operator_namespaces"].get(db):
            operator_rules.append(
                {
                    "from": [{"namespaceSelector": ns_selector(settings["operator_namespaces"][db])}],
                    "ports": [{"protocol": "TCP", "port": p} for p in OPERATOR_PORTS[db]],
                }
            )
    policies = [
        policy("default-deny", {"policyTypes": ["Ingress", "Egress"]}),
        policy("allow-same-namespace", {"policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}),
        policy(
            "allow-ingress-controller",
            pods_of(settings["ingress_namespace"], settings["ingress_pod_labels"], [app_port]),
        ),
        policy(
            "allow-observability",
            pods_of(
                settings["observability_namespace"], settings["prometheus_pod_labels"], sorted(set(observed_ports))
            ),
        ),
        policy("allow-egress", {"policyTypes": ["Egress"], "egress": egress}),
        # without a database operator, no rule: an empty `ingress` list would not survive a round trip
        policy(
            "allow-operators", {"policyTypes": ["Ingress"], **({"ingress": operator_rules} if operator_rules else {})}
        ),
    ]
    return policies


def _host_cidr(ip: str) -> str:
    return f"{ip}/128" if ":" in ip else f"{ip}/32"


# ------------------------------------------------------------------ databases


def _postgresql(namespace: str, db: dict, settings: dict) -> list[dict]:
    initdb = {"database": "app", "owner": "app"}
    if db["bootstrap"]["initSQL"]:
        initdb["postInitSQL"] = list(db["bootstrap"]["initSQL"])
    if db["bootstrap"]["postInitApplicationSQL"]:
        initdb["postInitApplicationSQL"] = list(db["bootstrap"]["postInitApplicationSQL"])
    return [
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": _meta("postgresql", namespace, "postgresql"),
            "spec": {
                "instances": 1,
                "imageName": IMAGES["postgresql"].format(version=db["version"]),
                "priorityClassName": settings["priority_class"],
                "storage": {"size": db["storage"]},
                "bootstrap": {"initdb": initdb},
                "resources": _resources("250m", "256Mi", "500m", "512Mi"),
                "enablePDB": False,
            },
        }
    ]


MONGODB_SERVICE_ACCOUNT = "mongodb-database"


def _mongodb_identity(namespace: str) -> list[dict]:
    """The ServiceAccount the operator's StatefulSet runs as, with what its agent needs in the namespace (read
    Secrets, annotate and restart its pods). The operator's chart creates these only in its own namespace."""
    name = MONGODB_SERVICE_ACCOUNT
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace, "mongodb")},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(name, namespace, "mongodb"),
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch", "delete"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(name, namespace, "mongodb"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def _mongodb(namespace: str, db: dict, creds: dict, settings: dict) -> list[dict]:
    return [
        *_mongodb_identity(namespace),
        credential_secret(namespace, "mongodb", creds),
        {
            "apiVersion": "mongodbcommunity.mongodb.com/v1",
            "kind": "MongoDBCommunity",
            "metadata": _meta("mongodb", namespace, "mongodb"),
            "spec": {
                "members": 1,
                "type": "ReplicaSet",
                "version": db["version"],
                "security": {"authentication": {"modes": ["SCRAM"]}},
                "users": [
                    {
                        "name": "app",
                        "db": "app",
                        "passwordSecretRef": {"name": "mongodb-app-password"},
                        "connectionStringSecretName": "mongodb-app",
                        "scramCredentialsSecretName": "mongodb-app-scram",
                        "roles": [{"name": "readWrite", "db": "app"}, {"name": "dbAdmin", "db": "app"}],
                    }
                ],
                "statefulSet": {
                    "spec": {
                        "template": {
                            "spec": {
                                "serviceAccountName": MONGODB_SERVICE_ACCOUNT,
                                "priorityClassName": settings["priority_class"],
                                "containers": [
                                    {"name": "mongod", "resources": _resources("250m", "192Mi", "500m", "384Mi")},
                                    {
                                        "name": "mongodb-agent",
                                        "resources": _resources("250m", "128Mi", "500m", "256Mi"),
                                    },
                                ],
                            }
                        },
                        "volumeClaimTemplates": [
                            {
                                "metadata": {"name": "data-volume"},
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": db["storage"]}},
                                },
                            },
                            {
                                "metadata": {"name": "logs-volume"},
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "resources": {"requests": {"storage": "2Gi"}},
                                },
                            },
                        ],
                    }
                },
            },
        },
    ]


def _redis(namespace: str, db: dict, creds: dict, settings: dict) -> list[dict]:
    labels = {"app.kubernetes.io/name": "redis"}
    return [
        credential_secret(namespace, "redis", creds),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("redis", namespace, "redis"),
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": labels},
                "template": _database_pod(
                    labels,
                    settings,
                    {
                        "name": "redis",
                        "image": IMAGES["redis"].format(version=db["version"]),
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
                        "ports": [{"name": "redis", "containerPort": 6379}],
                        "readinessProbe": {"tcpSocket": {"port": 6379}, "periodSeconds": 5},
                        "livenessProbe": {"tcpSocket": {"port": 6379}, "periodSeconds": 10},
                        "resources": _resources("100m", "64Mi", "200m", "128Mi"),
                        "securityContext": _restricted_container(),
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    },
                    [{"name": "data", "emptyDir": {"sizeLimit": "128Mi"}}],
                ),
            },
        },
        _service("redis", namespace, labels, [{"name": "redis", "port": 6379, "targetPort": 6379}]),
    ]


def _mariadb(namespace: str, db: dict, creds: dict, settings: dict) -> list[dict]:
    labels = {"app.kubernetes.io/name": "mariadb"}

    def from_secret(name, key):
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": "mariadb", "key": key}}}

    return [
        credential_secret(namespace, "mariadb", creds),
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta("mariadb", namespace, "mariadb"),
            "spec": {
                "replicas": 1,
                "serviceName": "mariadb",
                "selector": {"matchLabels": labels},
                "template": _database_pod(
                    labels,
                    settings,
                    {
                        "name": "mariadb",
                        "image": IMAGES["mariadb"].format(version=db["version"]),
                        "env": [
                            from_secret("MARIADB_ROOT_PASSWORD", "rootPassword"),
                            from_secret("MARIADB_PASSWORD", "password"),
                            {"name": "MARIADB_DATABASE", "value": "app"},
                            {"name": "MARIADB_USER", "value": "app"},
                        ],
                        "ports": [{"name": "mysql", "containerPort": 3306}],
                        "readinessProbe": {"tcpSocket": {"port": 3306}, "periodSeconds": 5},
                        "livenessProbe": {
                            "tcpSocket": {"port": 3306},
                            "periodSeconds": 10,
                            "initialDelaySeconds": 30,
                        },
                        "resources": _resources("150m", "128Mi", "300m", "256Mi"),
                        "securityContext": _restricted_container(),
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/var/lib/mysql"},
                            {"name": "run", "mountPath": "/run/mysqld"},
                            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a mount path in the pod
                        ],
                    },
                    [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                ),
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": db["storage"]}},
                        },
                    }
                ],
            },
        },
        _service("mariadb", namespace, labels, [{"name": "mysql", "port": 3306, "targetPort": 3306}]),
    ]


def _minio(namespace: str, db: dict, creds: dict, settings: dict) -> list[dict]:
    access, secret = creds["accessKey"], creds["secretKey"]
    return [
        credential_secret(namespace, "minio", creds),
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("minio-env-configuration", namespace, "minio"),
            "type": "Opaque",
            "stringData": {
                "config.env": f'export MINIO_ROOT_USER="{access}"\nexport MINIO_ROOT_PASSWORD="{secret}"\n'
                'export MINIO_BROWSER="off"\n'
            },
        },
        {
            "apiVersion": "minio.min.io/v2",
            "kind": "Tenant",
            "metadata": _meta("minio", namespace, "minio"),
            "spec": {
                "image": IMAGES["minio"].format(version=db["version"]),
                "configuration": {"name": "minio-env-configuration"},
                "requestAutoCert": False,
                "priorityClassName": settings["priority_class"],
                "buckets": [{"name": "app"}],
                "pools": [
                    {
                        "name": "pool-0",
                        "servers": 1,
                        "volumesPerServer": 1,
                        "resources": _resources("100m", "256Mi", "500m", "512Mi"),
                        "volumeClaimTemplate": {
                            "metadata": {"name": "data"},
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": db["storage"]}},
                            },
                        },
                        "containerSecurityContext": _restricted_container() | {"readOnlyRootFilesystem": False},
                    }
                ],
            },
        },
    ]


def _service(name: str, namespace: str, selector: dict, ports: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, name),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [{"protocol": "TCP", **port} for port in ports],
        },
    }


# ------------------------------------------------------------------ app


def app_environment(config: dict, pr: dict, url: str) -> dict:
    """The literal variables of ConfigMap `app-env` (SPEC 4.3)."""
    data = {
        "PORT": str(config["app"]["port"]),
        "PR_NUMBER": str(pr["number"]),
        "COMMIT_SHA": pr.get("head_sha") or "",
        "BRANCH_NAME": pr.get("branch") or "",
        "PREVIEW_URL": url,
    }
    enabled = enabled_databases(config)
    if "mongodb" in enabled:
        data["MONGODB_DATABASE"] = "app"
    if "redis" in enabled:
        data.update(REDIS_HOST="redis", REDIS_PORT="6379")
    if "minio" in enabled:
        data.update(S3_ENDPOINT="http://minio", S3_BUCKET="app")
    if "mariadb" in enabled:
        data.update(MYSQL_HOST="mariadb", MYSQL_PORT="3306", MYSQL_DATABASE="app", MYSQL_USER="app")
    data.update(config["app"]["env"])
    return data


SECRET_ENV = {
    "postgresql": [
        ("DATABASE_URL", "postgresql-app", "uri"),
        ("PGHOST", "postgresql-app", "host"),
        ("PGPORT", "postgresql-app", "port"),
        ("PGDATABASE", "postgresql-app", "dbname"),
        ("PGUSER", "postgresql-app", "user"),
        ("PGPASSWORD", "postgresql-app", "password"),
    ],
    "mongodb": [("MONGODB_URI", "mongodb-app", "connectionString.standard")],
    "redis": [("REDIS_URL", "redis", "url"), ("REDIS_PASSWORD", "redis", "password")],
    "minio": [("S3_ACCESS_KEY", "minio", "accessKey"), ("S3_SECRET_KEY", "minio", "secretKey")],
    "mariadb": [("MYSQL_URL", "mariadb", "url"), ("MYSQL_PASSWORD", "mariadb", "password")],
}


def _app(namespace: str, config: dict, pr: dict, image: str, url: str, settings: dict) -> list[dict]:
    app = config["app"]
    labels = {"app.kubernetes.io/name": "app"}
    env_data = app_environment(config, pr, url)
    env = [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for db in enabled_databases(config)
        for name, secret, key in SECRET_ENV[db]
    ]
    env_from = [{"configMapRef": {"name": "app-env"}}] + [dict(ref) for ref in app["envFrom"]]
    checksum = hashlib.sha256(json.dumps([env_data, env, env_from], sort_keys=True).encode()).hexdigest()
    probe = {"httpGet": {"path": app["healthPath"], "port": "http"}}
    writable = ["/tmp", *app["writableDirs"]]  # noqa: S108 - a mount path in the pod
    volumes = [{"name": f"writable-{index}", "emptyDir": {}} for index in range(len(writable))]
    mounts = [{"name": f"writable-{index}", "mountPath": path} for index, path in enumerate(writable)]
    resources = app["resources"]
    objects = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("app-env", namespace, "app"),
            "data": env_data,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("app", namespace, "app"),
            "spec": {
                "replicas": app["replicas"],
                "revisionHistoryLimit": 3,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": {**MANAGED, **labels}, "annotations": {CHECKSUM_ANNOTATION: checksum}},
                    "spec": {
                        "priorityClassName": settings["priority_class"],
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": _pod_security(settings["app_run_as_user"]),
                        "containers": [
                            {
                                "name": "app",
                                "image": image,
                                "ports": [{"name": "http", "containerPort": app["port"]}],
                                "envFrom": env_from,
                                "env": env,
                                "resources": {
                                    "requests": dict(resources["requests"]),
                                    "limits": dict(resources["limits"]),
                                },
                                "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 24},
                                "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
                                "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                                "securityContext": _restricted_container(),
                                "volumeMounts": mounts,
                            }
                        ],
                        "volumes": volumes,
                    },
                },
            },
        },
        _service("app", namespace, labels, [{"name": "http", "port": app["port"], "targetPort": "http"}]),
    ]
    return objects


def _ingress(namespace: str, config: dict, host: str, settings: dict) -> list[dict]:
    annotations = {
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
        "traefik.ingress.kubernetes.io/router.tls": "true",
        "traefik.ingress.kubernetes.io/router.middlewares": f"{namespace}-app@kubernetescrd",
    }
    tls = {"hosts": [host]}
    if settings["tls_secret"]:
        tls["secretName"] = settings["tls_secret"]
    elif settings["tls_cert_resolver"]:
        annotations["traefik.ingress.kubernetes.io/router.tls.certresolver"] = settings["tls_cert_resolver"]
    annotations.update(config["ingress"]["annotations"])
    return [
        {
            "apiVersion": "traefik.io/v1alpha1",
            "kind": "Middleware",
            "metadata": _meta("app", namespace, "app"),
            "spec": {"headers": {"customResponseHeaders": {"X-Robots-Tag": "noindex, nofollow"}}},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta("app", namespace, "app", annotations=annotations),
            "spec": {
                "ingressClassName": settings["ingress_class"],
                "tls": [tls],
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "app", "port": {"name": "http"}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ]


def _service_monitor(namespace: str, config: dict) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _meta("app", namespace, "app"),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "app"}},
            "endpoints": [
                {"port": "http", "path": config["app"]["metricsPath"], "interval": config["metrics"]["interval"]}
            ],
        },
    }


# ------------------------------------------------------------------ all


def render(
    namespace: str,
    config: dict,
    pr: dict,
    image: str,
    host: str,
    settings: dict,
    api_endpoints: list[dict],
    creds: dict[str, dict[str, str]],
) -> list[dict]:
    """Every object of the environment, in apply order (SPEC 5 step 3)."""
    settings = effective_settings(settings)
    url = f"https://{host}"
    objects = [
        _manifests.namespace(namespace, config, pr),
        _manifests.resource_quota(namespace, config),
        _manifests.limit_range(namespace),
        *network_policies(namespace, config, settings, api_endpoints),
    ]
    builders = {
        "postgresql": lambda db: _postgresql(namespace, db, settings),
        "mongodb": lambda db: _mongodb(namespace, db, creds["mongodb"], settings),
        "redis": lambda db: _redis(namespace, db, creds["redis"], settings),
        "minio": lambda db: _minio(namespace, db, creds["minio"], settings),
        "mariadb": lambda db: _mariadb(namespace, db, creds["mariadb"], settings),
    }
    database_objects = []
    for name in enabled_databases(config):
        database_objects.extend(builders[name](config["databases"][name]))
    # secrets first, then the databases, then the app (SPEC 5 step 3's order)
    objects += [o for o in database_objects if o["kind"] == "Secret"]
    objects += [o for o in database_objects if o["kind"] != "Secret"]
    objects += _app(namespace, config, pr, image, url, settings)
    if config["ingress"]["enabled"]:
        objects += _ingress(namespace, config, host, settings)
    if config["metrics"]["enabled"]:
        objects.append(_service_monitor(namespace, config))
    return objects


def secret_values(objects: list[dict]) -> list[str]:
    """Every secret string in `objects`, to keep out of output."""
    values = []
    for obj in objects:
        if obj["kind"] == "Secret":
            for value in (obj.get("stringData") or {}).values():
                values.append(value)
    return values
