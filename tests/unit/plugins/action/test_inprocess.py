"""The action plugins run a module's work in the controller's process with the module's own behaviour: the same
validation messages, check mode, masking of secrets and result types (plugin_utils/_inprocess.py)."""

from __future__ import annotations

import json
import sys
import types

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.k8s_ee.platform.plugins.module_utils import _tasks
from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import Task, TaskFailed
from ansible_collections.k8s_ee.platform.plugins.modules import env_access, env_config, pr_comment
from ansible_collections.k8s_ee.platform.plugins.plugin_utils._inprocess import InProcessAction

CONFIG = "projectId: shop\ndatabases:\n  redis: true\n"


def action(task, args, check_mode=False, diff=False, **context):
    """An InProcessAction for `task` with the parts of a TaskExecutor it reads."""
    plugin = object.__new__(type("ActionModule", (InProcessAction,), {"TASK": task}))
    plugin._task = types.SimpleNamespace(
        args=args,
        action=f"k8s_ee.platform.{task.name}",
        check_mode=check_mode,
        diff=diff,
        async_val=context.get("async_val", 0),
        environment=context.get("environment", [{}]),
    )
    plugin._play_context = types.SimpleNamespace(become=context.get("become", False))
    plugin._connection = types.SimpleNamespace(transport=context.get("transport", "local"))
    plugin._templar = types.SimpleNamespace(template=lambda value: value)
    return plugin


