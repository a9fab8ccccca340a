"""Set-up shared by the integration tests, the demo and the benchmarks."""

import os
import pathlib
import time

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KubeError

REPO = pathlib.Path(__file__).resolve().parent.parent


def ensure_priority_classes(kube) -> None:
    """What the platform role installs and every environment pod names."""
    for name, value in (("default-app", 100), ("platform-critical", 1000000)):
        try:
            kube.create(
                {
                    "apiVersion": "scheduling.k8s.io/v1",
                    "kind": "PriorityClass",
                    "metadata": {"name": name},
                    "value": value,
                }
            )
        except KubeError as exc:
            if exc.status != 409:
                raise


def environment_namespace(kube, number, repository="acme/shop", project="shop", labels=None, annotations=None):
    """A namespace labelled as pr_up labels an environment (only what the scheduled jobs look at)."""
    name = f"{project}-pr-{number}"
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
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
    )
    return name


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


def wait_until_gone(kube, namespaces, timeout=120):
    """Namespaces an earlier test deleted may still be terminating; a role cannot create objects in those."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any((kube.get("Namespace", n) or {}).get("metadata", {}).get("deletionTimestamp") for n in namespaces):
            return
        time.sleep(0.5)
    raise AssertionError(f"namespaces still terminating after {timeout}s: {namespaces}")
