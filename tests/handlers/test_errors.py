"""One error family (handlers/errors.py): every refusal class shares `PipelineError` and takes its status
from the one registry; one order of checks for every verifier (signature, then freshness)."""

from __future__ import annotations

import ast
import importlib
import time
from pathlib import Path
from types import ModuleType

from tests.handlers.helpers import HANDLERS_DIR, ROTATED_SECRET, FakeContext, fresh_import, make_event, payment

DOCS = HANDLERS_DIR.parent / "docs"


def test_every_refusal_class_is_a_pipeline_error_with_its_registered_status() -> None:
    errors = fresh_import("errors")  # once: it drops every handler module; the rest share this copy
    webhook_signature, webhook_event = (
        importlib.import_module("webhook_signature"),
        importlib.import_module("webhook_event"),
    )
    strict_json, canonical_event = importlib.import_module("strict_json"), importlib.import_module("canonical_event")
    routed_message = importlib.import_module("routed_message")
    cases = [
        (webhook_signature.SignatureError("invalid_signature", "m"), 401),
        (webhook_event.InvalidEventError("schema_violation", "m", "amount"), 400),
        (webhook_event.InvalidEventError("payload_too_large", "m"), 413),
        (strict_json.JsonDecodeError("duplicate_key", "m"), 400),
        (canonical_event.NotStorableError("item_too_large", "m"), 413),
        (routed_message.UndeliverableMessageError("message_too_large", "m", 413), 413),
    ]
    for error, status in cases:
        assert isinstance(error, errors.PipelineError) and error.status == status and error.reason in errors.REASONS
    assert isinstance(strict_json.JsonDecodeError("x", "m"), ValueError)  # the old bases are kept


def test_a_stale_request_with_a_wrong_signature_is_an_invalid_signature(validator: ModuleType) -> None:
    """Signature before freshness, on POST /webhook as on every provider: only a key holder ever learns
    that a timestamp is stale. (It answered `timestamp_too_old` before.)"""
    stale = int(time.time()) - 3600
    forged = validator.handler(make_event(payment("evt_e1"), secret=ROTATED_SECRET, timestamp=stale), FakeContext())
    assert forged["statusCode"] == 401 and '"invalid_signature"' in forged["body"]
    genuine = validator.handler(make_event(payment("evt_e1"), timestamp=stale), FakeContext())
    assert genuine["statusCode"] == 401 and '"timestamp_too_old"' in genuine["body"]


def _refusal_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """`PipelineError` and every class of the handlers that derives from it, however indirectly."""
    family = {"PipelineError"}
    bases = {
        node.name: {b.id for b in node.bases if isinstance(b, ast.Name)}
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    while grown := {name for name, parents in bases.items() if parents & family} - family:
        family |= grown
    return family


def test_every_refusal_names_its_reason_from_the_registry_never_as_a_literal() -> None:
    """The reason of every refusal the handlers construct (the first argument of a `PipelineError` class,
    the second of the validator's `_rejected`) is a registry name (`from errors import X`), so a misspelt
    code fails at import and every code is registered, with its dashboard line and docs row."""
    errors = fresh_import("errors")
    trees = {path: ast.parse(path.read_text(), str(path)) for path in HANDLERS_DIR.rglob("*.py")}
    family = _refusal_classes(trees)
    literals, unregistered, checked = [], [], 0
    for path, tree in trees.items():
        if path.name == "errors.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = 0 if node.func.id in family else 1 if node.func.id == "_rejected" else None
            if position is None or len(node.args) <= position:
                continue
            reason = node.args[position]
            where = f"{path.relative_to(HANDLERS_DIR)}:{node.lineno}"
            if isinstance(reason, ast.Constant):
                literals.append(where)
            elif isinstance(reason, ast.Name) and reason.id.isupper():
                checked += 1
                if getattr(errors, reason.id, None) not in errors.REASONS:
                    unregistered.append(f"{where} {reason.id}")
    assert literals == [] and unregistered == []
    assert checked > 80  # the walk still finds the raise sites


def test_every_registry_name_is_one_reason_spelled_as_its_name() -> None:
    errors = fresh_import("errors")
    names = {name: value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)}
    assert set(names.values()) == set(errors.REASONS) | set(errors.GATEWAY_REASONS) | set(errors.PARKED_REASONS)
    assert all(value == name.lower() for name, value in names.items())
    assert set(errors.REASONS).isdisjoint(errors.GATEWAY_REASONS)
    assert set(errors.PARKED_REASONS).isdisjoint(set(errors.REASONS) | set(errors.GATEWAY_REASONS))


def test_every_parked_reason_is_named_from_the_registry_never_as_a_literal() -> None:
    """The `unrouted_reason`s the door and router store (sources.py, routing.py) are registry names: no
    string literal of a parked reason is left in the handlers (a misspelt one would silently be new)."""
    errors = fresh_import("errors")
    found = []
    for path in HANDLERS_DIR.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in errors.PARKED_REASONS:
                found.append(f"{path.relative_to(HANDLERS_DIR)}:{node.lineno} {node.value}")
    assert found == []


def test_the_docs_table_is_the_registry() -> None:
    from modules.reasons import reasons_markdown

    assert (DOCS / "REASONS.md").read_text(encoding="utf-8") == reasons_markdown()