def as_module(module, args, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    result = json.loads(capsys.readouterr().out)
    result.pop("invocation", None)
    return result


PARITY = [
    (env_config, _tasks.ENV_CONFIG, {"content": CONFIG, "pr_number": 7, "domain": "preview.example.com"}),
    (env_config, _tasks.ENV_CONFIG, {"content": "projectId: Shop!\n", "pr_number": 7, "domain": "preview.example.com"}),
    (env_config, _tasks.ENV_CONFIG, {"content": CONFIG, "path": "k8s-ee.yaml", "pr_number": 7, "domain": "x"}),
    (env_config, _tasks.ENV_CONFIG, {"content": CONFIG, "pr_number": 7, "domain": "x", "colour": "blue"}),
    (env_config, _tasks.ENV_CONFIG, {"content": CONFIG}),
    (env_access, _tasks.ENV_ACCESS, {"repository": "acme/shop", "author_association": "MEMBER"}),
    (env_access, _tasks.ENV_ACCESS, {"repository": "acme/shop", "author_association": "NONE"}),
    (pr_comment, _tasks.PR_COMMENT, {"repository": "acme/shop", "pr_number": 4, "state": "refused", "reason": "no"}),
    (pr_comment, _tasks.PR_COMMENT, {"repository": "acme/shop", "pr_number": 4, "state": "deployed"}),
    (pr_comment, _tasks.PR_COMMENT, {"repository": "acme/shop", "pr_number": "four", "state": "failed"}),
]


@pytest.mark.parametrize(
    ("module", "task", "args"), PARITY, ids=[f"{case[1].name}-{i}" for i, case in enumerate(PARITY)]
)
def test_in_process_returns_what_the_module_returns(module, task, args, capsys, monkeypatch):
    expected = as_module(module, args, capsys, monkeypatch)
    if "msg" in expected:  # a module run by a test is called after its file, basic.py
        expected["msg"] = expected["msg"].replace("(basic.py)", f"(k8s_ee.platform.{task.name})")
    got = action(task, dict(args)).run_task()
    assert got == expected


def test_a_no_log_option_and_the_tasks_secret_values_are_masked():
    seen = {}

    def run(params, check_mode, diff):
        seen.update(params)
        return {
            "changed": True,
            "echo": f"token {params['token']}",
            "nested": [{"password": "hunter2-long"}],
            "secret_values": ["hunter2-long"],
        }

    task = Task("echo", {"argument_spec": {"token": {"type": "str", "no_log": True}}, "supports_check_mode": True}, run)
    result = action(task, {"token": "s3cr3t-token"}).run_task()
    assert seen["token"] == "s3cr3t-token"  # the work gets the value
    text = json.dumps(result)
    assert "s3cr3t-token" not in text and "hunter2-long" not in text and "secret_values" not in result
    assert result["changed"] is True


def test_a_failure_masks_the_values_it_names():
    def run(params, check_mode, diff):
        raise TaskFailed(
            "refused: REDIS_URL is redis://:pw-0123456789@redis", secret_values=["pw-0123456789"], step="apply"
        )

    result = action(Task("boom", {"argument_spec": {}}, run), {}).run_task()
    assert result["failed"] is True and result["step"] == "apply"
    assert "pw-0123456789" not in json.dumps(result)


def test_a_module_without_check_mode_is_skipped_in_check_mode_and_does_nothing():
    def run(params, check_mode, diff):
        raise AssertionError("must not run")

    result = action(Task("acts", {"argument_spec": {}}, run), {}, check_mode=True).run_task()
    assert result == {"skipped": True, "msg": "remote module (acts) does not support check mode"}


def test_check_mode_and_diff_reach_the_work():
    seen = []
    task = Task("look", {"argument_spec": {}, "supports_check_mode": True}, lambda p, c, d: seen.append((c, d)) or {})
    assert action(task, {}, check_mode=True, diff=True).run_task() == {}
    assert seen == [(True, True)]


def test_results_are_plain_json_types():
    class Tagged(str):
        pass

    task = Task("types", {"argument_spec": {"name": {"type": "str"}}}, lambda p, c, d: {"name": p["name"], "t": (1, 2)})
    result = action(task, {"name": Tagged("x")}).run_task()
    assert result["name"].__class__ is str and result["t"] == [1, 2]


@pytest.mark.parametrize(
    ("context", "variables", "here"),
    [
        ({}, {"ansible_python_interpreter": sys.executable}, True),
        ({"transport": "ssh"}, {"ansible_python_interpreter": sys.executable}, False),
        ({"become": True}, {"ansible_python_interpreter": sys.executable}, False),
        (
            {"environment": [{"HTTPS_PROXY": "http://proxy:3128"}]},
            {"ansible_python_interpreter": sys.executable},
            False,
        ),
        ({"async_val": 30}, {"ansible_python_interpreter": sys.executable}, False),
        ({}, {"ansible_python_interpreter": "/usr/bin/python3-other"}, False),
        ({}, {"ansible_python_interpreter": "auto"}, False),
        ({}, {}, False),
    ],
    ids=["controller", "ssh", "become", "environment", "async", "other-python", "auto", "no-interpreter"],
)
def test_runs_here_only_where_the_module_would_run_the_same(context, variables, here):
    assert action(_tasks.ENV_CONFIG, {}, **context).runs_here(variables) is here


def test_every_module_has_its_action_plugin_and_task():
    import pathlib

    root = pathlib.Path(_tasks.__file__).resolve().parents[1]
    modules = sorted(p.stem for p in (root / "modules").glob("*.py") if not p.stem.startswith("_"))
    actions = sorted(p.stem for p in (root / "action").glob("*.py") if not p.stem.startswith("_"))
    assert modules == actions == sorted(_tasks.TASKS)
    for name in modules:
        text = (root / "action" / f"{name}.py").read_text()
        assert f"TASK = {name.upper()}" in text


@pytest.mark.parametrize(
    "plugin, library",
    [
        ("environment", "_lifecycle"),
        ("env_config", "_environment"),
        ("pr_comment", "_github"),
        ("env_cleanup", "_cleanup"),
    ],
)
def test_loading_an_action_plugin_imports_what_its_task_imports(plugin, library):
    # Ansible loads the class in its main process before forking the task's worker: what is imported then, every
    # later worker has. In a new interpreter, so that nothing else imported the library first.
    import subprocess

    prefix = "ansible_collections.k8s_ee.platform.plugins"
    code = f"import sys, {prefix}.action.{plugin}\nprint('{prefix}.module_utils.{library}' in sys.modules)\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "True"


def test_preload_names_the_libraries_a_function_imports():
    from ansible_collections.k8s_ee.platform.plugins.plugin_utils._inprocess import preload

    assert preload(_tasks.ENV_CONFIG.run) == ["ansible_collections.k8s_ee.platform.plugins.module_utils._environment"]
    assert preload(lambda: None) == []
