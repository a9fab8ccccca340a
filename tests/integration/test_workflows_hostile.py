"""The example workflows' exact `run:` steps (tests/workflow_runner.py), run against the local GitHub server and the
local cluster as the project's CI identity, with a template payload in every field that comes from a GitHub event
or a pull request: the payload is shown verbatim where it is shown, and nothing of it is ever evaluated — by
Ansible (a template), by a shell, or by GitHub's Markdown in the platform's comments. Same for the playbooks run
by hand as docs/pr-lifecycle.md shows."""

from __future__ import annotations

import html
import itertools
import pathlib
import re
import shutil
import subprocess

import cmarkgfm
import pytest
import yaml
from harness import playbook_env
from workflow_runner import Runner

from ansible_collections.k8s_ee.platform.plugins.module_utils._comment import MARKER, head_of

pytestmark = pytest.mark.cluster

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "github" / "workflows"
_numbers = itertools.count(900)


class Clock:
    """GitHub's clock for the fake server: moved on by the test, so comment times are ordered as in real life."""

    def __init__(self, start=1_900_000_000):
        self.now = start

    def __call__(self):
        return self.now

    def tick(self, seconds=30):
        self.now += seconds


@pytest.fixture(scope="module")
def canaries(tmp_path_factory):
    return tmp_path_factory.mktemp("canaries")


def payload(canaries, field: str, git_ref: bool = False) -> str:
    """A value that runs `touch` if anything evaluates it: as an Ansible/Jinja template, as shell command
    substitution or backticks, or as a `${{ }}` expression. `git_ref` keeps it a valid git branch name."""
    target = canaries / field
    if git_ref:
        return (
            f"{{{{lookup('pipe','touch${{IFS}}{target}-jinja')}}}}"
            f"$(touch${{IFS}}{target}-shell)`touch${{IFS}}{target}-tick`{{%raw%}}"
        )
    return (
        f"{{{{ lookup('pipe', 'touch {target}-jinja') }}}} $(touch {target}-shell) `touch {target}-tick` "
        f"${{{{ github.token }}}} {{% raw %}}'\";|&<>[x](https://evil.example/{field}) @everyone"
    )


def assert_nothing_evaluated(canaries, runner=None):
    touched = sorted(p.name for p in canaries.iterdir())
    assert touched == [], f"evaluated: {touched}"
    if runner is not None:
        for step in runner.log:
            text = (step.get("stdout") or "") + (step.get("stderr") or "")
            assert "Traceback" not in text, (step["name"], text[-3000:])


def git(*args, cwd):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def repositories(tmp_path_factory):
    """The application repository's base branch (with the setup action, as adopting.md says to copy it) and a pull
    request's head with its k8s-ee.yaml and Dockerfile."""
    base = tmp_path_factory.mktemp("base")
    git("init", "-q", "-b", "main", cwd=base)
    shutil.copytree(REPO / "examples" / "github" / "actions", base / ".github" / "actions")
    git("add", "-A", cwd=base)
    git("commit", "-q", "-m", "base", cwd=base)
    head = tmp_path_factory.mktemp("head")
    git("init", "-q", "-b", "feature", cwd=head)
    (head / "k8s-ee.yaml").write_text("projectId: shop\napp:\n  port: 8080\nimage:\n  context: web\n")
    (head / "web").mkdir()
    (head / "web" / "Dockerfile").write_text("FROM scratch\n")
    git("add", "-A", cwd=head)
    git("commit", "-q", "-m", "head", cwd=head)
    return {"base": base, "head": head, "sha": git("rev-parse", "HEAD", cwd=head)}


def push(repositories) -> str:
    """A new commit on the pull request's branch (a fork pushing)."""
    head = repositories["head"]
    (head / "web" / "index.html").write_text(f"{len(list(head.iterdir()))}\n")
    git("add", "-A", cwd=head)
    git("commit", "-q", "-m", "push", cwd=head)
    repositories["sha"] = git("rev-parse", "HEAD", cwd=head)
    return repositories["sha"]


