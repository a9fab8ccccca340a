"""The GitLab CI and Forgejo Actions examples (docs/other-ci.md) as their CI systems read them: no value of a merge or
pull request is pasted into a script (GitLab: only as a value in `variables:`; Forgejo: only in `env:`), every
environment variable handed to a playbook is one the playbooks read (a renamed input fails here), the playbooks
named exist, and the GitLab jobs fit together (GitLab has no offline linter; actionlint checks the Forgejo file in
`make lint`). Deliberately bad copies of both show that each check can fail."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
GITLAB = REPO / "examples" / "gitlab" / ".gitlab-ci.yml"
FORGEJO = REPO / "examples" / "forgejo" / ".forgejo" / "workflows" / "k8s-ee-preview.yml"

# Predefined GitLab variables whose text somebody outside the project's maintainers chooses: the branch, titles and
# descriptions, commit messages, labels, user names (docs/security.md, "Untrusted input never becomes code").
GITLAB_UNTRUSTED = frozenset(
    {
        "CI_COMMIT_AUTHOR",
        "CI_COMMIT_BRANCH",
        "CI_COMMIT_DESCRIPTION",
        "CI_COMMIT_MESSAGE",
        "CI_COMMIT_REF_NAME",
        "CI_COMMIT_TAG",
        "CI_COMMIT_TAG_MESSAGE",
        "CI_COMMIT_TITLE",
        "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
        "CI_EXTERNAL_PULL_REQUEST_SOURCE_REPOSITORY",
        "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME",
        "CI_EXTERNAL_PULL_REQUEST_TARGET_REPOSITORY",
        "CI_MERGE_REQUEST_ASSIGNEES",
        "CI_MERGE_REQUEST_DESCRIPTION",
        "CI_MERGE_REQUEST_LABELS",
        "CI_MERGE_REQUEST_MILESTONE",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_URL",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
        "CI_MERGE_REQUEST_TITLE",
        "CI_OPEN_MERGE_REQUESTS",
        "CI_RELEASE_DESCRIPTION",
        "CHAT_INPUT",
        "GITLAB_USER_EMAIL",
        "GITLAB_USER_LOGIN",
        "GITLAB_USER_NAME",
        "TRIGGER_PAYLOAD",
    }
)
# Event fields a Forgejo workflow may use outside env: (numbers, a SHA, a boolean, the action); every other field of
# the event, and github.head_ref / github.actor, is text somebody else chose.
FORGEJO_SAFE_EVENT_FIELDS = frozenset(
    {
        "action",
        "number",
        "pull_request.number",
        "pull_request.head.sha",
        "pull_request.merged",
        "pull_request.head.repo_id",
        "pull_request.base.repo_id",
    }
)
# The inputs docs/security.md lists as coming from the event: never an -e option.
EVENT_INPUTS = frozenset(
    {
        "K8S_EE_REPOSITORY",
        "K8S_EE_PR_NUMBER",
        "K8S_EE_HEAD_SHA",
        "K8S_EE_BRANCH",
        "K8S_EE_PR_AUTHOR",
        "K8S_EE_AUTHOR_ASSOCIATION",
        "K8S_EE_IMAGE",
        "K8S_EE_COMMAND",
        "K8S_EE_COMMENT_ID",
        "K8S_EE_COMMENT_USER",
        "K8S_EE_MERGED",
    }
)
# What each playbook must be given by an example, besides the operator's settings.
REQUIRED = {
    "pr_build": {"K8S_EE_REPOSITORY", "K8S_EE_PR_NUMBER", "K8S_EE_AUTHOR_ASSOCIATION", "K8S_EE_IMAGE_REPOSITORY"},
    "pr_up": {
        "K8S_EE_REPOSITORY",
        "K8S_EE_PR_NUMBER",
        "K8S_EE_HEAD_SHA",
        "K8S_EE_BRANCH",
        "K8S_EE_PR_AUTHOR",
        "K8S_EE_AUTHOR_ASSOCIATION",
        "K8S_EE_IMAGE",
    },
    "pr_down": {"K8S_EE_REPOSITORY", "K8S_EE_PR_NUMBER"},
}
# Read by the examples' own setup commands (the collection's tarball), not by a playbook.
SETUP_ONLY = frozenset({"K8S_EE_COLLECTION_URL"})

SHELL_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%")
PLAYBOOK_CALL = re.compile(r"ansible-playbook\s+k8s_ee\.platform\.([a-z_]+)")
EXTRA_VAR = re.compile(r"""(?:-e|--extra-vars)\s+["']?@?([A-Za-z_][A-Za-z0-9_]*)""")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
EVENT_FIELD = re.compile(r"\b(?:github|gitea|forgejo|forge)\.event((?:\.[A-Za-z0-9_]+)*)")
CONTEXT_TEXT = re.compile(r"\b(?:github|gitea|forgejo|forge)\.(?:head_ref|actor|triggering_actor)\b")


