# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the admission policies of role platform allow in environment namespaces, derived from what pr_up renders.

The policies (ValidatingAdmissionPolicies in `roles/platform/templates/objects.yml.j2`) must allow exactly the
objects pr_up renders and nothing looser. Everything they compare against is computed here from the code that
renders those objects (`_render`, `_quota`, `_limits`) and the operator settings pr_up runs with
(`k8s_ee_settings`, defaults `_render.DEFAULT_SETTINGS`), so the two cannot drift apart. Structured values are
returned as CEL literals (`cel`) because CEL cannot type-check a JSON object whose values have different types.
"""

from __future__ import annotations

import json

from ansible_collections.k8s_ee.platform.plugins.module_utils import _databases, _render
from ansible_collections.k8s_ee.platform.plugins.module_utils._config import largest_config
from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import LIMIT_RANGE_NAME, limit_range_spec
from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import MAX_HOURS
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import QUOTA_NAME, quota_ceiling

# The settings of pr_up that shape what admission allows (the rest, e.g. app_run_as_user, do not).
SETTINGS = (
    "ingress_class",
    "ingress_controller",
    "ingress_annotations",
    "ingress_namespace",
    "ingress_pod_labels",
    "tls_cert_resolver",
    "tls_secret",
    "dns_namespace",
    "dns_pod_labels",
    "observability_namespace",
    "prometheus_pod_labels",
    "operator_namespaces",
    "internet_egress",
)

# Traefik Middleware kinds (keys of `spec`) allowed in environments: what pr_up renders (headers) and kinds that only
# rewrite or answer the request inside Traefik. Refused, among others: forwardAuth (calls an address), errors (calls
# a Service), plugin (runs code), chain (pulls in other middlewares, also @file and other namespaces), rateLimit
# (may call Redis), basicAuth/digestAuth (read Secrets), buffering (Traefik memory and disk), redirectRegex (turns
# a preview host into an open redirect).
MIDDLEWARE_KINDS = (
    "headers",
    "addPrefix",
    "stripPrefix",
    "stripPrefixRegex",
    "replacePath",
    "replacePathRegex",
    "redirectScheme",
    "compress",
    "contentType",
    "encodedCharacters",
    "grpcWeb",
    "ipAllowList",
    "inFlightReq",
)

TRAEFIK = _render.TRAEFIK
NGINX = _render.NGINX
# Ingress annotations Traefik reads that choose where and how the router listens, which TLS it uses and what it calls,
# and those ingress-nginx reads for the HTTPS redirect and the response headers (noindex). Each must be what pr_up
# renders: equal to its value where pr_up sets it, absent where it does not. The keys of settings.ingress_annotations
# are governed, too.
INGRESS_GOVERNED = tuple(
    TRAEFIK + key
    for key in (
        "router.entrypoints",
        "router.tls",
        "router.tls.certresolver",
        "router.tls.options",
        "router.middlewares",
        "service.serverstransport",
    )
) + tuple(NGINX + key for key in ("force-ssl-redirect", "custom-headers"))
# Key prefixes pr_up never renders (unless settings.ingress_annotations names the key): extra certificate domains for
# Traefik's resolver, switching off access logs, metrics and tracing of the router; for ingress-nginx, TLS settings
# (ssl-redirect, ssl-passthrough, ciphers), calls to addresses and Secrets of other namespaces (auth-*, proxy-ssl-*),
# copies of requests (mirror-*), redirects elsewhere and other hosts (server-alias). A key holding "snippet" (any
# controller's configuration snippets) is refused by the policy itself.
_NGINX_REFUSED = ("ssl-", "auth-", "proxy-ssl-", "mirror-", "permanent-redirect", "temporal-redirect", "server-alias")
INGRESS_REFUSED_PREFIXES = (
    TRAEFIK + "router.tls.domains.",
    TRAEFIK + "router.observability.",
    *(NGINX + key for key in _NGINX_REFUSED),
)
# The legacy class annotation (an Ingress could otherwise pick another controller).
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
# On a Service, Traefik reads the ServersTransport (backend TLS settings, client certificates) from this annotation.
SERVICE_REFUSED = (TRAEFIK + "service.serverstransport",)

# How far the clock of the machine running the preserve command may be ahead of the API server's.
PRESERVE_CLOCK_SKEW_MINUTES = 5

_NAMESPACE = "k8s-ee-admission-namespace"


class AdmissionSettingsError(ValueError):
    """A setting that cannot be turned into admission rules; the message names the key, the value and the fix."""


def _check(merged: dict) -> None:
    def fail(key, rule):
        raise AdmissionSettingsError(f"{key}: {merged[key]!r} is not valid: must be {rule}")

    for key in ("ingress_class", "ingress_namespace", "dns_namespace", "observability_namespace"):
        if not isinstance(merged[key], str) or not merged[key]:
            fail(key, "a non-empty name")
    for key in ("tls_cert_resolver", "tls_secret"):
        if not isinstance(merged[key], str):
            fail(key, "a string (empty for none)")
    for key in ("ingress_pod_labels", "dns_pod_labels", "prometheus_pod_labels"):
        value = merged[key]
        if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
            fail(key, "a non-empty mapping of label names to string values")
    operators = merged["operator_namespaces"]
    if not isinstance(operators, dict) or not all(
        db in _databases.OPERATOR_NAMESPACES and isinstance(ns, str) for db, ns in operators.items()
    ):
        fail("operator_namespaces", f"a mapping of {', '.join(sorted(_databases.OPERATOR_NAMESPACES))} to namespaces")
    if not isinstance(merged["internet_egress"], bool):
        fail("internet_egress", "true or false")
    try:
        _render.ingress_controller(merged)
    except _render.SettingsError as exc:
        raise AdmissionSettingsError(str(exc).removeprefix("settings.")) from None
    annotations = merged["ingress_annotations"]
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in annotations.items()
    ):
        fail("ingress_annotations", "a mapping of annotation names to strings (quote numbers and booleans)")


def settings(overrides: dict | None) -> dict:
    """`_render.DEFAULT_SETTINGS` with `overrides` (the k8s_ee_settings of pr_up); raises AdmissionSettingsError."""
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise AdmissionSettingsError(f"settings: {overrides!r} is not a mapping of pr_up settings")
    unknown = sorted(set(overrides) - set(_render.DEFAULT_SETTINGS))
    if unknown:
        raise AdmissionSettingsError(
            f"{unknown[0]}: is not a setting of pr_up; use the keys of k8s_ee_settings "
            f"({', '.join(sorted(_render.DEFAULT_SETTINGS))})"
        )
    merged = {**_render.DEFAULT_SETTINGS, **overrides}
    _check(merged)
    return merged


def cel(value) -> str:
    """A CEL literal of a JSON value. Every map value and list element is wrapped in dyn(), so maps and lists
    whose values differ in type (a port number beside a protocol name) type-check."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: dyn({cel(v)})" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(f"dyn({cel(v)})" for v in value) + "]"
    return json.dumps(value)


