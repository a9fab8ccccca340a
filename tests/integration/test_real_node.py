"""The environment really runs: pr_up on the local cluster's real node (tests/cluster/realnode.py).

A cluster of its own (no simulated nodes, so every pod lands on the real node): kubelet, containerd,
runc and the CNI plugins run the pods, kube-proxy serves ClusterIPs, CoreDNS answers, kube-router
enforces the NetworkPolicies and local-path-provisioner gives volumes. The last test stops it and
compares the host with how it was before the first.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from conftest import module_cluster

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "cluster"))

import images
import realnode
from edge import fetch, issued_by_pebble, pebble_context, unverified, wait_for
from harness import install_helm_chart
from localcluster import binaries

from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.real_node,
    pytest.mark.skipif(os.geteuid() != 0, reason="the real node needs root (network namespace, cgroups, mounts)"),
]
REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-app"
SAMPLE_APP = images.SAMPLE_APP_IMAGE.format(version="1")
SAMPLE_APP_2 = images.SAMPLE_APP_IMAGE.format(version="2")  # the same app under a second tag: a new image
PROBE = images.PROBE_IMAGE.format(version="1")
# the database versions whose images are built here from Debian's packages (docs/testing.md)
REDIS = {"version": realnode.NODE_TAGS["redis"][0]}
MARIADB = {"version": realnode.NODE_TAGS["mariadb"][0]}
BASIC = {"redis": REDIS, "mariadb": MARIADB}
DOMAIN = "preview.example.com"  # conftest.Playbooks' k8s_ee_domain


@pytest.fixture(scope="module")
def node_cluster(host_before, tmp_path_factory):
    # with the edge: Traefik in the node's network namespace, as the chart runs it on k3s, and Pebble
    with module_cluster(tmp_path_factory, "real-node", nodes=0, real_node=True, edge=True) as local:
        yield local


@pytest.fixture(autouse=True)
def no_leftover_namespaces():
    """Environments of this module live on its own cluster and are shared between its tests."""
    yield


def kubectl(cluster, *args, check=True, **kwargs):
    return subprocess.run(
        [str(binaries()["kubectl"]), f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=check,
        **kwargs,
    )


def app_call(cluster, namespace, path, method="GET", body=None):
    """A request through the API server's service proxy, which dials the pod as the default health check does."""
    url = f"{cluster.server}/api/v1/namespaces/{namespace}/services/app:http/proxy{path}"
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - https to the API server
    try:
        with urllib.request.urlopen(request, context=cluster.ssl_context(), timeout=60) as response:  # noqa: S310
            text = response.read().decode()
            if response.headers.get("Content-Type", "").startswith("application/json"):
                return response.status, json.loads(text)
            return response.status, text
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def sample_config(tmp, databases, app=None, more=None):
    """The sample app's own k8s-ee.yaml with `databases` (name -> True or settings) instead of its own, `app`
    settings merged into its own and `more` top-level settings (metrics, ...) added."""
    config = yaml.safe_load((SAMPLE / "k8s-ee.yaml").read_text())
    config["databases"] = databases
    config["app"].update(app or {})
    config.update(more or {})
    path = tmp / f"k8s-ee-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path), config["projectId"]


def connect(cluster, namespace, target, host, port, seconds=3):
    """Open a TCP connection from the pod of `target` (deploy/app, pod/name, ...) with bash's /dev/tcp:
    'open', 'refused' (kube-router rejects what a policy denies) or 'timeout'."""
    script = f"exec 3<>/dev/tcp/{host}/{port}"
    result = kubectl(
        cluster, "-n", namespace, "exec", target, "--", "timeout", str(seconds), "bash", "-c", script, check=False
    )
    if result.returncode == 0:
        return "open"
    if result.returncode == 124:
        return "timeout"
    if "refused" in result.stderr:
        return "refused"
    return f"error {result.returncode}: {result.stderr.strip()[-300:]}"


