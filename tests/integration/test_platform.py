"""Role platform against the local control plane, and the least-privilege CI identity it creates, proven with
the API server's real RBAC and admission (ValidatingAdmissionPolicy)."""

import base64
import json
import stat
import time

import pytest
import yaml
from harness import environment_namespace, environment_namespace_object, impersonating, wait_until_gone
from reference_platform import Reference, write_chart

from ansible_collections.k8s_ee.platform.plugins.module_utils import (
    _apply,
    _config,
    _databases,
    _lifecycle,
    _manifests,
    _preserve,
    _render,
    _slots,
    _timestamps,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube, KubeError

pytestmark = pytest.mark.cluster

PLATFORM = {
    "platform_acme_email": "ops@example.com",
    "platform_ci_projects": ["shop"],
    "platform_sealed_secrets_enabled": True,
}
CLUSTER_SCOPED = [
    ("ClusterRole", "k8s-ee-environment"),
    ("ClusterRole", "k8s-ee-ci"),
    ("ValidatingAdmissionPolicy", "k8s-ee-ci-scope"),
]


def _get(kube, kind, name, namespace=None):
    paths = {
        "ClusterRole": f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
        "ValidatingAdmissionPolicy": f"/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{name}",
        "HelmChart": f"/apis/helm.cattle.io/v1/namespaces/{namespace}/helmcharts/{name}",
        "HelmChartConfig": f"/apis/helm.cattle.io/v1/namespaces/{namespace}/helmchartconfigs/{name}",
        "ServiceAccount": f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}",
    }
    try:
        return kube.request("GET", paths[kind])
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise


def _forbidden(call):
    with pytest.raises(KubeError) as caught:
        call()
    assert caught.value.status == 403, caught.value
    return str(caught.value)


def _refused(call):
    """Refused by validation or admission: 403, or 422 (API validation, or a policy whose parameter is missing)."""
    with pytest.raises(KubeError) as caught:
        call()
    assert caught.value.status in (403, 422), caught.value
    return str(caught.value)


@pytest.fixture(scope="module")
def platform(playbooks, kube, cluster, tmp_path_factory):
    """The role, applied once for the module: check mode first (creates nothing), then for real, then again."""
    out = tmp_path_factory.mktemp("ci")
    for path in (  # what an earlier test's run of the role left (test_arc applies it too)
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/k8s-ee-environment",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/k8s-ee-ci",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/k8s-ee-ci",
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/k8s-ee-ci-scope",
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/k8s-ee-ci-scope",
    ):
        try:
            kube.request("DELETE", path)
        except KubeError as exc:
            if exc.status != 404:
                raise
    wait_until_gone(kube, ["platform", "observability", "arc-systems", "arc-runners", "cnpg-system"])
    variables = dict(PLATFORM, platform_ci_kubeconfig_dir=str(out), platform_api_server=_server(cluster))
    checked = playbooks.role("platform", check=True, **variables)
    assert checked.rc == 0, checked
    created_in_check = [name for kind, name in CLUSTER_SCOPED if _get(kube, kind, name)]
    first = playbooks.role("platform", **variables)
    second = playbooks.role("platform", **variables)
    again_checked = playbooks.role("platform", check=True, **variables)
    return {
        "checked": checked,
        "created_in_check": created_in_check,
        "first": first,
        "second": second,
        "again_checked": again_checked,
        "kubeconfig": out / "k8s-ee-ci-shop.kubeconfig",
    }


def _server(cluster):
    return yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]