# ---------------------------------------------------------------- what the playbooks read


def playbook_inputs(playbook: str) -> set[str]:
    """The environment variables `playbook` reads: playbooks/vars/inputs.yml (every pull-request playbook loads it)
    and the playbook's own lookups."""
    text = (PLAYBOOKS / "vars" / "inputs.yml").read_text() + (PLAYBOOKS / f"{playbook}.yml").read_text()
    return set(re.findall(r"lookup\('ansible\.builtin\.env', '([A-Z0-9_]+)'\)", text))


def test_the_playbooks_read_the_inputs_this_test_relies_on():
    for playbook, names in REQUIRED.items():
        assert names <= playbook_inputs(playbook), playbook
    assert playbook_inputs("pr_up") | playbook_inputs("pr_down") >= EVENT_INPUTS


# ---------------------------------------------------------------- GitLab


class Reference(list):
    """A `!reference [job, key, ...]` tag of GitLab's YAML, resolved by `resolve`."""


class GitLabLoader(yaml.SafeLoader):
    pass


GitLabLoader.add_constructor("!reference", lambda loader, node: Reference(loader.construct_sequence(node)))


def resolve(value, document, depth=0):
    """Replace `!reference` tags by what they point at, as GitLab does (at most 10 levels; a reference inside a list
    to a list is spliced in)."""
    if depth > 10:
        raise ValueError("!reference nested more than 10 levels")
    if isinstance(value, Reference):
        target = document
        for key in value:
            target = target[key]
        return resolve(target, document, depth + 1)
    if isinstance(value, list):
        items = []
        for item in value:
            resolved = resolve(item, document, depth)
            if isinstance(item, Reference) and isinstance(resolved, list):
                items.extend(resolved)
            else:
                items.append(resolved)
        return items
    if isinstance(value, dict):
        return {key: resolve(item, document, depth) for key, item in value.items()}
    return value


def load_gitlab(text: str) -> dict:
    document = yaml.load(text, GitLabLoader)  # noqa: S506 - a SafeLoader with one tag more
    return resolve(document, document)


GLOBAL_KEYWORDS = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services", "cache"})


