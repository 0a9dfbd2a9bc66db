"""One error family for the request path, and the one registry of its reason codes.

Every refusal the validator answers is a `PipelineError`: a stable `reason` (a public contract: it is
the `error` of the response body and the `Rejected_<reason>` metric, so spellings never change), a
`message` for people, the `field` it names when there is one, and its HTTP `status`. The classes raised
where the problem is found keep their names and modules (`webhook_signature.SignatureError`,
`webhook_event.InvalidEventError`, `strict_json.JsonDecodeError`, `canonical_event.NotStorableError`,
`routed_message.UndeliverableMessageError`) and now share this base.

`REASONS` maps every reason code to its status, in the order the dashboard draws them
(`modules/dashboard_body.py` reads it from this file; tests/handlers/test_dashboard_metrics.py checks
that every code the handlers raise is registered).

Order of checks, for every verifier (Standard Webhooks on `POST /webhook`, and every provider through
`providers/common.py`): the signature headers' shape (401 `missing_*`/`malformed_*`/`oversized_*`),
then the signature over the signed text (401 `invalid_signature`), then the freshness of the signed
timestamp (401 `timestamp_too_old`/`timestamp_in_future`): a forged timestamp is an invalid signature,
never a stale one, and a stale answer is only ever given to a holder of the key. Only after the
signature matched is the body read (400/413, kept in the quarantine: handlers/quarantine.py).
"""

from __future__ import annotations

from collections.abc import Mapping

# reason -> HTTP status. Grouped as the dashboard groups them.
REASONS: Mapping[str, int] = {
    # signatures (webhook_signature.py, providers/)
    **dict.fromkeys(
        ("missing_signature_headers", "missing_signature_header", "missing_signature", "malformed_signature",
         "malformed_signature_header", "malformed_signature_headers", "oversized_signature_header", "no_signature",
         "malformed_webhook_id", "malformed_timestamp", "timestamp_too_old", "timestamp_in_future",
         "invalid_signature", "unknown_public_key", "not_configured", "malformed_notification", "malformed_form"),
        401,
    ),
    # decoding and admission (strict_json.py, webhook_event.py, routed_message.py, canonical_event.py)
    **dict.fromkeys(
        ("malformed_body", "invalid_utf8", "byte_order_mark", "malformed_json", "duplicate_key", "lone_surrogate",
         "too_deep", "number_out_of_range", "schema_violation"),
        400,
    ),
    **dict.fromkeys(("payload_too_large", "message_too_large", "item_too_large"), 413),
    "invalid_attribute": 400,
    # provider bodies (providers/)
    **dict.fromkeys(
        ("not_provider_shape", "not_an_object", "no_events", "invalid_event_id", "invalid_event_type",
         "invalid_timestamp", "invalid_amount", "invalid_currency", "missing_currency", "invalid_field",
         "malformed_payload", "xml_doctype"),
        400,
    ),
    # routing of the request and event identity (validator.py)
    "unknown_source": 404,
    "reserved_event_id": 400,
}  # fmt: skip


class PipelineError(Exception):
    """A refusal: `reason` (registered in `REASONS`), `message`, optional `field`, and its HTTP `status`."""

    def __init__(self, reason: str, message: str, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field
        self.status = status if status is not None else REASONS.get(reason, 400)


def status_of(reason: str) -> int:
    """The HTTP status of a registered reason (400 for an unregistered one: a test keeps that empty)."""
    return REASONS.get(reason, 400)
