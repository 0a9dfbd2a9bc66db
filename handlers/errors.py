"""One error family for the request path, and the one registry of its reason codes.

Every refusal the validator answers is a `PipelineError`: a stable `reason` (a public contract: it is
the `error` of the response body and the `Rejected_<reason>` metric, so spellings never change), a
`message` for people, the `field` it names when there is one, and its HTTP `status`. The classes raised
where the problem is found keep their names and modules (`webhook_signature.SignatureError`,
`webhook_event.InvalidEventError`, `strict_json.JsonDecodeError`, `canonical_event.NotStorableError`,
`routed_message.UndeliverableMessageError`) and now share this base.

`REASONS` maps every reason code to its status, in the order the dashboard draws them; each code is
also a module constant spelled as its name (`INVALID_SIGNATURE = "invalid_signature"`). The handlers
raise with those names, never a literal (tests/handlers/test_errors.py walks their syntax trees), and the
dashboard, API Gateway's own responses and docs/REASONS.md read this file (modules/reasons.py).

Order of checks, for every verifier (Standard Webhooks on `POST /webhook`, and every provider through
`providers/common.py`): the signature headers' shape (401 `missing_*`/`malformed_*`/`oversized_*`),
then the signature over the signed text (401 `invalid_signature`), then the freshness of the signed
timestamp (401 `timestamp_too_old`/`timestamp_in_future`): a forged timestamp is an invalid signature,
never a stale one, and a stale answer is only ever given to a holder of the key. Only after the
signature matched is the body read (400/413, kept in the quarantine: handlers/quarantine.py).
"""

from __future__ import annotations

from collections.abc import Mapping

# The reason codes, one name each: handlers raise with these names (never a string literal:
# tests/handlers/test_errors.py), and the dashboard (modules/reasons.py) and docs/REASONS.md read them.
# Spellings are a public contract (response bodies' `error`, `Rejected_<reason>` metric names).
# signatures (webhook_signature.py, providers/)
MISSING_SIGNATURE_HEADERS = "missing_signature_headers"
MISSING_SIGNATURE_HEADER = "missing_signature_header"
MISSING_SIGNATURE = "missing_signature"
MALFORMED_SIGNATURE = "malformed_signature"
MALFORMED_SIGNATURE_HEADER = "malformed_signature_header"
MALFORMED_SIGNATURE_HEADERS = "malformed_signature_headers"
OVERSIZED_SIGNATURE_HEADER = "oversized_signature_header"
NO_SIGNATURE = "no_signature"
MALFORMED_WEBHOOK_ID = "malformed_webhook_id"
MALFORMED_TIMESTAMP = "malformed_timestamp"
TIMESTAMP_TOO_OLD = "timestamp_too_old"
TIMESTAMP_IN_FUTURE = "timestamp_in_future"
INVALID_SIGNATURE = "invalid_signature"
UNKNOWN_PUBLIC_KEY = "unknown_public_key"
NOT_CONFIGURED = "not_configured"
MALFORMED_NOTIFICATION = "malformed_notification"
MALFORMED_FORM = "malformed_form"
# decoding and admission (strict_json.py, webhook_event.py, routed_message.py, canonical_event.py)
MALFORMED_BODY = "malformed_body"
INVALID_UTF8 = "invalid_utf8"
BYTE_ORDER_MARK = "byte_order_mark"
MALFORMED_JSON = "malformed_json"
DUPLICATE_KEY = "duplicate_key"
LONE_SURROGATE = "lone_surrogate"
TOO_DEEP = "too_deep"
NUMBER_OUT_OF_RANGE = "number_out_of_range"
SCHEMA_VIOLATION = "schema_violation"
PAYLOAD_TOO_LARGE = "payload_too_large"
MESSAGE_TOO_LARGE = "message_too_large"
ITEM_TOO_LARGE = "item_too_large"
INVALID_ATTRIBUTE = "invalid_attribute"
# provider bodies (providers/)
NOT_PROVIDER_SHAPE = "not_provider_shape"
NOT_AN_OBJECT = "not_an_object"
NO_EVENTS = "no_events"
INVALID_EVENT_ID = "invalid_event_id"
INVALID_EVENT_TYPE = "invalid_event_type"
INVALID_TIMESTAMP = "invalid_timestamp"
INVALID_AMOUNT = "invalid_amount"
INVALID_CURRENCY = "invalid_currency"
MISSING_CURRENCY = "missing_currency"
INVALID_FIELD = "invalid_field"
MALFORMED_PAYLOAD = "malformed_payload"
XML_DOCTYPE = "xml_doctype"
# routing of the request and event identity (validator.py)
UNKNOWN_SOURCE = "unknown_source"
RESERVED_EVENT_ID = "reserved_event_id"
# amounts fetched from the provider's API (enrichment.py)
AMOUNT_NOT_FOUND = "amount_not_found"

