"""Run `ansible-test sanity` on a copy of the checkout laid out as ansible_collections/k8s_ee/platform.

ansible-test needs that layout and bootstraps pip in its virtualenvs with a script it downloads from
a host we cannot reach; a stand-in (hack/get_pip_standin.py) is put where it looks first.
"""

import pathlib
import shutil
import subprocess
import sys

from ansible_test._internal.python_requirements import get_venv_packages  # the pip version it wants

REPO = pathlib.Path(__file__).resolve().parent.parent
COPY = REPO / ".build" / "sanity" / "ansible_collections" / "k8s_ee" / "platform"


class _Python:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"


def main() -> int:
    pip = get_venv_packages(_Python())["pip"]
    cache = pathlib.Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "hack" / "get_pip_standin.py", cache / f"get_pip_{pip.replace('.', '_')}.py")

    shutil.rmtree(COPY, ignore_errors=True)
    COPY.mkdir(parents=True)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / name.decode()
        if source.is_file():
            target = COPY / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    subprocess.run(["git", "init", "-q", "."], cwd=COPY, check=True)
    subprocess.run(["git", "add", "-A"], cwd=COPY, check=True)
    return subprocess.run(
        ["ansible-test", "sanity", "--python", _Python.version, "--color", "no", *sys.argv[1:]], cwd=COPY, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
