"""pr_up and pr_down, run with ansible-playbook against the local control plane and the local GitHub."""

import base64
import itertools
import pathlib
import shutil
import threading
import time

import pytest
import yaml
from conftest import IMAGE_2
from harness import occupy, wait_until_gone
from kube_proxy import BarrierProxy

from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER

pytestmark = pytest.mark.cluster
_numbers = itertools.count(100)


@pytest.fixture
def app(tmp_path, github):
    """A fresh pull request number and a k8s-ee.yaml writer."""

    class App:
        number = next(_numbers)
        namespace = f"shop-pr-{number}"

        def config(self, data):
            path = tmp_path / f"k8s-ee-{self.number}.yaml"
            path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
            return str(path)

    return App()


def comments(github, number):
    return [c for c in github.comments_of("acme/shop", number) if MARKER in c["body"]]


def shown(values, *texts):
    """Which of `values` appear in `texts`, by index (a failing test must not print them either)."""
    text = "".join(texts)
    return [index for index, value in enumerate(values) if value in text]


def secret_values(kube, namespace, name):
    secret = kube.get("Secret", name, namespace)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


# The collection's action plugins run its modules in the controller's process when the module would run with the
# controller's Python (plugin_utils/_inprocess.py). Naming another interpreter of the same virtualenv (bin/python
# beside bin/python3, which ansible-playbook runs under) makes Ansible run them as modules: both ways must behave alike.
MODULE_PATH = {"ansible_python_interpreter": str(pathlib.Path(shutil.which("ansible-playbook")).parent / "python")}
WAYS = pytest.mark.parametrize("way", [{}, MODULE_PATH], ids=["in-process", "as-modules"])


@WAYS
def test_up_ready_comment_rerun_unchanged_and_down(playbooks, kube, github, operators, app, way):
    path = app.config({"projectId": "shop", "databases": {"postgresql": True, "redis": True}})

    first = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, **way)
    assert first.rc == 0, first
    assert first.changed > 0
    namespace = kube.get("Namespace", app.namespace)
    annotations = namespace["metadata"]["annotations"]
    assert annotations["k8s-ee/repository"] == "acme/shop"
    assert annotations["k8s-ee/ready-at"] >= annotations["k8s-ee/updated-at"] >= annotations["k8s-ee/created-at"]
    assert namespace["metadata"]["labels"]["k8s-ee/branch"] == "feature-login"
    deployment = kube.get("Deployment", "app", app.namespace)
    assert deployment["status"]["availableReplicas"] == 1
    (comment,) = comments(github, app.number)
    assert "Preview environment: deployed" in comment["body"]
    assert f"https://shop-pr-{app.number}.preview.example.com" in comment["body"]
    assert "Time to ready" in comment["body"]
    redis_password = secret_values(kube, app.namespace, "redis")["password"]
    assert len(redis_password) >= 24
    assert redis_password not in first.stdout + first.stderr

    second = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, **way)
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert secret_values(kube, app.namespace, "redis")["password"] == redis_password
    assert len(comments(github, app.number)) == 1

    down = playbooks.run("pr_down", k8s_ee_pr_number=app.number, k8s_ee_merged=True, **way)
    assert down.rc == 0, down
    assert kube.get("Namespace", app.namespace) is None
    (comment,) = comments(github, app.number)
    assert "Preview environment: destroyed" in comment["body"]
    assert "| Merged | yes |" in comment["body"]

    again = playbooks.run("pr_down", k8s_ee_pr_number=app.number)
    assert again.rc == 0, again
    assert again.changed == 0, again


CREDENTIAL_SECRETS = ("redis", "mariadb", "minio", "mongodb-app-password")


class SecretHistory:
    """Every version of the namespace's credential Secrets, as a watch delivers them (one per write)."""

    def __init__(self, api, namespace):
        from kubernetes import client, watch

        self.versions = {name: [] for name in CREDENTIAL_SECRETS}
        self.watch = watch.Watch()
        stream = self.watch.stream(client.CoreV1Api(api).list_namespaced_secret, namespace, timeout_seconds=600)
        self.thread = threading.Thread(target=self._record, args=(stream,), daemon=True)
        self.thread.start()

    def _record(self, stream):
        import urllib3

        try:
            for event in stream:
                secret = event["object"]
                if secret.metadata.name in self.versions and event["type"] in ("ADDED", "MODIFIED"):
                    self.versions[secret.metadata.name].append(dict(secret.data or {}))
        except urllib3.exceptions.HTTPError:  # the namespace (or the cluster) went away after the test
            return

    def stop(self):
        self.watch.stop()
        return self.versions


