"""What the admission policies of role platform compare against is what pr_up renders."""

import pathlib

import pytest
import yaml

from ansible_collections.k8s_ee.platform.plugins.module_utils import _admission, _quota, _render

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "platform"
SERVICE = {"spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "ports": [{"name": "https", "port": 443}]}}


def test_role_platform_defaults_are_pr_ups_defaults():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["platform_environment_settings"]
    assert defaults == {key: _render.DEFAULT_SETTINGS[key] for key in _admission.SETTINGS}


def test_settings_merge_over_pr_ups_defaults():
    merged = _admission.settings({"internet_egress": False})
    assert merged == {**_render.DEFAULT_SETTINGS, "internet_egress": False}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ingress_clas": "nginx"}, "ingress_clas: is not a setting of pr_up"),
        ({"internet_egress": "no"}, "internet_egress: 'no' is not valid: must be true or false"),
        ({"dns_pod_labels": {}}, "dns_pod_labels: {} is not valid"),
        ({"operator_namespaces": {"redis": "x"}}, "operator_namespaces: {'redis': 'x'} is not valid"),
        ({"ingress_namespace": ""}, "ingress_namespace: '' is not valid: must be a non-empty name"),
    ],
)
def test_bad_settings_name_the_key_and_value(overrides, message):
    with pytest.raises(_admission.AdmissionSettingsError, match="^" + message.replace("{", r"\{").replace("(", r"\(")):
        _admission.settings(overrides)


def test_quota_ceiling_and_limit_range_come_from_the_quota_code():
    params = _admission.parameters({}, SERVICE)
    assert params["quota"] == {"name": "environment-quota", "ceiling": _quota.quota_ceiling()}
    assert params["limit_range"]["name"] == "environment-limits"
    assert params["limit_range"]["spec_cel"].startswith('{"limits": dyn([dyn({"type": dyn("Container")')


def test_network_policy_names_are_the_six_pr_up_renders():
    params = _admission.parameters({}, SERVICE)["network_policies"]
    assert params["names"] == [
        "default-deny",
        "allow-same-namespace",
        "allow-ingress-controller",
        "allow-observability",
        "allow-egress",
        "allow-operators",
    ]
    assert params["api_service_cel"] == '[dyn({"cidr": dyn("10.96.0.1/32"), "port": dyn(443)})]'
    assert params["private_ranges"] == _render.PRIVATE_RANGES
    assert params["internet"] is True
    assert _admission.parameters({"internet_egress": False}, SERVICE)["network_policies"]["internet"] is False


def test_network_policy_peers_follow_the_settings():
    params = _admission.parameters({"ingress_namespace": "ingress", "ingress_pod_labels": {"app": "nginx"}}, SERVICE)
    peers = params["network_policies"]["ingress_peers_cel"]
    assert '"kubernetes.io/metadata.name": dyn("ingress")' in peers and '"app": dyn("nginx")' in peers
    assert '"cnpg-system"' in params["network_policies"]["operator_rules_cel"]


def test_ingress_annotations_are_the_rendered_ones():
    ingress = _admission.parameters({}, SERVICE)["ingress"]
    assert ingress["expected_cel"] == (
        '{"traefik.ingress.kubernetes.io/router.entrypoints": "websecure", '
        '"traefik.ingress.kubernetes.io/router.tls": "true", '
        '"traefik.ingress.kubernetes.io/router.tls.certresolver": "letsencrypt", '
        '"traefik.ingress.kubernetes.io/router.middlewares": "" + namespaceObject.metadata.name + "-app@kubernetescrd"}'
    )
    # with a wildcard certificate Secret pr_up renders no resolver, so none is allowed
    wildcard = _admission.parameters({"tls_secret": "wildcard"}, SERVICE)["ingress"]
    assert "certresolver" not in wildcard["expected_cel"]
    assert "traefik.ingress.kubernetes.io/router.tls.certresolver" in wildcard["governed"]


def test_cel_literals_wrap_every_value():
    assert _admission.cel({"port": 53, "protocol": "UDP"}) == '{"port": dyn(53), "protocol": dyn("UDP")}'
    assert _admission.cel([]) == "[]"
    assert _admission.cel({"a": {}}) == '{"a": dyn({})}'
    assert _admission.cel('say "hi"') == '"say \\"hi\\""'


def test_api_service_without_an_address_is_an_error():
    with pytest.raises(_admission.AdmissionSettingsError, match="api_service: the Service default/kubernetes"):
        _admission.parameters({}, {"spec": {"clusterIP": "None", "ports": [{"port": 443}]}})
    dual = {"spec": {"clusterIPs": ["10.96.0.1", "fd00::1"], "ports": [{"port": 443}]}}
    assert [a["cidr"] for a in _admission.api_service_addresses(dual)] == ["10.96.0.1/32", "fd00::1/128"]


def test_preserve_bound_is_the_preserve_commands_maximum_plus_clock_skew():
    from ansible_collections.k8s_ee.platform.plugins.module_utils._preserve import MAX_HOURS

    assert _admission.parameters({}, SERVICE)["preserve"] == {"max_hours": MAX_HOURS, "bound": f"{MAX_HOURS}h5m"}


def test_ingress_annotations_without_traefik_s_middleware_kind():
    """Where the cluster serves no middlewares.traefik.io, pr_up names no Middleware, so the policy requires none and
    still refuses one (router.middlewares stays governed: expected absent)."""
    ingress = _admission.parameters({}, SERVICE, traefik_middleware=False)["ingress"]
    assert "router.middlewares" not in ingress["expected_cel"]
    assert "traefik.ingress.kubernetes.io/router.middlewares" in ingress["governed"]


def test_ingress_annotations_for_ingress_nginx_and_the_operator_s_own():
    settings = {"ingress_class": "nginx", "ingress_annotations": {"cert-manager.io/cluster-issuer": "le"}}
    ingress = _admission.parameters(settings, SERVICE)["ingress"]
    assert ingress["class"] == "nginx"
    assert ingress["expected_cel"] == (
        '{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true", '
        '"nginx.ingress.kubernetes.io/custom-headers": "" + namespaceObject.metadata.name + "/app-response-headers", '
        '"cert-manager.io/cluster-issuer": "le"}'
    )
    assert "cert-manager.io/cluster-issuer" in ingress["governed"]
    for prefix in ("ssl-", "auth-", "proxy-ssl-", "mirror-", "permanent-redirect", "server-alias"):
        assert "nginx.ingress.kubernetes.io/" + prefix in ingress["refused_prefixes"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"ingress_controller": "contour"},
            "ingress_controller: 'contour' is not valid: must be one of traefik, ingress-nginx, none",
        ),
        (
            {"ingress_annotations": {"cert-manager.io/cluster-issuer": True}},
            "ingress_annotations: {'cert-manager.io/cluster-issuer': True} is not valid: must be a mapping of "
            "annotation names to strings (quote numbers and booleans)",
        ),
        (
            {"ingress_annotations": ["a"]},
            "ingress_annotations: ['a'] is not valid: must be a mapping of annotation names to strings",
        ),
    ],
)
def test_ingress_settings_are_checked(settings, message):
    with pytest.raises(_admission.AdmissionSettingsError) as raised:
        _admission.parameters(settings, SERVICE)
    assert str(raised.value).startswith(message)
