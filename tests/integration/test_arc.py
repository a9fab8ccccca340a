"""Role arc against the local control plane: controller and runner scale sets as HelmCharts validated by the real
CRD, runners bound to the project's least-privilege CI identity, GitHub App credentials kept out of the output."""

import base64

import pytest
import yaml
from harness import helm_chart, wait_until_gone

pytestmark = pytest.mark.cluster

# A syntactically PEM-shaped key made up for the test (the chart never sees it here; no runner starts).
KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + base64.b64encode(b"k8s-ee test key " * 8).decode()
    + "\n-----END RSA PRIVATE KEY-----\n"
)
ARC = {
    "arc_github_app_id": "123456",
    "arc_github_app_installation_id": "654321",
    "arc_github_app_private_key": KEY,
    "arc_scale_sets": [{"name": "shop", "project": "shop", "github_config_url": "https://github.com/acme/shop"}],
}


@pytest.fixture(scope="module")
def runs(playbooks, kube):
    wait_until_gone(kube, ["platform", "arc-systems", "arc-runners"])
    platform = playbooks.role("platform", platform_acme_email="ops@example.com", platform_ci_projects=["shop"])
    assert platform.rc == 0, platform
    checked = playbooks.role("arc", check=True, **ARC)
    in_check = helm_chart(kube, "arc-runners-shop") is not None
    return checked, in_check, playbooks.role("arc", **ARC), playbooks.role("arc", **ARC)


def test_converges_and_changes_nothing_the_second_time(runs):
    checked, in_check, first, second = runs
    assert checked.rc == 0 and not in_check, checked
    assert first.rc == 0 and first.changed > 0, first
    assert second.rc == 0 and second.changed == 0, second
    for run in (checked, first, second):
        assert KEY.splitlines()[1] not in run.stdout + run.stderr


def test_runners_use_the_ci_identity(runs, kube):
    controller = helm_chart(kube, "arc")["spec"]
    assert controller["chart"].endswith("/gha-runner-scale-set-controller") and controller["version"] == "0.14.2"
    assert controller["targetNamespace"] == "arc-systems"
    values = yaml.safe_load(helm_chart(kube, "arc-runners-shop")["spec"]["valuesContent"])
    assert values["githubConfigUrl"] == "https://github.com/acme/shop"
    assert (values["minRunners"], values["maxRunners"]) == (0, 3)
    assert values["template"]["spec"]["serviceAccountName"] == "k8s-ee-ci-shop"
    assert values["controllerServiceAccount"] == {"namespace": "arc-systems", "name": "arc-gha-rs-controller"}
    secret = kube.get("Secret", "arc-github-app", "arc-runners")
    assert base64.b64decode(secret["data"]["github_app_private_key"]).decode() == KEY
    assert base64.b64decode(secret["data"]["github_app_id"]).decode() == "123456"


def test_removed_scale_sets_are_deleted(runs, playbooks, kube):
    two = dict(ARC, arc_scale_sets=[*ARC["arc_scale_sets"], {**ARC["arc_scale_sets"][0], "name": "shop-large"}])
    assert playbooks.role("arc", **two).rc == 0
    assert helm_chart(kube, "arc-runners-shop-large")
    back = playbooks.role("arc", **ARC)
    assert back.rc == 0 and back.changed > 0, back
    assert helm_chart(kube, "arc-runners-shop-large") is None and helm_chart(kube, "arc-runners-shop")


def test_a_project_without_ci_identity_is_refused(runs, playbooks, kube):
    blog = dict(
        ARC, arc_scale_sets=[{"name": "blog", "project": "blog", "github_config_url": "https://github.com/acme/blog"}]
    )
    run = playbooks.role("arc", **blog)
    assert run.rc != 0
    assert any("k8s-ee-ci-blog" in f and "platform_ci_projects" in f for f in run.failures()), run
    assert helm_chart(kube, "arc-runners-blog") is None


def test_missing_app_credentials_are_refused(runs, playbooks):
    run = playbooks.role("arc", **dict(ARC, arc_github_app_private_key=""))
    assert run.rc != 0
    assert any("arc_github_app_private_key" in f for f in run.failures()), run


def test_check_mode_before_the_platform_exists(runs, playbooks, kube):
    """site.yml --check on a fresh cluster: role platform has not created the runners' namespace yet."""
    fresh = dict(
        ARC, arc_runners_namespace="arc-runners-not-yet", arc_scale_sets=[{**ARC["arc_scale_sets"][0], "name": "later"}]
    )
    run = playbooks.role("arc", check=True, **fresh)
    assert run.rc == 0 and run.changed > 0, run
    assert helm_chart(kube, "arc-runners-later") is None
    assert kube.get("Namespace", "arc-runners-not-yet") is None
