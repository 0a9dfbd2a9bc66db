"""One error family (handlers/errors.py): every refusal class shares `PipelineError` and takes its status
from the one registry; one order of checks for every verifier (signature, then freshness)."""

from __future__ import annotations

import importlib
import time
from types import ModuleType

from tests.handlers.helpers import ROTATED_SECRET, FakeContext, fresh_import, make_event, payment


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
