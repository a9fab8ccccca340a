"""Role arc against the local control plane: controller and runner scale sets as HelmCharts validated by the real
CRD, runners bound to the project's least-privilege CI identity, GitHub App credentials kept out of the output.

The runner pod is what the pinned gha-runner-scale-set chart renders from exactly the values the role wrote (helm
template of the upstream chart of tests/upstream.py), plus what the controller adds (resourcebuilder.go,
newEphemeralRunnerPod), and is created (server-side dry run) against the real Pod Security admission, ServiceAccount
admission and the role's ValidatingAdmissionPolicy of the runners' namespace."""

import base64
import copy
import pathlib
import time

import pytest
import yaml
from charts import render
from harness import helm_chart, wait_until_gone

from ansible_collections.k8s_ee.platform.plugins.module_utils._access import load_allowlist, repository_allowed
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._lifecycle import api_endpoints

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


# ---------------------------------------------------------------- the runner pod: BuildKit sidecar, allowlist, policy

REPO = pathlib.Path(__file__).resolve().parents[2]
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
POLICY = "k8s-ee-arc-runner-pods"


def render_runner_set(chart):
    """The AutoscalingRunnerSet the pinned chart renders from a stored HelmChart, as k3s installs it (the release
    under the HelmChart's name in its targetNamespace; tests/charts.py)."""
    return next(d for d in render(chart) if d["kind"] == "AutoscalingRunnerSet")