class Environments:
    """Pull requests of the sample app on the real node, each brought up once and shared by the tests."""

    def __init__(self, cluster, playbooks, tmp):
        self.cluster, self.playbooks, self.tmp = cluster, playbooks, tmp
        self.namespaces = {}

    def up(self, number, databases, image=None, app=None, more=None, **extra):
        path, project = sample_config(self.tmp, databases, app, more)
        settings = {
            "k8s_ee_pr_number": number,
            "k8s_ee_config_path": path,
            "k8s_ee_image": self.cluster.real_node.pinned(image or SAMPLE_APP),
            "k8s_ee_health_check": True,
            "k8s_ee_timeout": 300,
            **extra,
        }
        result = self.playbooks.run("pr_up", **settings)
        self.namespaces[number] = f"{project}-pr-{number}"
        return result

    def down(self, *numbers):
        """pr_down, to give the node's two CPUs to the next environments."""
        for number in numbers:
            if number in self.namespaces:
                project = self.namespaces.pop(number).rsplit("-pr-", 1)[0]
                result = self.playbooks.run("pr_down", k8s_ee_pr_number=number, k8s_ee_project_id=project)
                assert result.rc == 0, result

    def ensure(self, number, databases=None):
        if number not in self.namespaces:
            result = self.up(number, databases or BASIC)
            assert result.rc == 0, result
        return self.namespaces[number]


@pytest.fixture(scope="module")
def environments(node_cluster, node_playbooks, tmp_path_factory):
    return Environments(node_cluster, node_playbooks, tmp_path_factory.mktemp("environments"))


# ------------------------------------------------------------------ the node


def test_node_is_real_and_ready(node_cluster, node_kube):
    (node,) = node_kube.list("Node")
    assert node["metadata"]["name"] == realnode.NODE_NAME
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.6")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.3"
    assert {a["type"]: a["address"] for a in node["status"]["addresses"]}["InternalIP"] == realnode.NODE_ADDRESS
    assert node["spec"]["podCIDR"] == realnode.POD_CIDR
    classes = {
        c["metadata"]["name"]: c for c in node_kube.request("GET", "/apis/storage.k8s.io/v1/storageclasses")["items"]
    }
    default = [
        n
        for n, c in classes.items()
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]
    assert default == ["local-path"]


def test_app_with_redis_and_mariadb_comes_up_and_uses_both(node_cluster, environments, github):
    namespace = environments.ensure(1)  # pr_up with the default health check, through the API server's proxy
    assert app_call(node_cluster, namespace, "/healthz")[0] == 200
    status, overview = app_call(node_cluster, namespace, "/")
    assert status == 200, overview
    assert overview["pullRequest"]["PR_NUMBER"] == "1"
    assert overview["databases"]["redis"]["missing"] == []
    assert overview["databases"]["mariadb"]["missing"] == []
    for db in ("redis", "mariadb"):
        assert app_call(node_cluster, namespace, f"/kv/{db}/greeting", "PUT", f"hello from {db}")[0] == 200
        assert app_call(node_cluster, namespace, f"/kv/{db}/greeting") == (
            200,
            {"db": db, "key": "greeting", "value": f"hello from {db}"},
        )
    # PostgreSQL is not configured here: the app says which variables it lacks instead of guessing
    status, body = app_call(node_cluster, namespace, "/check/postgresql")
    assert status == 503 and "DATABASE_URL" in json.dumps(body)
    comment = [c["body"] for c in github.comments_of("acme/shop", 1) if "k8s-ee:environment" in c["body"]][-1]
    assert "Preview environment: deployed" in comment
    assert f"https://{namespace}." in comment


