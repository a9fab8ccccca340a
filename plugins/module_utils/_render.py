# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object of one environment, rendered from the normalised configuration: the frame (namespace, quota,
limit range, the six network policies of docs/security.md), each enabled database's objects (`_databases`), the
app, its Ingress and ServiceMonitor. docs/pr-lifecycle.md ("What pr_up does") lists them in apply order.

`render()` returns the objects in apply order. Nothing here talks to a cluster: the caller passes
the facts discovered at run time (API endpoints) and the credentials to use (kept from the live
Secrets, generated only on first deploy).
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.k8s_ee.platform.plugins.module_utils import _manifests
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import enabled_databases
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import (
    CREDENTIAL_SECRETS,
    OPERATOR_NAMESPACES,
    REGISTRY,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._naming import ANNOTATION_CONFIG_CHECKSUM
from ansible_collections.k8s_ee.platform.plugins.module_utils._objects import (
    MANAGED,
    meta,
    pod_security,
    restricted_container,
    service,
)

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]

# The operator settings (`k8s_ee_settings`, docs/pr-lifecycle.md "Operator settings").
DEFAULT_SETTINGS = {
    "ingress_class": "traefik",
    # which controller serves ingress_class, so which annotations keep previews HTTPS-only and noindex
    # (docs/platform.md, "Other ingress controllers"): traefik, ingress-nginx or none; empty: traefik for class
    # traefik, ingress-nginx for class nginx, none for any other class
    "ingress_controller": "",
    # annotations the platform puts on every environment's Ingress besides the controller's own (e.g. a cert-manager
    # issuer); k8s-ee.yaml cannot override them
    "ingress_annotations": {},
    "ingress_namespace": "kube-system",
    "ingress_pod_labels": {"app.kubernetes.io/name": "traefik"},
    "tls_cert_resolver": "letsencrypt",
    "tls_secret": "",
    "dns_namespace": "kube-system",
    "dns_pod_labels": {"k8s-app": "kube-dns"},
    "observability_namespace": "observability",
    "prometheus_pod_labels": {"app.kubernetes.io/name": "prometheus"},
    # where role operators installs each database operator (role platform creates the namespaces):
    # NetworkPolicy allow-operators admits them
    "operator_namespaces": dict(OPERATOR_NAMESPACES),
    "internet_egress": True,
    "priority_class": "default-app",
    # the app runs as this non-root user whatever the image's USER is (runAsNonRoot needs a numeric user)
    "app_run_as_user": 10001,
}


# What every preview answers with: search engines keep previews out of their indexes.
NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}
CONTROLLERS = ("traefik", "ingress-nginx", "none")
_CONTROLLER_OF_CLASS = {"traefik": "traefik", "nginx": "ingress-nginx"}
TRAEFIK = "traefik.ingress.kubernetes.io/"
NGINX = "nginx.ingress.kubernetes.io/"
# ingress-nginx: the environment's ConfigMap of response headers, named by its `custom-headers` annotation
RESPONSE_HEADERS = "app-response-headers"


class SettingsError(ValueError):
    """An operator setting pr_up cannot use; the message names the setting, the value and the fix."""


def ingress_controller(settings: dict) -> str:
    """The controller whose annotations the Ingress carries: settings.ingress_controller, or the one of the class."""
    chosen = settings.get("ingress_controller") or _CONTROLLER_OF_CLASS.get(settings["ingress_class"], "none")
    if chosen not in CONTROLLERS:
        raise SettingsError(
            f"settings.ingress_controller: {chosen!r} is not valid: must be one of {', '.join(CONTROLLERS)} "
            "(or empty to follow ingress_class); set none for another controller and give its annotations in "
            "settings.ingress_annotations"
        )
    return chosen


def ingress_annotation_problems(config: dict, settings: dict) -> list[str]:
    """k8s-ee.yaml's ingress.annotations may not name an annotation of settings.ingress_annotations (the schema
    refuses the controllers' own; these are the operator's, known only at run time)."""
    platform = settings.get("ingress_annotations") or {}
    if not isinstance(platform, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in platform.items()
    ):
        return [
            f"settings.ingress_annotations: {platform!r} is not valid: must be a mapping of annotation names to "
            "strings (quote numbers and booleans)"
        ]
    wanted = {key.lower() for key in platform}
    return [
        f"ingress.annotations.{key}: is set by the platform (settings.ingress_annotations); remove it"
        for key in (config.get("ingress") or {}).get("annotations") or {}
        if key.lower() in wanted
    ]


def effective_settings(settings: dict | None) -> dict:
    """The operator's settings over DEFAULT_SETTINGS; `operator_namespaces` is merged per database, so naming one
    operator's namespace keeps the others' defaults."""
    settings = settings or {}
    merged = {**DEFAULT_SETTINGS, **settings}
    merged["operator_namespaces"] = {**OPERATOR_NAMESPACES, **(settings.get("operator_namespaces") or {})}
    return merged