def _with_namespace(text: str) -> str:
    """A CEL string expression for `text`, where the rendering placeholder becomes the request's namespace."""
    parts = text.split(_NAMESPACE)
    return " + namespaceObject.metadata.name + ".join(json.dumps(part) for part in parts)


def api_service_addresses(service: dict | None) -> list[dict]:
    """The `kubernetes` Service's addresses as pr_up renders them in `allow-egress` (cidr and port)."""
    spec = (service or {}).get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ips = [ip for ip in ips if ip and ip != "None"]
    if not ips or not spec.get("ports"):
        raise AdmissionSettingsError(
            "api_service: the Service default/kubernetes has no cluster IP or port; the API server publishes it, "
            "so check that the kubeconfig points at a working cluster"
        )
    return [{"cidr": _render._host_cidr(ip), "port": int(port["port"])} for ip in ips for port in spec["ports"]]


def parameters(overrides: dict | None, api_service: dict | None = None, traefik_middleware: bool = True) -> dict:
    """Everything the policies compare against (see the module docstring). `traefik_middleware`: whether the cluster
    serves Traefik's Middleware kind, which decides whether pr_up names one on the Ingress."""
    merged = settings(overrides)
    config = largest_config()  # every database enabled, so every operator rule is rendered
    rendered = {p["metadata"]["name"]: p["spec"] for p in _render.network_policies(_NAMESPACE, config, merged, [])}
    own_pods = {"podSelector": {}}

    def peers(name):
        return [peer for rule in rendered[name].get("ingress", []) for peer in rule["from"]]

    egress = rendered["allow-egress"]["egress"]
    dns_rule = next(rule for rule in egress if "namespaceSelector" in rule["to"][0])
    internet = [rule["to"][0] for rule in egress if "ipBlock" in rule["to"][0]]
    config["ingress"]["annotations"] = {}
    ingress = _render._ingress(_NAMESPACE, config, f"{_NAMESPACE}.example.com", merged, traefik_middleware)[-1]
    annotations = ingress["metadata"]["annotations"]
    governed = list(INGRESS_GOVERNED) + [key for key in merged["ingress_annotations"] if key not in INGRESS_GOVERNED]
    expected = {key: annotations[key] for key in governed if key in annotations}
    expected_cel = "{" + ", ".join(f"{json.dumps(k)}: {_with_namespace(v)}" for k, v in expected.items()) + "}"
    return {
        "settings": merged,
        "quota": {"name": QUOTA_NAME, "ceiling": quota_ceiling()},
        "limit_range": {"name": LIMIT_RANGE_NAME, "spec": limit_range_spec(), "spec_cel": cel(limit_range_spec())},
        "network_policies": {
            "names": list(rendered),
            "policy_types_cel": cel({name: spec["policyTypes"] for name, spec in rendered.items()}),
            # ingress peers per policy; allow-operators is compared rule by rule (each operator on its ports)
            "ingress_peers_cel": cel({name: peers(name) for name in rendered if name != "allow-operators"}),
            "operator_rules_cel": cel(rendered["allow-operators"].get("ingress", [])),
            "own_pods_cel": cel(own_pods),
            "dns_peer_cel": cel(dns_rule["to"][0]),
            "dns_ports_cel": cel(dns_rule["ports"]),
            "internet": bool(internet),
            "private_ranges": list(_render.PRIVATE_RANGES),
            "api_service_cel": cel(api_service_addresses(api_service)) if api_service is not None else "[]",
        },
        "ingress": {
            "class": merged["ingress_class"],
            "governed": governed,
            "expected_cel": expected_cel,
            "refused_prefixes": list(INGRESS_REFUSED_PREFIXES),
            "class_annotation": INGRESS_CLASS_ANNOTATION,
        },
        "service_refused_annotations": list(SERVICE_REFUSED),
        "middleware_kinds": list(MIDDLEWARE_KINDS),
        # a new k8s-ee/preserve-until is at most this far ahead of the request's time (CEL duration)
        "preserve": {"max_hours": MAX_HOURS, "bound": f"{MAX_HOURS}h{PRESERVE_CLOCK_SKEW_MINUTES}m"},
    }
