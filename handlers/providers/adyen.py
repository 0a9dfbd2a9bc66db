"""Adyen Standard notifications (JSON): an HMAC-SHA256 signature per notification item.

Each `NotificationRequestItem` carries `additionalData.hmacSignature`: base64 HMAC-SHA256, keyed with the
hex HMAC key from the Customer Area decoded to bytes, over the item's values joined with `:`::

    pspReference:originalReference:merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success

An absent value is the empty string (e.g. `originalReference` of an AUTHORISATION); values are not escaped
(the `\\`/`:` escaping of Adyen's old Hosted Payment Pages signature does not apply to notifications), so
a `:` inside a value shifts the boundaries the signature fixes: every signed value but `merchantReference`
must be free of `:` (400 otherwise, see `_check_signed_boundaries`), and the event id
`<pspReference>:<eventCode>:<success>` is then a function of the signed string alone.
Every item of a delivery is verified before anything is read: one failing item refuses the whole
delivery (Adyen's own Python `is_valid_hmac_notification`, given a batch, checks only the first item).

Not signed, so never trusted: `eventDate` (stored as the event time, not used for freshness), `live`,
`reason`, `paymentMethod`, `operations` and the rest of `additionalData`. There is no signed timestamp:
a captured item can be replayed, and deduplication on the event id is the defence (Adyen retries for up
to 30 days, so stored ids must outlive that).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

import money
from canonical_json import canonical_text, dumps
from errors import (
    INVALID_AMOUNT,
    INVALID_FIELD,
    INVALID_SIGNATURE,
    MALFORMED_NOTIFICATION,
    MALFORMED_SIGNATURE,
    MISSING_SIGNATURE,
)
from providers import ProviderEvent, WebhookRequest, common, spec
from webhook_event import InvalidEventError
from webhook_signature import SignatureError

# `capture`: "automatic" (Adyen's default, payments captured right after authorisation: a successful
# AUTHORISATION is the payment's money fact) or "manual" (manual or delayed capture, CAPTURE webhooks
# enabled: each successful CAPTURE is one, with its own captured amount). Either way one kind counts.
CAPTURE_MODES = ("automatic", "manual")


def _capture_mode(value: object) -> str | None:
    """The `capture` option's check (synth): one of `CAPTURE_MODES`."""
    return None if value in CAPTURE_MODES else "must be 'automatic' (Adyen's default) or 'manual'"


# Where Adyen's minor units differ from ISO 4217 (ISK 2, CLP 2, CVE 0), each row with its source link.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("adyen")  # provider_exponents/adyen.json

_HEX_KEY = re.compile(r"(?:[0-9A-Fa-f]{2}){16,}")
_SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")
# eventCode -> (transaction_type, outcome when success is "true", outcome when "false"); docs/providers/adyen.md
# has every row with its Adyen doc link (https://docs.adyen.com/development-resources/webhooks/webhook-types).
# The object is the item's pspReference (the payment's for AUTHORISATION and disputes, the modification's
# for captures and refunds); the parent is `originalReference` (the payment), when there is one.
EVENT_CODES: Mapping[str, tuple[str, str, str]] = {
    "AUTHORISATION": ("payment", "succeeded", "failed"),  # "authorized" with capture: manual
    "CAPTURE": ("payment", "succeeded", "failed"),  # other (lifecycle) with capture: automatic
    "CAPTURE_FAILED": ("payment", "reversed", "failed"),  # the scheme rejected a capture that had succeeded
    "CANCELLATION": ("payment", "canceled", "failed"),
    "TECHNICAL_CANCEL": ("payment", "canceled", "failed"),
    "OFFER_CLOSED": ("payment", "canceled", "failed"),
    "PENDING": ("payment", "pending", "failed"),
    "AUTHORISATION_ADJUSTMENT": ("payment", "authorized", "failed"),
    "MANUAL_REVIEW_ACCEPT": ("payment", "pending", "failed"),
    "MANUAL_REVIEW_REJECT": ("payment", "canceled", "failed"),
    "REFUND": ("refund", "succeeded", "failed"),
    "REFUND_WITH_DATA": ("refund", "succeeded", "failed"),
    "REFUND_FAILED": ("refund", "reversed", "failed"),  # a refund that had succeeded came back
    "REFUNDED_REVERSED": ("refund", "reversed", "failed"),
    "VOID_PENDING_REFUND": ("refund", "canceled", "failed"),
    "CANCEL_OR_REFUND": ("refund", "succeeded", "failed"),  # a cancel when modification.action is "cancel"
    "CHARGEBACK": ("dispute", "opened", "failed"),
    "SECOND_CHARGEBACK": ("dispute", "opened", "failed"),
    "CHARGEBACK_REVERSED": ("dispute", "won", "failed"),
    "PREARBITRATION_WON": ("dispute", "won", "failed"),
    "PREARBITRATION_LOST": ("dispute", "lost", "failed"),
    "NOTIFICATION_OF_CHARGEBACK": ("dispute", "pending", "failed"),
    "REQUEST_FOR_INFORMATION": ("dispute", "pending", "failed"),
    "NOTIFICATION_OF_FRAUD": ("dispute", "pending", "failed"),
    "DISPUTE_DEFENSE_PERIOD_ENDED": ("dispute", "pending", "failed"),
    "INFORMATION_SUPPLIED": ("dispute", "pending", "failed"),
    "ISSUER_RESPONSE_TIMEFRAME_EXPIRED": ("dispute", "pending", "failed"),
    "ISSUER_COMMENTS": ("dispute", "pending", "failed"),
}