def test_two_first_deploys_at_once_end_with_one_set_of_credentials(playbooks, kube, api, operators, app, tmp_path):
    """The re-run test above, raced: two pr_up runs of a new environment both find no namespace (the proxy holds
    their first look until both made it), then both deploy. The credentials are written once and never change;
    the databases and the app reference those, and a third run changes nothing."""
    path = app.config(
        {"projectId": "shop", "databases": {"redis": True, "mariadb": True, "minio": True, "mongodb": True}}
    )
    history = SecretHistory(api, app.namespace)
    time.sleep(1)  # the watch is established before anything is written
    with BarrierProxy(kube, rf"^GET /api/v1/namespaces/{app.namespace}$", parties=2) as proxy:
        kubeconfig = proxy.kubeconfig(tmp_path / "through-proxy.kubeconfig")
        runs = [{"k8s_ee_pr_number": app.number, "k8s_ee_config_path": path}] * 2
        results = playbooks.run_together("pr_up", runs, kubeconfig=kubeconfig)
    time.sleep(1)  # the last watch events arrive
    versions = history.stop()
    assert proxy.released, "the two runs did not both look before either created the namespace"
    assert [r.rc for r in results] == [0, 0], results
    for name in CREDENTIAL_SECRETS:
        assert versions[name], f"Secret {name} was never written"
        assert all(v == versions[name][0] for v in versions[name]), f"Secret {name} changed after it was created"
    final = {name: secret_values(kube, app.namespace, name) for name in CREDENTIAL_SECRETS}
    # what the database pods and the app are given is these Secrets' values
    redis = kube.get("Deployment", "redis", app.namespace)["spec"]["template"]["spec"]["containers"][0]
    assert redis["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "redis", "key": "password"}
    mariadb = kube.get("StatefulSet", "mariadb", app.namespace)["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in mariadb["env"] if "valueFrom" in e} == {
        "MARIADB_ROOT_PASSWORD": "mariadb",
        "MARIADB_PASSWORD": "mariadb",
    }
    mongodb = kube.get("MongoDBCommunity", "mongodb", app.namespace)["spec"]["users"][0]
    assert mongodb["passwordSecretRef"] == {"name": "mongodb-app-password"}
    config = secret_values(kube, app.namespace, "minio-env-configuration")["config.env"]
    made_of = (
        f'MINIO_ROOT_USER="{final["minio"]["accessKey"]}"' in config
        and f'MINIO_ROOT_PASSWORD="{final["minio"]["secretKey"]}"' in config
    )
    assert made_of, "minio-env-configuration is not made of the minio Secret's keys"
    app_env = kube.get("Deployment", "app", app.namespace)["spec"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"]) for e in app_env}
    assert refs["REDIS_PASSWORD"] == ("redis", "password") and refs["MYSQL_PASSWORD"] == ("mariadb", "password")
    consistent = (
        final["redis"]["url"] == f"redis://:{final['redis']['password']}@redis:6379/0"
        and final["mariadb"]["url"] == f"mysql://app:{final['mariadb']['password']}@mariadb:3306/app"
    )
    assert consistent, "a connection URL is not made of its Secret's password"
    values = [value for secret in final.values() for value in secret.values()]
    leaked = [shown(values, r.stdout, r.stderr) for r in results]
    assert leaked == [[], []], "credentials (by index) in the playbooks' output"

    again = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert again.rc == 0, again
    assert again.changed == 0, again
    kept = {name: secret_values(kube, app.namespace, name) for name in CREDENTIAL_SECRETS} == final
    assert kept, "a credential changed on the re-run"
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_new_image_rolls_pods_and_keeps_data(playbooks, kube, operators, app):
    path = app.config({"projectId": "shop", "databases": {"postgresql": True, "mariadb": True}})
    assert playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path).rc == 0
    before = {
        kind: kube.get(kind, name, app.namespace)["metadata"]["resourceVersion"]
        for kind, name in (("Secret", "mariadb"), ("Cluster", "postgresql"), ("StatefulSet", "mariadb"))
    }
    claims = [c["metadata"]["uid"] for c in kube.list("PersistentVolumeClaim", app.namespace)]
    old_template = kube.get("Deployment", "app", app.namespace)["spec"]["template"]

    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, k8s_ee_image=IMAGE_2)
    assert result.rc == 0, result
    deployment = kube.get("Deployment", "app", app.namespace)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE_2
    assert deployment["spec"]["template"] != old_template
    assert deployment["status"]["updatedReplicas"] == 1
    pods = kube.list("Pod", app.namespace, label_selector="app.kubernetes.io/name=app")
    assert {p["spec"]["containers"][0]["image"] for p in pods if not p["metadata"].get("deletionTimestamp")} == {
        IMAGE_2
    }
    after = {
        kind: kube.get(kind, name, app.namespace)["metadata"]["resourceVersion"]
        for kind, name in (("Secret", "mariadb"), ("Cluster", "postgresql"), ("StatefulSet", "mariadb"))
    }
    assert after == before
    assert [c["metadata"]["uid"] for c in kube.list("PersistentVolumeClaim", app.namespace)] == claims
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_check_mode_creates_nothing(playbooks, kube, github, app):
    path = app.config({"projectId": "shop", "databases": {"redis": True}})
    result = playbooks.run("pr_up", check=True, diff=True, k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc == 0, result
    assert result.changed > 0
    assert kube.get("Namespace", app.namespace) is None
    assert comments(github, app.number) == []
    assert "VALUE_HIDDEN" in result.stdout
    objects = result.task("Apply the environment and wait until it is ready")["objects"]
    assert {o["action"] for o in objects} == {"created"}


@pytest.mark.parametrize(
    "databases",
    [
        {"postgresql": True},
        {"mongodb": True},
        {"redis": True},
        {"minio": True},
        {"mariadb": True},
        {"postgresql": True, "mongodb": True, "redis": True, "minio": True, "mariadb": True},
    ],
    ids=["postgresql", "mongodb", "redis", "minio", "mariadb", "all-five"],
)
def test_every_database_fits_its_quota(playbooks, kube, operators, app, databases):
    path = app.config({"projectId": "shop", "databases": databases})
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc == 0, result
    events = kube.list("Event", app.namespace)
    rejected = [
        e["message"]
        for e in events
        if "exceeded quota" in (e.get("message") or "") or "forbidden" in (e.get("message") or "")
    ]
    assert rejected == []
    assert kube.get("Deployment", "app", app.namespace)["status"]["availableReplicas"] == 1
    if "mariadb" in databases:
        (claim,) = [
            c
            for c in kube.list("PersistentVolumeClaim", app.namespace)
            if c["metadata"]["name"].startswith("data-mariadb")
        ]
        assert claim["status"]["phase"] == "Bound"
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_bad_config_comments_failed_and_creates_nothing(playbooks, kube, github, app):
    path = app.config({"projectId": "shop", "app": {"port": 70000}})
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc != 0
    assert kube.get("Namespace", app.namespace) is None
    (comment,) = comments(github, app.number)
    assert "Preview environment: failed" in comment["body"]
    assert "app.port: 70000 is greater than 65535" in comment["body"]


def test_config_that_links_to_a_secret_never_reaches_the_comment(playbooks, kube, github, app, tmp_path):
    """A pull request whose k8s-ee.yaml is a symbolic link to the runner's service account token."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.runner-service-account-signature")
    path = tmp_path / "pr" / "k8s-ee.yaml"
    path.parent.mkdir()
    path.symlink_to(token)
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=str(path))
    assert result.rc != 0
    assert kube.get("Namespace", app.namespace) is None
    (comment,) = comments(github, app.number)
    assert "Preview environment: failed" in comment["body"]
    assert "is a symbolic link" in comment["body"]
    assert "eyJ" not in comment["body"] and "signature" not in comment["body"]
    assert "eyJ" not in result.stdout + result.stderr


def test_namespace_of_another_repository_is_refused(playbooks, kube, github, app):
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": app.namespace,
                "labels": {"app.kubernetes.io/managed-by": "k8s-ee"},
                "annotations": {"k8s-ee/repository": "evil/shop"},
            },
        }
    )
    before = kube.get("Namespace", app.namespace)
    path = app.config({"projectId": "shop"})
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc != 0
    after = kube.get("Namespace", app.namespace)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert kube.list("ResourceQuota", app.namespace) == []
    (comment,) = comments(github, app.number)
    assert "belongs to evil/shop, not acme/shop" in comment["body"]
    down = playbooks.run("pr_down", k8s_ee_pr_number=app.number)
    assert down.rc != 0  # the pull request's namespace name is held by something that is not ours: refused
    assert "is not labelled as pull request" in str(down.failures())
    assert kube.get("Namespace", app.namespace)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    kube.delete("Namespace", app.namespace)


def test_down_with_a_broken_config_still_destroys(playbooks, kube, app):
    path = app.config({"projectId": "shop"})
    assert playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path).rc == 0
    broken = app.config("projectId: [unclosed\n")
    result = playbooks.run("pr_down", k8s_ee_pr_number=app.number, k8s_ee_config_path=broken)
    assert result.rc == 0, result
    assert kube.get("Namespace", app.namespace) is None


def test_marker_comment_found_beyond_100_comments(playbooks, kube, github, app):
    for index in range(130):
        github.add_comment("acme/shop", app.number, f"chatter {index}")
    path = app.config({"projectId": "shop"})
    assert playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path).rc == 0
    assert len(comments(github, app.number)) == 1
    old_id = comments(github, app.number)[0]["id"]
    # the comment is now the 131st: finding it needs the second page
    listed = github.count("GET", rf"/issues/{app.number}/comments$")
    result = playbooks.run("pr_down", k8s_ee_pr_number=app.number)
    assert result.rc == 0, result
    assert github.count("GET", rf"/issues/{app.number}/comments$") - listed == 2
    (comment,) = comments(github, app.number)
    assert comment["id"] == old_id
    assert "destroyed" in comment["body"]


def test_github_502_is_retried(playbooks, github, app):
    path = app.config({"projectId": "shop"})
    github.fail_next(rf"/issues/{app.number}/comments$", 502, method="POST")
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc == 0, result
    assert github.count("POST", rf"/issues/{app.number}/comments$") == 2
    assert len(comments(github, app.number)) == 1
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_capacity_exhausted_is_refused(playbooks, kube, github, app):
    path = app.config({"projectId": "shop", "databases": {"postgresql": True}})
    # fill the node: a pod outside environments requesting nearly all 4 CPUs
    occupy(kube, f"hog-{app.number}", {"cpu": "3900m", "memory": "1Gi"})
    try:
        result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
        assert result.rc != 0
        assert kube.get("Namespace", app.namespace) is None
        (comment,) = comments(github, app.number)
        assert "capacity: the environment needs 450m CPU and 768Mi memory" in comment["body"]
        assert "missing" in comment["body"]
    finally:
        # gone before the next test asks for capacity: the hog's requests count until its pod is deleted
        kube.delete("Namespace", f"hog-{app.number}")
        wait_until_gone(kube, [f"hog-{app.number}"])


def test_ten_new_environments_at_once_with_room_for_five_admit_five(playbooks, kube, github, operators, app, tmp_path):
    """Capacity admission is race-safe: ten pr_up runs of new environments are held until each has looked for its
    namespace (so all ten start together), with room left for exactly five. Five are admitted; five are refused with
    their numbers and leave nothing behind; what is committed never exceeds what the node offers."""
    from ansible_collections.k8s_ee.platform.plugins.module_utils import _capacity

    path = app.config({"projectId": "shop", "databases": {"postgresql": True}})
    numbers = [app.number, *(next(_numbers) for _extra in range(9))]
    namespaces = [f"shop-pr-{n}" for n in numbers]
    need = 450  # millicores: the quota's requests.cpu of app + PostgreSQL (test_capacity_exhausted_is_refused)
    free = _capacity.measure_capacity(kube).free_cpu
    hog = free - (5 * need + need // 2)  # room for five and a half
    assert hog > 0, f"the cluster has {free}m CPU free, too little for this test"
    occupy(kube, f"hog-{app.number}", {"cpu": f"{hog}m", "memory": "64Mi"})
    try:
        pattern = rf"^GET /api/v1/namespaces/(?:{'|'.join(namespaces)})$"
        with BarrierProxy(kube, pattern, parties=len(numbers)) as proxy:
            kubeconfig = proxy.kubeconfig(tmp_path / "through-proxy.kubeconfig")
            runs = [{"k8s_ee_pr_number": n, "k8s_ee_config_path": path} for n in numbers]
            results = playbooks.run_together("pr_up", runs, kubeconfig=kubeconfig)
        assert proxy.released, "the ten runs did not all look for their namespace before any of them went on"
        admitted = [n for n, r in zip(numbers, results, strict=True) if r.rc == 0]
        refused = [n for n, r in zip(numbers, results, strict=True) if r.rc != 0]
        said = {n: [c["body"][:400] for c in comments(github, n)] for n in numbers}
        assert len(admitted) == 5, said
        for number in refused:
            assert kube.get("Namespace", f"shop-pr-{number}") is None
            (comment,) = comments(github, number)
            assert "capacity: the environment needs 450m CPU and 768Mi memory" in comment["body"], comment["body"]
            assert "missing" in comment["body"]
        assert _capacity.measure_capacity(kube).free_cpu >= 0
    finally:
        left = [{"k8s_ee_pr_number": n} for n in numbers if kube.get("Namespace", f"shop-pr-{n}") is not None]
        assert [r.rc for r in playbooks.run_together("pr_down", left)] == [0] * len(left)
        kube.delete("Namespace", f"hog-{app.number}")
        wait_until_gone(kube, [f"hog-{app.number}"])


def test_untrusted_author_waits_for_a_maintainer(playbooks, kube, github, app):
    path = app.config({"projectId": "shop"})
    result = playbooks.run(
        "pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, k8s_ee_author_association="CONTRIBUTOR"
    )
    assert result.rc == 0, result
    assert kube.get("Namespace", app.namespace) is None
    (comment,) = comments(github, app.number)
    assert "/deploy-preview" in comment["body"]


def test_repository_not_on_the_allowlist_is_refused(playbooks, kube, app):
    path = app.config({"projectId": "shop"})
    result = playbooks.run(
        "pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, k8s_ee_repository="stranger/shop"
    )
    assert result.rc != 0
    assert kube.get("Namespace", app.namespace) is None


def test_without_token_the_comment_is_printed(playbooks, kube, github, app):
    path = app.config({"projectId": "shop"})
    result = playbooks.run("pr_up", token=False, k8s_ee_pr_number=app.number, k8s_ee_config_path=path)
    assert result.rc == 0, result
    assert comments(github, app.number) == []
    assert "Preview environment: deployed" in result.task("Show the comment")["msg"]
    assert playbooks.run("pr_down", token=False, k8s_ee_pr_number=app.number).rc == 0


def test_failure_reports_the_object_and_its_events(playbooks, kube, github, app):
    """A Secret the app names does not exist: the real kubelet keeps the pod in CreateContainerConfigError."""
    path = app.config({"projectId": "shop", "app": {"envFrom": [{"secretRef": {"name": "not-created"}}]}})
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, k8s_ee_timeout=20)
    assert result.rc != 0
    assert kube.get("Namespace", app.namespace) is not None  # left for debugging
    (comment,) = comments(github, app.number)
    assert "Preview environment: failed" in comment["body"]
    assert "**Failed step:** `wait for app`" in comment["body"]
    assert "```text\nDeployment/app in " in comment["body"]  # the reason, as data
    assert "CreateContainerConfigError" in comment["body"]
    assert 'secret "not-created" not found' in comment["body"]
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def _echo_credentials(kube, namespace, stop, seen):
    """Once the environment's credentials exist, write events that repeat them, with terminal escapes and a
    megabyte of text (whatever runs in a namespace can write events, as it can print logs). They are stamped
    late so that they are among the recent events a report shows."""
    while not stop.is_set():
        redis, postgresql = kube.get("Secret", "redis", namespace), kube.get("Secret", "postgresql-app", namespace)
        if redis and postgresql:
            break
        stop.wait(0.2)
    else:
        return
    values = {**secret_values(kube, namespace, "redis"), **secret_values(kube, namespace, "postgresql-app")}
    seen.extend(values[key] for key in ("url", "uri", "password"))
    messages = [
        f"\x1b[31mconnecting\x1b[0m to {values['url']} and {values['uri']}",
        f"PGPASSWORD={values['password']}\r\x1b]0;owned\x07 \u202edone",
        "z" * 1_000_000,
    ]
    for index, message in enumerate(messages):
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"echo-{index}", "namespace": namespace},
                "involvedObject": {"kind": "Pod", "name": "app", "namespace": namespace},
                "reason": "Echo",
                "message": message,
                "type": "Warning",
                "lastTimestamp": f"2099-01-01T00:00:0{index}Z",
            }
        )


@WAYS
def test_a_failure_comment_masks_cleans_and_fits(playbooks, kube, github, operators, app, way):
    """What the failed comment shows of the namespace is public; credentials never reach it (nor the playbook's output),
    and however much text the namespace holds, the comment is posted (docs/security.md, "What a pull request's comment
    may show")."""
    path = app.config(
        {
            "projectId": "shop",
            "databases": {"postgresql": True, "redis": True},
            "app": {"envFrom": [{"secretRef": {"name": "not-created"}}]},
        }
    )
    stop, seen = threading.Event(), []
    echo = threading.Thread(target=_echo_credentials, args=(kube, app.namespace, stop, seen), daemon=True)
    echo.start()
    try:
        result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=path, k8s_ee_timeout=20, **way)
    finally:
        stop.set()
        echo.join(10)
    assert result.rc != 0
    written = len(seen)
    assert written == 3, "the credentials were never written"
    leaked = shown(seen, result.stdout, result.stderr)
    assert not leaked, "credentials (by index) in the playbook's output"
    (comment,) = comments(github, app.number)
    body = comment["body"]
    leaked = shown(seen, body)
    assert not leaked, "credentials (by index) in the comment"  # before anything that would print the body
    assert "Preview environment: failed" in body
    assert "wait for app" in body
    assert "event Pod/app: Echo: connecting to [redacted] and [redacted]" in body
    assert "PGPASSWORD=[redacted]" in body
    assert "\x1b" not in body and "\u202e" not in body and "\r" not in body
    assert len(body) <= 65536
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_health_check_through_a_real_http_server(playbooks, kube, github, app):
    """The health check runs in the playbook, here against a real HTTP server on loopback."""
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.path)
            self.send_response(200 if len(seen) > 1 else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = app.config({"projectId": "shop", "app": {"healthPath": "/healthz"}})
        result = playbooks.run(
            "pr_up",
            k8s_ee_pr_number=app.number,
            k8s_ee_config_path=path,
            k8s_ee_health_check=True,
            k8s_ee_health_url=f"http://127.0.0.1:{server.server_port}/healthz",
        )
        assert result.rc == 0, result
        assert seen == ["/healthz", "/healthz"]
    finally:
        server.shutdown()
        server.server_close()
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0


def test_quota_never_shrinks_below_what_runs(playbooks, kube, app):
    """A smaller quota of a new configuration is held back while old pods still need more (docs/pr-lifecycle.md)."""
    big = app.config(
        {
            "projectId": "shop",
            "app": {"replicas": 3, "resources": {"requests": {"cpu": "300m"}, "limits": {"cpu": "400m"}}},
        }
    )
    assert playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=big).rc == 0
    assert kube.get("ResourceQuota", "environment-quota", app.namespace)["spec"]["hard"]["requests.cpu"] == "1200m"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the quota controller counts the three pods
        used = kube.get("ResourceQuota", "environment-quota", app.namespace).get("status", {}).get("used", {})
        if used.get("requests.cpu") == "900m":
            break
        time.sleep(0.3)
    small = app.config({"projectId": "shop"})
    result = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=small)
    assert result.rc == 0, result
    assert "requests.cpu: 200m would be below what runs now (900m); kept 1200m" in result.stdout + result.stderr
    quota = kube.get("ResourceQuota", "environment-quota", app.namespace)
    assert quota["spec"]["hard"]["requests.cpu"] == "1200m"
    assert kube.get("Deployment", "app", app.namespace)["spec"]["replicas"] == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the surplus pods go away (preStop, then deletion)
        used = kube.get("ResourceQuota", "environment-quota", app.namespace).get("status", {}).get("used", {})
        if used.get("requests.cpu") == "50m":
            break
        time.sleep(0.5)
    again = playbooks.run("pr_up", k8s_ee_pr_number=app.number, k8s_ee_config_path=small)
    assert again.rc == 0, again
    assert kube.get("ResourceQuota", "environment-quota", app.namespace)["spec"]["hard"]["requests.cpu"] == "200m"
    assert playbooks.run("pr_down", k8s_ee_pr_number=app.number).rc == 0