def test_converges_then_changes_nothing(platform, kube):
    assert platform["created_in_check"] == [], "check mode created objects"
    assert platform["first"].rc == 0, platform["first"]
    assert platform["first"].changed > 0
    assert platform["second"].rc == 0, platform["second"]
    assert platform["second"].changed == 0, platform["second"]
    assert platform["again_checked"].rc == 0 and platform["again_checked"].changed == 0, platform["again_checked"]
    for name in ("platform", "observability", "arc-systems", "arc-runners", "cnpg-system"):
        labels = kube.get("Namespace", name)["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "k8s-ee-platform"
    assert kube.get("PriorityClass", "platform-critical")["value"] == 1000000
    assert kube.get("PriorityClass", "default-app")["value"] == 100
    for kind, name in CLUSTER_SCOPED:
        assert _get(kube, kind, name), f"{kind}/{name}"
    chart = _get(kube, "HelmChart", "sealed-secrets", "kube-system")
    assert chart["spec"]["version"] == "2.18.5" and chart["spec"]["targetNamespace"] == "platform"
    traefik = yaml.safe_load(_get(kube, "HelmChartConfig", "traefik", "kube-system")["spec"]["valuesContent"])
    acme = traefik["certificatesResolvers"]["letsencrypt"]["acme"]
    assert acme["email"] == "ops@example.com" and acme["httpChallenge"] == {"entryPoint": "web"}
    assert traefik["ports"]["web"]["redirections"]["entryPoint"]["to"] == "websecure"


def test_dns01_keeps_credentials_out_of_output(playbooks, kube, platform):
    token = "cf-token-" + "7" * 20
    run = playbooks.role(
        "platform",
        **dict(
            PLATFORM,
            platform_acme_challenge="dns",
            platform_acme_dns_provider="cloudflare",
            platform_acme_dns_credentials={"CF_DNS_API_TOKEN": token},
        ),
    )
    try:
        assert run.rc == 0, run
        assert token not in run.stdout + run.stderr
        secret = kube.get("Secret", "traefik-acme-dns", "kube-system")
        assert base64.b64decode(secret["data"]["CF_DNS_API_TOKEN"]).decode() == token
        values = yaml.safe_load(_get(kube, "HelmChartConfig", "traefik", "kube-system")["spec"]["valuesContent"])
        assert values["certificatesResolvers"]["letsencrypt"]["acme"]["dnsChallenge"] == {"provider": "cloudflare"}
        assert values["envFrom"] == [{"secretRef": {"name": "traefik-acme-dns"}}]
        assert token not in yaml.safe_dump(values)
    finally:
        back = playbooks.role("platform", **PLATFORM)
        assert back.rc == 0, back
    assert kube.get("Secret", "traefik-acme-dns", "kube-system") is None


def test_bad_input_is_refused_before_anything_changes(playbooks, kube, platform):
    run = playbooks.role("platform", platform_acme_email="", platform_ci_projects=["Shop_1"])
    assert run.rc != 0
    (failure,) = run.failures()
    assert "platform_acme_email" in failure and "platform_ci_projects" in failure and "Shop_1" in failure
    assert _get(kube, "ServiceAccount", "k8s-ee-ci-Shop_1", "arc-runners") is None


def test_ci_kubeconfig_is_private_and_authenticates(platform, cluster):
    path = platform["kubeconfig"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == _server(cluster)
    ci = Kube(kubeconfig=str(path))
    assert ci.whoami() == "system:serviceaccount:arc-runners:k8s-ee-ci-shop"
    token = config["users"][0]["user"]["token"]
    for result in ("first", "second"):
        assert token not in platform[result].stdout + platform[result].stderr


@pytest.fixture
def ci(platform):
    return Kube(kubeconfig=str(platform["kubeconfig"]))


def test_pr_up_and_pr_down_work_as_the_ci_identity(playbooks, kube, github, operators, platform, tmp_path):
    config = tmp_path / "k8s-ee.yaml"
    config.write_text("projectId: shop\ndatabases:\n  postgresql: true\n  mongodb: true\n")
    checked = playbooks.run(
        "pr_up", check=True, k8s_ee_pr_number=801, k8s_ee_config_path=str(config), kubeconfig=platform["kubeconfig"]
    )
    assert checked.rc == 0, checked
    assert kube.get("Namespace", "shop-pr-801") is None
    up = playbooks.run("pr_up", k8s_ee_pr_number=801, k8s_ee_config_path=str(config), kubeconfig=platform["kubeconfig"])
    assert up.rc == 0, up
    slot = kube.get("Namespace", "shop-pr-801")["metadata"]["labels"]["k8s-ee/slot"]
    assert slot.isdigit() and int(slot) < 10  # the lowest slot free when it was created
    binding = kube.get("RoleBinding", "k8s-ee-ci", "shop-pr-801")
    assert binding["roleRef"]["name"] == "k8s-ee-environment"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "k8s-ee-ci-shop", "namespace": "arc-runners"}]
    assert kube.get("Deployment", "app", "shop-pr-801")["status"]["availableReplicas"] == 1
    assert kube.get("RoleBinding", "mongodb-database", "shop-pr-801")["roleRef"]["kind"] == "Role"
    again = playbooks.run(
        "pr_up", k8s_ee_pr_number=801, k8s_ee_config_path=str(config), kubeconfig=platform["kubeconfig"]
    )
    assert again.rc == 0 and again.changed == 0, again
    down = playbooks.run("pr_down", k8s_ee_pr_number=801, kubeconfig=platform["kubeconfig"])
    assert down.rc == 0, down
    assert kube.get("Namespace", "shop-pr-801") is None


def test_ci_identity_reads_no_secret_outside_environments(ci, kube):
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "platform-credential", "namespace": "platform"},
            "stringData": {"password": "not-for-ci"},
        }
    )
    _forbidden(lambda: ci.get("Secret", "platform-credential", "platform"))
    _forbidden(lambda: ci.request("GET", "/api/v1/secrets"))
    _forbidden(lambda: ci.list("Secret", "kube-system"))
    _forbidden(lambda: ci.list("ConfigMap", "observability"))


def test_ci_identity_cannot_delete_or_take_over_other_namespaces(ci, kube):
    _forbidden(lambda: ci.delete("Namespace", "kube-system"))
    _forbidden(lambda: ci.delete("Namespace", "platform"))
    # a namespace the policy would let it touch must say so in its labels; no label, no namespace
    message = _forbidden(lambda: ci.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci-free"}}))
    assert "k8s-ee-ci-shop" in message
    # relabelling a platform namespace as an environment of its project is refused too
    _forbidden(
        lambda: ci.merge_patch(
            "Namespace",
            "observability",
            {
                "metadata": {
                    "labels": {
                        "app.kubernetes.io/managed-by": "k8s-ee",
                        "k8s-ee/type": "ephemeral",
                        "k8s-ee/project-id": "shop",
                    }
                }
            },
        )
    )


def test_ci_identity_cannot_touch_another_projects_environment(ci, kube):
    other = environment_namespace(kube, 5, repository="acme/blog", project="blog")
    _forbidden(lambda: ci.delete("Namespace", other))
    _forbidden(lambda: ci.merge_patch("Namespace", other, {"metadata": {"labels": {"k8s-ee/preserve": "true"}}}))
    # capacity admission (docs/pr-lifecycle.md, step 2 of pr_up) reads every pod's requests, so pods may be listed;
    # nothing inside is writable
    _forbidden(lambda: ci.list("ConfigMap", other))
    _forbidden(lambda: ci.list("Secret", other))
    _forbidden(
        lambda: ci.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": other}})
    )
    labels = {"app.kubernetes.io/managed-by": "k8s-ee", "k8s-ee/type": "ephemeral", "k8s-ee/project-id": "blog"}
    _forbidden(
        lambda: ci.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blog-pr-6", "labels": labels}}
        )
    )


