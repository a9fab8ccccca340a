"""Comment commands, preserve, preserve_expiry and cleanup: the playbooks against the local cluster and GitHub."""

import itertools
import json
import time

import pytest
import yaml
from harness import ensure_namespace, environment_namespace

from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER, PRESERVE_MARKER

pytestmark = pytest.mark.cluster
_numbers = itertools.count(500)
HOUR = 3600
T0 = 1_900_000_000  # 2030-03-17T17:46:40Z: business time is injected, nothing sleeps


@pytest.fixture(scope="module", autouse=True)
def lock_namespace(kube):
    ensure_namespace(kube, "platform")


def preserve(playbooks, number, user="maintainer", command="/preserve", now=T0, comment_id=None, **extra):
    return playbooks.run(
        "preserve",
        k8s_ee_pr_number=number,
        k8s_ee_comment_user=user,
        k8s_ee_command=command,
        k8s_ee_now=now,
        **({"k8s_ee_comment_id": comment_id} if comment_id else {}),
        **extra,
    )


def labels_of(kube, name):
    meta = kube.get("Namespace", name)["metadata"]
    return meta.get("labels") or {}, meta.get("annotations") or {}


def marker_comment(github, number, marker):
    found = [c for c in github.comments_of("acme/shop", number) if marker in c["body"]]
    assert len(found) <= 1
    return found[0]["body"] if found else None


@pytest.fixture
def maintainer(github):
    github.permissions[("acme/shop", "maintainer")] = "write"
    github.permissions[("acme/shop", "admin")] = "admin"
    github.permissions[("acme/shop", "reader")] = "read"
    return "maintainer"


def test_whole_life_preserve_close_warn_expire_delete(playbooks, kube, github, operators, maintainer, tmp_path):
    number = next(_numbers)
    path = tmp_path / "k8s-ee.yaml"
    path.write_text(yaml.safe_dump({"projectId": "shop", "databases": {"redis": True}}))
    assert playbooks.run("pr_up", k8s_ee_pr_number=number, k8s_ee_config_path=str(path)).rc == 0
    github.set_pull("acme/shop", number, state="open")
    comment = github.add_comment("acme/shop", number, "/preserve 12", user=maintainer)

    result = preserve(playbooks, number, command="/preserve 12", comment_id=comment["id"])
    assert result.rc == 0, result
    labels, annotations = labels_of(kube, f"shop-pr-{number}")
    assert labels["k8s-ee/preserve"] == "true"
    assert annotations["k8s-ee/preserve-until"] == "2030-03-18T05:46:40Z"  # T0 + 12 h
    assert annotations["k8s-ee/preserved-by"] == maintainer
    assert "eyes" in {c for i, c in github.reactions if i == comment["id"]} and "+1" in {
        c for i, c in github.reactions if i == comment["id"]
    }
    assert "preserved until `2030-03-18T05:46:40Z`" in marker_comment(github, number, PRESERVE_MARKER)

    github.set_pull("acme/shop", number, state="closed", closed_at="2030-03-17T18:00:00Z")
    down = playbooks.run("pr_down", k8s_ee_pr_number=number)
    assert down.rc == 0, down
    assert kube.get("Namespace", f"shop-pr-{number}") is not None
    assert "Preview environment: preserved" in marker_comment(github, number, MARKER)

    # an hour before: nothing; within the last hour: one warning
    assert playbooks.run("preserve_expiry", k8s_ee_now=T0 + 10 * HOUR).changed == 0
    warn = playbooks.run("preserve_expiry", k8s_ee_now=T0 + 11 * HOUR + 30 * 60)
    assert warn.rc == 0, warn
    assert labels_of(kube, f"shop-pr-{number}")[1]["k8s-ee/preserve-warned"] == "true"
    assert "ends at `2030-03-18T05:46:40Z`" in marker_comment(github, number, PRESERVE_MARKER)
    before = github.count("PATCH")
    again = playbooks.run("preserve_expiry", k8s_ee_now=T0 + 11 * HOUR + 40 * 60)
    assert again.rc == 0 and again.changed == 0, again
    assert github.count("PATCH") == before  # warned once only

    expire = playbooks.run("preserve_expiry", k8s_ee_now=T0 + 12 * HOUR + 1)
    assert expire.rc == 0, expire
    summary = json.loads(expire.task("Print the summary")["msg"])
    assert summary["expired"] == [f"shop-pr-{number}"] and summary["deleted"] == [f"shop-pr-{number}"]
    assert kube.get("Namespace", f"shop-pr-{number}") is None
    assert "expired at `2030-03-18T05:46:40Z`; the pull request is closed" in marker_comment(
        github, number, PRESERVE_MARKER
    )
    assert "Preview environment: destroyed" in marker_comment(github, number, MARKER)


