"""The local Kubernetes control plane, started once per test session (tests/cluster/localcluster.py)."""

import contextlib
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "cluster"))

from localcluster import LocalCluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    local = LocalCluster(tmp_path_factory.mktemp("cluster"))
    local.start()
    os.environ["K8S_AUTH_KUBECONFIG"] = str(local.kubeconfig)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def api(cluster):
    """A kubernetes ApiClient authenticated as the cluster's admin."""
    return cluster.client()


# ---------------------------------------------------------------- playbooks, GitHub, operators

import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from fake_operators import FakeOperators  # noqa: E402
from github_fake import FakeGitHub  # noqa: E402
from harness import ensure_platform_prerequisites, playbook_env  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube  # noqa: E402

ROLE_PLAYBOOK = str(pathlib.Path(__file__).resolve().parent / "playbooks" / "role.yml")
IMAGE = "registry.example/shop@sha256:" + "1" * 64
IMAGE_2 = "registry.example/shop@sha256:" + "2" * 64


@pytest.fixture(scope="session")
def kube(cluster):
    client = Kube(kubeconfig=str(cluster.kubeconfig))
    ensure_platform_prerequisites(client)
    return client


@pytest.fixture(scope="session")
def github():
    with FakeGitHub() as fake:
        yield fake
    assert fake.violations == [], fake.violations


@pytest.fixture(scope="session")
def allowlist(tmp_path_factory):
    path = tmp_path_factory.mktemp("operator") / "allowlist.yaml"
    path.write_text("mode: allowlist\norganizations: [acme]\nrepositories: [other/shop]\n")
    return path


# Inputs that come from GitHub events and pull requests: passed as environment variables, as the example workflows
# pass them (extra vars are trusted templates in ansible-core 2.19; docs/security.md).
EVENT_INPUTS = {
    "k8s_ee_repository",
    "k8s_ee_pr_number",
    "k8s_ee_head_sha",
    "k8s_ee_branch",
    "k8s_ee_pr_author",
    "k8s_ee_author_association",
    "k8s_ee_image",
    "k8s_ee_command",
    "k8s_ee_comment_id",
    "k8s_ee_comment_user",
    "k8s_ee_merged",
}


class Playbooks:
    """Runs the collection's playbooks with ansible-playbook, as an operator or a workflow would: values of the
    pull request through the environment, operator settings as extra vars."""

    def __init__(self, cluster, github, allowlist, tmp):
        self.cluster, self.github, self.allowlist, self.tmp = cluster, github, allowlist, tmp

    def start(self, name, **extra):
        """Start a playbook without waiting (for races); returns the Popen."""
        argv, env = self._command(name, False, False, True, extra)
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_together(self, name, runs, kubeconfig=None, check=False):
        """Start one playbook per mapping of extra variables in `runs` at once; wait for all of them."""
        started = []
        for index, extra in enumerate(runs):
            argv, env = self._command(name, check, False, True, extra, kubeconfig)
            out = (self.tmp / f"together-{time.monotonic_ns()}-{index}.out").open("w+")
            err = (self.tmp / f"together-{time.monotonic_ns()}-{index}.err").open("w+")
            started.append((subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True), out, err))
        results = []
        for proc, out, err in started:
            proc.wait(timeout=600)
            out.seek(0)
            err.seek(0)
            finished = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
            results.append(PlaybookResult(finished))
            out.close()
            err.close()
        return results

    def run(self, name, check=False, diff=False, token=True, kubeconfig=None, **extra):
        argv, env = self._command(name, check, diff, token, extra, kubeconfig)
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
        return PlaybookResult(proc)

    def role(self, role, check=False, diff=False, **variables):
        """Apply one of the collection's roles on the controller (the cluster roles talk only to the API)."""
        return self.run(ROLE_PLAYBOOK, check=check, diff=diff, token=False, k8s_ee_test_role=role, **variables)

    def _command(self, name, check, diff, token, extra, kubeconfig=None):
        variables = {
            "k8s_ee_repository": "acme/shop",
            "k8s_ee_head_sha": "a" * 40,
            "k8s_ee_branch": "feature/login",
            "k8s_ee_pr_author": "octocat",
            "k8s_ee_author_association": "MEMBER",
            "k8s_ee_image": IMAGE,
            "k8s_ee_domain": "preview.example.com",
            "k8s_ee_allowlist_path": str(self.allowlist),
            "k8s_ee_github_api_url": self.github.url,
            "k8s_ee_health_check": False,
            "k8s_ee_timeout": 120,
            "k8s_ee_collect_logs": False,
        }
        if pathlib.Path(name).stem in ("pr_down", "preserve"):
            # the operator's admin kubeconfig is no project's CI identity: say which project's environment is meant
            variables["k8s_ee_project_id"] = "shop"
        variables.update(extra)
        env = playbook_env(kubeconfig or self.cluster.kubeconfig, self.github.token if token else None)
        for key in EVENT_INPUTS & set(variables):
            env[key.upper()] = str(variables.pop(key))
        vars_file = self.tmp / f"vars-{time.monotonic_ns()}.json"
        vars_file.write_text(json.dumps(variables))
        playbook = name if name.endswith(".yml") else str(REPO / "playbooks" / f"{name}.yml")
        argv = ["ansible-playbook", playbook, "-e", f"@{vars_file}"]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        return argv, env


