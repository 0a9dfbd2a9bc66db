"""Every routed message a test produces is checked against the published schema (schema/, README
"Consuming events"): the SQS stand-in and the integration helpers call `check_sqs_entry`/`check_received`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from pipeline_tools.schema_compat import SCHEMA_DIR


@cache
def validator(name: str = "routed-message", definition: str | None = None) -> jsonschema.Draft202012Validator:
    """A 2020-12 validator for a schema file, or for one of its `$defs` (its own `$ref`s still resolve)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    if definition is not None:
        schema = {**schema, "$ref": f"#/$defs/{definition}"}
        for key in ("required", "properties", "type"):
            schema.pop(key, None)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def check_message(body_text: str, attributes: dict[str, str]) -> None:
    """Raise `jsonschema.ValidationError` unless the message is an event message or a parked pointer."""
    message = {"body": json.loads(body_text), "attributes": attributes}
    if "parked_reason" in attributes:
        validator(definition="parked_pointer").validate(message)
    else:
        validator().validate(message)


def check_sqs_entry(entry: dict[str, Any]) -> None:
    """One `SendMessageBatch` entry."""
    attributes = {name: value["StringValue"] for name, value in entry.get("MessageAttributes", {}).items()}
    check_message(entry["MessageBody"], attributes)


def check_received(message: dict[str, Any]) -> None:
    """One message from `ReceiveMessage` (with `MessageAttributeNames=["All"]`)."""
    attributes = {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}
    check_message(message["Body"], attributes)
