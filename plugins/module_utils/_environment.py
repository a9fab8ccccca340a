# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One pull request's environment described from its inputs: config, names, quota.

k8s-ee.yaml comes from the pull request and is read on runners that hold credentials (docs/security.md, "The
configuration file is untrusted"): it is read as a regular file below the working directory without following any
symbolic link, never more than MAX_CONFIG_BYTES (+1) bytes, and never from a pipe or a device."""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.k8s_ee.platform.plugins.module_utils import _config, _naming
from ansible_collections.k8s_ee.platform.plugins.module_utils._quota import env_quota

MAX_CONFIG_BYTES = 64 * 1024

_REGULAR_FILE = "commit k8s-ee.yaml as a regular file"
_NO_LINKS = (
    "commit k8s-ee.yaml as a regular file (symbolic links are not followed, so the file cannot point at "
    "files on the runner)"
)
_SHORTER = "k8s-ee.yaml describes an environment in a few lines: keep it under 64 KiB"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_LINK_ERRNOS = (errno.ELOOP, errno.EMLINK)  # what open(O_NOFOLLOW) says about a link (Linux, BSD)


class EnvironmentInputError(ValueError):
    """Bad inputs; `errors` lists the problems as 'field: value rule' (at most _config.MAX_ERRORS)."""

    def __init__(self, errors: list[str], source: str = "k8s-ee.yaml"):
        self.errors = _config.limit_errors(errors)
        super().__init__(
            f"invalid {source} ({len(errors)} problem{'s' * (len(errors) != 1)}): " + "; ".join(self.errors)
        )


def _kind(mode: int) -> str:
    for check, name in _KINDS:
        if check(mode):
            return name
    return "a special file"


def _refused(field: str, value: str, problem: str, fix: str) -> EnvironmentInputError:
    return EnvironmentInputError([f"{field}: {_config.show(value)} {problem}; {fix}"])


def _unreadable(path: str, reason: str | None) -> EnvironmentInputError:
    shown = _config.clip(repr(path))
    return EnvironmentInputError(
        [f"config_path: {shown} cannot be read ({reason}); give the path of the repository's k8s-ee.yaml"],
        source="input",
    )


def _components(path: str, root: str | None) -> tuple[str, list[str]]:
    """The directory to start from and the names below it, none of which may be a symbolic link.

    A relative path is walked from the working directory, an absolute one from its own directory
    (only the file itself is checked); with `root` (the checkout), from there."""
    if root is None and os.path.isabs(path):
        return os.path.dirname(path), [os.path.basename(path)]
    if root is None:
        base, rel = ".", path
    else:
        base = os.path.abspath(root)
        target = os.path.abspath(os.path.join(base, path))
        if os.path.commonpath([target, base]) != base:
            inside = f"is not inside {_config.show(root)}"
            raise _refused("config_path", path, inside, "give a path inside the checkout")
        rel = os.path.relpath(target, base)
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise _refused(
            "config_path", path, "is not a file below the working directory", "give a path such as pr/k8s-ee.yaml"
        )
    return base, parts


def _open_below(path: str, root: str | None) -> int:
    """A descriptor of the file, opened one component at a time with O_NOFOLLOW (no link anywhere)."""
    base, parts = _components(path, root)
    nofollow, cloexec = getattr(os, "O_NOFOLLOW", 0), getattr(os, "O_CLOEXEC", 0)
    try:
        directory = os.open(base, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | cloexec)
    except OSError as exc:
        raise _unreadable(path, exc.strerror) from None
    try:
        for depth, name in enumerate(parts):
            last = depth == len(parts) - 1
            problem = "is a symbolic link" if last else f"goes through the symbolic link {'/'.join(parts[: depth + 1])}"
            try:
                info = os.stat(name, dir_fd=directory, follow_symlinks=False)
            except OSError as exc:
                raise _unreadable(path, exc.strerror) from None
            if stat.S_ISLNK(info.st_mode):
                raise _refused("config_path", path, problem, _NO_LINKS)
            if last and not stat.S_ISREG(info.st_mode):
                raise _refused("config_path", path, f"is {_kind(info.st_mode)}, not a regular file", _REGULAR_FILE)
            flags = os.O_RDONLY | nofollow | cloexec
            flags |= (os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)) if last else getattr(os, "O_DIRECTORY", 0)
            try:
                opened = os.open(name, flags, dir_fd=directory)
            except OSError as exc:
                if exc.errno in _LINK_ERRNOS:  # replaced by a link since the stat
                    raise _refused("config_path", path, problem, _NO_LINKS) from None
                raise _unreadable(path, exc.strerror) from None
            os.close(directory)
            directory = opened
        return os.dup(directory)
    finally:
        os.close(directory)


def read_file(path: str, root: str | None = None, limit: int = MAX_CONFIG_BYTES) -> str:
    """The text of an untrusted file: a regular file of at most `limit` bytes of UTF-8, reached without
    following a symbolic link (see _components). Reads at most limit + 1 bytes and never blocks."""
    handle = _open_below(path, root)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):  # replaced since it was looked at
            raise _refused("config_path", path, f"is {_kind(info.st_mode)}, not a regular file", _REGULAR_FILE)
        data = b""
        if info.st_size <= limit:
            while len(data) <= limit:
                chunk = os.read(handle, limit + 1 - len(data))
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise _unreadable(path, exc.strerror) from None
    finally:
        os.close(handle)
    if info.st_size > limit or len(data) > limit:
        size = f"{info.st_size} bytes" if info.st_size > limit else f"more than {limit} bytes"
        raise _refused("config_path", path, f"has {size}, more than the {limit // 1024} KiB allowed", _SHORTER)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(
            "config_path",
            path,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "save k8s-ee.yaml as UTF-8",
        ) from None


def check_content(content: str, limit: int = MAX_CONFIG_BYTES) -> str:
    """The same bounds for text given directly (the module's `content`)."""
    try:
        size = len(content.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise EnvironmentInputError(
            [f"content: is not UTF-8 text (character {exc.start} cannot be encoded); give UTF-8 text"]
        ) from None
    if size > limit:
        raise EnvironmentInputError(
            [f"content: has {size} bytes, more than the {limit // 1024} KiB allowed; {_SHORTER}"]
        )
    return content


def read_config(path: str | None = None, content: str | None = None, root: str | None = None):
    """The parsed (not yet validated) k8s-ee.yaml from a file or text."""
    text = read_file(path, root) if content is None else check_content(content)
    try:
        return _config.load_yaml(text)
    except _config.ConfigError as exc:
        raise EnvironmentInputError(exc.errors) from None


def describe(
    pr_number,
    domain,
    path: str | None = None,
    content: str | None = None,
    root: str | None = None,
    image_repository: str | None = None,
) -> dict:
    """Validate everything and return config, namespace, host, url, quota and databases; with the operator's
    `image_repository`, also where the CI build step pushes the image (_config.image_repository)."""
    errors = []
    try:
        number = _naming.pr_number(pr_number)
    except _naming.InputError as exc:
        errors.append(str(exc))
        number = None
    data = read_config(path, content, root)
    config_errors = _config.validate(data)
    if image_repository is not None:
        config_errors += _config.image_repository_problems(data, image_repository)
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
    result = {
        "config": config,
        "namespace": namespace,
        "host": host,
        "url": _naming.env_url(host),
        "quota": env_quota(config),
        "databases": _config.enabled_databases(config),
    }
    if image_repository is not None:
        result["image_repository"] = _config.image_repository(config, image_repository)
    return result
