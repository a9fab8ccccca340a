# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description: Base URL of the GitHub REST API (GitHub Enterprise C(https://HOST/api/v3)).
    type: str
    default: https://api.github.com
  token:
    description:
      - GitHub token with permission to write issues/pull requests of the repository. Defaults to E(GITHUB_TOKEN).
      - Never logged.
    type: str
  bot_login:
    description:
      - The GitHub login the token writes comments as. Only comments written by it count as the platform's own
        when the hidden marker of a comment is looked for (anybody can write a marker into a comment).
      - C(github-actions[bot]) for a workflow's E(GITHUB_TOKEN); a GitHub App's token writes as C(<app-slug>[bot]),
        a personal access token as its user. Defaults to E(K8S_EE_GITHUB_LOGIN), then C(github-actions[bot]).
    type: str
  request_timeout:
    description: Seconds each GitHub request may take. 5xx answers and rate limits are retried a few times.
    type: float
    default: 30
"""
