"""Runs the example GitHub workflows' jobs on this machine, for tests: the exact `run:` steps of the YAML files,
with GitHub's expression language evaluated as GitHub evaluates it, against a local GitHub server.

What GitHub does and this does too: `${{ }}` in `run:`, `env:`, `with:`, `if:`, `runs-on` and job outputs is
substituted from the contexts (`github` with the event payload, `env`, `vars`, `secrets`, `steps`, `needs`,
`inputs`); a `run:` script is written to a file and started with `bash --noprofile --norc -eo pipefail`, with the
step's environment and GITHUB_OUTPUT/GITHUB_ENV/GITHUB_EVENT_PATH/GITHUB_WORKSPACE; step outputs are read back
from GITHUB_OUTPUT (both `key=value` and `key<<DELIMITER` forms). A `${{ }}` expression that this evaluator does
not know is an error, never an empty string, so a workflow cannot silently escape the test.

What stands in for what (the actions themselves are not on this machine): `actions/checkout` checks out the given
ref of a local git repository (sparse paths honoured); `docker/build-push-action` checks that `context` and `file`
lie inside the workspace and exist, and answers a digest computed from them (no image is built here: BuildKit is
not run); the setup action, `actions/setup-python`, `docker/setup-buildx-action` and `docker/login-action` are
recorded and do nothing (the collection and Ansible are already on PATH). Each stand-in is listed in
docs/testing.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import pathlib
import re
import shutil
import subprocess
import tempfile

import yaml

# ------------------------------------------------------------------ expressions


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExpressionError(f"cannot read the expression at {text[pos:]!r}")
        pos = match.end()
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
    return out


def _truthy(value) -> bool:
    return value not in (None, False, 0, "", -0.0) and not (isinstance(value, float) and math.isnan(value))


def _coerce_number(value):
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(a, b) -> bool:
    """GitHub's ==: strings compare case-insensitively; values of different types are compared as numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) or (isinstance(a, (dict, list)) and isinstance(b, (dict, list))):
        return a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return _coerce_number(a) == _coerce_number(b)


def to_string(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


class _Parser:
    def __init__(self, text: str, contexts: dict, status: dict):
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.status = status
        self.text = text

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        token = self.peek()
        if value is not None and token[1] != value:
            raise ExpressionError(f"expected {value!r} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self):
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return value

    def or_(self):
        value = self.and_()
        while self.peek()[1] == "||":
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self):
        value = self.compare()
        while self.peek()[1] == "&&":
            self.take()
            right = self.compare()
            value = right if _truthy(value) else value
        return value

    def compare(self):
        value = self.unary()
        while self.peek()[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                value = _equal(value, right)
            elif op == "!=":
                value = not _equal(value, right)
            else:
                a, b = _coerce_number(value), _coerce_number(right)
                value = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return value

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not _truthy(self.unary())
        return self.postfix()

    def postfix(self):
        value = self.primary()
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                value = value.get(name) if isinstance(value, dict) else None
            else:
                key = self.or_()
                self.take("]")
                if isinstance(value, dict):
                    value = value.get(key)
                elif isinstance(value, list) and isinstance(key, (int, float)):
                    value = value[int(key)] if 0 <= int(key) < len(value) else None
                else:
                    value = None
        return value

    def primary(self):
        kind, token = self.take()
        if kind == "num":
            return float(token) if "." in token else int(token)
        if kind == "str":
            return token[1:-1].replace("''", "'")
        if token == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "name":
            if token in ("true", "false"):
                return token == "true"
            if token == "null":
                return None
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.or_())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                return self.call(token, args)
            if token not in self.contexts:
                raise ExpressionError(f"unknown context {token!r} in {self.text!r}")
            return self.contexts[token]
        raise ExpressionError(f"unexpected {token!r} in {self.text!r}")

    def call(self, name, args):
        lower = name.lower()
        if lower == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return to_string(needle).lower() in to_string(haystack).lower()
        if lower == "startswith":
            return to_string(args[0]).lower().startswith(to_string(args[1]).lower())
        if lower == "endswith":
            return to_string(args[0]).lower().endswith(to_string(args[1]).lower())
        if lower == "fromjson":
            return json.loads(args[0])
        if lower == "tojson":
            return json.dumps(args[0], indent=2)
        if lower == "format":
            text = to_string(args[0])
            return re.sub(r"\{(\d+)\}", lambda m: to_string(args[1 + int(m.group(1))]), text)
        if lower == "always":
            return True
        if lower == "success":
            return not self.status.get("failed")
        if lower == "failure":
            return bool(self.status.get("failed"))
        if lower == "cancelled":
            return False
        raise ExpressionError(f"unknown function {name}()")


def evaluate(text: str, contexts: dict, status: dict | None = None):
    return _Parser(text, contexts, status or {}).parse()


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(text, contexts: dict, status: dict | None = None):
    """A string with every ${{ expr }} replaced as GitHub does (a whole-string expression keeps its type)."""
    if not isinstance(text, str):
        return text
    found = list(_TEMPLATE.finditer(text))
    if len(found) == 1 and found[0].span() == (0, len(text)):
        return evaluate(found[0].group(1), contexts, status)
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts, status)), text)


