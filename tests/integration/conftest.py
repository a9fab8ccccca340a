"""The local Kubernetes control plane, started once per test session (tests/cluster/localcluster.py)."""

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
import threading  # noqa: E402
import time  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from github_fake import FakeGitHub  # noqa: E402

from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import Kube, KubeError  # noqa: E402

IMAGE = "registry.example/shop@sha256:" + "1" * 64
IMAGE_2 = "registry.example/shop@sha256:" + "2" * 64


@pytest.fixture(scope="session")
def kube(cluster):
    client = Kube(kubeconfig=str(cluster.kubeconfig))
    # what the platform role installs: the priority classes every environment pod uses
    for name, value in (("default-app", 100), ("platform-critical", 1000000)):
        try:
            client.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                           "metadata": {"name": name}, "value": value})
        except KubeError as exc:
            if exc.status != 409:
                raise
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


class Playbooks:
    """Runs the collection's playbooks with ansible-playbook, as an operator or a workflow would."""

    def __init__(self, cluster, github, allowlist, tmp):
        self.cluster, self.github, self.allowlist, self.tmp = cluster, github, allowlist, tmp

    def run(self, name, check=False, diff=False, token=True, **extra):
        variables = {
            "k8s_ee_repository": "acme/shop", "k8s_ee_head_sha": "a" * 40, "k8s_ee_branch": "feature/login",
            "k8s_ee_pr_author": "octocat", "k8s_ee_author_association": "MEMBER", "k8s_ee_image": IMAGE,
            "k8s_ee_domain": "preview.example.com", "k8s_ee_allowlist_path": str(self.allowlist),
            "k8s_ee_github_api_url": self.github.url, "k8s_ee_health_check": False, "k8s_ee_timeout": 120,
            "k8s_ee_collect_logs": False,
        }
        variables.update(extra)
        vars_file = self.tmp / f"vars-{time.monotonic_ns()}.json"
        vars_file.write_text(json.dumps(variables))
        env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(self.cluster.kubeconfig),
                   ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CONFIG=str(REPO / "tests" / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
        env.pop("GITHUB_TOKEN", None)
        if token:
            env["GITHUB_TOKEN"] = self.github.token
        argv = ["ansible-playbook", str(REPO / "playbooks" / f"{name}.yml"), "-e", f"@{vars_file}"]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
        return PlaybookResult(proc)


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            self.data = {"plays": [], "stats": {}}
        self.stats = self.data.get("stats", {}).get("localhost", {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    def task(self, name):
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] == name:
                    return task["hosts"].get("localhost", {})
        return None

    def __repr__(self):
        return f"<playbook rc={self.rc} stats={self.stats}\n{self.stdout[-4000:]}\n{self.stderr[-2000:]}>"


@pytest.fixture(scope="session")
def playbooks(cluster, kube, github, allowlist, tmp_path_factory):
    return Playbooks(cluster, github, allowlist, tmp_path_factory.mktemp("playbooks"))


class FakeOperators:
    """Does what CloudNativePG, the MongoDB operator and the MinIO operator do for readiness: writes the
    connection Secrets they own and sets the custom resources' status. (No operator runs in the test
    cluster; this stands in for them and only for them.)"""

    def __init__(self, kube):
        self.kube = kube
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.paused = set()

    def _secret(self, namespace, name, data):
        try:
            self.kube.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                              "stringData": data})
        except KubeError as exc:
            if exc.status != 409:
                raise

    def _status(self, kind, api_version, namespace, name, status):
        self.kube.apply_status({"apiVersion": api_version, "kind": kind,
                                "metadata": {"name": name, "namespace": namespace}, "status": status})

    def _loop(self):
        while not self.stop.is_set():
            try:
                self._reconcile()
            except KubeError:
                pass
            self.stop.wait(0.3)

    def _reconcile(self):
        stamp = "2026-01-01T00:00:00Z"
        for cluster in self.kube.list("Cluster"):
            ns = cluster["metadata"]["namespace"]
            if ns in self.paused or cluster.get("status", {}).get("readyInstances"):
                continue
            self._secret(ns, "postgresql-app", {
                "uri": f"postgresql://app:pw@postgresql-rw.{ns}:5432/app", "host": "postgresql-rw", "port": "5432",
                "dbname": "app", "user": "app", "password": "operator-made"})
            self._status("Cluster", "postgresql.cnpg.io/v1", ns, "postgresql", {
                "instances": 1, "readyInstances": 1, "phase": "Cluster in healthy state",
                "conditions": [{"type": "Ready", "status": "True", "reason": "ClusterIsReady",
                                "message": "Cluster is Ready", "lastTransitionTime": stamp}]})
        for mongo in self.kube.list("MongoDBCommunity"):
            ns = mongo["metadata"]["namespace"]
            if ns in self.paused or mongo.get("status", {}).get("phase") == "Running":
                continue
            self._secret(ns, "mongodb-app", {
                "connectionString.standard": f"mongodb://app:pw@mongodb-0.mongodb-svc.{ns}:27017/app",
                "username": "app", "password": "pw"})
            self._status("MongoDBCommunity", "mongodbcommunity.mongodb.com/v1", ns, "mongodb", {
                "phase": "Running", "currentMongoDBMembers": 1, "currentStatefulSetReplicas": 1,
                "mongoUri": f"mongodb://mongodb-0.mongodb-svc.{ns}:27017", "version": mongo["spec"]["version"]})
        for tenant in self.kube.list("Tenant"):
            ns = tenant["metadata"]["namespace"]
            if ns in self.paused or tenant.get("status", {}).get("currentState") == "Initialized":
                continue
            self._status("Tenant", "minio.min.io/v2", ns, "minio", {
                "currentState": "Initialized", "availableReplicas": 1, "revision": 0, "syncVersion": "v6.0.0",
                "certificates": {}, "pools": [{"ssName": "minio-pool-0", "state": "PoolInitialized"}],
                "healthStatus": "green"})


@pytest.fixture(scope="session")
def operators(kube):
    fake = FakeOperators(kube)
    fake.thread.start()
    yield fake
    fake.stop.set()
    fake.thread.join(5)
