"""The migrate playbook's reading of the reference platform's namespaces: Helm's release Secrets, the shape of an
environment, what a takeover keeps and removes. Everything read is data another CI wrote from pull request input."""

import base64
import gzip
import json

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _migrate
from ansible_collections.k8s_ee.platform.plugins.module_utils._migrate import (
    MigrateError,
    manifest_objects,
    release_manifest,
    takeover_plan,
)


def release_secret(payload: bytes, name="sh.helm.release.v1.app.v1") -> dict:
    """A release Secret as the API server returns it: data.release is base64 (the API's) of Helm's base64 text."""
    return {
        "metadata": {"name": name, "labels": {"owner": "helm", "name": "app", "version": "1"}},
        "type": "helm.sh/release.v1",
        "data": {"release": base64.b64encode(base64.b64encode(payload)).decode()},
    }


def helm_release(manifest: str) -> bytes:
    return gzip.compress(json.dumps({"name": "app", "version": 1, "manifest": manifest}).encode())


MANIFEST = """\
---
# Source: k8s-ee-app/templates/app.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-pr-7-app
---
apiVersion: v1
kind: Service
metadata:
  name: shop-pr-7-app
"""


def test_a_release_secret_as_helm_writes_it():
    assert manifest_objects(release_manifest(release_secret(helm_release(MANIFEST)))) == [
        ("Deployment", "shop-pr-7-app"),
        ("Service", "shop-pr-7-app"),
    ]


@pytest.mark.parametrize(
    "secret, problem",
    [
        ({"metadata": {"name": "x"}, "data": {}}, "no Helm release"),
        ({"metadata": {"name": "x"}, "data": {"release": "not base64!"}}, "base64"),
        (release_secret(b"\x1f\x8b not gzip at all"), "not gzip"),
        (release_secret(b"[1, 2]"), "no manifest"),
        (release_secret(b"{not json"), "not JSON"),
        (release_secret(gzip.compress(b"{" + b" " * (17 << 20) + b"}")), "larger than 16 MiB"),
    ],
    ids=["no release", "not base64", "not gzip", "no manifest", "not json", "gzip bomb"],
)
def test_a_release_secret_that_is_not_one_is_a_clear_refusal(secret, problem):
    with pytest.raises(MigrateError, match=problem):
        release_manifest(secret)


def test_a_manifest_with_aliases_is_not_expanded():
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b]\n'
    with pytest.raises(MigrateError, match="anchors and aliases"):
        manifest_objects(bomb)


def test_a_manifest_of_too_many_objects_is_refused():
    many = "".join(
        f"---\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(_migrate.MAX_MANIFEST_OBJECTS + 1)
    )
    with pytest.raises(MigrateError, match="more than 500 objects"):
        manifest_objects(many)


def test_documents_that_are_not_objects_are_skipped():
    assert manifest_objects("---\n- a list\n---\nkind: Service\n---\nplain text\n---\nkind: X\nmetadata: {}\n") == [
        ("X", None)
    ]


def namespace(name="shop-pr-7", project="shop", number="7", repository="acme/shop", **labels):
    return {
        "metadata": {
            "name": name,
            "labels": {"k8s-ee/project-id": project, "k8s-ee/pr-number": number, **labels},
            "annotations": {"k8s-ee/repository": repository} if repository is not None else {},
        }
    }


@pytest.mark.parametrize(
    "ns, problem",
    [
        (namespace(project="Shop"), "not a project id"),
        (namespace(number="0"), "not a project id and a pull request number"),
        (namespace(number="7; rm -rf /"), "not a project id and a pull request number"),
        (namespace(number="{{ lookup('pipe', 'id') }}"), "not a project id and a pull request number"),
        (namespace(name="shop-pr-8"), "the name is not shop-pr-7"),
        (namespace(repository=None), "is not owner/repo"),
        (namespace(repository="acme/shop/../../orgs/acme"), "is not owner/repo"),
        (namespace(repository="acme/.."), "is not owner/repo"),
        (namespace(repository="acme/shop?x=1"), "is not owner/repo"),
        (namespace(repository="x" * 5000), "is not owner/repo"),
    ],
)
def test_a_namespace_not_shaped_like_its_environments_is_left_alone(ns, problem):
    with pytest.raises(MigrateError, match=problem) as raised:
        _migrate._environment(ns)
    assert len(str(raised.value)) < 400  # a long hostile value is cut


def test_an_environment_as_the_reference_platform_labels_it():
    env = _migrate._environment(namespace(preserve="true"))
    assert (env["namespace"], env["project_id"], env["pr"], env["repository"], env["preserved"]) == (
        "shop-pr-7",
        "shop",
        7,
        "acme/shop",
        True,
    )


def obj(kind, name, **spec):
    return {"kind": kind, "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "Helm"}}, **spec}


def claim(name, **labels):
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "labels": labels}}


