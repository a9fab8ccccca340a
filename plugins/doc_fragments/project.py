# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  project_id:
    description:
      - Only environments of this project (label C(k8s-ee/project-id)); what a project's CI identity (role platform) may
        act on. Without it, every project's environments.
    type: str
"""