def _changed_objects(host: dict) -> list[str]:
    return [
        f"{o.get('kind')}/{o.get('name')} {o.get('action')}"
        for o in host.get("objects") or []
        if isinstance(o, dict) and o.get("action") != "unchanged"
    ]


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{") :])
        except ValueError:
            self.data = {"plays": [], "stats": {}}
        self.stats = self.data.get("stats", {}).get("localhost", {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    def results(self):
        """Every task run, in order: its name and localhost's result."""
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                yield task["task"]["name"], task["hosts"].get("localhost", {})

    def task(self, name):
        return next((host for task, host in self.results() if task == name), None)

    def failures(self):
        return [
            f"{task}: {host.get('msg')} {host.get('details') or ''}"
            for task, host in self.results()
            if host.get("failed")
        ]

    def changes(self):
        """The tasks that reported a change: the name, the comment's action, the objects applied other than unchanged
        (kind/name/action only: no content)."""
        return [
            f"{task}: {host.get('action') or ''} {_changed_objects(host)}"
            for task, host in self.results()
            if host.get("changed")
        ]

    def __repr__(self):
        return (
            f"<playbook rc={self.rc} failures={self.failures()} changes={self.changes()} stats={self.stats} "
            f"stderr={self.stderr[-1500:]}>"
        )


@pytest.fixture(scope="session")
def playbooks(cluster, kube, github, allowlist, tmp_path_factory):
    return Playbooks(cluster, github, allowlist, tmp_path_factory.mktemp("playbooks"))


@pytest.fixture(scope="session")
def operators(kube):
    fake = FakeOperators(kube)
    fake.thread.start()
    yield fake
    fake.stop.set()
    fake.thread.join(5)


@pytest.fixture(autouse=True)
def no_leftover_namespaces(kube):
    """Whatever a test leaves behind (also when it fails) is deleted, so no test sees another's namespaces."""
    before = {ns["metadata"]["name"] for ns in kube.list("Namespace")}
    yield
    for ns in kube.list("Namespace"):
        if ns["metadata"]["name"] not in before and not ns["metadata"].get("deletionTimestamp"):
            kube.delete("Namespace", ns["metadata"]["name"])


# ------------------------------------------------------------------ modules with a cluster of their own


@contextlib.contextmanager
def module_cluster(tmp_path_factory, name: str, build_log=None, **options):
    """A LocalCluster of one test module's own (`options` as LocalCluster takes them), stopped after its tests."""
    local = LocalCluster(tmp_path_factory.mktemp(name), **options)
    local.start(**({"build_log": build_log} if build_log else {}))
    try:
        yield local
    finally:
        local.stop()


# test_real_node.py and test_real_observability.py each define `node_cluster` (a real node of their own, with or
# without the edge); these module-scoped fixtures build on whichever the requesting module defines.


@pytest.fixture(scope="module")
def host_before():
    import realnode

    return realnode.host_snapshot()


@pytest.fixture(scope="module")
def node_kube(node_cluster):
    client = Kube(kubeconfig=str(node_cluster.kubeconfig))
    ensure_platform_prerequisites(client)
    return client


@pytest.fixture(scope="module")
def node_playbooks(node_cluster, node_kube, github, allowlist, tmp_path_factory):
    return Playbooks(node_cluster, github, allowlist, tmp_path_factory.mktemp("real-node-playbooks"))