def test_ci_identity_cannot_loosen_pod_security_of_its_own_environment(ci, kube):
    own = environment_namespace(kube, 805, labels={"pod-security.kubernetes.io/enforce": "baseline"})
    for level in ("privileged", None):
        patch = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level}}}
        assert "pod-security" in _forbidden(lambda p=patch: ci.merge_patch("Namespace", own, p))
    labels = kube.get("Namespace", own)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    ci.merge_patch("Namespace", own, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})


def test_ci_identity_binds_only_itself_to_the_environment_role(ci, kube):
    own = environment_namespace(kube, 802)

    def binding(role, subject_name):
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"try-{role}-{subject_name}", "namespace": own},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": subject_name, "namespace": "arc-runners"}],
        }

    _forbidden(lambda: ci.create(binding("cluster-admin", "k8s-ee-ci-shop")))
    _forbidden(lambda: ci.create(binding("k8s-ee-environment", "default")))
    _forbidden(
        lambda: ci.create(
            {**binding("k8s-ee-environment", "k8s-ee-ci-shop"), "metadata": {"name": "x", "namespace": "platform"}}
        )
    )
    ci.create(binding("k8s-ee-environment", "k8s-ee-ci-shop"))
    assert kube.get("RoleBinding", "try-k8s-ee-environment-k8s-ee-ci-shop", own)
    # with its rights in place it may create the MongoDB Role, and bind it only to the MongoDB ServiceAccount
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "mongodb-database", "namespace": own},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }
    deadline = time.monotonic() + 10
    while True:  # the new RoleBinding reaches the authorizer within moments
        try:
            ci.create(role)
            break
        except KubeError as exc:
            if exc.status != 403 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    mongodb = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "mongodb-database", "namespace": own},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mongodb-database"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": own}],
    }
    _forbidden(lambda: ci.create(mongodb))
    mongodb["subjects"][0]["name"] = "mongodb-database"
    ci.create(mongodb)


def test_scheduled_jobs_of_a_project_run_as_its_ci_identity(playbooks, kube, github, platform):
    """The example scheduled workflow passes k8s_ee_project_id, so a project's identity only meets its own."""
    own = environment_namespace(kube, 803)
    other = environment_namespace(kube, 804, repository="acme/blog", project="blog")
    github.set_pull("acme/shop", 803, state="closed", closed_at="2026-01-01T00:00:00Z")
    github.set_pull("acme/blog", 804, state="closed", closed_at="2026-01-01T00:00:00Z")
    ci = {"kubeconfig": platform["kubeconfig"], "k8s_ee_project_id": "shop"}
    cleanup = playbooks.run("cleanup", **ci)
    assert cleanup.rc == 0, cleanup
    deleted = [d["namespace"] for d in json.loads(cleanup.task("Print the summary")["msg"])["deleted"]]
    assert deleted == [own]
    assert kube.get("Namespace", other)["metadata"].get("deletionTimestamp") is None
    expiry = playbooks.run("preserve_expiry", **ci)
    assert expiry.rc == 0, expiry
    # without the project, the identity meets another project's environment and is refused: errors, not silence
    unscoped = playbooks.run("cleanup", kubeconfig=platform["kubeconfig"])
    assert unscoped.rc != 0
    assert "forbidden" in " ".join(unscoped.failures()) and "its own project" in " ".join(unscoped.failures()), unscoped
    assert kube.get("Namespace", other)["metadata"].get("deletionTimestamp") is None


def test_ci_identity_names_namespaces_after_its_project_and_pr(ci, kube):
    free = str(_slots.lowest_free(_slots.taken(kube, "shop", "")))

    def namespace(name, number, **labels):
        # a free environment slot, so only the rule under test refuses
        labels = {"pod-security.kubernetes.io/enforce": "baseline", "k8s-ee/slot": free, **labels}
        return environment_namespace_object(number, labels=labels, name=name)

    # squatting another project's (or a future platform) name under its own labels
    assert "<project-id>-pr-" in _forbidden(lambda: ci.create(namespace("blog-pr-7", "7")))
    _forbidden(lambda: ci.create(namespace("shop-pr-8", "9")))
    _forbidden(lambda: ci.create(namespace("shop-pr-8", "8", **{"pod-security.kubernetes.io/enforce-version": "v1.0"})))
    ci.create(namespace("shop-pr-8", "8"))


def test_ci_identity_exposes_nothing_beyond_the_cluster(ci, kube):
    own = environment_namespace(kube, 806)
    kube.apply(_apply.access_binding("system:serviceaccount:arc-runners:k8s-ee-ci-shop", own))

    def service(**spec):
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "x", "namespace": own},
            "spec": {"ports": [{"port": 22, "targetPort": 22}], "selector": {"app": "x"}, **spec},
        }

    _forbidden(lambda: ci.create(service(type="LoadBalancer")))
    _forbidden(lambda: ci.create(service(type="NodePort")))
    _forbidden(lambda: ci.create(service(externalIPs=["203.0.113.10"])))
    ci.create(service())


