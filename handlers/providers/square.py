"""Square: `x-square-hmacsha256-signature` = base64 HMAC-SHA256 over `notification_url + body`.

https://developer.squareup.com/docs/webhooks/step3validate; the official SDK's
`square.utils.webhooks_helper.verify_signature` does the same. The key is the subscription's signature key
as text. The URL is part of the signed text, so it must be the URL registered with Square byte for byte:
`request.url` (the source's `notification_url` option, else this stage's URL of the route).

The older `x-square-signature` header (HMAC-SHA1 over the same text) is not accepted: Square sends the
SHA-256 header on every current delivery, and accepting either would let whoever can forge the weaker
one choose it. A delivery with only the SHA-1 header is refused (`missing_signature_header`).
Nothing signs a time: a captured delivery can be replayed; its signed `event_id` makes it a duplicate.

Events: id `event_id`, type `type`, time `created_at`; the object is `data.object.<data.type>` (the
dispute evidence kinds nest it in `data.object.object`); money is a Square `Money` (`amount` in the
currency's smallest unit, `currency`).

Money facts (`FACTS` and the status tables below; docs/providers/square.md links every row). Square
sends one `*.created` and then a `*.updated` for every change of any field, so the fact is taken from
the object's status, not from the kind: a payment whose `status` is COMPLETED (`total_money`: amount plus
tip, what was captured; never `approved_money`, the authorization), a refund whose `status` is COMPLETED
(its own `amount_money`), a dispute whose `state` is EVIDENCE_REQUIRED or PROCESSING (a chargeback, withdrawn: `opened`; an
inquiry, INQUIRY_*, withdraws nothing and may escalate to either on the same dispute), WON or
LOST/ACCEPTED (`amount_money`, the disputed amount). Square states such a status again in later updates
(a completed payment is updated when its processing fee is known; `refund.created` may already be
COMPLETED and be followed by `refund.updated`), so a delivery that states a money fact gets a stable
event id derived from the object and the outcome, `<object type>:<object id>:<outcome>` (e.g.
`payment:hYy9pRFVxpDsO1FB05SunFWUe9JZY:succeeded`), and its duplicate check hashes the fact itself
(`content`: object, id, outcome, amount, currency), so every later statement of the same fact is a
duplicate (200) and the fact reaches its queue once, in whatever order the deliveries arrive; a later
statement with another amount is a conflict (409, quarantined): a completed amount never changes.
Every other delivery keeps Square's `event_id` and is a lifecycle fact (authorized, pending, failed,
canceled). A completed payment that Square updates because it was refunded (`refunded_money` > 0) is
a lifecycle fact under its own id: the refund is the refund's fact. `object_version`: the object's
integer `version` where Square sends one (disputes), else the event's `created_at` in microseconds
(payments and refunds carry only an opaque `version_token`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import money_facts

import money
from errors import INVALID_SIGNATURE, MALFORMED_SIGNATURE_HEADER, MISSING_SIGNATURE_HEADER
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import microseconds
from webhook_signature import SignatureError

HEADER = "x-square-hmacsha256-signature"
LEGACY_HEADER = "x-square-signature"
# Square's Money.amount is "in the base unit of the currency" (ISO 4217 minor units); the currencies its page
# names are pinned, none differs from ISO (the rows and their link in the file).
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("square")  # provider_exponents/square.json

# Status (payments, refunds) or state (disputes) -> outcome (handlers/money_facts.py). Sources:
# https://developer.squareup.com/reference/square/objects/Payment (`status`),
# https://developer.squareup.com/reference/square/objects/PaymentRefund (`status`),
# https://developer.squareup.com/reference/square/enums/DisputeState.
PAYMENT_STATUS: Mapping[str, str] = {
    "APPROVED": "authorized",
    "PENDING": "pending",
    "COMPLETED": "succeeded",
    "CANCELED": "canceled",
    "FAILED": "failed",
}
REFUND_STATUS: Mapping[str, str] = {
    "PENDING": "pending",
    "COMPLETED": "succeeded",
    "REJECTED": "failed",
    "FAILED": "failed",
}
DISPUTE_STATE: Mapping[str, str] = {
    "INQUIRY_EVIDENCE_REQUIRED": "pending",  # an inquiry: nothing withdrawn
    "INQUIRY_PROCESSING": "pending",
    "INQUIRY_CLOSED": "canceled",
    "EVIDENCE_REQUIRED": "opened",  # a chargeback: the disputed amount is withdrawn
    # A chargeback waiting for the bank: the withdrawal stands. An inquiry can escalate straight to it
    # (no EVIDENCE_REQUIRED on the way), so it states the withdrawal too; after EVIDENCE_REQUIRED the
    # derived id `dispute:<id>:opened` makes it a duplicate, so the withdrawal is booked once either way.
    "PROCESSING": "opened",
    "WON": "won",
    "LOST": "lost",
    "ACCEPTED": "lost",  # the seller accepted the chargeback: the withdrawal stands
}
_STATUS_TABLES: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "payment": ("status", PAYMENT_STATUS),
    "refund": ("status", REFUND_STATUS),
    "dispute": ("state", DISPUTE_STATE),
}
# kind -> (object type, transaction_type, fixed outcome or None: from the object's status table).
FACTS: Mapping[str, tuple[str, str, str | None]] = {
    "payment.created": ("payment", "payment", None),
    "payment.updated": ("payment", "payment", None),
    "refund.created": ("refund", "refund", None),
    "refund.updated": ("refund", "refund", None),
    "dispute.created": ("dispute", "dispute", None),
    "dispute.state.updated": ("dispute", "dispute", None),
    "dispute.state.changed": ("dispute", "dispute", None),  # the deprecated name of dispute.state.updated
    "dispute.evidence.created": ("dispute", "dispute", "pending"),
    "dispute.evidence.deleted": ("dispute", "dispute", "pending"),
    "dispute.evidence.added": ("dispute", "dispute", "pending"),  # deprecated: dispute.evidence.created
    "dispute.evidence.removed": ("dispute", "dispute", "pending"),  # deprecated: dispute.evidence.deleted
}
# The Money field of each object that is this fact's amount.
AMOUNT_FIELDS: Mapping[tuple[str, str], str] = {
    ("payment", "authorized"): "approved_money",  # what was authorized, not captured
}
_DEFAULT_AMOUNT_FIELDS: Mapping[str, str] = {
    "payment": "total_money",
    "refund": "amount_money",
    "dispute": "amount_money",
}
_PARENT_FIELDS: Mapping[str, str] = {"refund": "payment_id", "dispute": "disputed_payment.payment_id"}
DEFAULT_MAPPING: Mapping[str, str] = {kind: row[1] for kind, row in FACTS.items()}
_MAX_VERSION = 2**53 - 1  # what a routed message's object_version may hold (README, "The webhook contract")


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Square signature key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    if not request.headers.get(HEADER) and request.headers.get(LEGACY_HEADER):
        raise SignatureError(
            MISSING_SIGNATURE_HEADER, f"missing header {HEADER} ({LEGACY_HEADER}, HMAC-SHA1, is not accepted)"
        )
    header = common.signature_header(request.headers, HEADER)
    signature = common.decode_base64(header, size=32)
    if signature is None:
        raise SignatureError(MALFORMED_SIGNATURE_HEADER, f"{HEADER} must be a base64 HMAC-SHA256")
    # surrogatepass: a URL that is not valid UTF-8 simply matches nothing, it never raises.
    signed = request.url.encode("utf-8", "surrogatepass") + request.body
    if not common.any_match(keys, signed, [signature]):
        raise SignatureError(
            INVALID_SIGNATURE, "the signature matches no active signature key for this notification URL"
        )


def money_fact(kind: str, obj: Mapping[str, Any]) -> tuple[str, str | None]:
    """(transaction_type, outcome) of one Square event about `obj` (the payment, refund or dispute).

    Unknown kinds: ("other", None), parked. An unknown status of a known kind: `pending` (known, no money).
    """
    row = FACTS.get(kind)
    if row is None:
        return "other", None
    object_type, transaction_type, outcome = row
    if outcome is not None:
        return transaction_type, outcome
    field, table = _STATUS_TABLES[object_type]
    outcome = table.get(str(obj.get(field)), "pending")
    refunded = common.get(obj, "refunded_money.amount")
    if object_type == "payment" and outcome == "succeeded" and type(refunded) is int and refunded > 0:
        return "other", "succeeded"  # Square updating a completed payment because it was refunded
    return transaction_type, outcome


def _object(body: Mapping[str, Any], kind: str) -> tuple[str | None, str, dict[str, Any]]:
    """(object type, its path, the object): `data.object.<type>`, or `data.object.object` (evidence kinds)."""
    row = FACTS.get(kind)
    object_type = row[0] if row else common.get(body, "data.type")
    if not isinstance(object_type, str) or object_type not in _STATUS_TABLES:  # a list here is unhashable
        return None, "", {}
    for path in (f"data.object.{object_type}", "data.object.object"):
        obj = common.get(body, path)
        if isinstance(obj, dict):
            return object_type, path, obj
    return object_type, "", {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    kind = common.event_type(body.get("type"), "type")
    timestamp = common.iso_timestamp(body.get("created_at"), "created_at")
    object_type, path, obj = _object(body, kind)
    transaction_type, outcome = money_fact(kind, obj) if object_type else ("other", None)
    amount, currency = (None, None)
    if object_type is not None:
        name = AMOUNT_FIELDS.get((object_type, outcome or ""), _DEFAULT_AMOUNT_FIELDS[object_type])
        money_value = obj.get(name)
        if not isinstance(money_value, dict) and name != "amount_money":
            name, money_value = "amount_money", obj.get("amount_money")  # objects written before total_money
        if isinstance(money_value, dict):
            field = f"{path}.{name}"
            amount, currency = common.amount_and_currency(
                money_value.get("amount"),
                money_value.get("currency"),
                amount_field=f"{field}.amount",
                currency_field=f"{field}.currency",
            )
    object_id = _text(obj.get("id")) or _text(common.get(body, "data.id"))
    parent = _text(common.get(obj, _PARENT_FIELDS[object_type])) if object_type in _PARENT_FIELDS else None
    version = obj.get("version")
    provider_event_id = common.event_id(body.get("event_id"), "event_id")
    content = None
    if object_type is not None and money_facts.is_money_fact(transaction_type, outcome) and object_id is not None:
        # A money fact: one id per (object, outcome), and the duplicate check hashes the fact (see above).
        provider_event_id = common.joined_id([(object_type, "data.type"), (object_id, "id"), (outcome, "outcome")])
        content = json.dumps(
            {"object": object_type, "id": object_id, "outcome": outcome,
             "amount": None if amount is None else str(amount), "currency": currency},
            sort_keys=True,
        )  # fmt: skip
    return ProviderEvent(
        provider_event_id=provider_event_id,
        provider_event_type=kind,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        fields={"transaction_type": transaction_type},
        content=content,
        outcome=outcome,
        object_id=object_id,
        parent_object_id=parent if parent != object_id else None,
        object_version=version
        if isinstance(version, int) and not isinstance(version, bool) and 0 <= version <= _MAX_VERSION
        else microseconds(timestamp),
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    verify(request, keys)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The type `read` gave the event from `FACTS` and the object's status; anything unmapped is `other`."""
    return event.fields.get("transaction_type", "other")


# Everything about square that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="square",
    signature_header="X-Square-HmacSha256-Signature",
    secret_format="the webhook subscription's signature key, used as text",  # noqa: S106
    secret_help="the subscription's signature key, text (Developer Dashboard → Webhooks → Subscriptions)",  # noqa: S106
    signer="sign_square",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={"notification_url": spec.https_url},
    signs_url=True,
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