# Parked, not refused (sources.py, routing.py): the signed event is stored (202) and its routed message goes
# to unrouted-events with `unrouted_reason` (alarmed), so `replay` can route it after a fix. A 4xx would
# make the provider retry a delivery it will never change. Each names what the money fact lacks.
UNKNOWN_OUTCOME = "unknown_outcome"
MISSING_OUTCOME = "missing_outcome"
UNKNOWN_CURRENCY_EXPONENT = "unknown_currency_exponent"
MISSING_AMOUNT = "missing_amount"
MISSING_OBJECT_ID = "missing_object_id"
UNMAPPED_TRANSACTION_TYPE = "unmapped_transaction_type"
# reason -> what it means, for docs/REASONS.md.
PARKED_REASONS: Mapping[str, str] = {
    UNKNOWN_OUTCOME: "a mapped kind states an outcome outside the vocabulary and its type_map entry sets none",
    MISSING_OUTCOME: "a standard-webhooks source sets outcome_field, and this mapped kind's value there is null or absent",
    UNKNOWN_CURRENCY_EXPONENT: "an amount whose currency has no exponent the provider or ISO 4217 documents (or none)",
    MISSING_AMOUNT: "a money fact without an amount (money moved, how much is unknown); GoCardless excepted",
    MISSING_OBJECT_ID: "a money fact without an object_id, or (POST /webhook) with a blank one: no letter, digit, "
    "punctuation or symbol (consumers dedupe and order by it)",
    UNMAPPED_TRANSACTION_TYPE: "a kind nothing maps (type other, no outcome); on POST /webhook also payment, refund "
    "or dispute in another case (PAYMENT, Refund), with or without an outcome",
}

# API Gateway's own answers (modules/api.py gateway responses): no Lambda runs, no metric is counted.
INVALID_BODY = "invalid_body"
GATEWAY_REASONS: Mapping[str, int] = {INVALID_BODY: 400}

# reason -> HTTP status, in the order the dashboard draws them.
REASONS: Mapping[str, int] = {
    # signatures (webhook_signature.py, providers/)
    MISSING_SIGNATURE_HEADERS: 401,
    MISSING_SIGNATURE_HEADER: 401,
    MISSING_SIGNATURE: 401,
    MALFORMED_SIGNATURE: 401,
    MALFORMED_SIGNATURE_HEADER: 401,
    MALFORMED_SIGNATURE_HEADERS: 401,
    OVERSIZED_SIGNATURE_HEADER: 401,
    NO_SIGNATURE: 401,
    MALFORMED_WEBHOOK_ID: 401,
    MALFORMED_TIMESTAMP: 401,
    TIMESTAMP_TOO_OLD: 401,
    TIMESTAMP_IN_FUTURE: 401,
    INVALID_SIGNATURE: 401,
    UNKNOWN_PUBLIC_KEY: 401,
    NOT_CONFIGURED: 401,
    MALFORMED_NOTIFICATION: 401,
    MALFORMED_FORM: 401,
    # decoding and admission (strict_json.py, webhook_event.py, routed_message.py, canonical_event.py)
    MALFORMED_BODY: 400,
    INVALID_UTF8: 400,
    BYTE_ORDER_MARK: 400,
    MALFORMED_JSON: 400,
    DUPLICATE_KEY: 400,
    LONE_SURROGATE: 400,
    TOO_DEEP: 400,
    NUMBER_OUT_OF_RANGE: 400,
    SCHEMA_VIOLATION: 400,
    PAYLOAD_TOO_LARGE: 413,
    MESSAGE_TOO_LARGE: 413,
    ITEM_TOO_LARGE: 413,
    INVALID_ATTRIBUTE: 400,
    # provider bodies (providers/)
    NOT_PROVIDER_SHAPE: 400,
    NOT_AN_OBJECT: 400,
    NO_EVENTS: 400,
    INVALID_EVENT_ID: 400,
    INVALID_EVENT_TYPE: 400,
    INVALID_TIMESTAMP: 400,
    INVALID_AMOUNT: 400,
    INVALID_CURRENCY: 400,
    MISSING_CURRENCY: 400,
    INVALID_FIELD: 400,
    MALFORMED_PAYLOAD: 400,
    XML_DOCTYPE: 400,
    # routing of the request and event identity (validator.py)
    UNKNOWN_SOURCE: 404,
    RESERVED_EVENT_ID: 400,
    # amounts fetched from the provider's API (enrichment.py): the API does not know the linked object
    AMOUNT_NOT_FOUND: 422,
}


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