def test_expired_preserve_of_an_open_pr_keeps_the_environment(playbooks, kube, github, maintainer):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="open")
    assert preserve(playbooks, number, command="/preserve 1").rc == 0
    result = playbooks.run("preserve_expiry", k8s_ee_now=T0 + HOUR + 1)
    assert result.rc == 0, result
    labels, annotations = labels_of(kube, name)
    assert "k8s-ee/preserve" not in labels and "k8s-ee/preserve-until" not in annotations
    assert "stays while the pull request is open" in marker_comment(github, number, PRESERVE_MARKER)
    kube.delete("Namespace", name)


def test_hours_are_capped_and_extension_restarts_from_now(playbooks, kube, github, maintainer):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="open")
    assert preserve(playbooks, number, command="/preserve 100").rc == 0
    assert labels_of(kube, name)[1]["k8s-ee/preserve-until"] == "2030-03-19T17:46:40Z"  # 48 h, not 100
    assert "You asked for 100 hours; preserves last at most 48 hours" in marker_comment(github, number, PRESERVE_MARKER)
    assert preserve(playbooks, number, command="/preserve 2", now=T0 + 30 * HOUR).rc == 0
    assert labels_of(kube, name)[1]["k8s-ee/preserve-until"] == "2030-03-19T01:46:40Z"  # now + 2 h
    kube.delete("Namespace", name)


def test_per_user_cap_and_total_cap(playbooks, kube, github, maintainer):
    numbers = [next(_numbers) for _index in range(5)]
    names = [environment_namespace(kube, n) for n in numbers]
    for n in numbers:
        github.set_pull("acme/shop", n, state="open")
    for n in numbers[:3]:
        assert preserve(playbooks, n).rc == 0
    fourth = preserve(playbooks, numbers[3])
    assert fourth.rc != 0
    assert "maintainer already preserves 3 environments" in marker_comment(github, numbers[3], PRESERVE_MARKER)
    assert "k8s-ee/preserve" not in labels_of(kube, names[3])[0]
    assert preserve(playbooks, numbers[0], command="/preserve 5").rc == 0  # extending one's own is not a new one
    capped = preserve(playbooks, numbers[4], user="admin", k8s_ee_max_preserved=3)
    assert capped.rc != 0
    assert "the operator allows at most 3" in marker_comment(github, numbers[4], PRESERVE_MARKER)
    for name in names:
        kube.delete("Namespace", name)


def test_closed_pr_cannot_be_preserved(playbooks, kube, github, maintainer):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="closed", closed_at="2030-03-17T00:00:00Z")
    result = preserve(playbooks, number)
    assert result.rc != 0
    assert "only an open pull request can be preserved" in marker_comment(github, number, PRESERVE_MARKER)
    kube.delete("Namespace", name)


def test_commands_of_a_user_without_write_permission_are_refused(playbooks, kube, github, maintainer, tmp_path):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="open")
    before = kube.get("Namespace", name)["metadata"]["resourceVersion"]
    for playbook, text in (("preserve", "/preserve"), ("pr_down", "/destroy-preview"), ("pr_up", "/deploy-preview")):
        comment = github.add_comment("acme/shop", number, text, user="reader")
        extra = {"k8s_ee_config_path": str(tmp_path / "none.yaml")} if playbook == "pr_up" else {}
        result = playbooks.run(
            playbook,
            k8s_ee_pr_number=number,
            k8s_ee_comment_user="reader",
            k8s_ee_command=text,
            k8s_ee_comment_id=comment["id"],
            **extra,
        )
        assert result.rc == 0, result
        assert (comment["id"], "-1") in github.reactions
        assert any(
            "reader has read permission on acme/shop" in c["body"] for c in github.comments_of("acme/shop", number)
        )
    assert kube.get("Namespace", name)["metadata"]["resourceVersion"] == before
    kube.delete("Namespace", name)


def test_prose_mentioning_a_command_is_ignored(playbooks, kube, github, maintainer):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="open")
    result = preserve(playbooks, number, command="please do not /preserve this yet")
    assert result.rc == 0
    assert "k8s-ee/preserve" not in labels_of(kube, name)[0]
    assert github.reactions == [] or all(i != number for i, _content in github.reactions)
    kube.delete("Namespace", name)


