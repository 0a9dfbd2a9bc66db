"""The compatibility check of the published schemas (pipeline_tools/schema_compat.py), in `make test`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from pipeline_tools import schema_compat


def current(name: str = "routed-message") -> dict[str, Any]:
    return schema_compat.load(schema_compat.SCHEMA_DIR / f"{name}.schema.json")


@pytest.mark.parametrize("name", schema_compat.SCHEMA_NAMES)
def test_the_current_schema_does_not_break_any_published_version_of_its_major(name: str) -> None:
    frozen = schema_compat.published(name)
    assert frozen, f"no published version of {name}"
    for path in frozen:
        assert schema_compat.compatibility_errors(schema_compat.load(path), current(name)) == [], path.name


def event(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["event"]


BREAKING: dict[str, Callable[[dict[str, Any]], None]] = {
    "removed": lambda s: event(s)["properties"].pop("currency"),
    "retyped": lambda s: event(s)["properties"].update({"amount": {"type": "string"}}),
    "retyped version": lambda s: event(s)["properties"].update({"object_version": {"type": "string"}}),
    "enum narrowed": lambda s: event(s)["properties"]["outcome"]["enum"].remove("lost"),
    "newly required": lambda s: event(s)["required"].append("object_id"),
    "closed": lambda s: event(s).update({"additionalProperties": False}),
    "pattern": lambda s: event(s)["properties"]["currency"].update({"pattern": "^[A-Z]{4}$"}),
    "maxLength lowered": lambda s: s["$defs"]["identifier"].update({"maxLength": 64}),
    "attribute removed": lambda s: s["$defs"]["attributes"]["properties"].pop("source"),
}
COMPATIBLE: dict[str, Callable[[dict[str, Any]], None]] = {
    "new optional member": lambda s: event(s)["properties"].update({"fee": {"type": "number"}}),
    "enum widened": lambda s: event(s)["properties"]["outcome"]["enum"].append("chargeback_pending"),
    "integer widened to number": lambda s: event(s)["properties"]["object_version"].update({"type": "number"}),
    "description": lambda s: event(s).update({"description": "reworded"}),
    "maxLength raised": lambda s: s["$defs"]["identifier"].update({"maxLength": 512}),
}


def changed(change: Callable[[dict[str, Any]], None], version: str) -> dict[str, Any]:
    schema = copy.deepcopy(current())
    change(schema)
    schema[schema_compat.VERSION_KEY] = version
    return schema


@pytest.mark.parametrize("kind", BREAKING)
def test_a_breaking_change_fails_the_check_within_the_major_and_passes_with_a_new_major(kind: str) -> None:
    old = current()
    major, minor, _ = schema_compat.version(old)
    errors = schema_compat.compatibility_errors(old, changed(BREAKING[kind], f"{major}.{minor + 1}.0"))
    assert errors, kind
    assert all(f"major version {major}" in error for error in errors)
    assert schema_compat.compatibility_errors(old, changed(BREAKING[kind], f"{major + 1}.0.0")) == []


@pytest.mark.parametrize("kind", COMPATIBLE)
def test_a_compatible_change_passes_within_the_major(kind: str) -> None:
    old = current()
    major, minor, _ = schema_compat.version(old)
    assert schema_compat.compatibility_errors(old, changed(COMPATIBLE[kind], f"{major}.{minor + 1}.0")) == []


def test_the_messages_name_the_member_and_the_change() -> None:
    old = current()
    errors = schema_compat.compatibility_errors(old, changed(BREAKING["removed"], "1.1.0"))
    assert any("currency: removed" in error for error in errors)
    narrowed = schema_compat.breaking_changes(old, changed(BREAKING["enum narrowed"], "1.1.0"))
    assert any("outcome" in line and "'lost'" in line for line in narrowed)


def test_a_version_that_goes_backwards_is_refused() -> None:
    assert schema_compat.compatibility_errors(current(), changed(lambda s: None, "0.9.0"))
