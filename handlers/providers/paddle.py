"""Paddle Billing: `Paddle-Signature: ts=<ts>;h1=<hex>[;h1=<hex>...]`, HMAC-SHA256 over `"{ts}:{body}"`.

The key is the notification destination's secret key (`pdl_ntfset_...`) as text
(https://developer.paddle.com/webhooks/about/signature-verification). Several `h1` appear while a secret
is being rotated. The signed `ts` must lie within `tolerance_seconds` of now, in both directions.

Tolerance: default 300 s, not the 5 s of Paddle's SDKs. The window only bounds how long a captured
delivery can be replayed, and a replay inside it carries the same signed `event_id`, so it is stored
once (a duplicate, 200) whatever the window. 5 s, by contrast, refuses authentic deliveries for
ordinary reasons: a Lambda cold start plus the Secrets Manager read, API Gateway latency, clock skew,
and possibly retries that keep the first attempt's `ts`. Set `tolerance_seconds: 5` on the source to
match the SDKs exactly.

Events: id `event_id`, type `event_type`, time `occurred_at` (RFC 3339, microseconds). Amounts are strings
in the currency's lowest denomination: `transaction.*` -> `data.details.totals.grand_total` (the total
after discounts, tax and credits: what the customer is charged), `adjustment.*` -> `data.totals.total`
(the adjustment's own total including tax, never the transaction's); currency `data.currency_code`.

Money facts (`TRANSACTION_FACTS`, `ADJUSTMENT_FACTS`; docs/providers/paddle.md links each row): a payment
by `transaction.completed` (`transaction.paid` comes first for the same payment and is a known fact that
moves no money); a refund, chargeback or chargeback reversal by the adjustment event whose `status` is
`approved` (refunds are created `pending_approval` and approved by `adjustment.updated`; chargebacks are
created approved), `reversed` turning an approved refund back. A chargeback reversal is booked once, by
the approved `chargeback_reverse` adjustment; the original chargeback's status turning `reversed` is
the same reversal stated again and a lifecycle fact (`STATUS_FACTS`), and so is a `chargeback_reverse`
turning `reversed` (a re-debit is a new `chargeback` adjustment). Paddle's `adjustment.updated` changes only
`status`, so each adjustment is approved once. Credits, chargeback warnings, other transaction statuses
and subscription events are known facts that move no money. Objects: the transaction (`txn_...`), the
adjustment (`adj_...`, parent its `transaction_id`), the subscription (`sub_...`). Paddle objects carry no
version: `object_version` is `occurred_at` in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import money
from canonical_json import canonical_text
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import Fact, microseconds
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

DEFAULT_TOLERANCE_SECONDS = 300
HEADER = "paddle-signature"
SCHEME = "h1"
# Paddle writes amounts in the lowest denomination of the currency as ISO 4217 defines it
# (https://developer.paddle.com/concepts/sell/supported-currencies): no override.
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("paddle")  # provider_exponents/paddle.json

_TRANSACTION = Fact("payment", None, "details.totals.grand_total", "id")
# transaction.<status> -> (type, outcome) (https://developer.paddle.com/webhooks/transactions).
TRANSACTION_FACTS: Mapping[str, tuple[str, str]] = {
    "transaction.completed": ("payment", "succeeded"),
    "transaction.paid": ("other", "succeeded"),  # the same payment as transaction.completed
    "transaction.created": ("payment", "pending"),
    "transaction.ready": ("payment", "pending"),
    "transaction.billed": ("payment", "pending"),
    "transaction.updated": ("payment", "pending"),
    "transaction.past_due": ("payment", "pending"),  # Paddle retries the collection
    "transaction.payment_failed": ("payment", "failed"),
    "transaction.canceled": ("payment", "canceled"),
}
_ADJUSTMENT_TYPES = frozenset({"adjustment.created", "adjustment.updated"})
# adjustment `action` -> (type, outcome per adjustment `status`)
# (https://developer.paddle.com/api-reference/adjustments/overview, https://developer.paddle.com/webhooks/adjustments).
_MONEY_STATUS = {"approved": "succeeded", "pending_approval": "pending", "rejected": "failed", "reversed": "reversed"}
ADJUSTMENT_FACTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "refund": ("refund", _MONEY_STATUS),
    "chargeback": ("dispute", {"approved": "opened", "pending_approval": "pending", "rejected": "failed"}),
    "chargeback_reverse": ("dispute", {"approved": "reversed", "pending_approval": "pending", "rejected": "failed"}),
    "chargeback_warning": ("dispute", {}),  # an early fraud warning: always pending, nothing withdrawn
    "credit": ("other", _MONEY_STATUS),  # credit to the customer's balance: no money moves
    "credit_reverse": ("other", _MONEY_STATUS),
}  # fmt: skip
# (action, status) -> (type, outcome) that override the table above. A chargeback turns `reversed` only
# because Paddle created a `chargeback_reverse` adjustment for it ("Set by Paddle when a chargeback_reverse
# or credit_reverse adjustment is created for this adjustment": Adjustment status enum,
# https://developer.paddle.com/api-reference/adjustments/overview). That adjustment, once `approved`, is
# the one money carrier of the reversal; the status change on the original chargeback is the same
# reversal stated again: a known lifecycle fact (`other`, `reversed`), never a second credit (RT-1). The same
# holds for a `chargeback_reverse` turning `reversed` (R2-6): Paddle documents no way to it but a new
# reversing adjustment, and money that moves again (the issuer re-debits) arrives as its own `chargeback`
# adjustment, approved -> dispute `opened`; booking the status change too would debit it twice. A refund
# turning `reversed` stays money (refund `reversed`): the reversing adjustments Paddle names reverse
# chargebacks and credits, never refunds, so no other event carries that money. Credits move no money
# whatever their status (`other`).
STATUS_FACTS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("chargeback", "reversed"): ("other", "reversed"),
    ("chargeback_reverse", "reversed"): ("other", "reversed"),
}
_DISPUTE_ACTIONS = frozenset({"chargeback", "chargeback_reverse", "chargeback_warning"})
_ADJUSTMENT = Fact("other", None, "totals.total", "id", "transaction_id")
# subscription.<status> -> outcome; subscriptions are bookkeeping: their charges are transactions.
SUBSCRIPTION_OUTCOMES: Mapping[str, str] = {
    "subscription.created": "pending",
    "subscription.imported": "pending",
    "subscription.trialing": "pending",
    "subscription.activated": "pending",
    "subscription.updated": "pending",
    "subscription.paused": "pending",
    "subscription.resumed": "pending",
    "subscription.past_due": "pending",
    "subscription.canceled": "canceled",
}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Paddle secret key is 16 or more generated characters")


def verify(request: WebhookRequest, keys: Sequence[bytes], *, now: int, tolerance_seconds: int) -> None:
    """Raise `SignatureError` unless an `h1` signature of the header matches a key, with a fresh `ts`."""
    common.verify_timestamped(
        request.headers,
        request.body,
        keys,
        now=now,
        tolerance_seconds=tolerance_seconds,
        header=HEADER,
        separator=";",
        timestamp_name="ts",
        scheme=SCHEME,
        joiner=b":",
        key_name="secret key",
    )


def money_fact(event_type: str, data: Mapping[str, Any]) -> tuple[str, str | None]:
    """(transaction_type, outcome) of one Paddle event (tables above); unknown kinds: ("other", None)."""
    if event_type in TRANSACTION_FACTS:
        return TRANSACTION_FACTS[event_type]
    if event_type in _ADJUSTMENT_TYPES:
        action = data.get("action")
        if not isinstance(action, str) or action not in ADJUSTMENT_FACTS:
            return "other", None
        status = str(data.get("status"))
        if (action, status) in STATUS_FACTS:
            return STATUS_FACTS[(action, status)]
        transaction_type, outcomes = ADJUSTMENT_FACTS[action]
        return transaction_type, outcomes.get(status, "pending")
    if event_type in SUBSCRIPTION_OUTCOMES:
        return "other", SUBSCRIPTION_OUTCOMES[event_type]
    return "other", None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    event_type = common.event_type(body.get("event_type"), "event_type")
    timestamp = common.iso_timestamp(body.get("occurred_at"), "occurred_at")
    data = body.get("data")
    data = data if isinstance(data, dict) else {}
    transaction_type, outcome = money_fact(event_type, data)
    amount, currency, fields = None, None, {"transaction_type": transaction_type}
    row = _TRANSACTION if event_type.startswith("transaction.") else _ADJUSTMENT
    parent = None
    if event_type.startswith(("transaction.", "adjustment.")):
        amount, currency = common.amount_and_currency(
            common.get(data, row.amount),
            data.get("currency_code"),
            amount_field=f"data.{row.amount}",
            currency_field="data.currency_code",
            as_text=True,
        )
        parent = _text(data.get(row.parent_id)) if row.parent_id else None
        action = data.get("action")
        if isinstance(action, str):
            fields["action"] = action
    object_id = _text(data.get("id"))
    action = data.get("action")
    if event_type in _ADJUSTMENT_TYPES and isinstance(action, str) and action in _DISPUTE_ACTIONS and parent:
        # Paddle has no dispute object: a chargeback and its reversal are two adjustments with their own
        # ids, linked only by the transaction. The dispute is therefore named by its transaction, so the
        # reversal is a later state of the same dispute (a consumer keeping each object's latest state
        # sees opened -> reversed), not a reversal of nothing on a new object.
        object_id = parent
    return ProviderEvent(
        provider_event_id=common.event_id(body.get("event_id"), "event_id"),
        provider_event_type=event_type,
        timestamp=timestamp,
        payload=request.text,
        # A replay or a second notification destination re-delivers the event under a new
        # `notification_id` (https://developer.paddle.com/api-reference/notifications/replay-notification.md,
        # https://developer.paddle.com/api-reference/notifications.md): the
        # duplicate check hashes the event without it, so the re-delivery is `200 duplicate`, not a 409.
        content=canonical_text({k: v for k, v in body.items() if k != "notification_id"})
        if "notification_id" in body
        else None,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
        fields=fields,
        outcome=outcome,
        object_id=object_id,
        parent_object_id=parent,
        object_version=microseconds(timestamp),
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    tolerance_seconds = common.tolerance(options, DEFAULT_TOLERANCE_SECONDS)
    verify(request, keys, now=now, tolerance_seconds=tolerance_seconds)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The type `read` found in the tables above (`fields["transaction_type"]`); else `other`."""
    return event.fields.get("transaction_type", "other")


# Everything about paddle that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="paddle",
    signature_header="Paddle-Signature",
    secret_format="the notification destination's secret key (pdl_ntfset_...), used as text",  # noqa: S106
    secret_help="the notification destination's secret key, `pdl_ntfset_…`, text (Developer Tools → Notifications)",  # noqa: S106
    signer="sign_paddle",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={"tolerance_seconds": spec.tolerance_seconds},
    secret_lookalike=(r"pdl_ntfset_\S+", "a Paddle notification secret"),
    facts=TRANSACTION_FACTS,
)