@pytest.fixture(scope="module")
def ci_kubeconfig(playbooks, cluster, tmp_path_factory):
    """Role platform with the CI identity of project shop: the runners' identity."""
    out = tmp_path_factory.mktemp("ci")
    server = yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    run = playbooks.role(
        "platform",
        platform_acme_email="ops@example.com",
        platform_ci_projects=["shop"],
        platform_ci_kubeconfig_dir=str(out),
        platform_api_server=server,
    )
    assert run.rc == 0, run
    return out / "k8s-ee-ci-shop.kubeconfig"


@pytest.fixture
def clock(github):
    clock = Clock()
    github.clock = clock
    yield clock
    import time

    github.clock = time.time


@pytest.fixture
def runner_env(ci_kubeconfig, github, allowlist):
    """The runner machine: Ansible and the collection on PATH, the CI identity, the allowlist role arc mounts, and
    the operator's runner settings (the health check would make the API server dial a simulated pod)."""
    env = playbook_env(ci_kubeconfig, json_output=False)
    env.update(K8S_EE_ALLOWLIST_PATH=str(allowlist), K8S_EE_HEALTH_CHECK="false", K8S_EE_TIMEOUT="120")
    return env


def run_workflow(name, event_name, event, github, env, repositories, tmp_path, **ctx):
    runner = Runner(
        WORKFLOWS / name,
        event_name,
        event,
        {"repository": "acme/shop", "repository_owner": "acme", "api_url": github.url, "actor": "maintainer"},
        env,
        vars={"K8S_EE_DOMAIN": "preview.example.com", "K8S_EE_PROJECT_ID": "shop", **ctx.pop("vars", {})},
        secrets={"GITHUB_TOKEN": github.token, "K8S_EE_GITHUB_TOKEN": github.token},
        checkouts={
            None: (repositories["base"], "main"),
            repositories["sha"]: (repositories["head"], repositories["sha"]),
            **{f"refs/pull/{n}/head": (repositories["head"], repositories["sha"]) for n in range(900, 1000)},
        },
        work=tmp_path / f"run-{len(list(tmp_path.iterdir()))}",
        **ctx,
    )
    runner.run()
    return runner


def run_comment(comment, number, github, env, repositories, tmp_path, title="t", event=None):
    """The commands workflow for one comment (its issue_comment event), as GitHub would start it."""
    event = event or comment_event(number, comment, title)
    return run_workflow("k8s-ee-commands.yml", "issue_comment", event, github, env, repositories, tmp_path)


def pull_request_event(action, number, sha, branch, author, association, title, merged=False):
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "title": title,
            "body": title,
            "state": "closed" if action == "closed" else "open",
            "merged": merged,
            "head": {"sha": sha, "ref": branch, "label": f"{author}:{branch}"},
            "base": {"ref": "main"},
            "user": {"login": author},
            "author_association": association,
        },
        "repository": {"full_name": "acme/shop"},
        "sender": {"login": author},
    }


def comment_event(number, comment, title):
    return {
        "action": "created",
        "issue": {
            "number": number,
            "title": title,
            "pull_request": {"url": f"https://api.github.invalid/repos/acme/shop/pulls/{number}"},
        },
        "comment": {"id": comment["id"], "body": comment["body"], "user": {"login": comment["user"]["login"]}},
        "repository": {"full_name": "acme/shop"},
        "sender": {"login": comment["user"]["login"]},
    }