def money_fact(
    code: str, success: str, capture: str = "automatic", action: str | None = None
) -> tuple[str, str | None]:
    """(transaction_type, outcome) of one notification item; unknown codes: ("other", None).

    `action` is `additionalData.modification.action` of CANCEL_OR_REFUND ("refund" or "cancel"; not signed
    by the HMAC, like all of additionalData).
    """
    row = EVENT_CODES.get(code)
    if row is None:
        return "other", None
    transaction_type, when_true, when_false = row
    outcome = when_true if success == "true" else when_false
    if code == "AUTHORISATION" and capture == "manual" and success == "true":
        return "payment", "authorized"
    if code == "CAPTURE" and capture == "automatic" and success == "true":
        return "other", "succeeded"  # the AUTHORISATION carried it
    if code == "CANCEL_OR_REFUND" and action == "cancel":
        return "payment", "canceled" if success == "true" else "failed"
    return transaction_type, outcome


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """The hex HMAC key -> key bytes. Raises ValueError for anything that is not an even-length hex string."""
    text = text.strip()
    if not _HEX_KEY.fullmatch(text):
        raise ValueError("an Adyen HMAC key is a hex string of at least 32 characters")
    common.strong_enough(text, rule="an Adyen HMAC key is 64 generated hex digits", minimum=32)
    return bytes.fromhex(text)


def _signed_value(item: Mapping[str, Any], name: str) -> str:
    """One value of the signed string as Adyen writes it: absent or null -> ""; strings and integers as is."""
    if name in ("value", "currency"):
        amount = item.get("amount")
        value = amount.get(name) if isinstance(amount, dict) else None
    else:
        value = item.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise SignatureError(MALFORMED_NOTIFICATION, f"signed field {name} is neither a string nor an integer")


def signing_string(item: Mapping[str, Any]) -> str:
    """The text Adyen signs for one notification item."""
    names = (*_SIGNED_FIELDS, "value", "currency", "eventCode", "success")
    return ":".join(_signed_value(item, name) for name in names)


def _items(document: Any) -> list[dict[str, Any]]:
    """The `NotificationRequestItem`s of a delivery; a delivery without them carries no signature (401)."""
    entries = document.get("notificationItems") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SignatureError(MISSING_SIGNATURE, "body holds no notificationItems to verify")
    items = []
    for entry in entries:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            raise SignatureError(MALFORMED_NOTIFICATION, "a notificationItems entry has no NotificationRequestItem")
        items.append(item)
    return items