def runner_pod(runner_set, namespace="arc-runners", name="shop-runner-x7k2p"):
    """The pod the controller makes of the set's template: the template's spec, its labels, and the runner
    container's registration (JIT config from the runner's Secret) appended to that container's env."""
    template = copy.deepcopy(runner_set["spec"]["template"])
    spec = template["spec"]
    for container in spec["containers"]:
        if container["name"] == "runner":
            container.setdefault("env", []).extend(
                [
                    {
                        "name": "ACTIONS_RUNNER_INPUT_JITCONFIG",
                        "valueFrom": {"secretKeyRef": {"name": name, "key": "jitToken"}},
                    },
                    {"name": "GITHUB_ACTIONS_RUNNER_EXTRA_USER_AGENT", "value": "actions-runner-controller/0.14.2"},
                ]
            )
    labels = {**(template.get("metadata") or {}).get("labels", {}), "actions-ephemeral-runner": "True"}
    meta = {"name": name, "namespace": namespace, "labels": labels}
    if (template.get("metadata") or {}).get("annotations"):
        meta["annotations"] = template["metadata"]["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def dry_run_create(kube, pod):
    """Create the pod with every admission step and nothing stored; returns the pod as admitted."""
    path = f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods"
    return kube.request("POST", path, body=pod, query={"dryRun": "All"})


def refusal(kube, pod, timeout=20):
    """The API server's message refusing the pod; polls while a just-applied policy may not be loaded yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            dry_run_create(kube, pod)
        except KubeError as exc:
            assert exc.status in (403, 422), exc
            return str(exc)
        if time.monotonic() > deadline:
            raise AssertionError(f"admitted: {pod['metadata']['name']}")
        time.sleep(0.5)


def container(pod, name):
    return next(c for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"] if c["name"] == name)


def volume(pod, name):
    return next(v for v in pod["spec"]["volumes"] if v["name"] == name)


@pytest.fixture(scope="module")
def rendered(runs, kube):
    """The runner pod of scale set shop, from the HelmChart the role stored in the cluster."""
    return runner_pod(render_runner_set(helm_chart(kube, "arc-runners-shop")))


def without_token_mask(pod):
    pod = copy.deepcopy(pod)
    sidecar = container(pod, "buildkitd")
    sidecar["volumeMounts"] = [m for m in sidecar["volumeMounts"] if m["mountPath"] != TOKEN_PATH]
    return pod


def _shared_pid(pod):
    pod["spec"]["shareProcessNamespace"] = True


def _sidecar_reads_allowlist(pod):
    container(pod, "buildkitd")["volumeMounts"].append({"name": "k8s-ee-allowlist", "mountPath": "/etc/k8s-ee"})


def _sidecar_as_root(pod):
    container(pod, "buildkitd")["securityContext"].update(runAsUser=0, runAsNonRoot=False)


def _sidecar_privileged(pod):
    container(pod, "buildkitd")["securityContext"]["privileged"] = True


def _pod_unconfined(pod):
    pod["spec"]["securityContext"]["seccompProfile"] = {"type": "Unconfined"}


def _runner_unconfined(pod):
    container(pod, "runner").setdefault("securityContext", {})["appArmorProfile"] = {"type": "Unconfined"}


def _host_path(pod):
    pod["spec"]["volumes"].append({"name": "containerd", "hostPath": {"path": "/run/k3s/containerd"}})
    container(pod, "runner")["volumeMounts"].append({"name": "containerd", "mountPath": "/run/containerd"})


def _host_network(pod):
    pod["spec"]["hostNetwork"] = True


def _sidecar_secret_env(pod):
    container(pod, "buildkitd")["envFrom"] = [{"secretRef": {"name": "arc-github-app"}}]


def _token_volume_in_sidecar(pod):
    """A projected token mounted elsewhere, with the mask still in place."""
    pod["spec"]["volumes"].append(
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
    )
    container(pod, "buildkitd")["volumeMounts"].append({"name": "token", "mountPath": "/tmp/token"})


def _added_capability(pod):
    container(pod, "runner").setdefault("securityContext", {})["capabilities"] = {"add": ["SYS_ADMIN"]}


def _host_port(pod):
    container(pod, "runner")["ports"] = [{"containerPort": 9100, "hostPort": 9100}]


def _sysctl(pod):
    pod["spec"]["securityContext"]["sysctls"] = [{"name": "kernel.msgmax", "value": "65536"}]


def _selinux(pod):
    container(pod, "runner").setdefault("securityContext", {})["seLinuxOptions"] = {"type": "spc_t"}


VARIANTS = {
    "no token mask": (without_token_mask, "hide the service account token"),
    "shared process namespace": (_shared_pid, "shared process namespace"),
    "sidecar mounts the allowlist": (_sidecar_reads_allowlist, "only emptyDir"),
    "sidecar mounts a projected token": (_token_volume_in_sidecar, "only emptyDir"),
    "sidecar reads a Secret": (_sidecar_secret_env, "reads no Secret"),
    "sidecar as root": (_sidecar_as_root, "non-root"),
    "privileged sidecar": (_sidecar_privileged, "privileged"),
    "unconfined pod": (_pod_unconfined, "never the whole pod"),
    "unconfined runner (holds the token)": (_runner_unconfined, "hide the service account token"),
    "hostPath volume": (_host_path, "hostPath"),
    "host network": (_host_network, "node's namespaces"),
    "added capability": (_added_capability, "capability"),
    "host port": (_host_port, "host port"),
    "sysctl": (_sysctl, "sysctls"),
    "SELinux type": (_selinux, "SELinux"),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_the_runners_namespace_refuses_more_than_the_sidecar_needs(rendered, kube, variant):
    """Pod Security enforces privileged in arc-runners; the role's admission policy takes back all but the sidecar's
    exception. Each variant changes one thing of the admitted pod."""
    change, reason = VARIANTS[variant]
    pod = copy.deepcopy(rendered)
    pod = change(pod) or pod
    message = refusal(kube, pod)
    assert POLICY in message and reason in message, message


def test_the_runner_pod_is_admitted_with_buildkit_the_allowlist_and_no_token_in_the_sidecar(rendered, kube):
    refusal(kube, without_token_mask(rendered))  # the policy is loaded, so being admitted below means passing it
    admitted = dry_run_create(kube, rendered)
    spec = admitted["spec"]
    assert not spec.get("shareProcessNamespace") and spec["serviceAccountName"] == "k8s-ee-ci-shop"
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}

    sidecar = container(admitted, "buildkitd")
    assert sidecar["restartPolicy"] == "Always"  # a native sidecar: the pod ends when the runner's job ends
    assert sidecar["image"] == "moby/buildkit:v0.34.0-rootless"
    assert sidecar["args"] == ["--addr", "tcp://127.0.0.1:1234", "--oci-worker-no-process-sandbox"]
    context = sidecar["securityContext"]
    assert context["seccompProfile"] == context["appArmorProfile"] == {"type": "Unconfined"}
    assert context["runAsNonRoot"] and context["runAsUser"] == 1000 and not context.get("privileged")
    assert sidecar["resources"]["limits"] == {"cpu": "2", "memory": "3Gi"}
    mounts = {m["mountPath"]: m["name"] for m in sidecar["volumeMounts"]}
    # the ServiceAccount admission plugin gave the sidecar no token: the only thing at the token's path is an emptyDir
    assert set(mounts) == {TOKEN_PATH, "/home/user/.local/share/buildkit"}
    assert "emptyDir" in volume(admitted, mounts[TOKEN_PATH])
    assert volume(admitted, mounts["/home/user/.local/share/buildkit"])["emptyDir"] == {"sizeLimit": "10Gi"}

    runner = container(admitted, "runner")
    env = {e["name"]: e.get("value") for e in runner["env"]}
    assert env["K8S_EE_ALLOWLIST_PATH"] == "/etc/k8s-ee/allowlist.yaml"
    assert "K8S_EE_TIMEOUT" not in env and "K8S_EE_HEALTH_CHECK" not in env
    mounts = {m["mountPath"]: m for m in runner["volumeMounts"]}
    allowlist = volume(admitted, mounts["/etc/k8s-ee"]["name"])["configMap"]
    assert mounts["/etc/k8s-ee"]["readOnly"]
    assert allowlist == {
        "name": "k8s-ee-allowlist",
        "items": [{"key": "allowlist.yaml", "path": "allowlist.yaml"}],
        "defaultMode": 420,
    }
    token = volume(admitted, mounts[TOKEN_PATH]["name"])  # the runner holds the CI identity's token
    assert any("serviceAccountToken" in source for source in token["projected"]["sources"])


def test_pod_security_baseline_refuses_the_sidecar(rendered, kube):
    """Why arc-runners enforces privileged: the same pod in a baseline namespace is refused by Pod Security."""
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "arc-runners-baseline", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
        }
    )
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "k8s-ee-ci-shop", "namespace": "arc-runners-baseline"},
        }
    )
    pod = copy.deepcopy(rendered)
    pod["metadata"]["namespace"] = "arc-runners-baseline"
    message = refusal(kube, pod)
    assert 'violates PodSecurity "baseline:latest"' in message and "Unconfined" in message, message
    namespace = kube.get("Namespace", "arc-runners")["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["pod-security.kubernetes.io/warn"] == namespace["pod-security.kubernetes.io/audit"] == "baseline"


def test_the_admission_policy_type_checks(runs, kube):
    deadline = time.monotonic() + 30
    while True:
        policy = kube.request("GET", f"/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{POLICY}")
        if (policy.get("status") or {}).get("observedGeneration") == policy["metadata"]["generation"]:
            break
        assert time.monotonic() < deadline, policy.get("status")
        time.sleep(0.5)
    assert not (policy["status"].get("typeChecking") or {}).get("expressionWarnings"), policy["status"]


def test_the_allowlist_defaults_to_the_scale_sets_repositories(runs, kube, tmp_path):
    data = kube.get("ConfigMap", "k8s-ee-allowlist", "arc-runners")["data"]
    path = tmp_path / "allowlist.yaml"
    path.write_text(data["allowlist.yaml"])
    allowlist = load_allowlist(str(path))  # what pr_up reads at K8S_EE_ALLOWLIST_PATH
    assert allowlist == {"mode": "allowlist", "organizations": [], "repositories": ["acme/shop"]}
    assert repository_allowed(allowlist, "acme/shop")[0] and not repository_allowed(allowlist, "acme/blog")[0]


def test_the_network_policy_allows_dns_the_api_and_the_internet_only(runs, kube):
    policy = kube.get("NetworkPolicy", "k8s-ee-runners", "arc-runners")
    spec = policy["spec"]
    assert spec["podSelector"] == {} and sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in spec  # every runner pod: no ingress at all
    dns, *api, internet = spec["egress"]
    assert dns == {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    reached = sorted((rule["to"][0]["ipBlock"]["cidr"], rule["ports"][0]["port"]) for rule in api)
    assert reached == sorted((f"{e['ip']}/32", e["port"]) for e in api_endpoints(kube)), reached
    nodes = {
        a["address"]
        for node in kube.list("Node")
        for a in node["status"].get("addresses", [])
        if a["type"] in ("InternalIP", "ExternalIP") and "." in a["address"]
    }
    block = internet["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0" and "ports" not in internet
    private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]
    assert set(block["except"]) == set(private) | {f"{n}/32" for n in nodes}


def test_operator_settings_reach_the_runners(runs, playbooks, kube, tmp_path):
    """An explicit allowlist, deploy settings and no sidecar: the runner pod is then Pod Security baseline."""
    settings = dict(
        ARC,
        arc_allowlist={"mode": "denylist", "repositories": ["evil/repo"]},
        arc_deploy_timeout=900,
        arc_deploy_health_check=False,
        arc_buildkit_enabled=False,
    )
    try:
        run = playbooks.role("arc", **settings)
        assert run.rc == 0 and run.changed > 0, run
        path = tmp_path / "allowlist.yaml"
        path.write_text(kube.get("ConfigMap", "k8s-ee-allowlist", "arc-runners")["data"]["allowlist.yaml"])
        allowlist = load_allowlist(str(path))
        assert allowlist == {"mode": "denylist", "organizations": [], "repositories": ["evil/repo"]}
        pod = runner_pod(render_runner_set(helm_chart(kube, "arc-runners-shop")))
        assert "initContainers" not in pod["spec"]
        env = {e["name"]: e.get("value") for e in container(pod, "runner")["env"]}
        assert (env["K8S_EE_TIMEOUT"], env["K8S_EE_HEALTH_CHECK"]) == ("900", "false")
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": "arc-runners-strict",
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            }
        )
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "arc-runners-plain", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
            }
        )
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "k8s-ee-ci-shop", "namespace": "arc-runners-plain"},
            }
        )
        pod["metadata"]["namespace"] = "arc-runners-plain"
        assert dry_run_create(kube, pod)["metadata"]["name"] == pod["metadata"]["name"]
        # with the sidecar, the role refuses a runners' namespace that enforces baseline or restricted
        strict = playbooks.role("arc", **dict(ARC, arc_runners_namespace="arc-runners-strict", arc_scale_sets=[]))
        assert strict.rc != 0
        assert any(
            "arc-runners-strict enforces Pod Security restricted" in f and "platform_namespaces" in f
            for f in strict.failures()
        ), strict
    finally:
        back = playbooks.role("arc", **ARC)
    assert back.rc == 0 and back.changed > 0, back
    assert (
        "initContainers"
        in yaml.safe_load(helm_chart(kube, "arc-runners-shop")["spec"]["valuesContent"])["template"]["spec"]
    )


@pytest.mark.parametrize(
    ("given", "url", "words"),
    [
        ({"mode": "open", "repositories": "acme/shop"}, None, ["arc_allowlist.mode", "arc_allowlist.repositories"]),
        ({"mode": "allowlist", "teams": ["x"]}, None, ["unknown keys"]),
        ({"mode": "allowlist", "repositories": ["acme"]}, None, ["owner/repo"]),
        (None, "https://github.com/enterprises/acme", ["cannot be derived", "set arc_allowlist"]),
    ],
    ids=["bad mode and list", "unknown key", "repository without owner", "enterprise scale set"],
)
def test_an_invalid_allowlist_is_refused_before_anything_changes(runs, playbooks, kube, given, url, words):
    before = kube.get("ConfigMap", "k8s-ee-allowlist", "arc-runners")["data"]
    scale_sets = [{**ARC["arc_scale_sets"][0], "github_config_url": url}] if url else ARC["arc_scale_sets"]
    run = playbooks.role("arc", **dict(ARC, arc_allowlist=given, arc_scale_sets=scale_sets))
    assert run.rc != 0
    assert any(all(w in f for w in words) for f in run.failures()), run
    assert kube.get("ConfigMap", "k8s-ee-allowlist", "arc-runners")["data"] == before