def found(objects, claims=(), secrets=(), frame=()):
    return {
        "objects": list(objects),
        "claims": list(claims),
        "secrets": set(secrets),
        "frame": list(frame),
        "release_secrets": [{"metadata": {"name": "sh.helm.release.v1.app.v1"}}],
        "unknown": [],
        "problems": [],
    }


def test_a_database_of_our_kind_and_name_is_kept_with_its_claims():
    plan = takeover_plan(
        found(
            [obj("Cluster", "postgresql"), obj("Deployment", "shop-pr-7-app"), obj("ConfigMap", "cfg")],
            claims=[claim("postgresql-1", **{"cnpg.io/cluster": "postgresql"})],
            frame=[{"kind": "ResourceQuota", "metadata": {"name": "pr-quota"}}],
        )
    )
    assert [(k["object"], k["claims"]) for k in plan["kept"]] == [("Cluster/postgresql", ["postgresql-1"])]
    assert plan["removed"] == [
        "ConfigMap/cfg",
        "Deployment/shop-pr-7-app",
        "ResourceQuota/pr-quota",
        "Secret/sh.helm.release.v1.app.v1",
    ]
    assert plan["data_lost"] == []


def test_a_database_of_another_name_and_every_claim_not_kept_is_data_lost():
    volume = {"template": {"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "app-mariadb"}}]}}}
    plan = takeover_plan(
        found(
            [
                obj("Cluster", "app-postgresql"),
                obj("Deployment", "app-mariadb", spec=volume),
                obj("Deployment", "app-redis"),
            ],
            claims=[
                claim("app-postgresql-1", **{"cnpg.io/cluster": "app-postgresql"}),
                claim("app-mariadb"),
                claim("x"),
            ],
        )
    )
    assert plan["kept"] == []
    assert plan["data_lost"] == [
        "Cluster/app-postgresql",
        "Deployment/app-mariadb",
        "PersistentVolumeClaim/app-mariadb",
        "PersistentVolumeClaim/app-postgresql-1",
        "PersistentVolumeClaim/x",
    ]
    assert "Deployment/app-redis" in plan["removed"]  # in memory: nothing to lose


def test_a_database_is_kept_only_with_the_credentials_pr_up_reads():
    mariadb = obj("StatefulSet", "mariadb", spec={"volumeClaimTemplates": [{"metadata": {"name": "data"}}]})
    without = takeover_plan(found([mariadb], claims=[claim("data-mariadb-0")]))
    assert without["kept"] == [] and without["data_lost"] == [
        "PersistentVolumeClaim/data-mariadb-0",
        "StatefulSet/mariadb",
    ]
    credentials = obj("Secret", "mariadb")
    kept = takeover_plan(found([mariadb, credentials], claims=[claim("data-mariadb-0")], secrets={"mariadb"}))
    assert [(k["object"], k["claims"]) for k in kept["kept"]] == [
        ("StatefulSet/mariadb", ["data-mariadb-0"]),
        ("Secret/mariadb", []),
    ]
    assert kept["data_lost"] == []


class RecordingKube:
    def __init__(self):
        self.requests = []

    def request(self, method, path, body=None, query=None, content_type=None):
        self.requests.append((method, path))
        return {}


@pytest.mark.parametrize("ref", ["Deployment/../../api/v1/namespaces/kube-system", "Deployment/A", "Gadget/x"])
def test_a_name_or_kind_k8s_ee_cannot_delete_is_refused_before_any_request(ref):
    kube = RecordingKube()
    with pytest.raises(MigrateError, match="delete it by hand"):
        _migrate._delete(kube, ref, "shop-pr-7")
    assert kube.requests == []


def test_the_table_cuts_long_values_and_says_why():
    rows = [
        {
            "namespace": "shop-pr-7",
            "repository": "acme/shop",
            "pr": 7,
            "pull_request": "open",
            "action": "skip",
            "reason": "holds data " + "x" * 5000,
            "kept": [],
            "removed": ["Deployment/" + "y" * 500],
            "data_lost": [],
        }
    ]
    jobs = [
        {
            "name": "preserve-expiry",
            "schedule": "0 * * * *",
            "command": "kubectl delete cronjob --namespace platform preserve-expiry",
        }
    ]
    text = _migrate.table(rows, jobs)
    assert max(len(line) for line in text.splitlines()) < 700
    assert "shop-pr-7: skip: holds data" in text
    assert "remove it with: kubectl delete cronjob --namespace platform preserve-expiry" in text
    assert "(no environments of the reference platform)" in _migrate.table([], [])
    skipped = {"namespace": "shop-pr-8", "action": "skip", "reason": "not one of its environments' shapes"}
    assert _migrate.table([skipped], []).splitlines()[1].split() == ["shop-pr-8", "-", "-", "-", "skip", "-", "-", "-"]
