"""The migrate playbook against the local cluster: namespaces shaped like the reference platform's environments (its
labels and annotations, its quota, limits and policies, its app and database installed by the real Helm as its
workflow does, so its release Secrets are Helm's own), GitHub's answer per pull request, then pr_up taking over."""

import json

import pytest
from harness import ensure_namespace
from reference_platform import Reference, write_chart

pytestmark = pytest.mark.cluster
T0 = 1_900_000_000  # 2030-03-17T17:46:40Z


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    return write_chart(tmp_path_factory.mktemp("reference-chart") / "k8s-ee-app")


@pytest.fixture(scope="module", autouse=True)
def platform_namespace(kube):
    ensure_namespace(kube, "platform")


@pytest.fixture
def reference(kube, cluster, chart):
    return Reference(kube, cluster, chart)


@pytest.fixture
def reference_cronjob(kube):
    """The reference platform's orphan cleanup CronJob in its `platform` namespace."""
    jobs = "/apis/batch/v1/namespaces/platform/cronjobs"
    pod = {"restartPolicy": "Never", "containers": [{"name": "cleanup", "image": "bitnami/kubectl:1.31"}]}
    kube.request(
        "POST",
        jobs,
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "cleanup-orphaned-namespaces", "namespace": "platform"},
            "spec": {"schedule": "0 */6 * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}},
        },
    )
    yield
    kube.request("DELETE", f"{jobs}/cleanup-orphaned-namespaces")


def migrate(playbooks, **extra):
    run = playbooks.run("migrate", k8s_ee_now=T0, k8s_ee_status_format="json", **extra)
    printed = [t for t in run.data["plays"][0]["tasks"] if t["task"]["name"] == "Print the plan"]
    plan = json.loads(printed[0]["hosts"]["localhost"]["msg"]) if printed and run.rc == 0 else None
    return run, plan


def uid(kube, kind, name, namespace):
    found = kube.get(kind, name, namespace)
    return found and found["metadata"]["uid"]


def rows_by_namespace(plan):
    return {row["namespace"]: row for row in plan["environments"]}