def condition(text, contexts: dict, status: dict) -> bool:
    """A job's or step's `if:` (an implicit success() unless it calls a status function)."""
    if text is None:
        return not status.get("failed")
    if isinstance(text, bool):
        return text
    expr = text.strip()
    found = list(_TEMPLATE.finditer(expr))
    if len(found) == 1 and found[0].span() == (0, len(expr)):
        expr = found[0].group(1)
    value = _truthy(evaluate(expr, contexts, status))
    if not re.search(r"\b(always|failure|success|cancelled)\s*\(", expr):
        value = value and not status.get("failed")
    return value


# ------------------------------------------------------------------ jobs


def _read_outputs(path: pathlib.Path) -> dict:
    outputs = {}
    lines = path.read_text().splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc:
            key, delimiter, value = heredoc.group(1), heredoc.group(2), []
            index += 1
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            outputs[key] = "\n".join(value)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
        index += 1
    return outputs


class Runner:
    """Runs the jobs of one workflow file for one event.

    `repositories` maps a ref (a SHA, `refs/pull/N/head`, or None for the base branch) to a local git repository
    and revision: (path, revision). `base_env` is the runner machine's own environment (PATH, the kubeconfig of
    the CI identity, the allowlist path the arc role gives runners, ...)."""

    def __init__(self, workflow: pathlib.Path, event_name: str, event: dict, github: dict, base_env: dict, **ctx):
        self.workflow = yaml.safe_load(workflow.read_text())
        self.workflow_path = workflow
        self.event_name = event_name
        self.event = event
        self.github = github
        self.base_env = base_env
        self.vars = ctx.get("vars", {})
        self.secrets = ctx.get("secrets", {})
        self.inputs = ctx.get("inputs", {})
        self.checkouts = ctx.get("checkouts", {})
        self.work = pathlib.Path(ctx.get("work") or tempfile.mkdtemp(prefix="workflow-"))
        self.log: list[dict] = []  # every step: job, name, kind, outcome, outputs, stdout, stderr, with
        self.results: dict[str, dict] = {}

    # ---- contexts

    def _contexts(self, env, steps, needs):
        github = {
            **self.github,
            "event": self.event,
            "event_name": self.event_name,
            "workspace": str(self.work),
        }
        return {
            "github": github,
            "env": env,
            "vars": self.vars,
            "secrets": self.secrets,
            "inputs": self.inputs,
            "steps": steps,
            "needs": needs,
            "runner": {"os": "Linux", "temp": str(self.work / "_temp")},
            "job": {"status": "success"},
        }

    # ---- running

    def run(self) -> dict[str, dict]:
        order = self._order()
        for job_id in order:
            self.results[job_id] = self._job(job_id, self.workflow["jobs"][job_id])
        return self.results

    def _order(self):
        jobs = self.workflow["jobs"]
        done, order = set(), []
        while len(order) < len(jobs):
            for job_id, job in jobs.items():
                needs = job.get("needs") or []
                needs = [needs] if isinstance(needs, str) else needs
                if job_id not in done and all(n in done for n in needs):
                    done.add(job_id)
                    order.append(job_id)
        return order

    def _job(self, job_id, job):
        needs_ids = job.get("needs") or []
        needs_ids = [needs_ids] if isinstance(needs_ids, str) else needs_ids
        needs = {n: {"result": self.results[n]["result"], "outputs": self.results[n]["outputs"]} for n in needs_ids}
        # a job whose needed job failed or was skipped runs only with always() or failure() in its if:
        status = {"failed": any(self.results[n]["result"] != "success" for n in needs_ids)}
        env = {}
        contexts = self._contexts(env, {}, needs)
        for key, value in (self.workflow.get("env") or {}).items():
            env[key] = to_string(interpolate(value, contexts))
        if not condition(job.get("if"), contexts, status):
            return {"result": "skipped", "outputs": {}}
        interpolate(job.get("runs-on", ""), contexts)
        for key, value in (job.get("env") or {}).items():
            env[key] = to_string(interpolate(value, contexts))
        workspace = self.work / job_id
        shutil.rmtree(workspace, ignore_errors=True)
        workspace.mkdir(parents=True)
        (self.work / "_temp").mkdir(exist_ok=True)
        event_path = self.work / "event.json"
        event_path.write_text(json.dumps(self.event))
        steps: dict[str, dict] = {}
        status = {"failed": False}
        for index, step in enumerate(job["steps"]):
            contexts = self._contexts(env, steps, needs)
            name = step.get("name") or step.get("uses") or f"step {index}"
            if not condition(step.get("if"), contexts, status):
                self.log.append({"job": job_id, "name": name, "outcome": "skipped"})
                if step.get("id"):
                    steps[step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_env = dict(env)
            for key, value in (step.get("env") or {}).items():
                step_env[key] = to_string(interpolate(value, contexts))
            with_ = {k: interpolate(v, contexts) for k, v in (step.get("with") or {}).items()}
            if "run" in step:
                outcome, outputs, out, err = self._run(step["run"], contexts, status, step_env, workspace, event_path)
            else:
                outcome, outputs, out, err = self._uses(step["uses"], with_, workspace)
            self.log.append(
                {
                    "job": job_id,
                    "name": name,
                    "outcome": outcome,
                    "outputs": outputs,
                    "stdout": out,
                    "stderr": err,
                    "with": with_,
                    "env": step_env,
                }
            )
            if step.get("id"):
                steps[step["id"]] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            if outcome == "failure":
                status["failed"] = True
        contexts = self._contexts(env, steps, needs)
        outputs = {k: to_string(interpolate(v, contexts)) for k, v in (job.get("outputs") or {}).items()}
        return {"result": "failure" if status["failed"] else "success", "outputs": outputs}

    def _run(self, script, contexts, status, step_env, workspace, event_path):
        text = interpolate(script, contexts, status)  # GitHub substitutes expressions into the script text itself
        script_file = self.work / "_temp" / f"step-{len(self.log)}.sh"
        script_file.write_text(to_string(text))
        output_file = self.work / "_temp" / f"output-{len(self.log)}"
        output_file.write_text("")
        env = {
            **self.base_env,
            **step_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_ENV": str(self.work / "_temp" / "env"),
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_API_URL": self.github["api_url"],
            "GITHUB_ACTOR": self.github.get("actor", ""),
            "RUNNER_TEMP": str(self.work / "_temp"),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        outcome = "success" if proc.returncode == 0 else "failure"
        return outcome, _read_outputs(output_file), proc.stdout, proc.stderr

    def _uses(self, uses, with_, workspace):
        action = uses.split("@")[0]
        if action == "actions/checkout":
            return self._checkout(with_, workspace)
        if action == "docker/build-push-action":
            return self._build(with_, workspace)
        if action in (
            "./.github/actions/k8s-ee-setup",
            "actions/setup-python",
            "docker/setup-buildx-action",
            "docker/login-action",
        ):
            return "success", {}, "", ""
        raise ExpressionError(f"no stand-in for the action {uses}")

    def _checkout(self, with_, workspace):
        ref = with_.get("ref") or None
        if ref not in self.checkouts:
            return "failure", {}, "", f"checkout: no repository for ref {ref!r}"
        source, revision = self.checkouts[ref]
        target = workspace / (with_.get("path") or ".")
        clone = self.work / "_temp" / f"clone-{len(self.log)}"
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", revision], check=True)
        sparse = (with_.get("sparse-checkout") or "").split()
        target.mkdir(parents=True, exist_ok=True)
        if sparse:
            for pattern in sparse:
                for found in clone.glob(pattern):
                    destination = target / found.relative_to(clone)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    if found.is_dir() and not found.is_symlink():
                        shutil.copytree(found, destination, symlinks=True, dirs_exist_ok=True)
                    else:
                        shutil.copy2(found, destination, follow_symlinks=False)
        else:
            shutil.copytree(clone, target, symlinks=True, dirs_exist_ok=True)
        return "success", {}, "", ""

    def _build(self, with_, workspace):
        root = workspace.resolve()
        context = (workspace / with_["context"]).resolve()
        dockerfile = (workspace / with_["file"]).resolve()
        for what, path in (("context", context), ("file", dockerfile)):
            if root not in (path, *path.parents) or not path.exists():
                return "failure", {}, "", f"build-push: {what} {with_[what]!r} is not inside the workspace"
        digest = hashlib.sha256(f"{context}\n{dockerfile.read_text()}".encode()).hexdigest()
        return "success", {"digest": f"sha256:{digest}", "imageid": f"sha256:{digest}"}, "", ""


def workflow_expressions(path: pathlib.Path) -> list[str]:
    """Every ${{ }} expression in the values of a workflow file (comments aside), and every `if:`."""
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.extend(m.group(1).strip() for m in _TEMPLATE.finditer(node))
            if key == "if" and not _TEMPLATE.search(node):
                found.append(node)

    walk(yaml.safe_load(path.read_text()))
    return found