def credentials(enabled: list[str], live: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Credentials per database that has generated ones: the live Secret's values where they exist, new ones
    otherwise (docs/pr-lifecycle.md, "Generated credentials are created once")."""
    return {db: REGISTRY[db].credentials(live.get(db)) for db in enabled if REGISTRY[db].credentials_name}


def credential_secret(namespace: str, db: str, creds: dict[str, str]) -> dict:
    """The Secret of `db`'s generated credentials: the credentials and what is made of them alone (connection URLs)."""
    return REGISTRY[db].secret(namespace, creds)


def is_credential_secret(obj: dict) -> bool:
    return obj["kind"] == "Secret" and obj["metadata"]["name"] in CREDENTIAL_SECRETS.values()


# ------------------------------------------------------------------ network policies


def network_policies(namespace: str, config: dict, settings: dict, api_endpoints: list[dict]) -> list[dict]:
    enabled = enabled_databases(config)
    every_pod = {}
    app_port = config["app"]["port"]

    def policy(name, spec):
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta(name, namespace, "network-policy"),
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

    observed_ports = [app_port] + [REGISTRY[db].exporter_port for db in enabled if REGISTRY[db].exporter_port]
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
        operator = REGISTRY[db].operator
        if operator and settings["operator_namespaces"].get(db):
            operator_rules.append(
                {
                    "from": [{"namespaceSelector": ns_selector(settings["operator_namespaces"][db])}],
                    "ports": [{"protocol": "TCP", "port": p} for p in operator.ports],
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


# ------------------------------------------------------------------ app


def app_environment(config: dict, pr: dict, url: str) -> dict:
    """The literal variables of ConfigMap `app-env` (docs/adopting.md, "What the app receives")."""
    data = {
        "PORT": str(config["app"]["port"]),
        "PR_NUMBER": str(pr["number"]),
        "COMMIT_SHA": pr.get("head_sha") or "",
        "BRANCH_NAME": pr.get("branch") or "",
        "PREVIEW_URL": url,
    }
    for db in enabled_databases(config):
        data.update(REGISTRY[db].app_env)
    data.update(config["app"]["env"])
    return data


def _app(namespace: str, config: dict, pr: dict, image: str, url: str, settings: dict) -> list[dict]:
    app = config["app"]
    labels = {"app.kubernetes.io/name": "app"}
    env_data = app_environment(config, pr, url)
    env = [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for db in enabled_databases(config)
        for name, secret, key in REGISTRY[db].secret_env
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
            "metadata": meta("app-env", namespace, "app"),
            "data": env_data,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta("app", namespace, "app"),
            "spec": {
                "replicas": app["replicas"],
                "revisionHistoryLimit": 3,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {
                        "labels": {**MANAGED, **labels},
                        "annotations": {ANNOTATION_CONFIG_CHECKSUM: checksum},
                    },
                    "spec": {
                        "priorityClassName": settings["priority_class"],
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": pod_security(settings["app_run_as_user"]),
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
                                "securityContext": restricted_container(),
                                "volumeMounts": mounts,
                            }
                        ],
                        "volumes": volumes,
                    },
                },
            },
        },
        service("app", namespace, labels, [{"name": "http", "port": app["port"], "targetPort": "http"}]),
    ]
    return objects


def _ingress(namespace: str, config: dict, host: str, settings: dict, traefik_middleware: bool = True) -> list[dict]:
    """The Ingress and what makes it HTTPS-only and noindex for the controller in use (docs/platform.md, "Other ingress
    controllers"): Traefik's router annotations and, where the cluster serves Traefik's Middleware kind
    (`traefik_middleware`), a headers Middleware; for ingress-nginx its redirect annotation and a ConfigMap of
    response headers; for any other controller only settings.ingress_annotations. The operator's annotations win over
    k8s-ee.yaml's, which the schema keeps off the controllers' own."""
    controller = ingress_controller(settings)
    annotations = dict(config["ingress"]["annotations"])
    tls = {"hosts": [host]}
    if settings["tls_secret"]:
        tls["secretName"] = settings["tls_secret"]
    objects = []
    if controller == "traefik":
        annotations[TRAEFIK + "router.entrypoints"] = "websecure"
        annotations[TRAEFIK + "router.tls"] = "true"
        if traefik_middleware:
            annotations[TRAEFIK + "router.middlewares"] = f"{namespace}-app@kubernetescrd"
            objects.append(
                {
                    "apiVersion": "traefik.io/v1alpha1",
                    "kind": "Middleware",
                    "metadata": meta("app", namespace, "app"),
                    "spec": {"headers": {"customResponseHeaders": dict(NOINDEX)}},
                }
            )
        if not settings["tls_secret"] and settings["tls_cert_resolver"]:
            annotations[TRAEFIK + "router.tls.certresolver"] = settings["tls_cert_resolver"]
    elif controller == "ingress-nginx":
        annotations[NGINX + "force-ssl-redirect"] = "true"
        annotations[NGINX + "custom-headers"] = f"{namespace}/{RESPONSE_HEADERS}"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta(RESPONSE_HEADERS, namespace, "app"),
                "data": dict(NOINDEX),
            }
        )
    annotations.update(settings.get("ingress_annotations") or {})
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("app", namespace, "app", annotations=annotations),
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
        }
    )
    return objects


def _service_monitor(namespace: str, config: dict) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": meta("app", namespace, "app"),
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
    traefik_middleware: bool = True,
) -> list[dict]:
    """Every object of the environment, in apply order (docs/pr-lifecycle.md, "What pr_up does", step 3).
    `traefik_middleware`: whether the cluster serves Traefik's Middleware kind (see `_ingress`)."""
    settings = effective_settings(settings)
    url = f"https://{host}"
    objects = [
        _manifests.namespace(namespace, config, pr),
        _manifests.resource_quota(namespace, config),
        _manifests.limit_range(namespace),
        *network_policies(namespace, config, settings, api_endpoints),
    ]
    database_objects = []
    for name in enabled_databases(config):
        database = REGISTRY[name]
        database_objects.extend(database.render(namespace, config["databases"][name], creds.get(name), settings))
    # secrets first, then the databases, then the app (docs/pr-lifecycle.md, "What pr_up does", step 3)
    objects += [o for o in database_objects if o["kind"] == "Secret"]
    objects += [o for o in database_objects if o["kind"] != "Secret"]
    objects += _app(namespace, config, pr, image, url, settings)
    if config["ingress"]["enabled"]:
        objects += _ingress(namespace, config, host, settings, traefik_middleware)
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