def test_lists_then_takes_over_open_deletes_closed_and_leaves_others(
    playbooks, kube, github, operators, reference, reference_cronjob, tmp_path
):
    # 961: open, its PostgreSQL installed as a release named "postgresql" (its Cluster is "postgresql", as ours)
    kept = reference.environment(961)
    reference.helm(kept, "app", 961)
    reference.helm(kept, "postgresql", 961, "app.enabled=false", "postgresql.enabled=true")
    reference.claim(kept, "postgresql-1", "postgresql")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "stripe-test-keys", "namespace": kept},
            "stringData": {"STRIPE_KEY": "sk_test_x"},
        }
    )
    # 962: open, the default release "app" with PostgreSQL: its Cluster is "app-postgresql", not ours
    renamed = reference.environment(962)
    operators.paused.add(renamed)  # the stand-in operator knows only our Cluster's name
    reference.helm(renamed, "app", 962, "postgresql.enabled=true")
    reference.claim(renamed, "app-postgresql-1", "app-postgresql")
    # 963: closed; 964: closed but preserved by the reference platform's /preserve for another day
    closed = reference.environment(963)
    reference.helm(closed, "app", 963)
    preserved = reference.environment(
        964,
        labels={"preserve": "true"},
        annotations={"k8s-ee/preserve-until": "2030-03-18T12:00:00Z", "k8s-ee/preserved-by": "octocat"},
    )
    reference.helm(preserved, "app", 964)
    # another repository's environment, and a namespace another manager made with the same name shape
    elsewhere = reference.environment(965, project="blog", repository="acme/blog")
    foreign = "shop-pr-966"
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": foreign,
                "labels": {"app.kubernetes.io/managed-by": "argocd", "k8s-ee/type": "ephemeral"},
                "annotations": {"k8s-ee/repository": "acme/shop"},
            },
        }
    )
    for number in (961, 962):
        github.set_pull("acme/shop", number, state="open")
    github.set_pull("acme/shop", 963, state="closed", merged=True, closed_at="2030-03-16T12:00:00Z")
    github.set_pull("acme/shop", 964, state="closed", closed_at="2030-03-16T12:00:00Z")
    github.set_pull("acme/blog", 965, state="open")
    before = {ns: kube.get("Namespace", ns)["metadata"]["resourceVersion"] for ns in (kept, renamed, closed, foreign)}
    helm_secrets = {s["metadata"]["name"] for s in kube.list("Secret", kept) if s.get("type") == "helm.sh/release.v1"}
    assert helm_secrets == {"sh.helm.release.v1.app.v1", "sh.helm.release.v1.postgresql.v1"}

    # a dry run (the default): the plan, and nothing changed
    requests_before = github.count("GET", r"/repos/.*/pulls/")
    run, plan = migrate(playbooks, k8s_ee_migrate_repositories=["acme/shop"])
    assert run.rc == 0, run
    assert github.count("GET", r"/repos/.*/pulls/") - requests_before == 4  # one per pull request of acme/shop
    rows = rows_by_namespace(plan)
    assert foreign not in rows  # another manager's namespace is not even read
    assert rows[elsewhere]["action"] == "skip" and "not selected" in rows[elsewhere]["reason"]
    assert plan["dry_run"] is True
    assert rows[kept]["action"] == "take over", rows[kept]
    assert [(k["object"], k["claims"]) for k in rows[kept]["kept"]] == [("Cluster/postgresql", ["postgresql-1"])]
    assert rows[kept]["removed"] == [
        "ConfigMap/shop-pr-961-app-config",
        "Deployment/shop-pr-961-app",
        "Ingress/shop-pr-961-app",
        "LimitRange/pr-limits",
        "NetworkPolicy/default-deny",
        "ResourceQuota/pr-quota",
        "Secret/sh.helm.release.v1.app.v1",
        "Secret/sh.helm.release.v1.postgresql.v1",
        "Service/shop-pr-961-app",
    ]
    assert rows[kept]["data_lost"] == []
    assert rows[renamed]["action"] == "skip"
    assert rows[renamed]["data_lost"] == ["Cluster/app-postgresql", "PersistentVolumeClaim/app-postgresql-1"]
    assert "k8s_ee_migrate_recreate_data=true" in rows[renamed]["reason"]
    assert (rows[closed]["action"], rows[closed]["pull_request"]) == ("delete", "merged")
    assert rows[preserved]["action"] == "take over" and rows[preserved]["preserved"] is True
    (job,) = [j for j in plan["cronjobs"] if j["name"] == "cleanup-orphaned-namespaces"]
    assert job["command"] == "kubectl delete cronjob --namespace platform cleanup-orphaned-namespaces"
    after = {ns: kube.get("Namespace", ns)["metadata"]["resourceVersion"] for ns in before}
    assert after == before
    assert kube.get("Deployment", "shop-pr-961-app", kept) is not None

    # pr_up refuses the reference platform's namespace until it is taken over
    config = tmp_path / "k8s-ee.yaml"
    config.write_text("projectId: shop\ndatabases:\n  postgresql: true\n")
    refused = playbooks.run("pr_up", k8s_ee_pr_number=961, k8s_ee_config_path=str(config))
    assert refused.rc != 0 and "not managed by k8s-ee" in str(refused.failures()), refused

    # apply, without recreate_data: the one holding data under another name stays as it is
    cluster_uid, claim_uid = (
        uid(kube, "Cluster", "postgresql", kept),
        uid(kube, "PersistentVolumeClaim", "postgresql-1", kept),
    )
    run, plan = migrate(playbooks, k8s_ee_migrate_apply=True, k8s_ee_migrate_repositories=["acme/shop"])
    assert run.rc == 0, run
    rows = rows_by_namespace(plan)
    assert plan["dry_run"] is False and rows[kept]["action"] == "take over"
    meta = kube.get("Namespace", kept)["metadata"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "k8s-ee"
    assert meta["annotations"]["k8s-ee/migrated-from"] == "github-actions"
    assert meta["annotations"]["k8s-ee/created-at"] == "2030-03-16T10:00:00Z"
    assert kube.get("Deployment", "shop-pr-961-app", kept) is None
    assert kube.get("ResourceQuota", "pr-quota", kept) is None
    assert not [s for s in kube.list("Secret", kept) if s.get("type") == "helm.sh/release.v1"]
    assert kube.get("Secret", "stripe-test-keys", kept) is not None  # made by somebody else: left
    assert uid(kube, "Cluster", "postgresql", kept) == cluster_uid
    assert "meta.helm.sh/release-name" not in (
        kube.get("Cluster", "postgresql", kept)["metadata"].get("annotations") or {}
    )
    assert kube.get("Namespace", renamed)["metadata"]["resourceVersion"] == before[renamed]
    assert kube.get("Cluster", "app-postgresql", renamed) is not None
    closing = kube.get("Namespace", closed)
    assert closing is None or closing["metadata"].get("deletionTimestamp")
    meta = kube.get("Namespace", preserved)["metadata"]
    assert meta["labels"].get("k8s-ee/preserve") == "true" and "preserve" not in meta["labels"]
    assert meta["annotations"]["k8s-ee/preserve-until"] == "2030-03-18T12:00:00Z"
    assert kube.get("Namespace", foreign)["metadata"]["resourceVersion"] == before[foreign]
    assert kube.get("Namespace", elsewhere)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "github-actions"

    # pr_up takes it over: our objects applied, the PostgreSQL cluster and its claim the same objects (data kept)
    up = playbooks.run("pr_up", k8s_ee_pr_number=961, k8s_ee_config_path=str(config))
    assert up.rc == 0, up
    assert uid(kube, "Cluster", "postgresql", kept) == cluster_uid
    assert uid(kube, "PersistentVolumeClaim", "postgresql-1", kept) == claim_uid
    assert kube.get("Deployment", "app", kept) is not None
    assert kube.get("Cluster", "postgresql", kept)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "k8s-ee"

    # with recreate_data the other one goes too, and pr_up creates our PostgreSQL there, empty
    run, plan = migrate(
        playbooks,
        k8s_ee_migrate_apply=True,
        k8s_ee_migrate_recreate_data=True,
        k8s_ee_migrate_repositories=["acme/shop"],
    )
    assert run.rc == 0, run
    row = rows_by_namespace(plan)[renamed]
    assert row["action"] == "take over" and row["data_lost"] == [
        "Cluster/app-postgresql",
        "PersistentVolumeClaim/app-postgresql-1",
    ]
    assert kube.get("Cluster", "app-postgresql", renamed) is None
    operators.paused.discard(renamed)
    up = playbooks.run("pr_up", k8s_ee_pr_number=962, k8s_ee_config_path=str(config))
    assert up.rc == 0, up
    assert kube.get("Cluster", "postgresql", renamed) is not None

    # a second run finds nothing of the reference platform's left in acme/shop
    run, plan = migrate(playbooks, k8s_ee_migrate_repositories=["acme/shop"])
    assert run.rc == 0, run
    assert {row["namespace"] for row in plan["environments"]} <= {elsewhere, closed}


def test_an_unclear_github_answer_changes_nothing_and_fails(playbooks, kube, github, reference):
    namespace = reference.environment(967)
    reference.helm(namespace, "app", 967)
    github.set_pull("acme/shop", 967, state="open")
    github.fail_next(status=502, path_regex=r"/pulls/967", times=10)  # more than the client's retries
    before = kube.get("Namespace", namespace)["metadata"]["resourceVersion"]
    run, _plan = migrate(playbooks, k8s_ee_migrate_apply=True, k8s_ee_migrate_repositories=["acme/shop"])
    assert run.rc != 0
    assert any("shop-pr-967" in failure for failure in run.failures()), run
    assert kube.get("Namespace", namespace)["metadata"]["resourceVersion"] == before
    assert kube.get("Deployment", "shop-pr-967-app", namespace) is not None


def test_refuses_a_repository_that_is_not_owner_repo(playbooks):
    run, _plan = migrate(playbooks, k8s_ee_migrate_repositories=["acme/shop/../../x"])
    assert run.rc != 0 and "repositories:" in str(run.failures()), run


def test_no_token_no_plan(playbooks):
    run = playbooks.run("migrate", token=False)
    assert run.rc != 0 and "no GitHub token" in str(run.failures()), run
