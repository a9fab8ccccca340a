"""pr_up and pr_down on a cluster without Traefik's CRDs (a managed cluster with another ingress controller): a small
control plane of its own, started for this module without the traefik.io CRDs (every other upstream CRD is there).

docs/platform.md, "Other ingress controllers": without middlewares.traefik.io pr_up renders no Middleware and names
none, and pr_down, status and cleanup work as anywhere; with settings for ingress-nginx the Ingress carries its
redirect annotation and names the ConfigMap of response headers, and role platform's admission policy accepts
exactly that from the CI identity and refuses snippets and the other ingress-nginx keys an environment must not
set."""

import json
import sys

import pytest
import yaml
from conftest import Playbooks, module_cluster
from harness import ensure_platform_prerequisites, wait_until_gone

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube, KubeError

pytestmark = pytest.mark.cluster

NGINX = "nginx.ingress.kubernetes.io/"
# an ingress-nginx installation as its chart makes it (the pods are not needed: nothing here sends HTTP through it)
NGINX_SETTINGS = {
    "ingress_class": "nginx",
    "ingress_namespace": "ingress-nginx",
    "ingress_pod_labels": {"app.kubernetes.io/name": "ingress-nginx"},
    "tls_cert_resolver": "",
    "ingress_annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A one-node control plane without Traefik's CRDs."""

    def log(msg):
        print(f"[plain] {msg}", file=sys.stderr)

    with module_cluster(
        tmp_path_factory, "plain-cluster", build_log=log, nodes=1, volumes=0, without_crds=("traefik.io",)
    ) as local:
        yield local


@pytest.fixture(scope="module")
def admin(plain):
    client = Kube(kubeconfig=str(plain.kubeconfig))
    ensure_platform_prerequisites(client)
    return client


@pytest.fixture(scope="module")
def runs(plain, admin, github, allowlist, tmp_path_factory):
    return Playbooks(plain, github, allowlist, tmp_path_factory.mktemp("plain-playbooks"))


@pytest.fixture(autouse=True)
def no_leftover_namespaces():
    """The shared cluster's clean-up (conftest) is not this module's: its cluster is its own."""
    yield


def _config(tmp_path, number):
    path = tmp_path / f"k8s-ee-{number}.yaml"
    path.write_text("projectId: shop\n")
    return str(path)


def test_cluster_serves_no_traefik_kind(admin):
    assert admin.serves("Middleware") is False
    assert admin.serves("Ingress") is True


def test_pr_up_and_pr_down_with_the_default_settings(runs, admin, tmp_path):
    up = runs.run("pr_up", k8s_ee_pr_number=901, k8s_ee_config_path=_config(tmp_path, 901))
    assert up.rc == 0, up
    ingress = admin.get("Ingress", "app", "shop-pr-901")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
    assert "traefik.ingress.kubernetes.io/router.middlewares" not in annotations
    assert "the cluster serves no middlewares.traefik.io, so the preview is not marked noindex" in up.stdout
    assert admin.get("Deployment", "app", "shop-pr-901")["status"]["availableReplicas"] == 1
    again = runs.run("pr_up", k8s_ee_pr_number=901, k8s_ee_config_path=_config(tmp_path, 901))
    assert again.rc == 0 and again.changed == 0, again
    down = runs.run("pr_down", k8s_ee_pr_number=901)
    assert down.rc == 0, down
    assert admin.get("Namespace", "shop-pr-901") is None


def test_status_and_cleanup_without_traefik_crds(runs, admin, github, tmp_path):
    up = runs.run("pr_up", k8s_ee_pr_number=903, k8s_ee_config_path=_config(tmp_path, 903))
    assert up.rc == 0, up
    status = runs.run("status", k8s_ee_status_format="json")
    assert status.rc == 0, status
    assert "shop-pr-903" in [row["namespace"] for row in json.loads(status.task("Print them")["msg"])]
    github.set_pull("acme/shop", 903, state="closed", closed_at="2026-01-01T00:00:00Z")
    cleanup = runs.run("cleanup")
    assert cleanup.rc == 0, cleanup
    summary = json.loads(cleanup.task("Print the summary")["msg"])
    assert summary["deleted"] == [{"namespace": "shop-pr-903", "reason": "closed"}], summary
    wait_until_gone(admin, ["shop-pr-903"])  # cleanup issues the deletion without waiting for it
    assert admin.get("Namespace", "shop-pr-903") is None


@pytest.fixture(scope="module")
def ci(runs, plain, tmp_path_factory):
    """Role platform for ingress-nginx (no Traefik to configure, no Helm controller for Sealed Secrets); the CI
    identity of project shop."""
    out = tmp_path_factory.mktemp("plain-ci")
    server = yaml.safe_load(plain.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    role = runs.role(
        "platform",
        platform_traefik_configure=False,
        platform_sealed_secrets_enabled=False,
        platform_ci_projects=["shop"],
        platform_ci_kubeconfig_dir=str(out),
        platform_api_server=server,
        platform_environment_settings=NGINX_SETTINGS,
    )
    assert role.rc == 0, role
    return out / "k8s-ee-ci-shop.kubeconfig"


def _forbidden(call):
    with pytest.raises(KubeError) as caught:
        call()
    assert caught.value.status == 403, caught.value
    return str(caught.value)


def test_ingress_nginx_as_the_ci_identity(runs, admin, ci, tmp_path):
    path = _config(tmp_path, 902)
    up = runs.run("pr_up", k8s_ee_pr_number=902, k8s_ee_config_path=path, k8s_ee_settings=NGINX_SETTINGS, kubeconfig=ci)
    assert up.rc == 0, up
    ingress = admin.get("Ingress", "app", "shop-pr-902")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {
        NGINX + "force-ssl-redirect": "true",
        NGINX + "custom-headers": "shop-pr-902/app-response-headers",
        "cert-manager.io/cluster-issuer": "letsencrypt",
    }
    headers = admin.get("ConfigMap", "app-response-headers", "shop-pr-902")
    assert headers["data"] == {"X-Robots-Tag": "noindex, nofollow"}

    # what the CI identity may not set on the Ingress directly (k8s-ee.yaml's schema refuses it earlier)
    identity = Kube(kubeconfig=str(ci))
    live = identity.get("Ingress", "app", "shop-pr-902")

    def ingress_with(**changes):
        out = json.loads(json.dumps(live))
        for key in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
            out["metadata"].pop(key, None)
        out.pop("status", None)
        out["metadata"]["annotations"].update(changes)
        out["metadata"]["annotations"] = {k: v for k, v in out["metadata"]["annotations"].items() if v is not None}
        return out

    for key, value in (
        (NGINX + "configuration-snippet", "more_clear_headers X-Robots-Tag;"),
        ("nginx.org/server-snippets", "return 302 https://elsewhere.example;"),
        (NGINX + "auth-url", "http://10.0.0.1/"),
        (NGINX + "ssl-redirect", "false"),
        (NGINX + "server-alias", "shop-pr-903.preview.example.com"),
        (NGINX + "force-ssl-redirect", "false"),
        (NGINX + "custom-headers", "kube-system/other"),
        (NGINX + "custom-headers", None),  # left out: noindex is what pr_up renders
        ("cert-manager.io/cluster-issuer", "other"),
        ("traefik.ingress.kubernetes.io/router.middlewares", "shop-pr-902-app@kubernetescrd"),
    ):
        message = _forbidden(lambda key=key, value=value: identity.apply(ingress_with(**{key: value})))
        assert f"{key} must" in message, message
    identity.apply(ingress_with(**{NGINX + "proxy-body-size": "8m"}))  # the app's own choices stay its own

    down = runs.run("pr_down", k8s_ee_pr_number=902, kubeconfig=ci)
    assert down.rc == 0, down
    assert admin.get("Namespace", "shop-pr-902") is None