def test_two_commands_racing_for_the_last_slot(playbooks, kube, github, maintainer):
    numbers = [next(_numbers) for _index in range(4)]
    names = [environment_namespace(kube, n) for n in numbers]
    for n in numbers:
        github.set_pull("acme/shop", n, state="open")
    for n in numbers[:2]:
        assert preserve(playbooks, n).rc == 0
    # the user has 2 of 3: two concurrent commands for the last slot
    procs = [
        playbooks.start(
            "preserve", k8s_ee_pr_number=n, k8s_ee_comment_user=maintainer, k8s_ee_command="/preserve", k8s_ee_now=T0
        )
        for n in numbers[2:]
    ]
    codes = sorted(p.wait(timeout=300) for p in procs)
    assert codes[0] == 0 and codes[1] != 0
    preserved = [n for n in names if labels_of(kube, n)[0].get("k8s-ee/preserve") == "true"]
    assert len(preserved) == 3
    for name in names:
        kube.delete("Namespace", name)


# ---------------------------------------------------------------- cleanup


def cleanup(playbooks, now, **extra):
    result = playbooks.run("cleanup", k8s_ee_now=now, **extra)
    summary = json.loads(result.task("Print the summary")["msg"])
    return result, summary


def test_cleanup_decision_matrix(playbooks, kube, github):
    closed_long_ago = "2030-03-17T16:00:00Z"  # T0 - 1h46m
    closed_just_now = "2030-03-17T17:45:00Z"  # T0 - 100 s, inside the 10 min grace period
    cases = {}

    def case(key, repository="acme/shop", **kw):
        number = next(_numbers)
        cases[key] = (
            number,
            environment_namespace(kube, number, repository=repository, project=kw.pop("project", "shop"), **kw),
        )
        return number

    github.set_pull("acme/shop", case("open"), state="open")
    github.set_pull("acme/shop", case("closed-in-grace"), state="closed", closed_at=closed_just_now)
    github.set_pull("acme/shop", case("closed"), state="closed", closed_at=closed_long_ago)
    github.set_pull("acme/shop", case("merged"), state="closed", merged=True, closed_at=closed_long_ago)
    case("pr-gone")  # 404 for the PR, the repository is readable
    github.set_pull(
        "acme/shop", case("preserved", labels={"k8s-ee/preserve": "true"}), state="closed", closed_at=closed_long_ago
    )
    github.unreadable_repos.add("gone/repo")
    case("repo-404", repository="gone/repo", project="gone")
    for key, status, headers in (
        ("5xx", 503, {"Retry-After": "0"}),
        ("401", 401, {}),
        ("403", 403, {}),
        ("rate-limit", 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}),
    ):
        number = case(key)
        github.set_pull("acme/shop", number, state="closed", closed_at=closed_long_ago)
        github.fail_next(rf"/pulls/{number}$", status, headers=headers, times=100)
    # a second project of the same pull request: still one GitHub request
    number = cases["closed"][0]
    cases["closed-second-project"] = (number, environment_namespace(kube, number, project="admin"))
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"unmanaged-{number}"}})

    requests_before = len(github.requests)
    result, summary = cleanup(playbooks, T0, k8s_ee_dry_run=True)
    assert result.rc != 0  # errors were counted: alerting must see it
    would = {w["namespace"] for w in summary["would_delete"]}
    assert would == {cases[k][1] for k in ("closed", "merged", "pr-gone", "closed-second-project")}
    assert all(kube.get("Namespace", name) for _number, name in cases.values())  # dry run deletes nothing
    assert summary["skipped"]["open"] == 1 and summary["skipped"]["closed within the grace period"] == 1
    assert summary["skipped"]["preserved"] == 1 and summary["skipped"]["unknown"] == 5
    assert len(summary["errors"]) == 5
    assert any("gone-pr-" in e and "repository is not readable" in e for e in summary["errors"])
    distinct_prs = len({n for n, _name in cases.values()}) - 1  # the preserved one is never asked about
    pr_requests = [r for r in github.requests[requests_before:] if "/pulls/" in r["path"]]
    # one request per distinct PR, except the retried 5xx and rate-limited ones
    assert len({r["path"] for r in pr_requests}) == distinct_prs

    result, summary = cleanup(playbooks, T0, k8s_ee_max_deletions_per_run=2)
    assert result.rc != 0
    assert len(summary["deleted"]) == 2 and summary["skipped"]["max_deletions_per_run reached"] == 2
    result, summary = cleanup(playbooks, T0)
    deleted = {d["namespace"] for d in summary["deleted"]}
    assert len(deleted) == 2
    for key in ("open", "closed-in-grace", "preserved", "repo-404", "5xx", "401", "403", "rate-limit"):
        assert kube.get("Namespace", cases[key][1]) is not None, key
    assert kube.get("Namespace", f"unmanaged-{number}") is not None
    for _number, name in cases.values():
        kube.delete("Namespace", name)
    kube.delete("Namespace", f"unmanaged-{number}")
    github._failures.clear()


