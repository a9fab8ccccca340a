# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s-ee.yaml configuration: validation against the shipped JSON Schema,
the rules a schema cannot say (quantities against the LimitRange), and
normalisation (the reference platform's spelling moved under app, defaults applied,
databases always objects)."""

from __future__ import annotations

import copy
import functools
import json
import re

from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q
from ansible_collections.k8s_ee.platform.plugins.module_utils._databases import NAMES
from ansible_collections.k8s_ee.platform.plugins.module_utils._limits import (
    CONTAINER_MAX,
    CONTAINER_MIN,
    PVC_MAX_MIB,
    PVC_MIN_MIB,
)
from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

# The keys of `databases`, in the order of the schema (tests/unit/plugins/module_utils/test_databases.py compares them).
DATABASES = NAMES

# Settings of app that the reference platform (k8s-ephemeral-environments) writes at the top level of k8s-ee.yaml: both
# spellings are read, and normalisation moves the top-level one under app, so the rest of the collection sees only
# app.<key> (docs/configuration.md, "The reference platform's spelling").
TOP_LEVEL_APP_KEYS = ("resources", "env", "envFrom")


class ConfigError(ValueError):
    """Raised with every problem of a configuration at once."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid k8s-ee.yaml:\n" + "\n".join(f"  - {e}" for e in limit_errors(errors)))


SHOW_MAX = 80  # characters of a value from the file shown in a message
MAX_ERRORS = 40  # problems listed in one report (a hostile file can have thousands)
_PLAIN_NAME = re.compile(rf"[ -~]{{1,{SHOW_MAX}}}")  # printable ASCII, shown as written


def clip(text: str, limit: int = SHOW_MAX) -> str:
    """`text`, cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show(value) -> str:
    """A value as the user wrote it, for messages: JSON (control and non-ASCII characters escaped),
    at most SHOW_MAX characters, so a message never carries a long value from the file in full."""
    if isinstance(value, str):
        return clip(json.dumps(value[: SHOW_MAX + 1]))
    encoder = json.JSONEncoder(sort_keys=isinstance(value, dict), default=str)
    text = ""
    try:
        for chunk in encoder.iterencode(value):  # lazily: a shared structure may expand to gigabytes
            text += chunk
            if len(text) > SHOW_MAX:
                break
    except (TypeError, ValueError, RecursionError):  # mixed key types, huge ints, deep nesting
        text = f"(a {type(value).__name__})"
    return clip(text)


def _path(parts) -> str:
    """`app.env.NAME`, `app.envFrom[0]`; a key that is long or not printable ASCII is shown quoted and cut."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            name = part if isinstance(part, str) and _PLAIN_NAME.fullmatch(part) else show(part)
            out += ("." if out else "") + name
    return out or "(top level)"


_RESERVED_NAME = "this name is set by the platform and cannot be overridden; choose another name"

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


