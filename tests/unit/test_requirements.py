# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requirement floors the collection declares: the same everywhere, met by the test virtualenv, and not
undercut by the code where a test can tell.

Where they are declared: `requirements.txt` (Python packages on the controller), `meta/runtime.yml`
(`requires_ansible`), `galaxy.yml` (`dependencies`, the collections the roles use), `tests/config.yml`
(`python_requires`). They are repeated in README.md, the Makefile, pyproject.toml (ruff's target), the
schedules role's defaults, the example inventory and the example setup action.

What this file checks on every `make unit`:
- every repetition says the same floor as the declaration;
- the virtualenv the tests run in satisfies every floor and every collection range;
- the third-party names the plugins use (jsonschema, kubernetes, urllib3, yaml) are exactly those listed in
  THIRD_PARTY, and each resolves in this virtualenv.
What it does not check: that the code works at the floors. The virtualenv holds the pinned, newer versions;
`make floors` (hack/floors.py) installs every floor and runs the plugins' unit tests and this file with them.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import pathlib
import re
import sys

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = pathlib.Path(__file__).resolve().parents[2]

# Every name of a third-party package the plugins use, with the package that provides it. A new name fails
# test_third_party_names_are_listed: check it exists at the floor (`make floors`), then add it here.
THIRD_PARTY = {
    "jsonschema.Draft202012Validator": "jsonschema",
    "jsonschema.ValidationError": "jsonschema",
    "jsonschema.validators.extend": "jsonschema",
    "kubernetes.client.Configuration": "kubernetes",
    "kubernetes.config.ConfigException": "kubernetes",
    "kubernetes.config.load_kube_config": "kubernetes",
    # urllib3 comes with kubernetes (every release since 24.2.0 requires it); it is not declared on its own
    "urllib3.PoolManager": "kubernetes",
    "urllib3.ProxyManager": "kubernetes",
    "urllib3.Timeout": "kubernetes",
    "urllib3.exceptions.HTTPError": "kubernetes",
    # both in urllib3 1.x (kubernetes 24.2.0 allows urllib3>=1.24.2) and 2.x
    "urllib3.util.ssl_.create_urllib3_context": "kubernetes",
    "urllib3.util.ssl_.resolve_cert_reqs": "kubernetes",
    "yaml.AliasEvent": "PyYAML",
    "yaml.MappingStartEvent": "PyYAML",
    "yaml.SafeLoader.construct_yaml_float": "PyYAML",
    "yaml.SafeLoader.construct_yaml_int": "PyYAML",
    "yaml.SequenceStartEvent": "PyYAML",
    "yaml.SafeLoader": "PyYAML",
    "yaml.YAMLError": "PyYAML",
    "yaml.composer.ComposerError": "PyYAML",
    "yaml.constructor.ConstructorError": "PyYAML",
    "yaml.reader.ReaderError": "PyYAML",
    "yaml.load": "PyYAML",
    "yaml.safe_load": "PyYAML",
    "yaml.scanner.ScannerError": "PyYAML",
}
THIRD_PARTY_ROOTS = {"jsonschema", "kubernetes", "urllib3", "yaml"}


def requirements() -> dict[str, Requirement]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    reqs = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {req.name.lower(): req for req in reqs}


def floor(specifier) -> Version:
    """The version of the one `>=` clause of a specifier."""
    (low,) = [s for s in SpecifierSet(str(specifier)) if s.operator == ">="]
    return Version(low.version)


def requires_ansible() -> SpecifierSet:
    return SpecifierSet(yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"])


def python_floor() -> Version:
    return floor(yaml.safe_load((REPO / "tests" / "config.yml").read_text())["modules"]["python_requires"])


def pins(path) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file."""
    found = {}
    for line in (REPO / path).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            found[name.strip().lower()] = version.strip()
    return found


# ------------------------------------------------------------------ said the same everywhere


def test_the_schedules_role_installs_the_declared_floors():
    packages = yaml.safe_load((REPO / "roles" / "schedules" / "defaults" / "main.yml").read_text())[
        "schedules_python_packages"
    ]
    wanted = {req.name.lower(): req for req in map(Requirement, packages)}
    declared = requirements()
    for name in ("jsonschema", "kubernetes"):
        assert wanted[name].specifier == declared[name].specifier, name
    # the server runs the ansible-core CI tests, which meets requires_ansible
    assert str(wanted["ansible-core"].specifier) == f"=={pins('tests/requirements.txt')['ansible-core']}"
    assert Version(pins("tests/requirements.txt")["ansible-core"]) in requires_ansible()
    # the example inventory's comment shows the same list
    inventory = (REPO / "inventory" / "group_vars" / "k8s_ee_servers.yml").read_text()
    assert f"# schedules_python_packages: [{', '.join(packages)}]" in inventory


def test_the_example_setup_action_installs_the_declared_floors():
    action = (REPO / "examples" / "github" / "actions" / "k8s-ee-setup" / "action.yml").read_text()
    installed = dict(re.findall(r"'([A-Za-z0-9_.-]+)[>=]=([0-9.]+)'", action))
    declared = requirements()
    for name in ("jsonschema", "kubernetes"):
        assert Version(installed[name]) == floor(declared[name].specifier), name
    assert installed["ansible"] == pins("tests/requirements.txt")["ansible"]
    assert re.search(rf'python-version: "{python_floor()}"', action)


def test_python_floor_is_the_same_everywhere():
    major, minor = python_floor().release[:2]
    assert f"Python ≥ {major}.{minor}" in (REPO / "README.md").read_text()
    assert f"sys.version_info < ({major}, {minor})" in (REPO / "Makefile").read_text()
    assert f'target-version = "py{major}{minor}"' in (REPO / "pyproject.toml").read_text()


def test_requires_ansible_is_the_series_ci_runs():
    """STYLE: requires_ansible is the oldest ansible-core CI runs; the README names the same series."""
    low = floor(requires_ansible())
    pinned = Version(pins("tests/requirements.txt")["ansible-core"])
    assert pinned.release[:2] == low.release[:2]
    assert f"ansible-core {low.major}.{low.minor}" in (REPO / "README.md").read_text()


def test_the_kubernetes_floor_is_at_least_kubernetes_core_s():
    """The roles call kubernetes.core's modules, which need their own floor of the same package."""
    theirs = collection_path("kubernetes", "core") / "requirements.txt"
    (req,) = [Requirement(line) for line in theirs.read_text().splitlines() if line.startswith("kubernetes")]
    assert floor(requirements()["kubernetes"].specifier) >= floor(req.specifier)


# ------------------------------------------------------------------ met by the test virtualenv


def collection_path(namespace: str, name: str) -> pathlib.Path:
    for entry in sys.path:
        path = pathlib.Path(entry) / "ansible_collections" / namespace / name
        if (path / "MANIFEST.json").is_file():
            return path
    raise AssertionError(f"collection {namespace}.{name} is not installed")


def test_the_virtualenv_meets_every_floor():
    from ansible.release import __version__ as ansible_core

    for name, req in requirements().items():
        assert importlib.metadata.version(name) in req.specifier, name
    assert ansible_core in requires_ansible()
    assert Version(".".join(map(str, sys.version_info[:3]))) >= python_floor()


def test_the_installed_collections_are_in_the_declared_ranges():
    dependencies = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]
    for fqcn, specifier in dependencies.items():
        manifest = json.loads((collection_path(*fqcn.split(".")) / "MANIFEST.json").read_text())
        assert manifest["collection_info"]["version"] in SpecifierSet(specifier), fqcn


# ------------------------------------------------------------------ what the code uses


def used_names(source: str) -> set[str]:
    """Dotted names of THIRD_PARTY_ROOTS packages a Python file uses: imports and attribute chains on them."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in THIRD_PARTY_ROOTS:
                    aliases[(alias.asname or alias.name).split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in THIRD_PARTY_ROOTS:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = set()
    chains = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                parts.insert(0, inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in aliases:
                chains.add(".".join([aliases[inner.id], *parts]))
    # the longest chains only (yaml.constructor.ConstructorError, not also yaml.constructor; a class's attribute
    # stands for the class)
    for chain in chains:
        if not any(other.startswith(chain + ".") for other in chains):
            found.add(chain)
    for target in aliases.values():  # from x import y, used as a name only
        if "." in target and not any(c.startswith(target + ".") for c in found):
            found.add(target)
    return found


def test_third_party_names_are_listed():
    used = set()
    for path in sorted((REPO / "plugins").rglob("*.py")):
        used |= used_names(path.read_text())
    unlisted, unused = sorted(used - set(THIRD_PARTY)), sorted(set(THIRD_PARTY) - used)
    assert (unlisted, unused) == ([], []), "THIRD_PARTY is out of date"


def test_every_listed_name_resolves():
    for dotted in THIRD_PARTY:
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            break
        else:
            raise AssertionError(dotted)
