# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s-ee.yaml configuration: validation against the shipped JSON Schema,
the rules a schema cannot say (quantities against the LimitRange), and
normalisation (defaults applied, databases always objects)."""

from __future__ import annotations

import copy
import json

from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import (
    CONTAINER_MAX,
    CONTAINER_MIN,
    PVC_MAX_MIB,
    PVC_MIN_MIB,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

DATABASES = ("postgresql", "mongodb", "redis", "minio", "mariadb")

try:
    import jsonschema
except ImportError as exc:  # pragma: no cover - depends on the controller
    jsonschema = None
    JSONSCHEMA_IMPORT_ERROR: Exception | None = exc
else:
    JSONSCHEMA_IMPORT_ERROR = None


class ConfigError(ValueError):
    """Raised with every problem of a configuration at once."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid k8s-ee.yaml:\n" + "\n".join(f"  - {e}" for e in errors))


def _show(value) -> str:
    """A value as the user wrote it, for messages."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True, default=str)
        return text if len(text) <= 80 else text[:77] + "..."
    return json.dumps(value, default=str)


def _path(parts) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_TYPE_NAMES = {
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def _describe_type(expected) -> str:
    if isinstance(expected, list):
        return " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
    return _TYPE_NAMES.get(expected, expected)


def _schema_message(error) -> str:
    """Turn a jsonschema error into 'field: value rule'."""
    path = list(error.absolute_path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    rule = schema.get("x-rule")
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path:
        # The instance is a key of the mapping at `path`.
        where = _path([*path, value])
        if kind == "not":
            return f"{where}: this name is set by the platform and cannot be overridden; choose another name"
        return f"{where}: key {_show(value)} is not valid: must be {rule or 'a valid name'}"
    where = _path(path)
    if kind == "required":
        missing = error.message.split("'")[1]
        return f"{_path([*path, missing])}: is required"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed))
        return "; ".join(f"{_path([*path, key])}: unknown key (allowed here: {', '.join(allowed)})" for key in extra)
    if kind == "type":
        hint = ""
        if error.validator_value == "string" and isinstance(value, (int, float, bool)):
            hint = f" (quote it: '{json.dumps(value)}')"
        return f"{where}: {_show(value)} is not {_describe_type(error.validator_value)}{hint}"
    if kind == "maximum":
        return f"{where}: {_show(value)} is greater than {error.validator_value}"
    if kind == "minimum":
        return f"{where}: {_show(value)} is less than {error.validator_value}"
    if kind == "enum":
        return f"{where}: {_show(value)} is not one of {', '.join(map(str, error.validator_value))}"
    if kind == "pattern":
        return f"{where}: {_show(value)} is not valid: must be {rule or 'matching ' + error.validator_value}"
    if kind == "not" and rule:
        return f"{where}: {_show(value)} is not valid: must be {rule}"
    if kind == "uniqueItems":
        return f"{where}: {_show(value)} lists an entry twice"
    if kind in ("minProperties", "maxProperties"):
        keys = ", ".join(sorted(schema.get("properties", {})))
        return f"{where}: {_show(value)} must have exactly one of {keys}"
    if kind == "minLength":
        return f"{where}: {_show(value)} is empty"
    if kind == "maxLength":
        return f"{where}: {_show(value)} is longer than {error.validator_value} characters"
    return f"{where}: {_show(value)} {error.message}"


def _schema_errors(data) -> list[str]:
    if jsonschema is None:
        raise RuntimeError(
            "the Python package 'jsonschema' is required to validate k8s-ee.yaml "
            f"(pip install jsonschema): {JSONSCHEMA_IMPORT_ERROR}"
        )
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    messages = []
    for error in errors:
        message = _schema_message(error)
        if message not in messages:
            messages.append(message)
    return messages


def _defaults(schema: dict, value):
    """Fill the defaults of `schema` into `value` (a copy), recursively."""
    schema = _resolve(schema)
    if isinstance(value, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            sub_schema = _resolve(sub)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            elif key not in value and "default" in sub_schema:
                value[key] = copy.deepcopy(sub_schema["default"])
            if key in value:
                value[key] = _defaults(sub, value[key])
    return value


def _resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    if not ref:
        return schema
    target = SCHEMA
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    merged = dict(_resolve(target))
    merged.update({k: v for k, v in schema.items() if k != "$ref"})
    return merged


def _normalise_databases(databases: dict) -> dict:
    out = {}
    if not isinstance(databases, dict):
        return databases
    for name in DATABASES:
        value = databases.get(name, False)
        if isinstance(value, bool):
            value = {"enabled": value}
        elif not isinstance(value, dict):
            out[name] = value
            continue
        else:
            value = dict(value)
            value.setdefault("enabled", True)
        db_schema = SCHEMA["properties"]["databases"]["properties"][name]
        out[name] = _defaults(db_schema, value)
    return out


def _field(config, *keys):
    """config[k1][k2]... or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(config, dict) or key not in config:
            return None
        config = config[key]
    return config


