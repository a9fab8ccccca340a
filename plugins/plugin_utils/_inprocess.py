# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's action plugins: a module's work done in the controller's worker process.

Each module of the collection talks to the Kubernetes API or GitHub, never to the machine it runs on, and the
playbooks run them on the controller (`hosts: localhost`). Run as a module, every task starts a new Python
process that unpacks the module and imports its libraries again; run here, it is a function call
(docs/architecture.md, "Running in-process"). The result is the module's: the same option validation (the
module's own argument spec), the same check-mode and diff behaviour, the same masking of `no_log` options and of
the environment's secret values, and a result of plain JSON types, as if it had come back from a module.

The module runs as a module, as before, whenever the task would not run in this process's environment: another
connection than `local` (delegated to a remote host), a `become`, a task `environment`, `async`, or a Python
interpreter other than the controller's (the one that has this collection's requirements).

The libraries a task's function imports are imported when its action plugin's class is loaded. Ansible loads
that class in its main process before it forks the task's worker (the linear strategy does, for every task,
skipped or not), so every worker after it finds them imported instead of importing them again.
"""

from __future__ import annotations

import dis
import importlib
import json
import os
import sys

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import TaskFailed

_NOT_VALIDATOR_KEYS = ("argument_spec", "supports_check_mode")


class InProcessAction(ActionBase):
    """Subclasses set TASK, one of module_utils/_tasks.py's Task objects."""

    TASK = None
    _supports_check_mode = True  # decided per task below, as AnsibleModule does
    _supports_async = True  # async runs the module

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        preload(cls.TASK.run)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if not self.runs_here(task_vars or {}):
            result.update(self._execute_module(task_vars=task_vars, wrap_async=bool(self._task.async_val)))
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        result.update(self.run_task())
        return result

    def runs_here(self, task_vars: dict) -> bool:
        """Whether the module would run on this machine, as this user, in this process's environment."""
        if self._connection.transport not in ("local", "ansible.builtin.local"):
            return False
        if self._task.async_val or self._play_context.become or any(self._task.environment or ()):
            return False  # the module would run as another user, later, or with other variables
        # the implicit localhost and inventory/hosts.yml run modules with the controller's own Python
        interpreter = self._templar.template(task_vars.get("ansible_python_interpreter", ""))
        # compared as written: a venv's python is a link to the system's, whose packages differ
        return bool(interpreter) and os.path.abspath(str(interpreter)) == os.path.abspath(sys.executable)

    def run_task(self) -> dict:
        task = self.TASK
        try:
            # the module's arguments as a module receives them: plain JSON types, no Ansible data tags
            args = json.loads(json.dumps(dict(self._task.args)))
        except (TypeError, ValueError) as exc:
            return {"failed": True, "msg": f"{task.name}: arguments that are not plain data: {exc}"}
        validator = ArgumentSpecValidator(
            task.spec["argument_spec"], **{k: v for k, v in task.spec.items() if k not in _NOT_VALIDATOR_KEYS}
        )
        validated = validator.validate(args)
        hidden = set(validated._no_log_values)
        if validated.error_messages:
            msg = validated.errors.msg  # the words AnsibleModule uses
            if isinstance(validated.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({self._task.action}) module: {msg}"
            return remove_values({"failed": True, "msg": msg}, hidden)
        if self._task.check_mode and not task.supports_check_mode:
            return {"skipped": True, "msg": f"remote module ({task.name}) does not support check mode"}
        try:
            result = task.run(validated.validated_parameters, bool(self._task.check_mode), bool(self._task.diff))
        except TaskFailed as exc:
            hidden |= exc.secret_values
            result = {"failed": True, "msg": exc.msg, **exc.fields}
        hidden |= set(result.pop("secret_values", ()))
        # what a module prints is JSON: the same types come back here, with every hidden value masked
        return json.loads(json.dumps(remove_values(result, hidden)))


_MODULE_UTILS = "ansible_collections.k8s_ee.platform.plugins.module_utils."


def preload(function) -> list[str]:
    """Import the collection's libraries that `function` imports when it is called; returns their names."""
    names = [
        instruction.argval
        for instruction in dis.get_instructions(function)
        if instruction.opname == "IMPORT_NAME" and str(instruction.argval).startswith(_MODULE_UTILS)
    ]
    for name in names:
        importlib.import_module(name)
    return names