def test_environment_pods_and_ingresses_stay_in_their_lane(ci, kube):
    own = environment_namespace(kube, 807)
    for obj in _isolation(kube, own):  # no pod starts without them
        kube.apply(obj)
    _wait_param_cache()

    def pod(priority):
        spec = {"containers": [{"name": "c", "image": "registry.example/x@sha256:" + "3" * 64}]}
        if priority:
            spec["priorityClassName"] = priority
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"p-{priority or 'none'}", "namespace": own},
            "spec": spec,
        }

    # the rule holds for everybody, the administrator and the controllers included
    assert "priority class" in _forbidden(lambda: kube.create(pod("platform-critical")))
    kube.create(pod("default-app"))

    def ingress(name, host=None, tls=None, default_backend=False):
        backend = {"service": {"name": "app", "port": {"number": 80}}}
        rule = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
        if host:
            rule["host"] = host
        spec = {"rules": [rule]}
        if tls:
            spec["tls"] = [{"hosts": tls, "secretName": "x"}]
        if default_backend:
            spec["defaultBackend"] = backend
        spec["ingressClassName"] = "traefik"
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": own, "annotations": _router(own)},
            "spec": spec,
        }

    _forbidden(lambda: kube.create(ingress("a", host="grafana.preview.example.com")))
    _forbidden(lambda: kube.create(ingress("b")))  # a rule without host catches every other host
    _forbidden(
        lambda: kube.create(ingress("c", host=f"{own}.preview.example.com", tls=["shop-pr-1.preview.example.com"]))
    )
    _forbidden(lambda: kube.create(ingress("d", host=f"{own}.preview.example.com", default_backend=True)))
    kube.create(ingress("e", host=f"{own}.preview.example.com", tls=[f"{own}.preview.example.com"]))


# ---------------------------------------------------------------- quota and isolation are not advisory


def _ci_environment(ci, kube, number):
    """An environment namespace with the CI identity's RoleBinding in it, once the authorizer knows the binding."""
    own = environment_namespace(kube, number)
    kube.apply(_apply.access_binding(ci.whoami(), own))
    deadline = time.monotonic() + 10
    while True:
        try:
            ci.list("ConfigMap", own)
            return own
        except KubeError as exc:
            if exc.status != 403 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _isolation(kube, namespace, config=None):
    """The quota, limit range and network policies pr_up renders for `namespace` (with the cluster's API addresses)."""
    config = _config.normalise(config or {"projectId": "shop", "databases": {"postgresql": True, "minio": True}})
    return [
        _manifests.resource_quota(namespace, config),
        _manifests.limit_range(namespace),
        *_render.network_policies(namespace, config, dict(_render.DEFAULT_SETTINGS), _lifecycle.api_endpoints(kube)),
    ]


def _changed(obj, **spec):
    out = json.loads(json.dumps(obj))
    out["spec"].update(spec)
    return out


def test_ci_identity_writes_quota_and_limits_only_as_rendered(ci, kube):
    own = _ci_environment(ci, kube, 810)
    quota, limits = _isolation(kube, own)[:2]
    ci.apply(quota)
    ci.apply(limits)
    ceiling = _config.largest_config()
    ci.apply(_manifests.resource_quota(own, ceiling))  # the largest quota pr_up can render is allowed
    hard = dict(quota["spec"]["hard"])
    assert "spec.hard: requests.cpu 5201m is above 5200m" in _forbidden(
        lambda: ci.apply(_changed(quota, hard={**hard, "requests.cpu": "5201m"}))
    )
    assert "pods 14 is above 13" in _forbidden(lambda: ci.apply(_changed(quota, hard={**hard, "pods": "14"})))
    missing = {k: v for k, v in hard.items() if k != "limits.memory"}  # a key left out is not limited at all
    assert "exactly the keys" in _forbidden(lambda: ci.apply(_changed(quota, hard=missing)))
    assert "exactly the keys" in _forbidden(lambda: ci.apply(_changed(quota, hard={**hard, "count/jobs.batch": "1"})))
    # a scope would let the quota count only some pods (the API server refuses scopes beside these keys, too)
    assert "scopes" in _refused(lambda: ci.apply(_changed(quota, scopes=["BestEffort"])))
    other = json.loads(json.dumps(quota))
    other["metadata"]["name"] = "more"
    assert "only the ResourceQuota environment-quota" in _forbidden(lambda: ci.apply(other))
    assert "may not delete the ResourceQuota" in _forbidden(
        lambda: ci.delete("ResourceQuota", quota["metadata"]["name"], own)
    )
    loose = json.loads(json.dumps(limits))
    loose["spec"]["limits"][0]["max"]["cpu"] = "4"
    assert "exactly what pr_up renders" in _forbidden(lambda: ci.apply(loose))
    loose["spec"]["limits"] = loose["spec"]["limits"][:1]
    _forbidden(lambda: ci.apply(loose))
    assert "may not delete the LimitRange" in _forbidden(lambda: ci.delete("LimitRange", "environment-limits", own))
    assert kube.get("ResourceQuota", "environment-quota", own)["spec"]["hard"]["requests.cpu"] == "5200m"
    # the administrator (and the namespace controller deleting a namespace) is not bound by these rules
    kube.delete("LimitRange", "environment-limits", own)


