# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every key a module returns is in its RETURN documentation.

Each module runs through its main() in representative cases (success, the second run, check mode, the
documented failures) against an in-memory cluster (tests/fake_kube.py) and the local GitHub
(tests/github_fake.py); every key of every result, and of documented dictionaries with `contains`, must be
documented. Keys every module may return (changed, failed, msg, diff, invocation, warnings, ...) are
Ansible's own and not listed in RETURN.
"""

from __future__ import annotations

import copy
import importlib
import json
import pathlib
import sys

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from fake_kube import FakeKube

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config
from ansible_collections.k8s_ee.platform.plugins.module_utils._kube import KINDS, KubeError
from ansible_collections.k8s_ee.platform.plugins.module_utils._migrate import EXTRA_KINDS

MODULES_DIR = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "modules"
PACKAGE = "ansible_collections.k8s_ee.platform.plugins"
# Returned by AnsibleModule itself (exit_json/fail_json), documented by Ansible, not by each module.
COMMON = {"changed", "failed", "msg", "diff", "invocation", "warnings", "deprecations", "skipped", "exception"}
NOW = 1_900_000_000.0
SHA = "a" * 40
PLURALS = {api[1]: kind for kind, api in {**KINDS, **EXTRA_KINDS}.items()}
CONFIG = _config.normalise({"projectId": "shop", "databases": {"redis": True}})


class ModuleKube(FakeKube):
    """FakeKube with what the modules beyond `environment` also call: delete, update and the merge patches of
    a namespace's labels and annotations (preserve, expiry)."""

    def delete(self, kind, name, namespace=None, body=None):
        self.requests += 1
        return self.objects.pop(self.key(kind, name, namespace), None) is not None

    def update(self, obj):
        self.requests += 1
        meta = obj["metadata"]
        live = self.objects.get(self.key(obj["kind"], meta["name"], meta.get("namespace")))
        if live is None or live["metadata"]["resourceVersion"] != meta.get("resourceVersion"):
            raise KubeError(409, "Conflict", "the object has been modified")
        return self.put(obj)

    def merge_patch(self, kind, name, patch, namespace=None):
        assert kind == "Namespace", kind
        return self.request("PATCH", f"/api/v1/namespaces/{name}", patch, content_type="application/merge-patch+json")

    def request(self, method, path, body=None, query=None, content_type="application/json"):
        """The paths the modules build themselves: a namespace's merge patch (preserve, expiry), and migrate's
        lists, deletes and merge patches of any kind (`_migrate._path`)."""
        self.requests += 1
        parts = path.strip("/").split("/")
        at = parts.index("namespaces")
        namespace, rest = (parts[at + 1] if len(parts) > at + 1 else None), parts[at + 2 :]
        kind, name = ("Namespace", namespace) if not rest else (PLURALS[rest[0]], rest[1] if len(rest) > 1 else None)
        namespace = None if kind == "Namespace" else namespace
        if method == "GET" and name is None:
            return {"items": self.list(kind, namespace, label_selector=(query or {}).get("labelSelector"))}
        if method == "DELETE":
            self.requests -= 1
            self.delete(kind, name, namespace)
            return {}
        assert method == "PATCH" and content_type == "application/merge-patch+json", (method, path)
        live = copy.deepcopy(self.objects[self.key(kind, name, namespace)])
        for field in ("labels", "annotations"):
            merged = {**(live["metadata"].get(field) or {}), **body["metadata"].get(field, {})}
            live["metadata"][field] = {k: v for k, v in merged.items() if v is not None}
        return self.put(live)


def documented(module) -> dict:
    return yaml.safe_load(module.RETURN) or {}


def undocumented(result: dict, docs: dict, where: str = "") -> list[str]:
    """Keys of `result` missing from `docs` (a RETURN mapping), and inside documented `contains`."""
    missing = []
    for key, value in result.items():
        if not where and key in COMMON:
            continue
        if key not in docs:
            missing.append(where + key)
            continue
        contains = docs[key].get("contains")
        if not contains:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                missing += undocumented(item, contains, f"{where}{key}.")
    return missing


