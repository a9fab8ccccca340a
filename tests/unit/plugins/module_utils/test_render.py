import pathlib

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _render
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

PR = {
    "repository": "acme/shop",
    "number": 7,
    "head_sha": "c" * 40,
    "branch": "feat/x",
    "author": "dev",
    "now": "2026-01-01T00:00:00Z",
}
IMAGE = "registry.example/shop@sha256:" + "1" * 64
ENDPOINTS = [{"ip": "10.96.0.1", "port": 443}, {"ip": "192.0.2.10", "port": 6443}]
REPO = pathlib.Path(__file__).resolve().parents[4]
ALL = {"postgresql": True, "mongodb": True, "redis": True, "minio": True, "mariadb": True}


def render(data, settings=None, creds=None):
    config = _config.normalise({"projectId": "shop", **data})
    enabled = _config.enabled_databases(config)
    creds = creds if creds is not None else _render.credentials(enabled, {})
    return _render.render("shop-pr-7", config, PR, IMAGE, "shop-pr-7.example.com", settings or {}, ENDPOINTS, creds)


def by(objects, kind, name):
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_order_and_names():
    objects = render({"databases": ALL, "metrics": {"enabled": True}})
    kinds = [o["kind"] for o in objects]
    assert kinds[:3] == ["Namespace", "ResourceQuota", "LimitRange"]
    assert kinds[3:9] == ["NetworkPolicy"] * 6
    first_secret, last_secret = kinds.index("Secret"), len(kinds) - 1 - kinds[::-1].index("Secret")
    assert last_secret < kinds.index("Cluster") < kinds.index("Deployment")
    assert first_secret > 8
    assert kinds[-4:] == ["Service", "Middleware", "Ingress", "ServiceMonitor"]
    assert {
        o["metadata"]["name"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet", "Cluster", "MongoDBCommunity", "Tenant")
    } == {"app", "redis", "mariadb", "postgresql", "mongodb", "minio"}
    assert all(o["metadata"].get("namespace") == "shop-pr-7" for o in objects[1:])


def test_network_policies():
    objects = render({"databases": {"postgresql": True}})
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert list(policies) == [
        "default-deny",
        "allow-same-namespace",
        "allow-ingress-controller",
        "allow-observability",
        "allow-egress",
        "allow-operators",
    ]
    assert all(p["podSelector"] == {} for p in policies.values())
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = policies["allow-ingress-controller"]["ingress"][0]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 3000}]
    assert ingress["from"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    egress = policies["allow-egress"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 443}]} in egress
    assert {"to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]} in egress
    internet = egress[-1]["to"][0]["ipBlock"]
    assert (
        internet["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in internet["except"] and "100.64.0.0/10" in internet["except"]
    )
    assert policies["allow-operators"]["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}],
            "ports": [{"protocol": "TCP", "port": 8000}],
        }
    ]
    observed = policies["allow-observability"]["ingress"][0]["ports"]
    assert observed == [{"protocol": "TCP", "port": 3000}, {"protocol": "TCP", "port": 9187}]


def test_internet_egress_can_be_disabled():
    objects = render({}, settings={"internet_egress": False})
    egress = by(objects, "NetworkPolicy", "allow-egress")["spec"]["egress"]
    assert not any("0.0.0.0/0" in str(rule) for rule in egress)


def test_app_environment_and_security():
    objects = render(
        {
            "databases": ALL,
            "app": {
                "env": {"LOG_LEVEL": "debug"},
                "writableDirs": ["/app/cache"],
                "envFrom": [{"secretRef": {"name": "extra"}}],
                "replicas": 2,
            },
        }
    )
    env = by(objects, "ConfigMap", "app-env")["data"]
    assert env["PORT"] == "3000" and env["PR_NUMBER"] == "7" and env["COMMIT_SHA"] == "c" * 40
    assert env["BRANCH_NAME"] == "feat/x" and env["PREVIEW_URL"] == "https://shop-pr-7.example.com"
    assert env["LOG_LEVEL"] == "debug" and env["S3_BUCKET"] == "app" and env["MYSQL_USER"] == "app"
    deployment = by(objects, "Deployment", "app")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    secret_env = {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container["env"]
    }
    assert secret_env["DATABASE_URL"] == ("postgresql-app", "uri")
    assert secret_env["PGPASSWORD"] == ("postgresql-app", "password")
    assert secret_env["MONGODB_URI"] == ("mongodb-app", "connectionString.standard")
    assert secret_env["REDIS_PASSWORD"] == ("redis", "password")
    assert secret_env["S3_SECRET_KEY"] == ("minio", "secretKey")
    assert secret_env["MYSQL_URL"] == ("mariadb", "url")
    # every name the schema reserves for the platform is set when everything is enabled
    assert {*env, *secret_env} == set(SCHEMA["$defs"]["reservedEnv"]["enum"]) | {"LOG_LEVEL"}
    assert container["envFrom"] == [{"configMapRef": {"name": "app-env"}}, {"secretRef": {"name": "extra"}}]
    assert deployment["spec"]["replicas"] == 2
    assert pod["priorityClassName"] == "default-app"
    assert container["image"] == IMAGE
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp", "/app/cache"]
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 120
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_the_migrations_guide_states_the_probes_termination_and_rollout_as_rendered():
    """docs/database-migrations.md tells an app how long its entrypoint may migrate: the numbers rendered here."""
    deployment = by(render({}), "Deployment", "app")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    startup, ready, live = (container[probe] for probe in ("startupProbe", "readinessProbe", "livenessProbe"))
    assert ready["failureThreshold"] == live["failureThreshold"]
    guide = (REPO / "docs" / "database-migrations.md").read_text()
    for text in (
        f"every {startup['periodSeconds']} s; {startup['failureThreshold']} failures "
        f"(about **{startup['periodSeconds'] * startup['failureThreshold']} s**",
        f"every {ready['periodSeconds']} s / {live['periodSeconds']} s, {ready['failureThreshold']} failures each",
        f"the {container['lifecycle']['preStop']['sleep']['seconds']} s `preStop`",
        f"SIGKILL {pod['terminationGracePeriodSeconds']} s after",
        "`maxSurge: {maxSurge}`, `maxUnavailable: {maxUnavailable}`".format(
            **deployment["spec"]["strategy"]["rollingUpdate"]
        ),
        f"about {startup['periodSeconds'] * startup['failureThreshold']} s**, whatever `k8s_ee_timeout` says",
    ):
        assert text in guide, text
    pr_up = (REPO / "playbooks" / "pr_up.yml").read_text()
    assert 'timeout: "{{ _k8s_ee_timeout | default(600, true) | int }}"' in pr_up
    assert "`k8s_ee_timeout`, default **600 s**" in guide


def test_config_change_rolls_pods():
    def checksum(data):
        return by(render(data), "Deployment", "app")["spec"]["template"]["metadata"]["annotations"][
            "k8s-ee/config-checksum"
        ]

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"app": {"env": {"A": "b"}}})
    assert checksum({}) != checksum({"databases": {"redis": True}})