def test_ci_identity_writes_network_policies_only_as_rendered(ci, kube):
    own = _ci_environment(ci, kube, 811)
    policies = {p["metadata"]["name"]: p for p in _isolation(kube, own)[2:]}
    assert len(policies) == 6
    for policy in policies.values():  # what pr_up renders passes, API endpoints from the EndpointSlice included
        ci.apply(policy)
    deny, same, controller = (
        policies["default-deny"],
        policies["allow-same-namespace"],
        policies["allow-ingress-controller"],
    )
    egress, operators = policies["allow-egress"], policies["allow-operators"]
    everyone = [{"from": [{"namespaceSelector": {}}]}]
    assert "may not delete the NetworkPolicy default-deny" in _forbidden(
        lambda: ci.delete("NetworkPolicy", "default-deny", own)
    )
    _forbidden(lambda: ci.apply(_changed(deny, ingress=[{}], policyTypes=["Ingress", "Egress"])))  # from everyone
    assert "spec.podSelector must be {}" in _forbidden(
        lambda: ci.apply(_changed(deny, podSelector={"matchLabels": {"app.kubernetes.io/name": "nothing"}}))
    )
    _forbidden(lambda: ci.apply(_changed(deny, policyTypes=["Ingress"])))
    extra = json.loads(json.dumps(same))
    extra["metadata"]["name"] = "allow-all"
    assert "only the NetworkPolicies pr_up renders" in _forbidden(lambda: ci.apply(extra))
    assert "every rule names its sources" in _forbidden(lambda: ci.apply(_changed(same, ingress=everyone)))
    _forbidden(lambda: ci.apply(_changed(same, ingress=[{}])))
    other_pods = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {},
    }
    _forbidden(lambda: ci.apply(_changed(controller, ingress=[{"from": [other_pods], "ports": [{"port": 3000}]}])))
    _forbidden(
        lambda: ci.apply(_changed(operators, ingress=[{**operators["spec"]["ingress"][0], "ports": [{"port": 22}]}]))
    )

    def with_egress(*rules):
        return _changed(egress, egress=[*egress["spec"]["egress"], *rules])

    assert "0.0.0.0/0 except exactly" in _forbidden(
        lambda: ci.apply(with_egress({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}))
    )
    internal = {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 5432}]}
    _forbidden(lambda: ci.apply(with_egress(internal)))
    _forbidden(
        lambda: ci.apply(with_egress({"to": [{"ipBlock": {"cidr": "192.0.2.99/32"}}], "ports": [{"port": 443}]}))
    )
    _forbidden(lambda: ci.apply(with_egress({"ports": [{"protocol": "TCP", "port": 443}]})))  # to everything
    dns = egress["spec"]["egress"][1]
    _forbidden(lambda: ci.apply(with_egress({"to": dns["to"], "ports": [{"protocol": "TCP", "port": 8080}]})))
    _forbidden(lambda: ci.apply(with_egress({"to": [{"namespaceSelector": {}}]})))  # every namespace
    api = [rule for rule in egress["spec"]["egress"] if "ports" in rule and "ipBlock" in rule["to"][0]]
    assert api, "no API address rendered"
    wrong_port = {"to": api[-1]["to"], "ports": [{"protocol": "TCP", "port": 22}]}
    _forbidden(lambda: ci.apply(with_egress(wrong_port)))
    # less than pr_up renders is no loosening: the other policies may go
    ci.delete("NetworkPolicy", "allow-egress", own)
    assert kube.get("NetworkPolicy", "default-deny", own)["spec"] == deny["spec"] | {"podSelector": {}}