def _schema_messages(error) -> list[str]:
    """Turn a jsonschema error into 'field: value rule' messages (one per unknown key)."""
    path = list(error.absolute_path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    rule = schema.get("x-rule")
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path:
        # The instance is a key of the mapping at `path`.
        where = _path([*path, value])
        if kind == "not":
            why = error.validator_value.get("x-rule") if isinstance(error.validator_value, dict) else None
            return [f"{where}: {why or _RESERVED_NAME}"]
        if kind == "maxLength":
            return [f"{where}: key {show(value)} is longer than {error.validator_value} characters"]
        return [f"{where}: key {show(value)} is not valid: must be {rule or 'a valid name'}"]
    where = _path(path)
    if kind == "required":
        missing = error.message.split("'")[1]
        return [f"{_path([*path, missing])}: is required"]
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed), key=lambda key: (not isinstance(key, str), str(key)))
        return [f"{_path([*path, key])}: unknown key (allowed here: {', '.join(allowed)})" for key in extra]
    if kind == "type":
        hint = ""
        if error.validator_value == "string" and isinstance(value, (int, float, bool)):
            hint = f" (quote it: '{clip(show(value), 40)}')"
        return [f"{where}: {show(value)} is not {_describe_type(error.validator_value)}{hint}"]
    if kind == "maximum":
        return [f"{where}: {show(value)} is greater than {error.validator_value}"]
    if kind == "minimum":
        return [f"{where}: {show(value)} is less than {error.validator_value}"]
    if kind == "enum":
        return [f"{where}: {show(value)} is not one of {', '.join(map(str, error.validator_value))}"]
    if kind == "pattern":
        return [f"{where}: {show(value)} is not valid: must be {rule or 'matching ' + error.validator_value}"]
    if kind == "not":
        inner = error.validator_value.get("x-rule") if isinstance(error.validator_value, dict) else None
        if inner or rule:
            return [f"{where}: {show(value)} is not valid: must be {inner or rule}"]
    if kind == "uniqueItems":
        return [f"{where}: {show(value)} lists an entry twice"]
    if kind in ("minProperties", "maxProperties") and schema.get("maxProperties") == 1:
        keys = ", ".join(sorted(schema.get("properties", {})))
        return [f"{where}: {show(value)} must have exactly one of {keys}"]
    if kind in ("maxProperties", "maxItems"):
        return [f"{where}: has {len(value)} entries, more than the {error.validator_value} allowed"]
    if kind == "minLength":
        return [f"{where}: {show(value)} is empty"]
    if kind == "maxLength":
        return [f"{where}: {show(value)} is longer than {error.validator_value} characters"]
    return [f"{where}: {show(value)} does not satisfy the schema's {kind} rule"]


_HTTP_PATH = SCHEMA["$defs"]["httpPath"]


def safe_http_path(value) -> bool:
    """Whether `value` passes the schema's rule for app.healthPath and app.metricsPath: a plain path
    that, appended to an API server proxy URL, stays below it (no dot segments, '%', '?', '#', '\\')."""
    return (
        isinstance(value, str)
        and len(value) <= _HTTP_PATH["maxLength"]
        and _strict_pattern(_HTTP_PATH["pattern"]).search(value) is not None
        and re.search(_HTTP_PATH["not"]["pattern"], value) is None
    )


