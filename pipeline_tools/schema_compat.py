"""Does a new version of a published JSON Schema break a consumer of the old one?

The routed message and the stored item are published as JSON Schema 2020-12 files under `schema/`, each
with an `x-schema-version` (`MAJOR.MINOR.PATCH`) and a frozen copy of every released version under
`schema/published/`. A change a consumer of the old version could trip over is breaking and needs a new
major version; everything else (a new optional member, a wider enum, a looser limit) is a minor change.

Breaking (walked together through `properties`, `items`, `prefixItems`, `additionalProperties`, and local
`$ref`s into `$defs`):
- a property removed, or newly required (messages of the old version lack it);
- a type changed to one that does not accept every old value (`integer` -> `number` widens; `number` ->
  `integer` or `string` retypes);
- an enum narrowed (an old value gone) or added where there was none, a `const` changed or added;
- `additionalProperties` closed where it was open;
- a `pattern`, `format` or `const` added or changed; a `minLength`/`minimum`/`minItems` raised; a
  `maxLength`/`maximum`/`maxItems` lowered or added.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
PUBLISHED_DIR = SCHEMA_DIR / "published"
SCHEMA_NAMES = ("routed-message", "stored-item")
VERSION_KEY = "x-schema-version"

_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "const")


def version(schema: Mapping[str, Any]) -> tuple[int, int, int]:
    """(major, minor, patch) of a schema's `x-schema-version`. Raises `ValueError` when it is missing."""
    text = schema.get(VERSION_KEY)
    if not isinstance(text, str):
        raise ValueError(f"the schema has no {VERSION_KEY}")
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def _resolve(root: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        # Sibling keywords of a $ref (a description, a tighter limit) apply too.
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        seen += 1
        if seen > 32:
            raise ValueError("$ref cycle")
    return node


def _types(node: Mapping[str, Any]) -> set[str] | None:
    kind = node.get("type")
    if kind is None:
        return None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    if "number" in kinds:
        kinds.add("integer")  # every integer is a number
    return kinds


def _walk(old_root: Mapping[str, Any], new_root: Mapping[str, Any], old: Any, new: Any, where: str) -> list[str]:
    old, new = _resolve(old_root, old), _resolve(new_root, new)
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return [] if old == new or new is True else [f"{where}: changed from {old!r} to {new!r}"]
    found: list[str] = []
    old_types, new_types = _types(old), _types(new)
    if new_types is not None and (old_types is None or not old_types <= new_types):
        found.append(f"{where}: retyped from {old.get('type')} to {new.get('type')}")
    if "enum" in new:
        lost = [value for value in old.get("enum", []) if value not in new["enum"]]
        if "enum" not in old or lost:
            found.append(f"{where}: enum narrowed (no longer allowed: {lost or 'anything outside the new enum'})")
    for key in _EXACT:
        if key in new and new.get(key) != old.get(key):
            found.append(f"{where}: {key} changed from {old.get(key)!r} to {new[key]!r}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            found.append(f"{where}: {key} raised from {old.get(key)} to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            found.append(f"{where}: {key} lowered from {old.get(key)} to {new[key]}")
    added_required = sorted(set(new.get("required", [])) - set(old.get("required", [])))
    if added_required:
        found.append(f"{where}: newly required {added_required}")
    old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
    for name, old_property in old_properties.items():
        if name not in new_properties:
            found.append(f"{where}.{name}: removed")
        else:
            found += _walk(old_root, new_root, old_property, new_properties[name], f"{where}.{name}")
    old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
    if new_extra is False and old_extra is not False:
        found.append(f"{where}: additionalProperties closed")
    elif isinstance(new_extra, Mapping):
        found += _walk(old_root, new_root, old_extra if isinstance(old_extra, Mapping) else {}, new_extra,
                       f"{where}.<additional>")  # fmt: skip
    for key in ("items", "contains"):
        if key in new:
            found += _walk(old_root, new_root, old.get(key, {}), new[key], f"{where}[{key}]")
    return found


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Every change from `old` to `new` that could break a consumer of `old`, as readable lines."""
    return _walk(old, new, old, new, "$")


def compatibility_errors(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What is wrong with publishing `new` after `old`: breaking changes within one major version, or a
    version that went backwards. Empty when `new` may be published.
    """
    old_version, new_version = version(old), version(new)
    if new_version < old_version:
        return [f"version went backwards: {old_version} -> {new_version}"]
    if new_version[0] > old_version[0]:
        return []  # a new major version may break; consumers pin the major
    return [f"{line} (breaking within major version {old_version[0]}: bump it)" for line in breaking_changes(old, new)]


def load(path: Path) -> dict[str, Any]:
    """A schema file, parsed."""
    return json.loads(path.read_text())


def published(name: str) -> list[Path]:
    """The frozen copies of schema `name`, one per released version."""
    return sorted(PUBLISHED_DIR.glob(f"{name}-*.schema.json"))