def _pod(namespace, name="p"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "priorityClassName": "default-app",
            "containers": [
                {
                    "name": "c",
                    "image": "registry.example/x@sha256:" + "3" * 64,
                    "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
        },
    }


def test_no_pod_or_claim_in_an_environment_without_quota_limits_and_default_deny(kube, platform):
    own = environment_namespace(kube, 812)
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": own},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    isolation = _isolation(kube, own)
    for missing in ("quota", "limits", "default-deny"):
        present = [o for o in isolation if not _is(o, missing)]
        for obj in present:
            kube.apply(obj)
        for obj in isolation:
            if _is(obj, missing):
                kube.delete(obj["kind"], obj["metadata"]["name"], own)
        _wait_param_cache()
        assert f"k8s-ee-environment-needs-{missing}" in _refused(lambda: kube.create(_pod(own)))
        assert f"k8s-ee-environment-needs-{missing}" in _refused(lambda: kube.create(claim))
    for obj in isolation:
        kube.apply(obj)
    _wait_param_cache()
    kube.create(_pod(own))
    kube.create(claim)
    # a default-deny that no longer denies does not count
    loose = _changed(isolation[2], podSelector={"matchLabels": {"app.kubernetes.io/name": "nothing"}})
    kube.apply(loose)
    _wait_param_cache()
    assert "NetworkPolicy default-deny of this environment namespace is not what pr_up renders" in _forbidden(
        lambda: kube.create(_pod(own, "q"))
    )


def _is(obj, what):
    return {"quota": "ResourceQuota", "limits": "LimitRange", "default-deny": "NetworkPolicy"}[what] == obj[
        "kind"
    ] and (what != "default-deny" or obj["metadata"]["name"] == "default-deny")


def _wait_param_cache():
    """Parameters of admission policies are read from the API server's informer cache, a moment behind."""
    time.sleep(1)


# ---------------------------------------------------------------- environments per project


def _slotted(number, slot=None, project="shop"):
    labels = {"pod-security.kubernetes.io/enforce": "baseline"}
    if slot is not None:
        labels["k8s-ee/slot"] = str(slot)
    return environment_namespace_object(number, project=project, labels=labels)


def test_ci_identity_holds_each_environment_in_a_free_slot_below_its_cap(ci, kube):
    assert "k8s-ee/slot (missing) of shop-pr-820 is not a slot from 0 to 9" in _forbidden(
        lambda: ci.create(_slotted(820))
    )
    assert "may have at most 10 environments at a time" in _forbidden(lambda: ci.create(_slotted(820, 10)))
    for bad in ("01", "one", "1000000"):
        _forbidden(lambda bad=bad: ci.create(_slotted(820, bad)))
    free = _slots.lowest_free(_slots.taken(kube, "shop", ""))
    ci.create(_slotted(820, free))
    _wait_param_cache()
    assert f"k8s-ee/slot {free} of project shop is held by shop-pr-820" in _forbidden(
        lambda: ci.create(_slotted(821, free))
    )
    other = _slots.lowest_free(_slots.taken(kube, "shop", ""))
    for labels in ({"k8s-ee/slot": str(other)}, {"k8s-ee/slot": None}):
        message = _forbidden(
            lambda labels=labels: ci.merge_patch("Namespace", "shop-pr-820", {"metadata": {"labels": labels}})
        )
        assert f"k8s-ee/slot of shop-pr-820 stays {free}" in message
    # an environment from before slots may go on without one, and may take only a free one
    legacy = environment_namespace(kube, 822, labels={"pod-security.kubernetes.io/enforce": "baseline"})
    ci.merge_patch("Namespace", legacy, {"metadata": {"labels": {"k8s-ee/branch": "main"}}})
    assert "is held by shop-pr-820" in _forbidden(
        lambda: ci.merge_patch("Namespace", legacy, {"metadata": {"labels": {"k8s-ee/slot": str(free)}}})
    )
    ci.merge_patch("Namespace", legacy, {"metadata": {"labels": {"k8s-ee/slot": str(other)}}})
    # namespace writes of the CI identities go through their own narrow API Priority and Fairness lane
    schema = kube.request("GET", "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/k8s-ee-ci-namespaces")
    conditions = {c["type"]: c["status"] for c in schema.get("status", {}).get("conditions", [])}
    assert conditions.get("Dangling") == "False", schema.get("status")
    assert schema["spec"]["rules"][0]["subjects"] == [
        {"kind": "Group", "group": {"name": "system:serviceaccounts:arc-runners"}}
    ]


def test_pr_up_stops_at_the_projects_cap_and_takes_a_freed_slot(playbooks, kube, platform, tmp_path):
    variables = dict(
        PLATFORM,
        platform_ci_projects=["shop", "tiny"],
        platform_ci_max_environments_by_project={"tiny": 2},
        platform_ci_kubeconfig_dir=str(tmp_path),
        platform_api_server=_server(playbooks.cluster),
    )
    run = playbooks.role("platform", **variables)
    assert run.rc == 0, run
    try:
        tiny = Kube(kubeconfig=str(tmp_path / "k8s-ee-ci-tiny.kubeconfig"))
        tiny.create(_slotted(1, 0, project="tiny"))
        tiny.create(_slotted(2, 1, project="tiny"))
        assert "project tiny may have at most 2 environments" in _forbidden(
            lambda: tiny.create(_slotted(3, 2, project="tiny"))
        )
        config = tmp_path / "k8s-ee.yaml"
        config.write_text("projectId: tiny\n")
        kubeconfig = tmp_path / "k8s-ee-ci-tiny.kubeconfig"
        full = playbooks.run("pr_up", k8s_ee_pr_number=3, k8s_ee_config_path=str(config), kubeconfig=kubeconfig)
        assert full.rc != 0
        assert "project tiny may have at most 2 environments" in " ".join(full.failures()), full
        assert kube.get("Namespace", "tiny-pr-3") is None
        tiny.delete("Namespace", "tiny-pr-1")
        while kube.get("Namespace", "tiny-pr-1") is not None:
            time.sleep(0.5)
        _wait_param_cache()
        up = playbooks.run("pr_up", k8s_ee_pr_number=3, k8s_ee_config_path=str(config), kubeconfig=kubeconfig)
        assert up.rc == 0, up
        assert kube.get("Namespace", "tiny-pr-3")["metadata"]["labels"]["k8s-ee/slot"] == "0"
    finally:
        back = playbooks.role("platform", **PLATFORM)
        assert back.rc == 0, back


# ---------------------------------------------------------------- nothing exposed, whoever creates it

OPERATOR = "system:serviceaccount:cnpg-system:cnpg-cloudnative-pg"


def _router(namespace):
    """The Traefik annotations pr_up renders on the Ingress of `namespace` (default settings)."""
    config = _config.normalise({"projectId": "shop"})
    _middleware, ingress = _render._ingress(
        namespace, config, f"{namespace}.preview.example.com", _render.DEFAULT_SETTINGS
    )
    return ingress["metadata"]["annotations"]


def _service(namespace, name, **spec):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"ports": [{"port": 5432, "targetPort": 5432}], "selector": {"app": "x"}, **spec},
    }


def test_nobody_exposes_an_environment_beyond_the_cluster(kube, cluster, platform):
    own = environment_namespace(kube, 830)
    # what the CloudNativePG chart's ClusterRole lets the operator do, here through the built-in role edit
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "operator", "namespace": own},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "name": "cnpg-cloudnative-pg", "namespace": "cnpg-system"}],
        }
    )
    operator = impersonating(cluster.kubeconfig, OPERATOR)
    deadline = time.monotonic() + 10
    while True:
        try:
            operator.create(_service(own, "postgresql-rw"))
            break
        except KubeError as exc:
            if exc.status != 403 or "edit" in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    for name, spec in (
        ("lb", {"type": "LoadBalancer"}),
        ("np", {"type": "NodePort"}),
        ("ip", {"externalIPs": ["203.0.113.10"]}),
    ):
        message = _forbidden(lambda name=name, spec=spec: operator.create(_service(own, name, **spec)))
        assert f"created by {OPERATOR}): services of preview" in message and "k8s-ee-environments" in message
    _forbidden(lambda: kube.create(_service(own, "lb", type="LoadBalancer")))  # the administrator, too
    # the custom resources that would make an operator create one are refused, with the reason, to their owner
    config = _config.normalise({"projectId": "shop", "databases": {"postgresql": True, "minio": True}})
    (postgresql,) = _databases.postgresql.render(own, config["databases"]["postgresql"], None, _render.DEFAULT_SETTINGS)
    additional = {"selectorType": "rw", "serviceTemplate": {"metadata": {"name": "postgresql-public"}}}
    postgresql["spec"]["managed"] = {"services": {"additional": [additional]}}
    kube.apply(postgresql)  # ClusterIP, as the operator's default
    additional["serviceTemplate"]["spec"] = {"type": "LoadBalancer"}
    assert "CloudNativePG would create Services of type LoadBalancer" in _forbidden(lambda: kube.apply(postgresql))
    additional["serviceTemplate"]["spec"] = {"externalIPs": ["203.0.113.10"]}
    _forbidden(lambda: kube.apply(postgresql))
    creds = {"accessKey": "app" + "a" * 17, "secretKey": "s" * 32}
    tenant = _databases.minio.render(own, config["databases"]["minio"], creds, _render.DEFAULT_SETTINGS)[-1]
    kube.apply(tenant)
    for exposed in ({"minio": True}, {"console": True}):
        tenant["spec"]["exposeServices"] = exposed
        assert "spec.exposeServices stays off" in _forbidden(lambda: kube.apply(tenant))