def rendered(body: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(body)


def code_texts(html_text: str) -> list[str]:
    """The text of every <code> element of rendered Markdown, as a reader sees it."""
    return [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", html_text, re.S)]


def own_comment(github, number):
    found = [c for c in github.comments_of("acme/shop", number) if MARKER in c["body"]]
    assert len(found) == 1, found
    return found[0]


def failed(runner) -> str:
    """The failed steps with the end of their output, for assertion messages."""
    return "\n".join(
        f"--- {step['job']}/{step['name']}\n{(step.get('stdout') or '')[-2500:]}\n{(step.get('stderr') or '')[-1500:]}"
        for step in runner.log
        if step["outcome"] == "failure"
    )


def steps(runner, job):
    return {step["name"]: step["outcome"] for step in runner.log if step["job"] == job}


# ------------------------------------------------------------------ pull request events


def test_trusted_pull_request_deploys_with_hostile_text_kept_as_data(
    github, kube, operators, runner_env, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    branch, title = payload(canaries, "branch", git_ref=True), payload(canaries, "title")
    author = payload(canaries, "author")
    github.set_pull("acme/shop", number, head_sha=repositories["sha"], author=author, branch=branch)
    event = pull_request_event("opened", number, repositories["sha"], branch, author, "MEMBER", title)
    # the repository variable docs/adopting.md tells the operator to set: role observability's Grafana host
    grafana = "https://grafana.preview.example.com"
    runner = run_workflow(
        "k8s-ee-preview.yml",
        "pull_request_target",
        event,
        github,
        runner_env,
        repositories,
        tmp_path,
        vars={"K8S_EE_GRAFANA_URL": grafana},
    )
    assert runner.results["build"]["result"] == "success", failed(runner)
    assert runner.results["deploy"]["result"] == "success", failed(runner)
    assert_nothing_evaluated(canaries, runner)
    namespace = f"shop-pr-{number}"
    # verbatim where it is shown: the app's BRANCH_NAME, the namespace's author, the PR comment
    assert kube.get("ConfigMap", "app-env", namespace)["data"]["BRANCH_NAME"] == branch
    annotations = kube.get("Namespace", namespace)["metadata"]["annotations"]
    assert annotations["k8s-ee/pr-author"] == author
    assert annotations["k8s-ee/commit-sha"] == repositories["sha"]
    image = kube.get("Deployment", "app", namespace)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("ghcr.io/acme/shop/preview@sha256:")
    body = own_comment(github, number)["body"]
    assert head_of(body) == repositories["sha"]
    assert branch in code_texts(rendered(body))
    # the comment links the environment's dashboard on that Grafana
    link = f"{grafana}/d/k8s-ee-environment/k8s-ee-environment?var-namespace={namespace}"
    assert f"| Logs & metrics | [Grafana]({link}) |" in body, body
    assert "evil.example" not in re.sub(r"<code>.*?</code>", "", rendered(body), flags=re.S)
    build = next(
        s for s in runner.log if s["name"] == "docker/build-push-action@4f58ea79222b3b9dc2c8bbdd6debcef730109a75"
    )
    assert build["with"]["context"] == "pr/web" and build["with"]["file"] == "pr/web/Dockerfile"

    closed = pull_request_event("closed", number, repositories["sha"], branch, author, "MEMBER", title, merged=True)
    down = run_workflow("k8s-ee-preview.yml", "pull_request_target", closed, github, runner_env, repositories, tmp_path)
    assert down.results["destroy"]["result"] == "success", failed(down)
    assert kube.get("Namespace", namespace) is None
    assert "| Merged | yes |" in own_comment(github, number)["body"]
    assert_nothing_evaluated(canaries, down)


def test_hostile_text_in_every_field_builds_nothing_and_evaluates_nothing(
    github, kube, runner_env, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    fields = {f: payload(canaries, f) for f in ("branch", "author", "association", "title")}
    github.set_pull("acme/shop", number, head_sha=repositories["sha"], author="mallory", association="NONE")
    event = pull_request_event(
        "opened",
        number,
        repositories["sha"],
        fields["branch"],
        fields["author"],
        fields["association"],
        fields["title"],
    )
    runner = run_workflow(
        "k8s-ee-preview.yml", "pull_request_target", event, github, runner_env, repositories, tmp_path
    )
    assert runner.results["build"]["result"] == "skipped"
    assert runner.results["deploy"]["result"] == "success", failed(runner)
    assert_nothing_evaluated(canaries, runner)
    assert kube.get("Namespace", f"shop-pr-{number}") is None
    body = own_comment(github, number)["body"]
    assert "refused" in body and f"`/deploy-preview {repositories['sha']}`" in body
    assert "evil.example" not in re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", rendered(body), flags=re.S)


# ------------------------------------------------------------------ comment commands


def test_deploy_preview_approves_the_commit_shown_and_refuses_a_later_push(
    github, kube, operators, runner_env, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    github.permissions[("acme/shop", "maintainer")] = "write"
    sha = repositories["sha"]
    branch = payload(canaries, "fork-branch", git_ref=True)
    github.set_pull("acme/shop", number, head_sha=sha, author="forker", association="CONTRIBUTOR", branch=branch)
    opened = pull_request_event("opened", number, sha, branch, "forker", "CONTRIBUTOR", "t")
    first = run_workflow(
        "k8s-ee-preview.yml", "pull_request_target", opened, github, runner_env, repositories, tmp_path
    )
    assert first.results["deploy"]["result"] == "success", failed(first)
    assert head_of(own_comment(github, number)["body"]) == sha

    # the maintainer reviews the head the comment shows and approves it; the comment's later lines are hostile
    clock.tick()
    body = "/deploy-preview\n" + payload(canaries, "comment") + "\n/destroy-preview"
    approval = github.add_comment("acme/shop", number, body, user="maintainer")
    runner = run_comment(approval, number, github, runner_env, repositories, tmp_path)
    assert runner.results["command"]["result"] == "success", failed(runner)
    assert steps(runner, "command")["Carry out the command"] == "success"
    namespace = f"shop-pr-{number}"
    assert kube.get("Namespace", namespace)["metadata"]["annotations"]["k8s-ee/commit-sha"] == sha
    assert (approval["id"], "+1") in github.reactions
    assert_nothing_evaluated(canaries, runner)

    # the fork pushes after the next approval was written, before its job checks out the head
    clock.tick()
    again = github.add_comment("acme/shop", number, "/deploy-preview", user="maintainer")
    clock.tick()
    pushed = push(repositories)
    github.set_pull("acme/shop", number, head_sha=pushed, author="forker", association="CONTRIBUTOR", branch=branch)
    runner = run_comment(again, number, github, runner_env, repositories, tmp_path)
    assert steps(runner, "command")["docker/build-push-action@4f58ea79222b3b9dc2c8bbdd6debcef730109a75"] == "skipped"
    assert kube.get("Namespace", namespace)["metadata"]["annotations"]["k8s-ee/commit-sha"] == sha  # unchanged
    assert (again["id"], "-1") in github.reactions
    reply = next(c for c in github.comments_of("acme/shop", number) if f"k8s-ee:command:{again['id']}" in c["body"])
    assert f"`/deploy-preview {pushed}`" in reply["body"]

    # naming the new head approves exactly that commit
    clock.tick()
    named = github.add_comment("acme/shop", number, f"/deploy-preview {pushed}", user="maintainer")
    runner = run_comment(named, number, github, runner_env, repositories, tmp_path)
    assert steps(runner, "command")["Carry out the command"] == "success", failed(runner)
    assert kube.get("Namespace", namespace)["metadata"]["annotations"]["k8s-ee/commit-sha"] == pushed
    assert_nothing_evaluated(canaries, runner)


def test_commands_from_a_reader_and_hostile_commands_change_nothing(
    github, kube, runner_env, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    github.permissions[("acme/shop", "reader")] = "read"
    github.set_pull("acme/shop", number, head_sha=repositories["sha"])
    hostile_hours = payload(canaries, "hours", git_ref=True)  # one word: parsed as the argument, refused
    for text in ("/deploy-preview", "/destroy-preview", "/preserve 24", f"/preserve {hostile_hours}"):
        clock.tick()
        comment = github.add_comment("acme/shop", number, text + "\n" + payload(canaries, "body"), user="reader")
        runner = run_comment(
            comment, number, github, runner_env, repositories, tmp_path, title=payload(canaries, "issue-title")
        )
        assert (comment["id"], "-1") in github.reactions, failed(runner) or runner.log
        assert_nothing_evaluated(canaries, runner)
    assert kube.get("Namespace", f"shop-pr-{number}") is None
    replies = [c["body"] for c in github.comments_of("acme/shop", number) if "k8s-ee:command:" in c["body"]]
    assert len(replies) == 4
    assert any(hostile_hours[:64] in code for reply in replies for code in code_texts(rendered(reply)))
    for reply in replies:
        assert "evil.example" not in re.sub(r"<code>.*?</code>", "", rendered(reply), flags=re.S)

    # an event whose comment ID is hostile text: refused as input, nothing evaluated, nothing posted
    clock.tick()
    comment = github.add_comment("acme/shop", number, "/preserve 24", user="reader")
    event = comment_event(number, {**comment, "id": payload(canaries, "comment-id")}, "t")
    before = len(github.requests)
    runner = run_comment(comment, number, github, runner_env, repositories, tmp_path, event=event)
    assert runner.results["command"]["result"] == "failure"
    assert_nothing_evaluated(canaries, runner)
    assert [r for r in github.requests[before:] if r["method"] != "GET"] == []


def test_preserve_and_scheduled_jobs_with_hostile_comments(
    github, kube, operators, runner_env, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    github.permissions[("acme/shop", "maintainer")] = "write"
    github.set_pull("acme/shop", number, head_sha=repositories["sha"])
    opened = pull_request_event("opened", number, repositories["sha"], "main-2", "octocat", "MEMBER", "t")
    up = run_workflow("k8s-ee-preview.yml", "pull_request_target", opened, github, runner_env, repositories, tmp_path)
    assert up.results["deploy"]["result"] == "success", failed(up)
    clock.tick()
    comment = github.add_comment(
        "acme/shop", number, "/preserve 24\n" + payload(canaries, "preserve"), user="maintainer"
    )
    runner = run_comment(comment, number, github, runner_env, repositories, tmp_path)
    assert steps(runner, "command")["Carry out the command"] == "success", failed(runner)
    labels = kube.get("Namespace", f"shop-pr-{number}")["metadata"]["labels"]
    assert labels["k8s-ee/preserve"] == "true"
    scheduled = run_workflow(
        "k8s-ee-scheduled.yml",
        "workflow_dispatch",
        {"inputs": {"dry_run": True}},
        github,
        runner_env,
        repositories,
        tmp_path,
        inputs={"dry_run": True},
    )
    assert scheduled.results["maintenance"]["result"] == "success", failed(scheduled)
    assert_nothing_evaluated(canaries, scheduled)


# ------------------------------------------------------------------ by hand, as docs/pr-lifecycle.md shows


def documented_commands() -> list[str]:
    text = (REPO / "docs" / "pr-lifecycle.md").read_text()
    blocks = re.findall(
        r"<!-- direct use: tested by tests/integration/test_workflows_hostile.py -->\n```sh\n(.*?)```", text, re.S
    )
    assert len(blocks) == 2, "docs/pr-lifecycle.md lost its direct-use examples (pr_up, then pr_down)"
    return blocks


def test_playbooks_by_hand_as_documented_keep_hostile_values_as_data(
    github, kube, operators, ci_kubeconfig, allowlist, repositories, canaries, tmp_path, clock
):
    number = next(_numbers)
    config = tmp_path / "k8s-ee.yaml"
    config.write_text("projectId: shop\n")
    branch, author = payload(canaries, "by-hand-branch"), payload(canaries, "by-hand-author")
    github.set_pull("acme/shop", number, head_sha=repositories["sha"])
    env = playbook_env(ci_kubeconfig, github.token, json_output=False)
    env.update(
        REPOSITORY="acme/shop",
        PR_NUMBER=str(number),
        HEAD_SHA=repositories["sha"],
        BRANCH=branch,
        AUTHOR=author,
        ASSOCIATION="MEMBER",
        IMAGE="ghcr.io/acme/shop@sha256:" + "1" * 64,
        CONFIG=str(config),
        ALLOWLIST=str(allowlist),
        DOMAIN="preview.example.com",
        K8S_EE_GITHUB_API_URL=github.url,
        K8S_EE_HEALTH_CHECK="false",
    )
    up, down = documented_commands()

    def run(script):
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert_nothing_evaluated(canaries)

    run(up)
    namespace = f"shop-pr-{number}"
    assert kube.get("ConfigMap", "app-env", namespace)["data"]["BRANCH_NAME"] == branch
    assert kube.get("Namespace", namespace)["metadata"]["annotations"]["k8s-ee/pr-author"] == author
    html = rendered(own_comment(github, number)["body"])
    codes = [
        c.replace("&quot;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for c in re.findall(r"<code>(.*?)</code>", html, re.S)
    ]
    assert branch in codes
    run(down)
    assert kube.get("Namespace", namespace) is None