def _strict_pattern(pattern: str) -> re.Pattern:
    """A schema pattern as JSON Schema (ECMA-262) means it: a final `$` ends the text. Python's `$` also matches before
    a final newline, which would let `projectId: "shop\\n"` or an env key `"A\\n"` through a rule ending in `$`."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@functools.cache
def _validator_class(jsonschema):
    """Draft 2020-12 with `pattern` read by `_strict_pattern` (it also serves `propertyNames`)."""
    compiled = functools.cache(_strict_pattern)

    def pattern(validator, rule, instance, schema):
        if validator.is_type(instance, "string") and not compiled(rule).search(instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {rule!r}")

    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern})


def _schema_errors(data) -> list[str]:
    # imported here, not with the module: only reading k8s-ee.yaml needs it, and it costs a tenth of a second
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise RuntimeError(
            f"the Python package 'jsonschema' is required to validate k8s-ee.yaml (pip install jsonschema): {exc}"
        ) from None
    validator = _validator_class(jsonschema)(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    messages = []
    seen = set()
    for error in errors:
        for message in _schema_messages(error):
            if message not in seen:
                seen.add(message)
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


def _resource_errors(resources, where: str) -> list[str]:
    """The LimitRange's bounds on app.resources with its defaults filled in; `where` is the field as the file names it
    (app.resources, or resources in the reference platform's spelling)."""
    errors = []
    values = {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            text = _field(resources, kind, resource)
            amount = _amount(text, resource) if isinstance(text, str) else None
            if amount is None:
                continue
            values[kind, resource] = amount
            field = f"{where}.{kind}.{resource}"
            low, high = CONTAINER_MIN[resource], CONTAINER_MAX[resource]
            fmt = q.format_cpu if resource == "cpu" else q.format_memory
            if amount < low:
                errors.append(f"{field}: {show(text)} is less than the minimum {fmt(low)} a container may request")
            elif amount > high:
                errors.append(f"{field}: {show(text)} is greater than the maximum {fmt(high)} a container may use")
    for resource in ("cpu", "memory"):
        limit, request = values.get(("limits", resource)), values.get(("requests", resource))
        if limit is not None and request is not None and limit < request:
            errors.append(
                f"{where}.limits.{resource}: {show(resources['limits'][resource])} is less "
                f"than {where}.requests.{resource} {show(resources['requests'][resource])}"
            )
    return errors


def _written(data: dict, key: str) -> tuple[bool, bool]:
    """Whether the file gives app.<key>, and whether it gives <key> at the top level (the reference platform's
    spelling)."""
    app = data.get("app")
    return isinstance(app, dict) and key in app, key in data


def _spelling_errors(data: dict) -> list[str]:
    """A setting given in both spellings: decided on the file as written, before defaults fill app in."""
    errors = []
    for key in TOP_LEVEL_APP_KEYS:
        in_app, at_top = _written(data, key)
        if in_app and at_top:
            errors.append(
                f"{key}: is the same setting as app.{key} ({key} at the top level is the reference platform's "
                f"spelling) and both are given; keep one of {key} and app.{key}"
            )
    return errors


_IMAGE_REPOSITORY = SCHEMA["properties"]["image"]["properties"]["repository"]


def _bounded(repository) -> bool:
    """A string within image.repository's maxLength (a longer one is the schema's to report, matched once)."""
    return isinstance(repository, str) and len(repository) <= _IMAGE_REPOSITORY["maxLength"]


def _semantic_errors(data: dict) -> list[str]:
    """Rules a JSON Schema cannot express, on the fields that passed the schema; each names the field as the file
    spells it."""
    config = _normalised(data)
    errors = []
    in_app, at_top = _written(data, "resources")
    if in_app or not at_top:
        errors += _resource_errors(_field(config, "app", "resources"), "app.resources")
    if at_top:  # what normalisation moves under app (beside app.resources, an error already, it is checked too)
        top = _defaults(SCHEMA["$defs"]["resources"], copy.deepcopy(data["resources"]))
        errors += _resource_errors(top, "resources")
    for name in DATABASES:
        text = _field(config, "databases", name, "storage")
        size = _amount(text, "memory") if isinstance(text, str) else None
        if size is None:
            continue
        where = f"databases.{name}.storage"
        if size < PVC_MIN_MIB:
            errors.append(f"{where}: {show(text)} is less than {q.format_memory(PVC_MIN_MIB)}")
        elif size > PVC_MAX_MIB:
            errors.append(f"{where}: {show(text)} is greater than {q.format_memory(PVC_MAX_MIB)}")
    dirs = _field(config, "app", "writableDirs")
    first = {}
    for index, path in enumerate(dirs if isinstance(dirs, list) else []):
        if not isinstance(path, str):
            continue
        directory = path.rstrip("/")
        if directory == "/tmp":  # noqa: S108 - a mount path compared, not a file used
            errors.append(f"app.writableDirs[{index}]: {show(path)} is always writable; remove it")
        elif directory in first and dirs[first[directory]] != path:  # equal entries: uniqueItems says so
            errors.append(
                f"app.writableDirs[{index}]: {show(path)} is the same directory as "
                f"app.writableDirs[{first[directory]}]; remove one"
            )
        first.setdefault(directory, index)
    return errors


def validate(data) -> list[str]:
    """Every problem of a parsed k8s-ee.yaml, as 'field: value rule' messages."""
    if data is None:
        return ["(top level): the file is empty; it needs at least projectId"]
    errors = _schema_errors(data)
    if isinstance(data, dict):
        known = set(errors)
        errors += [e for e in _spelling_errors(data) + _semantic_errors(data) if e not in known]
    return sort_errors(errors)


def sort_errors(errors: list[str]) -> list[str]:
    """One list sorted by field path, so related problems stand together."""
    return sorted(errors, key=lambda message: message.split(": ", 1)[0])


def limit_errors(errors: list[str]) -> list[str]:
    """At most MAX_ERRORS problems and a line saying how many more there are (a report goes into a PR
    comment, which GitHub caps at 65536 characters)."""
    if len(errors) <= MAX_ERRORS:
        return list(errors)
    more = len(errors) - MAX_ERRORS
    return [*errors[:MAX_ERRORS], f"(more): {more} more problem{'s' * (more != 1)} not shown; fix these first"]


def _under_app(data: dict) -> dict:
    """`data` (a copy) with the top-level spellings of TOP_LEVEL_APP_KEYS moved under app. Where both are given (an
    error validate reports), app.<key> is kept."""
    moved = {key: data.pop(key) for key in TOP_LEVEL_APP_KEYS if key in data}
    if moved:
        app = data.setdefault("app", {})
        if isinstance(app, dict):  # anything else is a schema error
            for key, value in moved.items():
                app.setdefault(key, value)
    return data


def _normalised(data: dict) -> dict:
    config = _defaults(SCHEMA, _under_app(copy.deepcopy(data)))
    config["databases"] = _normalise_databases(config["databases"])
    return config


def normalise(data) -> dict:
    """The validated configuration in this platform's spelling (resources, env and envFrom under app) with every
    default applied; raises ConfigError."""
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


# The operator's image repository, as pr_build checks it: lower case, a registry host (or a Docker Hub name) and a path.
_OPERATOR_REPOSITORY = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)+")


def _repository_owner(default: str) -> str:
    """The registry host and first path segment of the operator's image repository: `ghcr.io/acme` of the example
    workflows' ghcr.io/acme/shop/preview (ghcr.io/<owner>/<repo>/preview)."""
    return "/".join(default.split("/", 2)[:2])


def image_repository_problems(data, default: str) -> list[str]:
    """image.repository of a parsed k8s-ee.yaml comes from the pull request: it may only name an image under the
    registry host and owner of the operator's image repository `default` (docs/configuration.md, "Where the image is
    pushed"). The owner is compared in lower case (GitHub's owners are case-insensitive, image names lower case)."""
    operator = default.lower() if isinstance(default, str) else default
    if not (isinstance(operator, str) and _bounded(operator) and _OPERATOR_REPOSITORY.fullmatch(operator)):
        return [
            f"image_repository: {show(default)} is not an image repository; give the operator's, such as "
            "ghcr.io/acme/shop/preview (registry host and path, no tag or digest)"
        ]
    repository = _field(data, "image", "repository")
    if not _bounded(repository) or not re.fullmatch(_IMAGE_REPOSITORY["pattern"], repository):
        return []  # absent, or refused by validate
    owner = _repository_owner(operator)
    if repository.startswith(owner + "/"):
        return []
    return [
        f"image.repository: {show(repository)} is not under {owner}/, where this repository's images are pushed "
        f"(the operator's image repository is {operator}); name an image under {owner}/, such as {owner}/app, or "
        f"remove image.repository to push to {operator}"
    ]


def image_repository(config: dict, default: str) -> str:
    """Where the CI build step pushes the image of a validated configuration: image.repository, or the operator's
    `default` (lower case) without it. Raises ConfigError when image_repository_problems has any."""
    problems = image_repository_problems(config, default)
    if problems:
        raise ConfigError(problems)
    return config["image"].get("repository") or default.lower()


# Bounds of the YAML document (the schema bounds each field; these bound the work before it runs).
MAX_DEPTH = 20  # nested mappings and lists; the schema's deepest field is 5 levels down
MAX_NODES = 2000  # scalars, mappings and lists in the whole file (a full configuration has a few hundred)
MAX_NUMBER_CHARS = 100  # an integer or float literal (Python's int() is quadratic on long ones)
_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates, only written as escapes ("\\0", "\\ud800")


@functools.cache
def _strict_loader():
    """A yaml.SafeLoader that refuses what k8s-ee.yaml never needs and an attacker would use:
    anchors and aliases (a 400-byte "billion laughs" file expands to gigabytes), merge keys,
    nesting deeper than MAX_DEPTH, more than MAX_NODES values, numbers longer than
    MAX_NUMBER_CHARS characters, keys that are not strings, keys given twice, and NUL or lone
    surrogates written as escapes."""
    import yaml
    from yaml.constructor import ConstructorError

    class StrictLoader(yaml.SafeLoader):
        def __init__(self, stream):
            super().__init__(stream)
            self._depth = 0
            self._nodes = 0

        def _refuse(self, problem, mark):
            raise yaml.composer.ComposerError(None, None, problem, mark)

        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._refuse(
                    f"found the alias *{clip(event.anchor, 40)}; anchors and aliases (&name, *name) are not allowed "
                    "in k8s-ee.yaml: write the value out",
                    event.start_mark,
                )
            if event.anchor is not None:
                self._refuse(
                    f"found the anchor &{clip(event.anchor, 40)}; anchors and aliases (&name, *name) are not allowed "
                    "in k8s-ee.yaml: write the value out",
                    event.start_mark,
                )
            self._nodes += 1
            if self._nodes > MAX_NODES:
                self._refuse(
                    f"more than {MAX_NODES} values in the file; k8s-ee.yaml is a short description", event.start_mark
                )
            nested = isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent))
            if nested:
                self._depth += 1
                if self._depth > MAX_DEPTH:
                    self._refuse(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= nested

        def fetch_flow_collection_start(self, TokenClass):
            # Refused while scanning: the scanner looks up to 1024 characters ahead for a key after
            # each '[' or '{' and checks every open one each time, so 10000 '[' cost 0.3 s before
            # the composer saw the 21st level.
            if self.flow_level >= MAX_DEPTH:
                raise yaml.scanner.ScannerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", self.get_mark()
                )
            super().fetch_flow_collection_start(TokenClass)

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConstructorError(
                        None,
                        None,
                        "merge keys (<<) are not allowed in k8s-ee.yaml; write the keys out",
                        key_node.start_mark,
                    )
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    raise ConstructorError(
                        None,
                        None,
                        f"the key {show(key)} is not a string; quote it",
                        key_node.start_mark,
                    )
                if key in seen:
                    raise ConstructorError(
                        None, None, f"the key {show(key)} is given twice in this mapping; keep one", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def construct_scalar(self, node):
            value = super().construct_scalar(node)
            if isinstance(value, str):
                bad = _UNENCODABLE.search(value)
                if bad:
                    raise ConstructorError(
                        None,
                        None,
                        f"the text holds U+{ord(bad.group()):04X}, which no environment variable, label or UTF-8 "
                        "text can carry; remove the escape",
                        node.start_mark,
                    )
            return value

        def _number(self, node, construct):
            if len(node.value) > MAX_NUMBER_CHARS:
                raise ConstructorError(
                    None,
                    None,
                    f"a number of {len(node.value)} characters; numbers here have at most {MAX_NUMBER_CHARS}",
                    node.start_mark,
                )
            return construct(self, node)

        def construct_yaml_int(self, node):
            return self._number(node, yaml.SafeLoader.construct_yaml_int)

        def construct_yaml_float(self, node):
            return self._number(node, yaml.SafeLoader.construct_yaml_float)

    StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
    StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
    return StrictLoader


def load_yaml(text: str):
    """Parse k8s-ee.yaml text with the strict loader; YAML errors become a ConfigError naming line and column."""
    import yaml

    loader = None
    try:
        loader = _strict_loader()(text)  # the reader checks every character here
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError(
            [f"(YAML): line {line}, column {column}: the character #x{exc.character:04x} is not allowed in YAML text"]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError([f"(YAML): {where}: {clip(problem, 120)}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
