"""Assert helpers around `cdktf.Testing`, whose matchers return a bare bool with no message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def assert_has_resource_with(synth: str, resource_type: str, properties: dict[str, Any]) -> None:
    from cdktf import Testing

    if not Testing.to_have_resource_with_properties(synth, resource_type, properties):
        found = json.loads(synth).get("resource", {}).get(resource_type, {})
        shown = json.dumps(found, indent=1, sort_keys=True)[:6000]
        raise AssertionError(f"no {resource_type} with {properties}; the stack has:\n{shown}")


def resources(config: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(config.get("resource", {}).get(resource_type, {}).values())


def by_name(config: dict[str, Any], resource_type: str, key: str = "name") -> dict[str, dict[str, Any]]:
    return {block[key]: block for block in resources(config, resource_type)}


def policy_statements(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, document in config.get("data", {}).get("aws_iam_policy_document", {}).items():
        for statement in document["statement"]:
            yield logical_id, statement
