"""The published schema's rules, checked with the standard library only.

The schema (`routed-message.schema.json`, JSON Schema 2020-12, bundled) uses a small set of keywords:
`type`, `required`, `properties`, `additionalProperties`, `enum`, `const`, `pattern`, `minLength`,
`maxLength` and local `$ref`s; this module checks exactly those, as JSON Schema defines them
(https://json-schema.org/draft/2020-12/json-schema-validation), and refuses a schema that uses any
other validation keyword, so a newer schema cannot be half-checked in silence. The pipeline's tests
check that it agrees with the `jsonschema` package on generated messages.

`open_enums` names the members whose `enum` is a vocabulary that may grow (`outcome`): a value outside
it is reported separately, not as an error, so a newer producer does not break an older consumer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "routed-message.schema.json"
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "x-schema-version", "$comment", "examples"}
_CHECKED = {"type", "required", "properties", "additionalProperties", "enum", "const", "pattern", "minLength",
            "maxLength", "$ref"}  # fmt: skip


@cache
def schema() -> dict[str, Any]:
    """The bundled schema, parsed."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def schema_version() -> str:
    """The bundled schema's `x-schema-version`, e.g. `1.0.0`."""
    return str(schema()["x-schema-version"])


def _is_type(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (
            isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
        )
    if kind == "number":
        return isinstance(value, int | float | Decimal)
    raise ValueError(f"unsupported type {kind!r}")


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        target: Any = schema()
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def violations(value: Any, node: Mapping[str, Any] | bool, where: str = "$", open_enums: frozenset[str] = frozenset()
               ) -> Iterator[str]:  # fmt: skip
    """Every way `value` breaks the schema `node` (`where` is its path), one readable line each."""
    if node is True:
        return
    if node is False:
        yield f"{where}: not allowed"
        return
    node = _resolve(node)
    unknown = set(node) - _CHECKED - _ANNOTATIONS
    if unknown:
        raise ValueError(f"{where}: the schema uses keywords this package does not check: {sorted(unknown)}")
    kinds = node.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is_type(value, kind) for kind in kinds):
            yield f"{where}: expected {' or '.join(kinds)}"
            return
    if "enum" in node and value not in node["enum"] and where not in open_enums:
        yield f"{where}: {value!r} is not one of {node['enum']}"
    if "const" in node and value != node["const"]:
        yield f"{where}: must be {node['const']!r}"
    if isinstance(value, str):
        if "minLength" in node and len(value) < node["minLength"]:
            yield f"{where}: shorter than {node['minLength']}"
        if "maxLength" in node and len(value) > node["maxLength"]:
            yield f"{where}: longer than {node['maxLength']}"
        if "pattern" in node and not _pattern(node["pattern"]).search(value):
            yield f"{where}: does not match {node['pattern']}"
    if isinstance(value, Mapping):
        for name in node.get("required", ()):
            if name not in value:
                yield f"{where}: {name} is required"
        properties = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for name, member in value.items():
            yield from violations(member, properties.get(name, extra), f"{where}.{name}", open_enums)
