"""Run the plugins' unit tests with every declared floor installed: `make floors`.

The floors are the `>=` versions of requirements.txt and meta/runtime.yml's requires_ansible. A virtualenv with
exactly those (plus pytest and cmarkgfm at the test pins) is made once under $K8S_EE_CACHE, named by the floors,
and `tests/unit/plugins` and `tests/unit/test_requirements.py` run in it. The tests that read the installed
collections are left out: the floor of ansible-core comes without kubernetes.core and community.general (the test
virtualenv checks their ranges). Not part of `make test`: it installs packages (about a minute) and checks
what changes only when the floors or the third-party names the plugins use change.
"""

import hashlib
import os
import pathlib
import subprocess
import sys

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = pathlib.Path(__file__).resolve().parent.parent
LEFT_OUT = (
    "tests/unit/test_requirements.py::test_the_kubernetes_floor_is_at_least_kubernetes_core_s",
    "tests/unit/test_requirements.py::test_the_installed_collections_are_in_the_declared_ranges",
)


def floor(name: str, specifier: str) -> str:
    (low,) = [s for s in SpecifierSet(specifier) if s.operator == ">="]
    return f"{name}=={low.version}"


def floors() -> list[str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    reqs = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    core = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
    return [floor("ansible-core", core), *(floor(req.name, str(req.specifier)) for req in reqs)]


def main() -> int:
    pinned = dict(
        line.split("==") for line in (REPO / "tests" / "requirements.txt").read_text().splitlines() if "==" in line
    )
    packages = [*floors(), f"pytest=={pinned['pytest']}", f"cmarkgfm=={pinned['cmarkgfm']}"]
    cache = pathlib.Path(os.environ.get("K8S_EE_CACHE", pathlib.Path.home() / ".cache" / "k8s-ee"))
    venv = cache / f"venv-floors-{hashlib.sha256(' '.join(packages).encode()).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *packages], check=True)
        (venv / ".complete").touch()
    print("floors:", " ".join(packages), flush=True)
    deselect = [arg for test in LEFT_OUT for arg in ("--deselect", test)]
    tests = ["tests/unit/plugins", "tests/unit/test_requirements.py"]
    return subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", *deselect, *tests], cwd=REPO, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