def test_the_preview_url_answers_from_the_app_over_https(node_cluster, environments, github):
    """What a reviewer clicks: https://<namespace>.<domain>/ reaches Traefik (started with the arguments the k3s chart
    renders for role platform's HelmChartConfig, in the node's network namespace: tests/cluster/edge.py), which
    holds a certificate Pebble issued for the host by HTTP-01, and answers with the app on the real node."""
    edge = node_cluster.status()["edge"]
    number = 30
    result = environments.up(number, {})
    assert result.rc == 0, result
    host = f"{environments.namespaces[number]}.{DOMAIN}"

    from cryptography import x509

    issued = wait_for(lambda: issued_by_pebble(edge["https_port"], host), f"no certificate from Pebble for {host}")
    sans = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [host]
    # verified against Pebble's root alone, host name checked: what a browser trusting that CA would accept
    answer = wait_for(
        lambda: (got := fetch(edge["https_port"], host, tls=pebble_context(edge["pebble_root"]))).status == 200 and got,
        f"https://{host}/ never answered 200",
        timeout=60,
    )
    overview = json.loads(answer.body)
    assert overview["app"] == "k8s-ee sample", overview  # the app's own answer (examples/sample-app)
    assert overview["pullRequest"] == {**overview["pullRequest"], "PREVIEW_URL": f"https://{host}", "PR_NUMBER": "30"}
    assert answer.headers["x-robots-tag"] == "noindex, nofollow", answer.headers
    # http:// is redirected to https:// before anything reaches the app
    redirect = fetch(edge["http_port"], host, path="/healthz")
    assert (redirect.status, redirect.headers["location"]) == (301, f"https://{host}/healthz")
    # the comment's link is that URL
    (comment,) = [c for c in github.comments_of("acme/shop", number) if MARKER in c["body"]]
    assert re.findall(r"\| Preview \| \[([^\]]+)\]\(([^)]+)\)", comment["body"]) == [(f"https://{host}",) * 2]

    environments.down(number)
    # no router for the host any more: Traefik's own 404 (it may still present the certificate: not verified)
    wait_for(lambda: fetch(edge["https_port"], host, tls=unverified()).status == 404, f"{host} still routed")


def test_pods_resolve_names_through_cluster_dns(node_cluster, environments):
    namespace = environments.ensure(1)
    for name in ("redis", f"mariadb.{namespace}.svc.cluster.local", "kubernetes.default"):
        result = kubectl(node_cluster, "-n", namespace, "exec", "deploy/app", "--", "getent", "hosts", name)
        assert result.stdout.split()[0].startswith("10.96."), (name, result.stdout)
    # nothing outside the cluster is forwarded anywhere
    outside = kubectl(
        node_cluster, "-n", namespace, "exec", "deploy/app", "--", "getent", "hosts", "example.com", check=False
    )
    assert outside.returncode != 0


def test_a_pull_request_cannot_reach_another(node_cluster, environments):
    one, two = environments.ensure(1), environments.ensure(2)
    assert connect(node_cluster, one, "deploy/app", "redis", 6379) == "open"
    assert connect(node_cluster, one, "deploy/app", "mariadb", 3306) == "open"
    for host, port in ((f"redis.{two}", 6379), (f"mariadb.{two}", 3306), (f"app.{two}", 8080)):
        assert connect(node_cluster, one, "deploy/app", host, port) == "refused", host
    # and the other way round, from a database's pod as well
    assert connect(node_cluster, two, "deploy/app", f"app.{one}", 8080) == "refused"
    assert connect(node_cluster, two, "deploy/redis", f"redis.{one}", 6379) == "refused"


