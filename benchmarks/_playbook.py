"""Running one of the collection's playbooks from a benchmark: `ansible-playbook` with the variables in a JSON
file, timed, and its output (the json callback of tests/harness.py's playbook_env) read back.

    run = playbook("pr_up", {"k8s_ee_domain": ...}, env)
    run.seconds, run.data["stats"], run.tasks()   # tasks(): (name, host result, seconds) in order
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Run:
    name: str
    seconds: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def data(self) -> dict:
        """The json callback's report."""
        return json.loads(self.stdout[self.stdout.index("{") :])

    def tasks(self) -> list[tuple[str, dict, float]]:
        """Every task of every play: its name, localhost's result and how long it ran."""
        found = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                duration = task["task"].get("duration", {})
                seconds = 0.0
                if duration.get("start") and duration.get("end"):
                    seconds = _stamp(duration["end"]) - _stamp(duration["start"])
                found.append((task["task"]["name"], task["hosts"].get("localhost", {}), seconds))
        return found

    def check(self) -> Run:
        """Itself, or exit the benchmark with the playbook's output when it failed."""
        if self.returncode != 0:
            raise SystemExit(f"{self.name} failed:\n{self.stdout[-3000:]}\n{self.stderr[-2000:]}")
        return self


def event(number: int, image: str, repository: str = "acme/bench") -> dict:
    """A pull request's values as the workflows pass them to pr_up: environment variables (docs/security.md)."""
    return {
        "K8S_EE_REPOSITORY": repository,
        "K8S_EE_PR_NUMBER": str(number),
        "K8S_EE_HEAD_SHA": "a" * 40,
        "K8S_EE_BRANCH": "bench",
        "K8S_EE_PR_AUTHOR": "bench",
        "K8S_EE_AUTHOR_ASSOCIATION": "OWNER",
        "K8S_EE_IMAGE": image,
    }


def settings(work: pathlib.Path, github_url: str) -> dict:
    """The operator's extra vars of the simulated-cluster benchmarks: project `bench`, the k8s-ee.yaml and allowlist
    in `work`, the local GitHub, no health check (nothing answers on simulated nodes)."""
    return {
        "k8s_ee_project_id": "bench",
        "k8s_ee_domain": "bench.example.com",
        "k8s_ee_config_path": str(work / "k8s-ee.yaml"),
        "k8s_ee_allowlist_path": str(work / "allowlist.yaml"),
        "k8s_ee_github_api_url": github_url,
        "k8s_ee_health_check": False,
        "k8s_ee_timeout": 300,
    }


def playbook(name: str | pathlib.Path, variables: dict | None, env: dict, extra: tuple = ()) -> Run:
    """Run playbooks/<name>.yml (or the playbook at a path) with `variables` as extra vars and `env`."""
    path = pathlib.Path(name) if isinstance(name, pathlib.Path) else REPO / "playbooks" / f"{name}.yml"
    argv = ["ansible-playbook", str(path)]
    if variables is not None:
        handle, file = tempfile.mkstemp(suffix=".json")
        with open(handle, "w", encoding="utf-8") as out:
            json.dump(variables, out)
        argv += ["-e", f"@{file}"]
    argv += list(extra)
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if variables is not None:
        pathlib.Path(file).unlink()
    return Run(path.stem, seconds, proc.returncode, proc.stdout, proc.stderr)


def _stamp(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
