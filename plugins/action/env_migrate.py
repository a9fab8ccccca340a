# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env_migrate module, run in the controller's process when its task runs on the controller
(plugin_utils/_inprocess.py)."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils._tasks import ENV_MIGRATE
from ansible_collections.k8s_ee.platform.plugins.plugin_utils._inprocess import InProcessAction


class ActionModule(InProcessAction):
    TASK = ENV_MIGRATE