@pytest.fixture
def github():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
    from github_fake import FakeGitHub

    with FakeGitHub(clock=lambda: NOW) as server:
        yield server


class Runner:
    """Runs a module's main() with the in-memory cluster in place of the one the kubeconfig names."""

    def __init__(self, monkeypatch, capsys, kube, github):
        self.monkeypatch, self.capsys, self.kube, self.github = monkeypatch, capsys, kube, github
        self.results: dict[str, list[dict]] = {}
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.setenv("K8S_EE_GITHUB_LOGIN", github.login)

    def __call__(self, name, check_mode=False, diff=False, **args):
        module = importlib.import_module(f"{PACKAGE}.modules.{name}")
        # wherever the modules and the module_utils they call took the factory from
        for loaded in [m for n, m in sys.modules.items() if n.startswith(PACKAGE) and m is not None]:
            if hasattr(loaded, "kube_from_params"):
                self.monkeypatch.setattr(loaded, "kube_from_params", lambda params: self.kube)
        args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        with patch_module_args(args), pytest.raises(SystemExit):
            module.main()
        result = json.loads(self.capsys.readouterr().out)
        self.results.setdefault(name, []).append(result)
        return result

    def gh(self, **args):
        return {"api_url": self.github.url, "token": self.github.token, **args}


def environment_args(**args):
    return {
        "namespace": "shop-pr-1",
        "repository": "acme/shop",
        "config": CONFIG,
        "host": "shop-pr-1.preview.example.com",
        "pr_number": 1,
        "head_sha": SHA,
        "image": "registry.example/shop@sha256:" + "1" * 64,
        "health_check": False,
        **args,
    }


