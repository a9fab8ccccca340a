# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error of a step of pr_up or pr_down: what a failed comment shows (docs/pr-lifecycle.md, "What a failed comment
shows"). It imports nothing of the collection, so every module_utils file can raise it."""

from __future__ import annotations


class LifecycleError(RuntimeError):
    """A failure with the step it happened in and what to show on the PR."""

    def __init__(self, step: str, message: str, details: list[str] | None = None):
        self.step = step
        self.details = details or []
        super().__init__(message)