# ---------------------------------------------------------------- Traefik


def test_traefik_in_environments_only_as_pr_up_renders_it(ci, kube):
    own = _ci_environment(ci, kube, 840)
    for obj in _isolation(kube, own):
        kube.apply(obj)
    config = _config.normalise({"projectId": "shop"})
    middleware, ingress = _render._ingress(own, config, f"{own}.preview.example.com", _render.DEFAULT_SETTINGS)
    ci.apply(middleware)
    ci.apply(ingress)

    def middleware_with(**spec):
        return {**middleware, "metadata": {"name": "extra", "namespace": own}, "spec": spec}

    ci.apply(middleware_with(stripPrefix={"prefixes": ["/api"]}))
    for kind, spec in (
        ("forwardAuth", {"address": "http://grafana.observability:3000/api/user"}),
        ("errors", {"status": ["500"], "service": {"name": "grafana", "namespace": "observability", "port": 80}}),
        ("chain", {"middlewares": [{"name": "auth", "namespace": "observability"}]}),
        ("plugin", {"x": {"url": "http://example.com"}}),
    ):
        message = _forbidden(lambda kind=kind, spec=spec: ci.apply(middleware_with(**{kind: spec})))
        assert f"Middleware extra: {kind} is not allowed in preview environments" in message
    _forbidden(
        lambda: ci.apply(
            middleware_with(headers={"customResponseHeaders": {"X": "y"}}, forwardAuth={"address": "http://x"})
        )
    )

    def ingress_with(annotations=None, **spec):
        out = json.loads(json.dumps(ingress))
        out["metadata"]["annotations"].update(annotations or {})
        out["metadata"]["annotations"] = {k: v for k, v in out["metadata"]["annotations"].items() if v is not None}
        out["spec"].update(spec)
        return out

    traefik = "traefik.ingress.kubernetes.io/"
    for key, value in (
        ("router.entrypoints", "web"),
        ("router.tls", "false"),
        ("router.tls.certresolver", "other"),
        ("router.middlewares", "observability-grafana-auth@kubernetescrd"),
        ("router.tls.options", "observability-legacy@kubernetescrd"),
        ("service.serverstransport", "kube-system-insecure@kubernetescrd"),
        ("router.tls.domains.0.main", "example.com"),
        ("router.observability.accesslogs", "false"),
        ("router.middlewares", None),  # left out, too: what pr_up renders is required
    ):
        message = _forbidden(lambda key=key, value=value: ci.apply(ingress_with({traefik + key: value})))
        assert f"{traefik}{key} must" in message, message
    ci.apply(ingress_with({traefik + "router.priority": "10"}))  # hosts are pinned to the namespace: no takeover
    assert "spec.ingressClassName is traefik" in _forbidden(lambda: ci.apply(ingress_with(ingressClassName="nginx")))
    _forbidden(lambda: ci.apply(ingress_with({"kubernetes.io/ingress.class": "nginx"})))
    service = _service(own, "app", type="ClusterIP")
    service["metadata"]["annotations"] = {traefik + "service.serverstransport": "kube-system-insecure@kubernetescrd"}
    assert "would choose the TLS settings" in _forbidden(lambda: ci.apply(service))
    # no other Traefik kind at all (RBAC): routes, services, transports and TLS options stay the platform's
    for plural in (
        "ingressroutes",
        "ingressroutetcps",
        "traefikservices",
        "serverstransports",
        "tlsoptions",
        "middlewaretcps",
    ):
        _forbidden(
            lambda plural=plural: ci.request(
                "POST",
                f"/apis/traefik.io/v1alpha1/namespaces/{own}/{plural}",
                body={"apiVersion": "traefik.io/v1alpha1", "kind": "X", "metadata": {"name": "x"}, "spec": {}},
            )
        )


# ---------------------------------------------------------------- ownership and preserve fields