def test_every_returned_key_is_documented(monkeypatch, capsys, tmp_path, github):
    run = Runner(monkeypatch, capsys, ModuleKube(), github)

    run("env_access", repository="acme/shop", author_association="MEMBER")
    run("env_access", repository="acme/shop", author_association="NONE")

    run("env_config", content="projectId: shop\ndatabases:\n  redis: true\n", pr_number=1, domain="example.com")
    config = "projectId: shop\nimage:\n  repository: ghcr.io/acme/web\n"
    run("env_config", content=config, pr_number=1, domain="example.com", image_repository="ghcr.io/acme/shop/preview")
    assert run("env_config", content="projectId: Shop\n", pr_number=1, domain="example.com")["failed"]

    # environment: missing on demand, created, unchanged, check mode, a failure
    assert run("environment", **environment_args(create=False))["state"] == "not created"
    up = run("environment", diff=True, **environment_args())
    assert up["changed"] and up["databases"] == ["redis"] and up["updated_at"]
    assert not run("environment", **environment_args())["changed"]
    run("environment", check_mode=True, diff=True, **environment_args(head_sha="b" * 40))
    assert run("environment", **environment_args(image="not-a-digest", settings={"priority_class": "gone"}))["failed"]

    run("env_status", now=NOW)

    # /preserve: the command, then the environment, the reaction; a refusal
    github.set_pull("acme/shop", 1, head_sha=SHA)
    github.permissions[("acme/shop", "maintainer")] = "write"
    comment = github.add_comment("acme/shop", 1, "/preserve 72", user="maintainer")
    command = run(
        "pr_command", **run.gh(repository="acme/shop", pr_number=1, comment_id=comment["id"], expect="preserve")
    )
    assert command["accepted"], command
    run("pr_command", **run.gh(repository="acme/shop", pr_number=1, comment_id=comment["id"], expect="deploy-preview"))
    run("pr_command", **run.gh(repository="acme/shop", pr_number=1, comment_id=comment["id"], done=True))
    stranger = github.add_comment("acme/shop", 1, "/preserve", user="stranger")
    github.permissions[("acme/shop", "stranger")] = "read"
    run("pr_command", **run.gh(repository="acme/shop", pr_number=1, comment_id=stranger["id"], expect="preserve"))
    preserve = {"repository": "acme/shop", "user": "maintainer", "project_id": "shop", "now": NOW}
    kept = run("env_preserve", **run.gh(pr_number=1, hours=72, pr_open=True, **preserve))
    assert kept["capped"], kept
    assert run("env_preserve", **run.gh(pr_number=2, pr_open=True, **preserve))["failed"]
    down = {"state": "absent", "repository": "acme/shop", "project_id": "shop"}
    assert run("environment", pr_number=1, **down)["state"] == "preserved"

    # the hourly expiry: a warning, then the expiry of a closed pull request's environment
    run("env_expiry", **run.gh(now=NOW + 47.5 * 3600, project_id="shop"))
    github.set_pull("acme/shop", 1, state="closed", closed_at="2030-01-01T00:00:00Z")
    expired = run("env_expiry", **run.gh(now=NOW + 49 * 3600, project_id="shop"))
    assert expired["summary"]["deleted"] == ["shop-pr-1"], expired

    # pr_down: deleted, then nothing to do
    run("environment", **environment_args(pr_number=3, namespace="shop-pr-3"))
    assert run("environment", pr_number=3, **down)["state"] == "deleted"
    assert run("environment", pr_number=3, **down)["state"] == "absent"

    # cleanup: an environment of a pull request closed long ago, once listed, once deleted
    run("environment", **environment_args(pr_number=4, namespace="shop-pr-4"))
    github.set_pull("acme/shop", 4, state="closed", closed_at="2020-01-01T00:00:00Z")
    assert run("env_cleanup", **run.gh(now=NOW, dry_run=True))["summary"]["would_delete"]
    assert run("env_cleanup", **run.gh(now=NOW))["summary"]["deleted"]

    # migrate: the reference platform's environment of an open pull request, planned, taken over; no token
    run.kube.put(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "shop-pr-5",
                "labels": {
                    "app.kubernetes.io/managed-by": "github-actions",
                    "k8s-ee/type": "ephemeral",
                    "k8s-ee/project-id": "shop",
                    "k8s-ee/pr-number": "5",
                },
                "annotations": {"k8s-ee/repository": "acme/shop"},
            },
        }
    )
    helm = {"app.kubernetes.io/managed-by": "Helm"}
    run.kube.put(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop-pr-5-app", "namespace": "shop-pr-5", "labels": helm},
        }
    )
    run.kube.put(
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "postgresql", "namespace": "shop-pr-5", "labels": helm},
        }
    )
    github.set_pull("acme/shop", 5, state="open")
    planned = run("env_migrate", **run.gh(now=NOW))
    assert planned["environments"][0]["action"] == "take over" and planned["dry_run"], planned
    moved = run("env_migrate", **run.gh(now=NOW, apply=True, repositories=["acme/shop"]))
    assert moved["changed"] and run.kube.get("Deployment", "shop-pr-5-app", "shop-pr-5") is None, moved
    assert run("env_migrate", now=NOW)["failed"]

    # the comment: printed without a token, posted with one, a GitHub failure
    run("pr_comment", repository="acme/shop", pr_number=1, state="refused", reason="no")
    run("pr_comment", **run.gh(repository="acme/shop", pr_number=1, state="destroyed", namespace="shop-pr-1"))
    run("pr_comment", check_mode=True, **run.gh(repository="acme/shop", pr_number=1, state="failed", reason="x"))
    run("pr_comment", **run.gh(repository="acme/shop", pr_number=404_404, state="failed", reason="x"))

    modules = sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(run.results) == modules, "every module needs a representative run here"
    missing = {}
    for name, results in run.results.items():
        docs = documented(importlib.import_module(f"{PACKAGE}.modules.{name}"))
        keys = sorted({key for result in results for key in undocumented(result, docs)})
        if keys:
            missing[name] = keys
    assert missing == {}, f"returned but not in RETURN: {missing}"


@pytest.mark.parametrize("path", sorted(MODULES_DIR.glob("*.py")), ids=lambda p: p.stem)
def test_return_entries_are_complete(path):
    """Each RETURN entry says what it is, when it comes and its type (ansible-doc needs all three)."""
    module = importlib.import_module(f"{PACKAGE}.modules.{path.stem}")

    def check(entries, where=""):
        for key, entry in entries.items():
            assert {"description", "returned", "type"} <= set(entry), f"{path.stem}: {where}{key}"
            check(entry.get("contains") or {}, f"{where}{key}.")

    check(documented(module))
