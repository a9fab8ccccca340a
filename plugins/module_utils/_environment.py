# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One pull request's environment described from its inputs: config, names, quota."""

from __future__ import annotations

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota


class EnvironmentInputError(ValueError):
    """Bad inputs; `errors` lists every problem as 'field: value rule'."""

    def __init__(self, errors: list[str], source: str = "k8s-ee.yaml"):
        self.errors = errors
        super().__init__(f"invalid {source} ({len(errors)} problem{'s' * (len(errors) != 1)}): " + "; ".join(errors))


def read_config(path: str | None = None, content: str | None = None):
    """The parsed (not yet validated) k8s-ee.yaml from a file or text."""
    if content is None:
        try:
            with open(path, encoding="utf-8") as handle:
                content = handle.read()
        except OSError as exc:
            raise EnvironmentInputError(
                [
                    f"config_path: {path!r} cannot be read ({exc.strerror}); "
                    "give the path of the repository's k8s-ee.yaml"
                ],
                source="input",
            ) from None
    try:
        return _config.load_yaml(content)
    except _config.ConfigError as exc:
        raise EnvironmentInputError(exc.errors) from None


def describe(pr_number, domain, path: str | None = None, content: str | None = None) -> dict:
    """Validate everything and return config, namespace, host, url, quota and databases."""
    errors = []
    try:
        number = _naming.pr_number(pr_number)
    except _naming.InputError as exc:
        errors.append(str(exc))
        number = None
    data = read_config(path, content)
    config_errors = _config.validate(data)
    errors.extend(config_errors)
    config = None if config_errors else _config.normalise(data)
    host = namespace = None
    if config and number:
        namespace = _naming.env_namespace(config["projectId"], number)
        try:
            host = _naming.env_host(namespace, domain)
        except _naming.InputError as exc:
            errors.append(str(exc))
    if errors:
        raise EnvironmentInputError(_config.sort_errors(errors))
    return {
        "config": config,
        "namespace": namespace,
        "host": host,
        "url": _naming.env_url(host),
        "quota": env_quota(config),
        "databases": _config.enabled_databases(config),
    }
