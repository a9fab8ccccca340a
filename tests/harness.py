"""Set-up shared by the integration tests, the demo and the benchmarks."""

import os
import pathlib
import re
import subprocess
import time

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

REPO = pathlib.Path(__file__).resolve().parent.parent


def ensure_platform_prerequisites(kube) -> None:
    """What role platform installs and pr_up needs: the priority classes every environment pod names, and the
    namespace `platform` of the capacity lock's Lease (pr_up creates the Lease where it may, as the cluster admin of
    the tests does; role platform creates it on a server)."""
    for name, value in (("default-app", 100), ("platform-critical", 1000000)):
        _create(
            kube,
            {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value},
        )
    _create(kube, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}})


def occupy(kube, namespace: str, requests: dict) -> None:
    """A namespace with one pod outside environments that requests `requests` (e.g. {"cpu": "3900m"}): room taken
    from capacity admission, which counts every such pod's requests (docs/quota.md, "Capacity")."""
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    container = {"name": "hog", "image": "registry.example/hog@sha256:" + "3" * 64, "resources": {"requests": requests}}
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "hog", "namespace": namespace},
            "spec": {"containers": [container]},
        }
    )


def _create(kube, obj: dict) -> None:
    try:
        kube.create(obj)
    except KubeError as exc:
        if exc.status != 409:
            raise


def environment_namespace_object(
    number, repository="acme/shop", project="shop", labels=None, annotations=None, name=None
):
    """A Namespace labelled as pr_up labels an environment (only what the scheduled jobs look at)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name or f"{project}-pr-{number}",
            "labels": {
                "app.kubernetes.io/managed-by": "k8s-ee",
                "k8s-ee/type": "ephemeral",
                "k8s-ee/project-id": project,
                "k8s-ee/pr-number": str(number),
                **(labels or {}),
            },
            "annotations": {"k8s-ee/repository": repository, **(annotations or {})},
        },
    }


def environment_namespace(kube, number, repository="acme/shop", project="shop", labels=None, annotations=None):
    """Create such a namespace; returns its name."""
    namespace = environment_namespace_object(number, repository, project, labels, annotations)
    kube.create(namespace)
    return namespace["metadata"]["name"]


def impersonating(kubeconfig, user):
    """A client with the administrator's kubeconfig that acts as `user` (Impersonate-User), e.g. an operator's
    ServiceAccount, so a test sees what admission does to that identity's requests."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube

    kube = Kube(kubeconfig=str(kubeconfig))
    send = kube.http.request

    def as_user(method, url, headers=None, **kwargs):
        return send(method, url, headers={**(headers or {}), "Impersonate-User": user}, **kwargs)

    kube.http.request = as_user
    return kube


def playbook_env(kubeconfig, github_token=None, json_output=True) -> dict:
    """The environment ansible-playbook runs the collection's playbooks with, from a checkout."""
    env = dict(
        os.environ,
        K8S_AUTH_KUBECONFIG=str(kubeconfig),
        ANSIBLE_CONFIG=str(REPO / "tests" / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
    )
    env.pop("GITHUB_TOKEN", None)
    if github_token:
        env["GITHUB_TOKEN"] = github_token
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    return env


def ensure_namespace(kube, name):
    """Create namespace `name` unless it exists (the `platform` namespace role platform makes, for tests without it)."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

    try:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    except KubeError as exc:
        if exc.status != 409:
            raise


def wait_until_gone(kube, namespaces, timeout=120):
    """Namespaces an earlier test deleted may still be terminating; a role cannot create objects in those."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any((kube.get("Namespace", n) or {}).get("metadata", {}).get("deletionTimestamp") for n in namespaces):
            return
        time.sleep(0.5)
    raise AssertionError(f"namespaces still terminating after {timeout}s: {namespaces}")


def run_molecule(scenario, timeout=1800, **extra_env) -> str:
    """`molecule test -s <scenario>` from extensions/; fails with the task failures (colours removed)."""
    subprocess.run([str(REPO / "extensions" / "molecule" / "prepare-host.sh")], check=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"), **extra_env)
    started = time.monotonic()
    proc = subprocess.run(
        ["molecule", "test", "-s", scenario],
        cwd=REPO / "extensions",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    failures = [line for line in output.splitlines() if "fatal" in line or "FAILED" in line or "msg" in line]
    assert proc.returncode == 0, "\n".join(failures[-40:]) or output[-6000:]
    print(f"molecule test -s {scenario}: {time.monotonic() - started:.0f} s")
    return output


def helm_chart(kube, name, namespace="kube-system"):
    """A k3s HelmChart as the API server stored it, or None."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

    try:
        return kube.request("GET", f"/apis/helm.cattle.io/v1/namespaces/{namespace}/helmcharts/{name}")
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise


def install_helm_chart(kube, kubectl: list[str], name: str, namespace: str = "kube-system") -> list[dict]:
    """What k3s' helm-controller does for one of the roles' HelmCharts, without its download: the CRDs of the chart's
    crds/ folders first (as `helm install` creates them), then `helm template` of the pinned chart (tests/upstream.py,
    the same version) with the HelmChart's valuesContent and the API versions the cluster serves, under the
    HelmChart's name as release and in its targetNamespace (tests/charts.py `render`), applied server-side (`helm
    test` hooks left out, as an install leaves them; an object that names its namespace, such as an exporter's
    Service in kube-system, goes there). `kubectl` is the command with its --kubeconfig."""
    import yaml
    from charts import api_versions, chart_crds, chart_folder, discover, is_test_hook, release, render, values_of

    chart = helm_chart(kube, name, namespace)
    _release, target = release(chart)

    def apply(objects, *where):
        applied = subprocess.run(
            [*kubectl, "apply", "--server-side", "--force-conflicts", *where, "-f", "-"],
            input=yaml.safe_dump_all(objects),
            text=True,
            capture_output=True,
            check=False,
        )
        if applied.returncode:
            raise RuntimeError(f"applying chart {name} failed: {applied.stderr[-3000:]}")

    crds = chart_crds(chart_folder(chart["spec"]), values_of(chart))
    if crds:
        apply(crds)
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "--timeout=60s"]
            + [f"crd/{crd['metadata']['name']}" for crd in crds],
            capture_output=True,
            check=True,
        )
    # rendered with the APIs the cluster serves once the CRDs exist, as helm's capabilities are after it created
    # them (a chart renders its ServiceMonitor only when monitoring.coreos.com/v1/ServiceMonitor is served)
    served = api_versions(discover(kube))
    objects = [obj for obj in render(chart, api_versions=served) if not is_test_hook(obj)]
    if not kube.get("Namespace", target):
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})
    by_namespace: dict[str, list[dict]] = {}
    for obj in objects:
        by_namespace.setdefault(obj.get("metadata", {}).get("namespace") or target, []).append(obj)
    for where, group in sorted(by_namespace.items()):
        apply(group, "-n", where)
    return objects