def test_ingress():
    objects = render({"ingress": {"annotations": {"traefik.ingress.kubernetes.io/router.priority": "10", "x/y": "z"}}})
    ingress = by(objects, "Ingress", "app")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
    # the app's own annotations are merged in; those that would override TLS, entry points or middlewares are
    # refused by the schema (test_config), so the platform's stay
    assert annotations["traefik.ingress.kubernetes.io/router.priority"] == "10"
    assert annotations["traefik.ingress.kubernetes.io/router.tls"] == "true"
    assert annotations["x/y"] == "z"
    assert annotations["traefik.ingress.kubernetes.io/router.tls.certresolver"] == "letsencrypt"
    assert annotations["traefik.ingress.kubernetes.io/router.middlewares"] == "shop-pr-7-app@kubernetescrd"
    assert ingress["spec"]["rules"][0]["host"] == "shop-pr-7.example.com"
    assert ingress["spec"]["ingressClassName"] == "traefik"
    middleware = by(objects, "Middleware", "app")
    assert middleware["spec"]["headers"]["customResponseHeaders"]["X-Robots-Tag"].startswith("noindex")
    wildcard = by(render({}, settings={"tls_secret": "wildcard-tls"}), "Ingress", "app")
    assert wildcard["spec"]["tls"] == [{"hosts": ["shop-pr-7.example.com"], "secretName": "wildcard-tls"}]
    assert "traefik.ingress.kubernetes.io/router.tls.certresolver" not in wildcard["metadata"]["annotations"]