def _signature(item: Mapping[str, Any]) -> bytes:
    additional = item.get("additionalData")
    encoded = additional.get("hmacSignature") if isinstance(additional, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise SignatureError(MISSING_SIGNATURE, "a notification item has no additionalData.hmacSignature")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(MALFORMED_SIGNATURE, "additionalData.hmacSignature is not base64") from None


def _verify(item: Mapping[str, Any], keys: Sequence[bytes]) -> bool:
    candidate = _signature(item)
    message = signing_string(item).encode("utf-8")
    return common.any_match(keys, message, [candidate])


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify every item of the delivery, then read one event per item."""
    document = common.parse_json(request.text)
    items = _items(document)
    # Every item is checked (no short-circuit), then the delivery is refused whole if any failed.
    results = [_verify(item, keys) for item in items]
    if not all(results):
        failed = results.index(False)
        raise SignatureError(INVALID_SIGNATURE, f"notification item {failed} is not signed by an active HMAC key")
    capture = options.get("capture", "automatic")
    return [_event(item, index, capture) for index, item in enumerate(items)]


def _event(item: Mapping[str, Any], index: int, capture: str = "automatic") -> ProviderEvent:
    prefix = f"notificationItems[{index}].NotificationRequestItem"
    _check_signed_boundaries(item, prefix)
    code = common.event_type(item.get("eventCode"), f"{prefix}.eventCode")
    success = item.get("success")
    if success not in ("true", "false"):
        raise InvalidEventError(INVALID_FIELD, f'{prefix}.success must be "true" or "false"', f"{prefix}.success")
    provider_event_id = common.joined_id(
        [(item.get("pspReference"), f"{prefix}.pspReference"), (code, f"{prefix}.eventCode"),
         (success, f"{prefix}.success")]
    )  # fmt: skip
    psp_reference = item.get("pspReference")
    amount = item.get("amount")
    value = unit = code_currency = None
    if amount is not None:
        if not isinstance(amount, dict):
            raise InvalidEventError(INVALID_AMOUNT, f"{prefix}.amount must be an object", f"{prefix}.amount")
        value = common.minor_amount(amount.get("value"), f"{prefix}.amount.value")
        code_currency = common.currency(amount.get("currency"), f"{prefix}.amount.currency")
        unit = "minor"
    additional = item.get("additionalData")
    action = additional.get("modification.action") if isinstance(additional, dict) else None
    transaction_type, outcome = money_fact(code, success, capture, action if isinstance(action, str) else None)
    timestamp = common.iso_timestamp(item.get("eventDate"), f"{prefix}.eventDate")
    original = item.get("originalReference")
    original = original if isinstance(original, str) and original else None
    object_id, parent = psp_reference, original
    if code == "CAPTURE_FAILED" and capture == "automatic" and original is not None:
        # With automatic capture the payment's money fact is its AUTHORISATION, on the payment's
        # pspReference; the capture that failed is the payment's own reversal, so it is a fact about the
        # payment: one object, whose latest state (reversed) a consumer keeps, whatever the order.
        object_id, parent = original, None
    return ProviderEvent(
        provider_event_id=provider_event_id,
        provider_event_type=code,
        timestamp=timestamp,
        # The item's own JSON, written canonically (compact, sorted keys, exact decimals, non-ASCII values
        # kept): Adyen signs values, not bytes, so no byte range of the delivery is "the signed text".
        payload=dumps(item, ascii_keys=False, parsed=True),
        amount=value,
        amount_unit=unit,
        currency=code_currency,
        fields={"success": success, "transaction_type": transaction_type},
        content=canonical_text(_unsigned(item)),
        outcome=outcome,
        object_id=object_id,
        parent_object_id=parent,
        # Adyen items carry no version: eventDate (not signed) in microseconds since the epoch.
        object_version=int(timestamp.timestamp() * 1_000_000),
    )


def _check_signed_boundaries(item: Mapping[str, Any], prefix: str) -> None:
    """Refuse (400, naming the field) a `:` in any signed value but `merchantReference`.

    Adyen joins the signed values with `:` and escapes nothing, so a `:` inside one of them lets a captured
    item be re-split into other values under the same valid signature (`merchantReference` `order:42` ->
    `pspReference` `PSP:` ...), and our id would change with them. With every other value free of `:` the
    signed string splits one way only: three values from the left, four from the right (the amount and
    currency are checked by their own patterns, `success` is `true`/`false`), and `merchantReference` is
    what lies between, colons included, so it may keep them. Adyen's own values never hold `:`
    (pspReference: 16 alphanumerics; merchant account codes: letters, digits, `_`; event codes: upper
    case and `_`).
    """
    for name in ("pspReference", "originalReference", "merchantAccountCode", "eventCode"):
        value = item.get(name)
        if isinstance(value, str) and ":" in value:
            field = f"{prefix}.{name}"
            raise InvalidEventError(INVALID_FIELD, f"{field} must not hold ':' (it shifts the signed fields)", field)


def _unsigned(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item without its `additionalData.hmacSignature` (what a re-signed retry changes)."""
    additional = item.get("additionalData")
    if not isinstance(additional, dict):
        return dict(item)
    return {**item, "additionalData": {k: v for k, v in additional.items() if k != "hmacSignature"}}


def default_transaction_type(event: ProviderEvent) -> str:
    """The type `money_fact` gave the item when it was read (`EVENT_CODES`); unknown codes are `other`."""
    return event.fields.get("transaction_type", "other")


# Everything about adyen that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="adyen",
    signature_header=None,
    secret_format="the HMAC key of the webhook, as the hex string the Customer Area shows",  # noqa: S106
    secret_help="the HMAC key, 64 hex digits (Customer Area → Developers → Webhooks → webhook → HMAC key)",  # noqa: S106
    signer="sign_adyen",
    secret_shape="hex64_upper",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={"capture": _capture_mode},
    signed_in_body=True,
    # Adyen docs, "Webhook retries": up to 30 days. Stored ids must outlive it, or a late retry of an
    # already-stored event would be stored again.
    retry_horizon_days=30,
    # Adyen's notification webhooks expect this body to count a delivery as accepted (Adyen docs,
    # "Accept webhooks").
    ack_body="[accepted]",
    secret_lookalike=(r"[0-9A-Fa-f]{64}", "an Adyen HMAC key (64 hex digits)"),
    facts=EVENT_CODES,
)