def merge(base: dict, override: dict) -> dict:
    """`extends:`: hashes are merged deeply, everything else (lists too) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def effective(document: dict, name: str) -> dict:
    job = dict(document[name])
    parents = job.pop("extends", [])
    result: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        result = merge(result, effective(document, parent))
    return merge(result, job)


def jobs(document: dict) -> dict:
    return {
        name: effective(document, name)
        for name in document
        if name not in GLOBAL_KEYWORDS and not name.startswith(".") and isinstance(document[name], dict)
    }


def variable_value(value) -> str:
    return str(value.get("value", "")) if isinstance(value, dict) else str(value)


def references(text: str) -> set[str]:
    return {a or b for a, b in SHELL_REFERENCE.findall(text)}


def gitlab_tainted(document: dict) -> set[str]:
    """The untrusted predefined variables and every variable whose value refers to one, however indirectly."""
    definitions: dict[str, set[str]] = {}

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "variables" and isinstance(value, dict):
                    for name, item in value.items():
                        definitions.setdefault(name, set()).update(references(variable_value(item)))
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    tainted = set(GITLAB_UNTRUSTED)
    while True:
        more = {name for name, refs in definitions.items() if refs & tainted} - tainted
        if not more:
            return tainted
        tainted |= more


def strings_outside_variables(node, path=""):
    """(path, text) of every string of the document except the values of `variables:` mappings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "variables" and isinstance(value, dict):
                continue
            yield from strings_outside_variables(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from strings_outside_variables(item, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def script_lines(job: dict) -> list[str]:
    lines = []
    for key in ("before_script", "script", "after_script"):
        value = job.get(key) or []
        lines += [value] if isinstance(value, str) else [str(line) for line in value]
    return lines


def dotenv_names(job: dict) -> set[str]:
    """The K8S_EE_* variables a job's script writes into its dotenv report (GitLab passes them to jobs that need it)."""
    if not (job.get("artifacts", {}).get("reports", {}).get("dotenv")):
        return set()
    return {name for line in script_lines(job) for name in re.findall(r"\b(K8S_EE_[A-Z0-9_]+)=", line)}


def gitlab_problems(text: str) -> list[str]:
    document = load_gitlab(text)
    problems = []
    untrusted = gitlab_tainted(document)
    # (a) untrusted text only as a value in variables:, never in a script (also not through a variable of ours)
    for path, value in strings_outside_variables(document):
        for name in sorted(references(value) & untrusted):
            problems.append(f"{path}: ${name} outside variables:")
    all_jobs = jobs(document)
    stages = document.get("stages", ["build", "test", "deploy"])
    called = set()
    for name, job in all_jobs.items():
        for line in script_lines(job):
            for extra in EXTRA_VAR.findall(line):
                if extra.upper() in EVENT_INPUTS:
                    problems.append(f"{name}: -e {extra} is a value from the merge request, give it in variables:")
            for playbook in PLAYBOOK_CALL.findall(line):
                called.add(playbook)
                # (c) the playbook exists
                if not (PLAYBOOKS / f"{playbook}.yml").is_file():
                    problems.append(f"{name}: no playbook {playbook}")
                    continue
                # (b) what it is given is what it reads
                given = {
                    variable
                    for variable in {**document.get("variables", {}), **job.get("variables", {})}
                    if variable.startswith("K8S_EE_")
                }
                for need in job.get("needs", []):
                    given |= dotenv_names(all_jobs.get(need if isinstance(need, str) else need["job"], {}))
                for variable in sorted(given - playbook_inputs(playbook) - SETUP_ONLY):
                    problems.append(f"{name}: {playbook} does not read {variable}")
                for variable in sorted(REQUIRED.get(playbook, set()) - given):
                    problems.append(f"{name}: {playbook} is not given {variable}")
        # the jobs fit together
        if job.get("stage") not in stages:
            problems.append(f"{name}: stage {job.get('stage')!r} is not in stages")
        for need in job.get("needs", []):
            if (need if isinstance(need, str) else need["job"]) not in all_jobs:
                problems.append(f"{name}: needs an unknown job {need}")
        environment = job.get("environment") or {}
        if environment.get("on_stop"):
            stop = all_jobs.get(environment["on_stop"], {})
            if (stop.get("environment") or {}).get("name") != environment.get("name"):
                problems.append(f"{name}: on_stop job {environment['on_stop']} stops another environment")
            if (stop.get("environment") or {}).get("action") != "stop":
                problems.append(f"{name}: on_stop job {environment['on_stop']} has no action: stop")
            if stop.get("resource_group") != job.get("resource_group"):
                problems.append(f"{name}: on_stop job {environment['on_stop']} is in another resource_group")
            if [rule.get("if") for rule in stop.get("rules", [])] != [rule.get("if") for rule in job.get("rules", [])]:
                problems.append(f"{name}: on_stop job {environment['on_stop']} has other rules")
    for playbook in ("pr_up", "pr_down"):
        if playbook not in called:
            problems.append(f"no job runs {playbook}")
    return problems


def test_the_gitlab_example_passes_merge_request_values_only_through_variables():
    assert gitlab_problems(GITLAB.read_text()) == []


def test_the_loader_resolves_reference_tags_and_extends_as_gitlab_does():
    """The example shares its rules through `extends:` (ansible-lint, which reads every YAML file of the repository,
    cannot load `!reference`); a copy that uses `!reference` must be read the same."""
    document = load_gitlab(GITLAB.read_text())
    assert effective(document, "preview-build")["rules"] == effective(document, "preview")["rules"]
    assert "before_script" not in effective(document, "preview-build")  # no Python in the BuildKit image
    text = GITLAB.read_text().replace(
        "preview-build:\n  extends: .k8s-ee-rules\n", "preview-build:\n  rules: !reference [.k8s-ee-rules, rules]\n"
    )
    assert "!reference" in text
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load(text)  # what a loader without the tag does
    assert load_gitlab(text)["preview-build"]["rules"] == document[".k8s-ee-rules"]["rules"]
    assert gitlab_problems(text) == []


def test_the_gitlab_stop_job_runs_only_on_its_own_when_the_merge_request_ends():
    document = load_gitlab(GITLAB.read_text())
    stop = effective(document, "preview-stop")
    assert [rule.get("when") for rule in stop["rules"]] == ["manual"]
    assert stop["variables"]["GIT_STRATEGY"] == "none" and stop["needs"] == []
    assert "K8S_EE_MERGED" not in stop.get("variables", {})  # GitLab's stop job cannot tell merged from closed


BAD_GITLAB = {
    "untrusted value in a script": (
        "    - ansible-playbook k8s_ee.platform.pr_up\n",
        '    - ansible-playbook k8s_ee.platform.pr_up -e k8s_ee_branch="$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"\n',
    ),
    "a variable holding an untrusted value in a script": (
        "    - ansible-playbook k8s_ee.platform.pr_up\n",
        '    - ansible-playbook k8s_ee.platform.pr_up -e "k8s_ee_domain=$K8S_EE_BRANCH"\n',
    ),
    "an event input as -e": (
        "    - ansible-playbook k8s_ee.platform.pr_up\n",
        '    - ansible-playbook k8s_ee.platform.pr_up -e "k8s_ee_merged=false"\n',
    ),
    "a YAML anchor that expands into a script": (
        ("    K8S_EE_PR_AUTHOR: $GITLAB_USER_LOGIN\n", "    K8S_EE_PR_AUTHOR: &author $GITLAB_USER_LOGIN\n"),
        (
            "    - ansible-playbook k8s_ee.platform.pr_up\n",
            "    - ansible-playbook k8s_ee.platform.pr_up\n    - *author\n",
        ),
    ),
    "a !reference that pulls a variable into a script": (
        "    - ansible-playbook k8s_ee.platform.pr_down\n",
        "    - ansible-playbook k8s_ee.platform.pr_down\n    - !reference [preview, variables, K8S_EE_BRANCH]\n",
    ),
    "untrusted value in the environment's URL": (
        "    url: https://$K8S_EE_PROJECT_ID-pr-$CI_MERGE_REQUEST_IID.$K8S_EE_DOMAIN\n",
        "    url: https://$CI_MERGE_REQUEST_TITLE.$K8S_EE_DOMAIN\n",
    ),
    "a renamed input": (
        "    K8S_EE_PR_AUTHOR: $GITLAB_USER_LOGIN\n",
        "    K8S_EE_PR_LOGIN: $GITLAB_USER_LOGIN\n",
    ),
    "a playbook that does not exist": ("k8s_ee.platform.pr_down\n", "k8s_ee.platform.pr_destroy\n"),
    "a stop job of another environment": (
        "    name: preview/mr-$CI_MERGE_REQUEST_IID\n    action: stop\n",
        "    name: preview/$CI_MERGE_REQUEST_IID\n    action: stop\n",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GITLAB))
def test_a_bad_gitlab_pipeline_is_caught(case):
    assert gitlab_problems(spoil(GITLAB.read_text(), BAD_GITLAB[case])), case


def spoil(text: str, change) -> str:
    """The example with one change (old, new) or several ((old, new), ...) made; each old text must be there."""
    for old, new in [change] if isinstance(change[0], str) else change:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# ---------------------------------------------------------------- Forgejo


def untrusted_expression(expression: str) -> bool:
    if CONTEXT_TEXT.search(expression):
        return True
    return any(field.lstrip(".") not in FORGEJO_SAFE_EVENT_FIELDS for field in EVENT_FIELD.findall(expression))


def forgejo_problems(text: str) -> list[str]:
    workflow = yaml.safe_load(text)
    problems = []
    tainted_env = set()

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "env" and isinstance(value, dict):
                    for name, item in value.items():
                        if any(untrusted_expression(e) for e in EXPRESSION.findall(str(item))):
                            tainted_env.add(name)
                    continue
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}[{index}]")
        elif isinstance(node, str):
            # (a) untrusted event text only in env:
            for expression in EXPRESSION.findall(node):
                if untrusted_expression(expression):
                    problems.append(f"{path}: ${{{{{expression.strip()}}}}} outside env:")

    walk(workflow, "")
    workflow_env = workflow.get("env") or {}
    called = set()
    for job_name, job in (workflow.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            run = step.get("run")
            if run is None:
                continue
            where = f"jobs.{job_name}.steps[{index}]"
            # (a) a run: script holds no expression at all, and no variable that holds event text
            for expression in EXPRESSION.findall(run):
                problems.append(f"{where}: ${{{{{expression.strip()}}}}} in run:")
            for name in sorted(references(run) & tainted_env):
                problems.append(f"{where}: ${name} (event text) in run:")
            for extra in EXTRA_VAR.findall(run):
                if extra.upper() in EVENT_INPUTS:
                    problems.append(f"{where}: -e {extra} is a value from the event, give it in env:")
            for playbook in PLAYBOOK_CALL.findall(run):
                called.add(playbook)
                if not (PLAYBOOKS / f"{playbook}.yml").is_file():
                    problems.append(f"{where}: no playbook {playbook}")
                    continue
                env = {**workflow_env, **(job.get("env") or {}), **(step.get("env") or {})}
                given = {name for name in env if name.startswith("K8S_EE_")} | set(
                    re.findall(r"\b(K8S_EE_[A-Z0-9_]+)=", run)
                )
                for variable in sorted(given - playbook_inputs(playbook) - SETUP_ONLY):
                    problems.append(f"{where}: {playbook} does not read {variable}")
                for variable in sorted(REQUIRED.get(playbook, set()) - given):
                    problems.append(f"{where}: {playbook} is not given {variable}")
                if (step.get("env") or {}).get("GITHUB_TOKEN") != "":
                    problems.append(f"{where}: the runner's GITHUB_TOKEN reaches {playbook} (set it empty)")
    for playbook in ("pr_up", "pr_down"):
        if playbook not in called:
            problems.append(f"no step runs {playbook}")
    return problems


def test_the_forgejo_example_passes_event_values_only_through_env():
    assert forgejo_problems(FORGEJO.read_text()) == []


def test_the_forgejo_example_deploys_only_pull_requests_of_its_own_repository():
    workflow = yaml.safe_load(FORGEJO.read_text())
    same_repository = "github.event.pull_request.head.repo_id == github.event.pull_request.base.repo_id"
    assert same_repository in workflow["jobs"]["build"]["if"] and same_repository in workflow["jobs"]["destroy"]["if"]
    assert workflow["jobs"]["deploy"]["needs"] == "build"  # skipped with the build
    assert True in workflow and list(workflow[True]) == ["pull_request_target"]  # PyYAML reads the key on: as True


BAD_FORGEJO = {
    "an event expression in run:": (
        "ansible-playbook k8s_ee.platform.pr_up -e k8s_ee_config_path=pr/k8s-ee.yaml\n",
        'ansible-playbook k8s_ee.platform.pr_up -e "k8s_ee_branch=${{ github.event.pull_request.head.ref }}"\n',
    ),
    "github.head_ref in run:": (
        "        run: ansible-playbook k8s_ee.platform.pr_down\n",
        '        run: echo "${{ github.head_ref }}"\n',
    ),
    "an env variable holding event text in run:": (
        "ansible-playbook k8s_ee.platform.pr_up -e k8s_ee_config_path=pr/k8s-ee.yaml\n",
        'ansible-playbook k8s_ee.platform.pr_up -e "k8s_ee_domain=$K8S_EE_BRANCH"\n',
    ),
    "event text in with:": (
        "          ref: ${{ github.event.pull_request.head.sha }}\n          path: pr\n",
        "          ref: ${{ github.event.pull_request.head.ref }}\n          path: pr\n",
    ),
    "an event input as -e": (
        "        run: ansible-playbook k8s_ee.platform.pr_down\n",
        "        run: ansible-playbook k8s_ee.platform.pr_down -e k8s_ee_merged=true\n",
    ),
    "a renamed input": (
        "          K8S_EE_PR_AUTHOR: ${{ github.event.pull_request.user.login }}\n",
        "          K8S_EE_AUTHOR: ${{ github.event.pull_request.user.login }}\n",
    ),
    "the runner's token left in place": ('          GITHUB_TOKEN: ""\n          KUBECONFIG', "          KUBECONFIG"),
    "a playbook that does not exist": ("k8s_ee.platform.pr_down\n", "k8s_ee.platform.pr_destroy\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_FORGEJO))
def test_a_bad_forgejo_workflow_is_caught(case):
    assert forgejo_problems(spoil(FORGEJO.read_text(), BAD_FORGEJO[case])), case