def test_ingress_disabled_means_no_ingress():
    kinds = {o["kind"] for o in render({"ingress": {"enabled": False}})}
    assert "Ingress" not in kinds and "Middleware" not in kinds


def test_database_objects_use_the_configuration():
    objects = render(
        {
            "databases": {
                "postgresql": {"version": "15", "storage": "2Gi", "bootstrap": {"initSQL": ["CREATE EXTENSION x"]}},
                "mongodb": {"storage": "3Gi"},
                "minio": {"storage": "4Gi"},
                "mariadb": {"storage": "500Mi", "version": "10.11"},
                "redis": {"version": "7.2"},
            }
        }
    )
    cluster = by(objects, "Cluster", "postgresql")["spec"]
    assert cluster["imageName"] == "ghcr.io/cloudnative-pg/postgresql:15"
    assert cluster["storage"] == {"size": "2Gi"}
    assert cluster["bootstrap"]["initdb"] == {"database": "app", "owner": "app", "postInitSQL": ["CREATE EXTENSION x"]}
    mongo = by(objects, "MongoDBCommunity", "mongodb")["spec"]
    claims = {
        c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"]
        for c in mongo["statefulSet"]["spec"]["volumeClaimTemplates"]
    }
    assert claims == {"data-volume": "3Gi", "logs-volume": "2Gi"}
    assert mongo["users"][0]["connectionStringSecretName"] == "mongodb-app"
    tenant = by(objects, "Tenant", "minio")["spec"]
    assert tenant["pools"][0]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "4Gi"
    assert tenant["buckets"] == [{"name": "app"}]
    mariadb = by(objects, "StatefulSet", "mariadb")["spec"]
    assert mariadb["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "500Mi"
    assert mariadb["template"]["spec"]["containers"][0]["image"] == "docker.io/library/mariadb:10.11"
    redis = by(objects, "Deployment", "redis")["spec"]["template"]["spec"]["containers"][0]
    assert redis["image"] == "docker.io/library/redis:7.2-alpine"
    assert "--maxmemory" in redis["args"]


@pytest.mark.parametrize("db", ["redis", "mariadb", "minio", "mongodb"])
def test_generated_credentials_are_kept(db):
    first = _render.credentials([db], {})
    assert all(len(v) >= 20 for v in first[db].values())
    assert _render.credentials([db], first)[db] == first[db]
    assert _render.credentials([db], {})[db] != first[db]


def test_secret_values_lists_every_generated_value():
    creds = _render.credentials(["redis", "mariadb"], {})
    objects = render({"databases": {"redis": True, "mariadb": True}}, creds=creds)
    values = _render.secret_values(objects)
    assert creds["redis"]["password"] in values
    assert creds["mariadb"]["rootPassword"] in values


def test_mongodb_runs_as_its_own_service_account_with_only_what_its_agent_needs():
    objects = render({"databases": {"mongodb": True}})
    kinds = [o["kind"] for o in objects]
    assert kinds.index("RoleBinding") < kinds.index("MongoDBCommunity")
    account = by(objects, "ServiceAccount", "mongodb-database")
    role = by(objects, "Role", "mongodb-database")
    binding = by(objects, "RoleBinding", "mongodb-database")
    assert account["metadata"]["namespace"] == "shop-pr-7"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch", "delete"]},
    ]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mongodb-database"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mongodb-database", "namespace": "shop-pr-7"}]
    template = by(objects, "MongoDBCommunity", "mongodb")["spec"]["statefulSet"]["spec"]["template"]["spec"]
    assert template["serviceAccountName"] == "mongodb-database"
    assert "ServiceAccount" not in {o["kind"] for o in render({"databases": {"postgresql": True}})}


