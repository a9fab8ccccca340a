"""The example workflows as GitHub reads them (tests/workflow_runner.py): every expression understood, no event
text pasted into a script, and the evaluator's semantics (GitHub's: case-insensitive ==, && and || return an
operand, unknown contexts are errors)."""

import pathlib
import sys

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from workflow_runner import ExpressionError, condition, evaluate, interpolate, workflow_expressions

REPO = pathlib.Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "github" / "workflows"
CONTEXTS = {
    "github": {"event": {"action": "opened", "pull_request": {"author_association": "MEMBER"}}, "repository": "a/b"},
    "env": {},
    "vars": {"K8S_EE_RUNNER": ""},
    "secrets": {},
    "inputs": {},
    "steps": {"which": {"outputs": {"playbook": "pr_up"}}},
    "needs": {"build": {"result": "skipped", "outputs": {}}},
}


def test_every_expression_of_the_example_workflows_is_understood():
    seen = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for expression in workflow_expressions(path):
            interpolate("${{ " + expression + " }}", CONTEXTS)
            seen += 1
    assert seen > 40


def test_no_event_text_is_substituted_into_a_script():
    """GitHub pastes ${{ }} into a run: script before the shell reads it: no value from the event may be there."""
    paths = sorted(WORKFLOWS.glob("*.yml")) + sorted((REPO / "examples" / "github" / "actions").rglob("*.yml"))
    for path in paths:
        document = yaml.safe_load(path.read_text())
        jobs = document.get("jobs") or {"action": {"steps": document.get("runs", {}).get("steps", [])}}
        for job in jobs.values():
            for step in job.get("steps", []):
                for expression in workflow_expressions_of(step.get("run", "")):
                    assert "github.event" not in expression and "steps." not in expression, (path.name, expression)


def test_the_grafana_url_reaches_every_step_that_can_run_pr_up():
    """vars.K8S_EE_GRAFANA_URL (docs/adopting.md: https://grafana.<domain> of role observability) goes to each step
    that may run pr_up, which reads it (playbooks/vars/inputs.yml) and hands it to the PR comment's Grafana link;
    tests/integration/test_workflows_hostile.py sees the link in the comment."""
    wanted = {("k8s-ee-preview.yml", "pr_up"), ("k8s-ee-commands.yml", "Carry out the command")}
    found = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                run = step.get("run", "")
                if "ansible-playbook" in run and ("pr_up" in run or "$PLAYBOOK" in run):
                    assert (step.get("env") or {}).get("K8S_EE_GRAFANA_URL") == "${{ vars.K8S_EE_GRAFANA_URL }}", (
                        path.name,
                        step.get("name"),
                    )
                    found.add((path.name, step.get("name")))
    assert found == wanted
    inputs = yaml.safe_load((REPO / "playbooks" / "vars" / "inputs.yml").read_text())
    assert "lookup('ansible.builtin.env', 'K8S_EE_GRAFANA_URL')" in inputs["_k8s_ee_grafana_url"]
    assert 'grafana_url: "{{ _k8s_ee_grafana_url' in (REPO / "playbooks" / "pr_up.yml").read_text()


def workflow_expressions_of(text):
    import re

    return re.findall(r"\$\{\{(.*?)\}\}", text, re.S)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.event.action != 'closed'", True),
        ('contains(fromJSON(\'["OWNER", "MEMBER"]\'), github.event.pull_request.author_association)', True),
        ("'ABC' == 'abc'", True),
        ("vars.K8S_EE_RUNNER || 'k8s-ee-runners'", "k8s-ee-runners"),
        ("steps.which.outputs.playbook == 'pr_up' && 'yes'", "yes"),
        ("steps.missing.outputs.x", None),
        ("startsWith('/deploy-preview x', '/')", True),
        ("!(1 == 2)", True),
        ("needs.build.result != 'failure'", True),
    ],
)
def test_expressions(expression, value):
    assert evaluate(expression, CONTEXTS) == value


def test_interpolation_of_several_expressions_is_text():
    assert interpolate("${{ github.repository }}@${{ vars.K8S_EE_RUNNER }}x", CONTEXTS) == "a/b@x"
    assert interpolate("${{ 1 == 1 }}", CONTEXTS) is True


def test_unknown_contexts_and_functions_are_errors_not_empty_strings():
    with pytest.raises(ExpressionError):
        interpolate("${{ job_secret.value }}", CONTEXTS)
    with pytest.raises(ExpressionError):
        interpolate("${{ hashFiles('x') }}", CONTEXTS)


def test_if_without_status_function_needs_success():
    assert condition("true", CONTEXTS, {"failed": True}) is False
    assert condition("always() && true", CONTEXTS, {"failed": True}) is True


def test_the_image_repository_reaches_the_build_only_through_step_outputs():
    """pr_build's `image` output can come from image.repository of k8s-ee.yaml (untrusted; docs/configuration.md,
    "Where the image is pushed"): it reaches docker/build-push-action's `tags` and later steps' `env:` as a step
    output, never a run: script, and the step that writes it is pr_build, which checks it."""
    builds = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            steps = {step["id"]: step for step in job.get("steps", []) if "id" in step}
            for step in job.get("steps", []):
                assert "outputs.image" not in step.get("run", ""), (path.name, step.get("name"))
                if str(step.get("uses", "")).startswith("docker/build-push-action@"):
                    builds += 1
                    tags = step["with"]["tags"]
                    assert tags.startswith("${{ steps.settings.outputs.image }}:pr-${{ github.event."), tags
                    settings = steps["settings"]
                    assert "ansible-playbook k8s_ee.platform.pr_build" in settings["run"]
                    assert settings["env"]["K8S_EE_IMAGE_REPOSITORY"] == "ghcr.io/${{ github.repository }}/preview"
    assert builds == 2
    playbook = (REPO / "playbooks" / "pr_build.yml").read_text()
    assert 'image_repository: "{{ _k8s_ee_image_repository }}"' in playbook  # env_config checks image.repository
    assert "'image': __k8s_ee_env.image_repository}" in playbook