def test_ci_identity_writes_preserve_fields_in_shape_and_at_most_48_hours_ahead(ci, kube):
    own = environment_namespace(kube, 850, labels={"pod-security.kubernetes.io/enforce": "baseline"})

    def patch(labels=None, annotations=None, manager=_preserve.FIELD_MANAGER, managed_fields=None):
        meta = {"labels": labels or {}, "annotations": annotations or {}}
        if managed_fields is not None:
            meta["managedFields"] = managed_fields
        return ci.request(
            "PATCH",
            f"/api/v1/namespaces/{own}",
            body={"metadata": meta},
            query={"fieldManager": manager} if manager else None,
            content_type="application/merge-patch+json",
        )

    def ahead(hours):
        return _timestamps.rfc3339(time.time() + hours * 3600)

    preserved = {"k8s-ee/preserve": "true"}
    valid = {"k8s-ee/preserve-until": ahead(47), "k8s-ee/preserved-by": "octo-cat", "k8s-ee/preserve-warned": "false"}
    for labels, annotations in (
        ({"k8s-ee/preserve": "yes"}, valid),
        (preserved, {**valid, "k8s-ee/preserve-until": "tomorrow"}),
        (preserved, {**valid, "k8s-ee/preserve-until": "2026-13-01T00:00:00Z"}),
        (preserved, {**valid, "k8s-ee/preserve-until": "2026-01-01T00:00:00+02:00"}),
        (preserved, {**valid, "k8s-ee/preserved-by": "-octocat"}),
        (preserved, {**valid, "k8s-ee/preserved-by": "octo--cat"}),
        (preserved, {**valid, "k8s-ee/preserve-warned": "soon"}),
        ({}, valid),  # the annotations without the label
        (preserved, {"k8s-ee/preserve-warned": "false"}),  # the label without until and by
    ):
        message = _forbidden(lambda labels=labels, annotations=annotations: patch(labels, annotations))
        assert f"preserve fields of {own}" in message, (labels, annotations, message)
    far = {**valid, "k8s-ee/preserve-until": ahead(72)}
    assert "is at most 48 hours" in _forbidden(lambda: patch(preserved, far))
    # entries a client writes into managedFields itself do not move the time the server stamps on this request
    forged = {
        "apiVersion": "v1",
        "time": "2099-01-01T00:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:annotations": {"f:k8s-ee/preserve-until": {}}}},
    }
    for operation in ("Update", "Apply"):
        entry = {**forged, "manager": _preserve.FIELD_MANAGER, "operation": operation}
        assert "is at most 48 hours" in _forbidden(lambda entry=entry: patch(preserved, far, managed_fields=[entry]))
    assert "?fieldManager=" in _forbidden(lambda: patch(preserved, valid, manager=None))
    assert kube.get("Namespace", own)["metadata"]["labels"].get("k8s-ee/preserve") is None
    # what the preserve command and preserve_expiry write passes
    granted = _preserve.preserve(ci, own, "acme/shop", "octocat", 48, time.time(), "platform")
    assert granted["hours"] == 48
    _preserve.mark_warned(ci, own)
    _preserve.unpreserve(ci, own)
    assert kube.get("Namespace", own)["metadata"]["labels"].get("k8s-ee/preserve") is None


def test_ci_identity_cannot_hand_an_environment_to_another_repository(ci, kube):
    own = environment_namespace(kube, 851, labels={"pod-security.kubernetes.io/enforce": "baseline"})
    for repository in ("acme/blog", None):
        change = {"metadata": {"annotations": {"k8s-ee/repository": repository}}}
        message = _forbidden(lambda change=change: ci.merge_patch("Namespace", own, change))
        assert f"k8s-ee/repository of {own} stays acme/shop" in message
    ci.merge_patch(
        "Namespace", own, {"metadata": {"annotations": {"k8s-ee/repository": "Acme/Shop"}}}
    )  # same repository
    created = environment_namespace_object(
        852, labels={"pod-security.kubernetes.io/enforce": "baseline", "k8s-ee/slot": "9"}
    )
    created["metadata"]["annotations"]["k8s-ee/repository"] = "not a repository"
    assert "is the owner/repo of the repository" in _forbidden(lambda: ci.create(created))


def test_pr_up_as_the_ci_identity_deploys_into_an_environment_migrate_took_over(
    playbooks, kube, github, operators, platform, cluster, tmp_path
):
    """The reference platform's environment (docs/migrating.md) taken over by the operator, then deployed by the
    project's CI identity under role platform's admission policies: its PostgreSQL cluster of our name kept."""
    reference = Reference(kube, cluster, write_chart(tmp_path / "k8s-ee-app"))
    namespace = reference.environment(802)
    reference.helm(namespace, "app", 802)
    reference.helm(namespace, "postgresql", 802, "app.enabled=false", "postgresql.enabled=true")
    github.set_pull("acme/shop", 802, state="open")
    config = tmp_path / "k8s-ee.yaml"
    config.write_text("projectId: shop\ndatabases:\n  postgresql: true\n")
    refused = playbooks.run(
        "pr_up", k8s_ee_pr_number=802, k8s_ee_config_path=str(config), kubeconfig=platform["kubeconfig"]
    )
    assert refused.rc != 0, refused
    cluster_uid = kube.get("Cluster", "postgresql", namespace)["metadata"]["uid"]
    moved = playbooks.run("migrate", k8s_ee_migrate_apply=True, k8s_ee_migrate_repositories=["acme/shop"])
    assert moved.rc == 0, moved
    up = playbooks.run("pr_up", k8s_ee_pr_number=802, k8s_ee_config_path=str(config), kubeconfig=platform["kubeconfig"])
    assert up.rc == 0, up
    assert kube.get("Cluster", "postgresql", namespace)["metadata"]["uid"] == cluster_uid
    assert kube.get("RoleBinding", "k8s-ee-ci", namespace) is not None
    assert kube.get("Namespace", namespace)["metadata"]["labels"]["k8s-ee/slot"].isdigit()
    down = playbooks.run("pr_down", k8s_ee_pr_number=802, kubeconfig=platform["kubeconfig"])
    assert down.rc == 0, down