def test_ingress_without_traefik_s_middleware_kind():
    """A cluster that does not serve middlewares.traefik.io: no Middleware, and no annotation naming one."""
    config = _config.normalise({"projectId": "shop"})
    objects = _render.render(
        "shop-pr-7", config, PR, IMAGE, "shop-pr-7.example.com", {}, ENDPOINTS, {}, traefik_middleware=False
    )
    assert "Middleware" not in {o["kind"] for o in objects}
    annotations = by(objects, "Ingress", "app")["metadata"]["annotations"]
    assert "traefik.ingress.kubernetes.io/router.middlewares" not in annotations
    assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"


def test_ingress_for_ingress_nginx():
    """HTTPS redirect by annotation; X-Robots-Tag from a ConfigMap of the namespace through custom-headers (no
    snippet: ingress-nginx refuses snippet annotations by default)."""
    for settings in ({"ingress_class": "nginx"}, {"ingress_class": "public", "ingress_controller": "ingress-nginx"}):
        objects = render({"ingress": {"annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}}}, settings)
        kinds = [o["kind"] for o in objects]
        assert "Middleware" not in kinds
        ingress = by(objects, "Ingress", "app")
        assert ingress["spec"]["ingressClassName"] == settings["ingress_class"]
        assert ingress["metadata"]["annotations"] == {
            "nginx.ingress.kubernetes.io/proxy-body-size": "8m",
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/custom-headers": "shop-pr-7/app-response-headers",
        }
        headers = by(objects, "ConfigMap", "app-response-headers")
        assert headers["data"] == {"X-Robots-Tag": "noindex, nofollow"}
        assert kinds.index("ConfigMap", kinds.index("Service")) < kinds.index("Ingress")


def test_ingress_for_another_controller_carries_only_the_operator_s_annotations():
    settings = {
        "ingress_class": "haproxy",
        "ingress_annotations": {"haproxy.org/ssl-redirect": "true", "cert-manager.io/cluster-issuer": "le"},
    }
    objects = render({"ingress": {"annotations": {"haproxy.org/timeout-server": "5s"}}}, settings)
    assert {o["kind"] for o in objects}.isdisjoint({"Middleware"})
    assert "app-response-headers" not in {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    assert by(objects, "Ingress", "app")["metadata"]["annotations"] == {
        "haproxy.org/timeout-server": "5s",
        "haproxy.org/ssl-redirect": "true",
        "cert-manager.io/cluster-issuer": "le",
    }


def test_the_operator_s_ingress_annotations_win_and_are_refused_in_k8s_ee_yaml():
    settings = {"ingress_annotations": {"cert-manager.io/cluster-issuer": "le"}}
    config = _config.normalise(
        {"projectId": "shop", "ingress": {"annotations": {"cert-manager.io/Cluster-Issuer": "mine", "a/b": "c"}}}
    )
    assert _render.ingress_annotation_problems(config, settings) == [
        "ingress.annotations.cert-manager.io/Cluster-Issuer: is set by the platform (settings.ingress_annotations); "
        "remove it"
    ]
    config["ingress"]["annotations"] = {"cert-manager.io/cluster-issuer": "mine"}
    ingress = _render._ingress("shop-pr-7", config, "h.example.com", _render.effective_settings(settings))[-1]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "le"
    assert _render.ingress_annotation_problems(config, {"ingress_annotations": {"a": 1}}) == [
        "settings.ingress_annotations: {'a': 1} is not valid: must be a mapping of annotation names to strings "
        "(quote numbers and booleans)"
    ]


@pytest.mark.parametrize(
    ("settings", "controller"),
    [
        ({}, "traefik"),
        ({"ingress_class": "nginx"}, "ingress-nginx"),
        ({"ingress_class": "nginx", "ingress_controller": "none"}, "none"),
        ({"ingress_class": "traefik-public", "ingress_controller": "traefik"}, "traefik"),
        ({"ingress_class": "alb"}, "none"),
    ],
)
def test_ingress_controller(settings, controller):
    assert _render.ingress_controller(_render.effective_settings(settings)) == controller


def test_ingress_controller_unknown():
    with pytest.raises(_render.SettingsError) as raised:
        _render.ingress_controller(_render.effective_settings({"ingress_controller": "nginx"}))
    assert str(raised.value).startswith(
        "settings.ingress_controller: 'nginx' is not valid: must be one of traefik, ingress-nginx, none"
    )