def test_cleanup_without_errors_exits_zero(playbooks, kube, github):
    number = next(_numbers)
    name = environment_namespace(kube, number)
    github.set_pull("acme/shop", number, state="closed", closed_at="2030-03-17T16:00:00Z")
    deadline = time.monotonic() + 60
    result, summary = cleanup(playbooks, T0)
    assert result.rc == 0, result
    assert {"namespace": name, "reason": "closed"} in summary["deleted"]
    while kube.get("Namespace", name) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kube.get("Namespace", name) is None


def test_cleanup_without_a_token_refuses(playbooks):
    result = playbooks.run("cleanup", token=False)
    assert result.rc != 0
    assert "no GitHub token" in str(result.failures())


def test_scheduled_playbooks_are_idempotent_when_nothing_is_due(playbooks):
    result = playbooks.run("preserve_expiry", k8s_ee_now=T0)
    assert result.rc == 0 and result.changed == 0, result


def test_status_lists_environments_as_table_and_json(playbooks, kube):
    number = next(_numbers)
    name = environment_namespace(
        kube,
        number,
        annotations={"k8s-ee/created-at": "2030-03-17T15:46:40Z", "k8s-ee/ready-at": "2030-03-17T15:47:00Z"},
        labels={"k8s-ee/preserve": "true"},
    )
    kube.merge_patch(
        "Namespace", name, {"metadata": {"annotations": {"k8s-ee/preserve-until": "2030-03-18T00:00:00Z"}}}
    )
    result = playbooks.run("status", k8s_ee_status_format="json", k8s_ee_now=T0)
    assert result.rc == 0 and result.changed == 0, result
    rows = {r["namespace"]: r for r in json.loads(result.task("Print them")["msg"])}
    row = rows[name]
    assert row["repository"] == "acme/shop" and row["pr"] == number
    assert row["age"] == "2h0m" and row["ready_at"] == "2030-03-17T15:47:00Z"
    assert row["preserved_until"] == "2030-03-18T00:00:00Z"
    text = playbooks.run("status", k8s_ee_now=T0).task("Print them")["msg"]
    assert text.splitlines()[0].startswith("NAMESPACE") and name in text
    kube.delete("Namespace", name)


def test_on_demand_trigger_waits_for_deploy_preview(playbooks, kube, github, maintainer, tmp_path):
    """trigger: on-demand - pushes create nothing; /deploy-preview from a maintainer creates; later pushes update."""
    number = next(_numbers)
    path = tmp_path / "k8s-ee.yaml"
    path.write_text(yaml.safe_dump({"projectId": "shop", "trigger": "on-demand"}))
    push = playbooks.run("pr_up", k8s_ee_pr_number=number, k8s_ee_config_path=str(path))
    assert push.rc == 0 and push.changed == 0, push
    assert kube.get("Namespace", f"shop-pr-{number}") is None
    github.set_pull("acme/shop", number, state="open")
    comment = github.add_comment("acme/shop", number, "/deploy-preview", user=maintainer)
    deploy = playbooks.run(
        "pr_up",
        k8s_ee_pr_number=number,
        k8s_ee_config_path=str(path),
        k8s_ee_command="/deploy-preview",
        k8s_ee_comment_user=maintainer,
        k8s_ee_comment_id=comment["id"],
        k8s_ee_author_association="CONTRIBUTOR",
    )
    assert deploy.rc == 0, deploy
    assert kube.get("Namespace", f"shop-pr-{number}") is not None
    assert (comment["id"], "+1") in github.reactions
    update = playbooks.run("pr_up", k8s_ee_pr_number=number, k8s_ee_config_path=str(path), k8s_ee_head_sha="b" * 40)
    assert update.rc == 0 and update.changed > 0, update
    annotations = kube.get("Namespace", f"shop-pr-{number}")["metadata"]["annotations"]
    assert annotations["k8s-ee/commit-sha"] == "b" * 40
    assert playbooks.run("pr_down", k8s_ee_pr_number=number).rc == 0