def _amount(text, resource):
    try:
        return q.millicores(text) if resource == "cpu" else q.mebibytes(text)
    except q.QuantityError:
        return None


def _semantic_errors(config: dict) -> list[str]:
    """Rules a JSON Schema cannot express, on the fields that passed the schema."""
    errors = []
    values = {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            text = _field(config, "app", "resources", kind, resource)
            amount = _amount(text, resource) if isinstance(text, str) else None
            if amount is None:
                continue
            values[kind, resource] = amount
            where = f"app.resources.{kind}.{resource}"
            low, high = CONTAINER_MIN[resource], CONTAINER_MAX[resource]
            show = q.format_cpu if resource == "cpu" else q.format_memory
            if amount < low:
                errors.append(f"{where}: {_show(text)} is less than the minimum {show(low)} a container may request")
            elif amount > high:
                errors.append(f"{where}: {_show(text)} is greater than the maximum {show(high)} a container may use")
    for resource in ("cpu", "memory"):
        limit, request = values.get(("limits", resource)), values.get(("requests", resource))
        if limit is not None and request is not None and limit < request:
            errors.append(
                f"app.resources.limits.{resource}: {_show(config['app']['resources']['limits'][resource])} is less "
                f"than app.resources.requests.{resource} {_show(config['app']['resources']['requests'][resource])}"
            )
    for name in DATABASES:
        text = _field(config, "databases", name, "storage")
        size = _amount(text, "memory") if isinstance(text, str) else None
        if size is None:
            continue
        where = f"databases.{name}.storage"
        if size < PVC_MIN_MIB:
            errors.append(f"{where}: {_show(text)} is less than {q.format_memory(PVC_MIN_MIB)}")
        elif size > PVC_MAX_MIB:
            errors.append(f"{where}: {_show(text)} is greater than {q.format_memory(PVC_MAX_MIB)}")
    dirs = _field(config, "app", "writableDirs")
    for index, path in enumerate(dirs if isinstance(dirs, list) else []):
        if isinstance(path, str) and path.rstrip("/") == "/tmp":  # noqa: S108 - a mount path compared, not a file used
            errors.append(f"app.writableDirs[{index}]: {_show(path)} is always writable; remove it")
    return errors


def validate(data) -> list[str]:
    """Every problem of a parsed k8s-ee.yaml, as 'field: value rule' messages."""
    if data is None:
        return ["(top level): the file is empty; it needs at least projectId"]
    errors = _schema_errors(data)
    if isinstance(data, dict):
        errors += [e for e in _semantic_errors(_normalised(data)) if e not in errors]
    return sort_errors(errors)


def sort_errors(errors: list[str]) -> list[str]:
    """One list sorted by field path, so related problems stand together."""
    return sorted(errors, key=lambda message: message.split(": ", 1)[0])


def _normalised(data: dict) -> dict:
    config = _defaults(SCHEMA, copy.deepcopy(data))
    config["databases"] = _normalise_databases(config["databases"])
    return config


def normalise(data) -> dict:
    """The validated configuration with every default applied; raises ConfigError."""
    errors = validate(data)
    if errors:
        raise ConfigError(errors)
    return _normalised(data)


def largest_config(project_id: str = "largest") -> dict:
    """The valid configuration with the largest quota (the ceiling the admission policies of role platform allow).

    Every database enabled with the largest storage the PVC LimitRange admits, the most replicas the schema
    allows, and the app container at the LimitRange's container maximum for both requests and limits. The
    quota (`_quota.quota_totals`) only sums, multiplies by positive factors and takes maxima of these inputs,
    so no valid configuration has a larger value of any key.
    """
    app_schema = SCHEMA["properties"]["app"]["properties"]
    databases = SCHEMA["properties"]["databases"]["properties"]
    largest_pod = {"cpu": q.format_cpu(CONTAINER_MAX["cpu"]), "memory": q.format_memory(CONTAINER_MAX["memory"])}
    data = {
        "projectId": project_id,
        "app": {
            "replicas": app_schema["replicas"]["maximum"],
            "resources": {"requests": dict(largest_pod), "limits": dict(largest_pod)},
        },
        "databases": {
            name: {
                "enabled": True,
                **({"storage": q.format_memory(PVC_MAX_MIB)} if "storage" in db["properties"] else {}),
            }
            for name, db in databases.items()
            if name in DATABASES
        },
    }
    return normalise(data)


def enabled_databases(config: dict) -> list[str]:
    return [name for name in DATABASES if config["databases"][name]["enabled"]]


def load_yaml(text: str):
    """Parse k8s-ee.yaml text; YAML errors become a ConfigError."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"(YAML): {where}: {problem}"]) from None