@pytest.fixture(scope="module")
def probes(node_cluster, node_kube):
    """Probe pods outside the environments: as the ingress controller (kube-system, Traefik's labels), as
    Prometheus (observability), and unlabelled ones beside them."""
    made = {}

    def probe(namespace, name, labels):
        key = (namespace, name)
        if key not in made:
            if not node_kube.get("Namespace", namespace):
                node_kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            node_kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                    "spec": {
                        "containers": [{"name": "probe", "image": PROBE, "command": ["probe", "sleep"]}],
                        "terminationGracePeriodSeconds": 1,
                    },
                }
            )
            kubectl(node_cluster, "-n", namespace, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=60s")
            made[key] = f"pod/{name}"
        return made[key]

    return probe


def reach(cluster, probe_namespace, probe, host, port):
    result = kubectl(
        cluster, "-n", probe_namespace, "exec", probe, "--", "probe", "tcp", host, str(port), "3", check=False
    )
    return result.stdout.split()[0] if result.stdout else f"error: {result.stderr[-200:]}"


def test_only_the_ingress_controller_and_prometheus_reach_the_app(node_cluster, environments, probes):
    namespace = environments.ensure(1)
    traefik = probes("kube-system", "traefik-probe", {"app.kubernetes.io/name": "traefik"})
    stranger = probes("kube-system", "stranger", {"app.kubernetes.io/name": "something-else"})
    prometheus = probes("observability", "prometheus-probe", {"app.kubernetes.io/name": "prometheus"})
    impostor = probes("elsewhere", "traefik-impostor", {"app.kubernetes.io/name": "traefik"})
    app, redis = f"app.{namespace}", f"redis.{namespace}"
    assert reach(node_cluster, "kube-system", traefik, app, 8080) == "open"
    assert reach(node_cluster, "kube-system", traefik, redis, 6379) == "refused"
    assert reach(node_cluster, "kube-system", stranger, app, 8080) == "refused"
    assert reach(node_cluster, "observability", prometheus, app, 8080) == "open"
    assert reach(node_cluster, "observability", prometheus, redis, 6379) == "refused"
    assert reach(node_cluster, "elsewhere", impostor, app, 8080) == "refused"


def test_the_api_server_only_and_never_the_node(node_cluster, environments):
    namespace = environments.ensure(1)
    api_port = int(node_cluster.server.rsplit(":", 1)[1])
    # the API server, as the `kubernetes` Service and at its endpoint (it listens on the node, as on k3s)
    assert connect(node_cluster, namespace, "deploy/app", "kubernetes.default", 443) == "open"
    assert connect(node_cluster, namespace, "deploy/app", realnode.NODE_ADDRESS, api_port) == "open"
    # anything else of the node: the kubelet on its address and on the pods' gateway
    assert connect(node_cluster, namespace, "deploy/app", realnode.NODE_ADDRESS, 10250) == "refused"
    assert connect(node_cluster, namespace, "deploy/app", "10.42.0.1", 10250) == "refused"
    with node_listener() as port:
        assert connect(node_cluster, namespace, "deploy/app", realnode.NODE_ADDRESS, port) == "refused"
    # and this machine beyond the node (a listener of the host on its end of the node's link)
    with listener(realnode.HOST_ADDRESS) as port:
        assert connect(node_cluster, namespace, "deploy/app", realnode.HOST_ADDRESS, port) == "refused"


class node_listener:
    """A TCP listener on the node's own address, in its network namespace: a service of the node that no pod
    may reach."""

    CODE = (
        "import socket, sys\n"
        "s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(16); print(s.getsockname()[1], flush=True)\n"
        "while True: s.accept()[0].close()\n"
    )

    def __enter__(self):
        argv = ["ip", "netns", "exec", realnode.NETNS, sys.executable, "-c", self.CODE, realnode.NODE_ADDRESS]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        return int(self.proc.stdout.readline())

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


class listener:
    """A TCP listener on this machine (never an outside address) that accepts whatever arrives."""

    def __init__(self, address):
        self.address = address

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind((self.address, 0))
        self.sock.listen(16)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


POLICY_EFFECTS = {
    # policy -> (what it allows, checked from where) ; deleting it must turn "open" into "refused"
    "allow-same-namespace": ("app", "redis", 6379),
    "allow-egress": ("app", realnode.DNS_SERVICE_IP, 53),  # by address: names need DNS, which it allows
    "allow-ingress-controller": ("traefik", "app", 8080),
    "allow-observability": ("prometheus", "app", 8080),
}


@pytest.mark.parametrize("policy", sorted(POLICY_EFFECTS))
def test_every_allow_policy_matters(node_cluster, node_kube, environments, probes, policy):
    namespace = environments.ensure(1)
    source, target, port = POLICY_EFFECTS[policy]
    sources = {
        "app": lambda host: connect(node_cluster, namespace, "deploy/app", host, port),
        "traefik": lambda host: reach(
            node_cluster,
            "kube-system",
            probes("kube-system", "traefik-probe", {"app.kubernetes.io/name": "traefik"}),
            host,
            port,
        ),
        "prometheus": lambda host: reach(
            node_cluster,
            "observability",
            probes("observability", "prometheus-probe", {"app.kubernetes.io/name": "prometheus"}),
            host,
            port,
        ),
    }
    host = target if "." in target else f"{target}.{namespace}"
    assert sources[source](host) == "open"
    with policy_removed(node_kube, namespace, policy):
        assert eventually(lambda: sources[source](host) == "refused"), policy
    assert eventually(lambda: sources[source](host) == "open"), policy


def test_default_deny_is_the_floor_under_the_allows(node_cluster, node_kube, environments):
    """Every allow policy selects every pod, so default-deny alone changes nothing while they exist; it is what
    still holds when an allow policy is gone: without allow-egress nothing leaves the pod, and without
    default-deny as well everything does."""
    namespace = environments.ensure(1)

    def to_node(port):
        return connect(node_cluster, namespace, "deploy/app", realnode.NODE_ADDRESS, port)

    with node_listener() as port:
        assert to_node(port) == "refused"
        with policy_removed(node_kube, namespace, "allow-egress"):
            dns = realnode.DNS_SERVICE_IP  # by address: without allow-egress the app cannot ask for names either
            assert eventually(lambda: connect(node_cluster, namespace, "deploy/app", dns, 53) == "refused")
            assert to_node(port) == "refused"
            with policy_removed(node_kube, namespace, "default-deny"):
                assert eventually(lambda: to_node(port) == "open")
        assert eventually(lambda: to_node(port) == "refused")


class policy_removed:
    """Delete one of the environment's NetworkPolicies for the block; put the same object back afterwards."""

    def __init__(self, kube, namespace, name):
        self.kube, self.namespace, self.name = kube, namespace, name

    def __enter__(self):
        self.saved = self.kube.get("NetworkPolicy", self.name, self.namespace)
        assert self.saved, self.name
        self.kube.delete("NetworkPolicy", self.name, self.namespace)

    def __exit__(self, *exc):
        metadata = self.saved["metadata"]
        kept = {k: metadata[k] for k in ("name", "namespace", "labels", "annotations") if k in metadata}
        self.kube.create(
            {
                "apiVersion": self.saved["apiVersion"],
                "kind": "NetworkPolicy",
                "metadata": kept,
                "spec": self.saved["spec"],
            }
        )


def eventually(check, seconds=30):
    """kube-router applies a policy change within its sync; poll rather than sleep."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


# ------------------------------------------------------------------ data and failures


def wait_ready(cluster, namespace, target, seconds=240):
    kubectl(cluster, "-n", namespace, "rollout", "status", target, f"--timeout={seconds}s")


def test_data_survives_a_new_image_a_deleted_pod_and_a_node_reboot(node_cluster, node_kube, environments):
    namespace = environments.ensure(3)
    assert app_call(node_cluster, namespace, "/kv/mariadb/survivor", "PUT", "written before")[0] == 200
    password = node_kube.get("Secret", "mariadb", namespace)["data"]["password"]

    redeploy = environments.up(3, BASIC, image=SAMPLE_APP_2)
    assert redeploy.rc == 0, redeploy
    wait_ready(node_cluster, namespace, "deployment/app")
    pods = node_kube.list("Pod", namespace, label_selector="app.kubernetes.io/name=app")
    (pod,) = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert pod["spec"]["containers"][0]["image"] == node_cluster.real_node.pinned(SAMPLE_APP_2)
    assert pod["spec"]["containers"][0]["image"] != node_cluster.real_node.pinned(SAMPLE_APP)
    assert app_call(node_cluster, namespace, "/kv/mariadb/survivor")[1]["value"] == "written before"

    kubectl(node_cluster, "-n", namespace, "delete", "pod", "-l", "app.kubernetes.io/name=mariadb", "--wait=true")
    wait_ready(node_cluster, namespace, "statefulset/mariadb")
    assert eventually(lambda: app_call(node_cluster, namespace, "/kv/mariadb/survivor")[0] == 200, 60)
    assert app_call(node_cluster, namespace, "/kv/mariadb/survivor")[1]["value"] == "written before"

    # after the reboot every container starts again at once (MariaDB recovers its files): on the loaded CI machine the
    # app's first answer once took more than 120 s after the pods reported ready
    node_cluster.real_node.reboot()
    kubectl(node_cluster, "wait", "--for=condition=Ready", f"node/{realnode.NODE_NAME}", "--timeout=120s")
    for target in ("statefulset/mariadb", "deployment/redis", "deployment/app"):
        wait_ready(node_cluster, namespace, target)
    assert eventually(lambda: app_call(node_cluster, namespace, "/kv/mariadb/survivor")[0] == 200, 240), app_call(
        node_cluster, namespace, "/kv/mariadb/survivor"
    )
    assert app_call(node_cluster, namespace, "/kv/mariadb/survivor")[1]["value"] == "written before"
    assert node_kube.get("Secret", "mariadb", namespace)["data"]["password"] == password
    # the cluster's own services came back with the node
    kubectl(node_cluster, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s")


@pytest.fixture(scope="module")
def cloudnative_pg(node_cluster, node_kube, node_playbooks, environments):
    """Role operators writes its HelmChart; the chart is installed as k3s' helm-controller would (without the
    download) and the operator, built from its Go module, runs on the node."""
    environments.down(2, 3)  # the node has this machine's two CPUs; the first environment stays
    run = node_playbooks.role("operators", operators_mongodb_enabled=False, operators_minio_enabled=False)
    assert run.rc == 0, run
    kubectl_argv = [str(binaries()["kubectl"]), f"--kubeconfig={node_cluster.kubeconfig}"]
    install_helm_chart(node_kube, kubectl_argv, "cloudnative-pg")
    kubectl(node_cluster, "-n", "cnpg-system", "rollout", "status", "deployment", "--timeout=180s")
    return node_kube


def test_postgresql_through_cloudnative_pg_for_real(node_cluster, node_kube, environments, cloudnative_pg, probes):
    sample = yaml.safe_load((SAMPLE / "k8s-ee.yaml").read_text())
    result = environments.up(4, sample["databases"])
    assert result.rc == 0, result
    namespace = environments.namespaces[4]
    cluster = node_kube.request("GET", f"/apis/postgresql.cnpg.io/v1/namespaces/{namespace}/clusters/postgresql")
    assert cluster["status"]["readyInstances"] == 1, cluster["status"]
    assert cluster["status"]["phase"] == "Cluster in healthy state"
    # the app connects with the Secret the operator wrote, through the documented variables
    assert node_kube.get("Secret", "postgresql-app", namespace)["metadata"]["ownerReferences"][0]["kind"] == "Cluster"
    # the Cluster reports Ready when its instance is; the Service postgresql-rw routes to it once the EndpointSlice
    # and kube-proxy's rules follow, which on the loaded 2-core machine was once seen a moment later (connection
    # refused: kube-proxy rejects a Service without endpoints)
    ok = (200, {"db": "postgresql", "ok": True})
    assert eventually(lambda: app_call(node_cluster, namespace, "/check/postgresql") == ok, 30)
    assert app_call(node_cluster, namespace, "/kv/postgresql/row", "PUT", "a row")[0] == 200
    assert app_call(node_cluster, namespace, "/kv/postgresql/row")[1]["value"] == "a row"
    for db in ("redis", "mariadb"):
        assert app_call(node_cluster, namespace, f"/check/{db}") == (200, {"db": db, "ok": True})
    # the instance's pod deleted: the operator brings it back on the same volume, the row is still there
    kubectl(node_cluster, "-n", namespace, "delete", "pod", "postgresql-1", "--wait=true")
    kubectl(
        node_cluster,
        "-n",
        namespace,
        "wait",
        "--for=condition=Ready",
        "clusters.postgresql.cnpg.io/postgresql",
        "--timeout=180s",
    )
    assert eventually(lambda: app_call(node_cluster, namespace, "/kv/postgresql/row")[0] == 200, 120)
    assert app_call(node_cluster, namespace, "/kv/postgresql/row")[1]["value"] == "a row"
    # the operator reaches its instance's status port through allow-operators: a pod in the operator's namespace
    # does, one elsewhere does not, and without the policy neither
    (pod,) = node_kube.list("Pod", namespace, label_selector="cnpg.io/cluster=postgresql,cnpg.io/instanceRole=primary")
    address = pod["status"]["podIP"]
    operator_side = probes("cnpg-system", "operator-probe", {"app.kubernetes.io/name": "probe"})
    elsewhere = probes("elsewhere", "stranger", {"app.kubernetes.io/name": "probe"})
    assert reach(node_cluster, "cnpg-system", operator_side, address, 8000) == "open"
    assert reach(node_cluster, "elsewhere", elsewhere, address, 8000) == "refused"
    with policy_removed(node_kube, namespace, "allow-operators"):
        assert eventually(lambda: reach(node_cluster, "cnpg-system", operator_side, address, 8000) == "refused")
    assert eventually(lambda: reach(node_cluster, "cnpg-system", operator_side, address, 8000) == "open")


FAILURES = {
    # what a user gets wrong -> what the comment must say besides the container's name
    # the kubelet's reason is Error at the first exit and CrashLoopBackOff after it; the log says why
    "binds a privileged port": ({"port": 80}, ["PermissionError"]),
    "health path answers 404": ({"healthPath": "/not-there"}, ["probe failed", "404"]),
    "names a missing Secret": ({"envFrom": [{"secretRef": {"name": "not-created"}}]}, ["not-created", "not found"]),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failure_is_reported_as_the_kubelet_saw_it(node_cluster, environments, github, case):
    number = 20 + sorted(FAILURES).index(case)
    app, expected = FAILURES[case]
    environments.down(4)  # room on the node's two CPUs
    result = environments.up(number, {}, app=app, k8s_ee_timeout=25, k8s_ee_collect_logs=True)
    body = [c["body"] for c in github.comments_of("acme/shop", number) if "k8s-ee:environment" in c["body"]][-1]
    environments.down(number)
    assert result.rc != 0, result
    assert "container app" in body, body[-3000:]
    for text in expected:
        assert text in body, (case, text, body[-3000:])
    if case == "binds a privileged port":
        # how the kubelet saw it end: Python exits with code 1 on the uncaught PermissionError
        assert re.search(r"container app: (CrashLoopBackOff|terminated|not ready) \(exited: Error, code 1\)", body), (
            body[-3000:]
        )
        # the container's own last log lines: the traceback the app printed
        assert "Permission denied" in body


# ------------------------------------------------------------------ teardown (last)


def test_teardown_returns_the_host_to_how_it_was(node_cluster, host_before):
    node_cluster.stop()
    after = realnode.host_snapshot()
    assert after == host_before
