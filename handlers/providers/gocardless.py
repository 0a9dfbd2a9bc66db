"""GoCardless webhooks: `Webhook-Signature` = hex HMAC-SHA256 of the raw body, keyed with the endpoint secret.

A delivery is a batch, `{"events": [...]}`; the signature covers the whole body, so verifying it verifies
every event. There is no signed timestamp: deduplication on the event id is the defence against replays.
GoCardless events carry no amounts (`links` point to the resource): `amount` and `currency` stay absent
unless the source sets `"enrich": true`; then the door (and the reconciler) fetch the object a money fact
names (`amount_path`: `GET /payments/{id}` or `GET /refunds/{id}`, fields `amount` in minor units and
`currency`: https://developer.gocardless.com/api-reference#payments-get-a-single-payment) and read it with
`amount_of` (handlers/enrichment.py; docs/providers/gocardless.md, "Amounts").

Money facts (`FACTS`; docs/providers/gocardless.md links each row): a payment by `payments.confirmed`
(collected from the customer; `paid_out` is the later payout of the same money), a refund by
`refunds.paid`, a refund's money coming back by `refunds.funds_returned`, a chargeback by
`payments.charged_back` (dispute `opened`) and `payments.chargeback_cancelled` (`won`), a late failure
(money collected, then returned by the bank) by `payments.late_failure_settled` (payment `reversed`).
Known kinds that move no money (created, submitted, failed, cancelled payments; mandates,
subscriptions, payouts, instalment schedules) are lifecycle facts; other kinds stay `other`. Object id:
`links.<resource>` (`links.payment` for a chargeback, which has no object of its own); a refund's parent
is `links.payment`. GoCardless objects carry no version: `object_version` is `created_at` in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any

import money
from canonical_json import dumps
from errors import NOT_PROVIDER_SHAPE
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import microseconds
from webhook_event import InvalidEventError
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents("gocardless")  # provider_exponents/gocardless.json
# GoCardless events carry no amounts (docs/providers/gocardless.md): its money facts reach their queues
# without one, as before; for every other provider a money fact without an amount is parked
# (`missing_amount`, sources.canonical).
AMOUNTS_IN_EVENTS = False
SIGNATURE_HEADER = "webhook-signature"

# https://developer.gocardless.com/api-reference#event-types-payment (and #event-types-refund,
# -mandate, -subscription, -payout, -instalment-schedule): "<resource_type>.<action>" -> (type, outcome).
FACTS: Mapping[str, tuple[str, str]] = {
    "payments.created": ("payment", "pending"),
    "payments.customer_approval_granted": ("payment", "pending"),
    "payments.customer_approval_denied": ("payment", "failed"),
    "payments.submitted": ("payment", "pending"),
    "payments.resubmission_requested": ("payment", "pending"),
    "payments.confirmed": ("payment", "succeeded"),
    "payments.paid_out": ("other", "succeeded"),  # the payout of money counted at `confirmed`
    "payments.failed": ("payment", "failed"),
    "payments.late_failure_settled": ("payment", "reversed"),
    "payments.cancelled": ("payment", "canceled"),
    "payments.charged_back": ("dispute", "opened"),
    "payments.chargeback_cancelled": ("dispute", "won"),
    "payments.chargeback_settled": ("other", "opened"),  # the charged-back money taken from a payout
    "refunds.created": ("refund", "pending"),
    "refunds.paid": ("refund", "succeeded"),
    "refunds.refund_settled": ("other", "succeeded"),  # the paid refund taken from a payout
    "refunds.failed": ("refund", "failed"),
    "refunds.bounced": ("refund", "failed"),  # its money comes back with `funds_returned`
    "refunds.funds_returned": ("refund", "reversed"),
    **{f"mandates.{action}": ("other", "pending") for action in (
        "created", "customer_approval_granted", "customer_approval_skipped", "submitted",
        "resubmission_requested", "reinstated", "transferred", "replaced")},
    "mandates.active": ("other", "succeeded"),
    "mandates.cancelled": ("other", "canceled"),
    "mandates.expired": ("other", "canceled"),
    "mandates.consumed": ("other", "canceled"),
    "mandates.failed": ("other", "failed"),
    "mandates.blocked": ("other", "failed"),
    **{f"subscriptions.{action}": ("other", "pending") for action in (
        "created", "customer_approval_granted", "payment_created", "amended", "paused", "resumed")},
    "subscriptions.customer_approval_denied": ("other", "failed"),
    "subscriptions.cancelled": ("other", "canceled"),
    "subscriptions.finished": ("other", "succeeded"),
    "payouts.paid": ("other", "succeeded"),
    "payouts.fx_rate_confirmed": ("other", "pending"),
    "instalment_schedules.created": ("other", "pending"),
    "instalment_schedules.resumed": ("other", "pending"),
    "instalment_schedules.completed": ("other", "succeeded"),
    "instalment_schedules.cancelled": ("other", "canceled"),
    "instalment_schedules.creation_failed": ("other", "failed"),
    "instalment_schedules.errored": ("other", "failed"),
}  # fmt: skip
# resource_type -> the `links` entry naming the object the event is about
OBJECT_LINKS: Mapping[str, str] = {
    "payments": "payment",
    "refunds": "refund",
    "mandates": "mandate",
    "subscriptions": "subscription",
    "payouts": "payout",
    "instalment_schedules": "instalment_schedule",
}
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact[0] for kind, fact in FACTS.items()}
# resource_type -> the API path of the object whose `amount` is the fact's (a chargeback or a late failure
# is the whole payment: GoCardless charges back and reverses the full amount). Other resources have none.
AMOUNT_PATHS: Mapping[str, str] = {"payments": "/payments/{id}", "refunds": "/refunds/{id}"}
_API_ID = re.compile(r"^[A-Z]{2}[A-Za-z0-9]{1,62}$")  # GoCardless ids: a two-letter prefix (PM, RF) and letters/digits
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """The endpoint secret as text -> its UTF-8 bytes (the HMAC key). Raises ValueError when empty."""
    if not text or text != text.strip():
        raise ValueError("a GoCardless webhook secret is non-empty text without surrounding spaces")
    common.strong_enough(text, rule="a GoCardless webhook secret is 16 or more generated characters")
    return text.encode("utf-8")


def sign(key: bytes, body: bytes) -> str:
    """The `Webhook-Signature` value GoCardless sends for `body`."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, keys: Sequence[bytes]) -> None:
    """Raise `SignatureError` unless `Webhook-Signature` is the HMAC of `body` under one of `keys`."""
    common.verify_body_hex(
        headers, body, keys, header=SIGNATURE_HEADER, key_name="webhook secret", standard_reasons=True
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the delivery, then read one event per entry of `events`."""
    verify(request.headers, request.body, keys)
    document = common.parse_json(request.text)
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        raise InvalidEventError(NOT_PROVIDER_SHAPE, 'body must be {"events": [...]} with at least one event', "events")
    return [_event(item, index) for index, item in enumerate(events)]


def _event(item: Any, index: int) -> ProviderEvent:
    prefix = f"events[{index}]"
    if not isinstance(item, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, f"{prefix} must be an object", prefix)
    resource_type = common.event_type(item.get("resource_type"), f"{prefix}.resource_type")
    action = common.event_type(item.get("action"), f"{prefix}.action")
    kind = common.event_type(f"{resource_type}.{action}", f"{prefix}.action")
    timestamp = common.iso_timestamp(item.get("created_at"), f"{prefix}.created_at")
    links = item.get("links") if isinstance(item.get("links"), dict) else {}
    link = OBJECT_LINKS.get(resource_type)
    fact = FACTS.get(kind)
    return ProviderEvent(
        provider_event_id=common.event_id(item.get("id"), f"{prefix}.id"),
        provider_event_type=kind,
        timestamp=timestamp,
        # The event's own JSON, written canonically (compact, sorted keys, exact decimals).
        payload=dumps(item, ascii_keys=False, parsed=True),
        outcome=fact[1] if fact else None,
        object_id=_text(links.get(link)) if link else None,
        parent_object_id=_text(links.get("payment")) if resource_type == "refunds" else None,
        object_version=microseconds(timestamp),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def default_transaction_type(event: ProviderEvent) -> str:
    """The kind's row of `FACTS`; a kind not in it is `other` (parked in unrouted-events, alarmed)."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")


def amount_path(event: ProviderEvent) -> str | None:
    """The API path of the object whose amount a money fact of `event` is (None: nothing to fetch)."""
    resource_type = event.provider_event_type.split(".", 1)[0]
    template = AMOUNT_PATHS.get(resource_type)
    if template is None or event.object_id is None or not _API_ID.fullmatch(event.object_id):
        return None
    return template.format(id=event.object_id)


def amount_of(event: ProviderEvent, document: Mapping[str, Any]) -> tuple[int, str]:
    """(amount in minor units, currency) of the fetched object, `{"payments": {...}}` or `{"refunds": {...}}`.

    The object must be the one the event links (same id). `amount` is documented as an integer in the
    currency's lowest denomination (https://developer.gocardless.com/api-reference#payments-get-a-single-payment,
    #refunds-get-a-single-refund); the official SDKs' fixtures write it as a string of digits, which is read
    the same. Raises ValueError (what is wrong) for anything else: nothing is guessed.
    """
    resource_type = event.provider_event_type.split(".", 1)[0]
    resource = document.get(resource_type)
    if not isinstance(resource, dict):
        raise ValueError(f"the answer has no '{resource_type}' object")
    if resource.get("id") != event.object_id:
        raise ValueError(f"{resource_type}.id is not the linked object")
    amount = resource.get("amount")
    if isinstance(amount, str) and amount.isascii() and amount.isdigit():
        amount = int(amount)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"{resource_type}.amount is not a positive integer of minor units")
    currency = resource.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError(f"{resource_type}.currency is not an ISO 4217 code")
    return amount, currency


# Everything about gocardless that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="gocardless",
    signature_header="Webhook-Signature",
    secret_format="the webhook endpoint secret, as text",  # noqa: S106
    secret_help="the webhook endpoint's secret, text (Developers → Webhook endpoints)",  # noqa: S106
    signer="sign_gocardless",
    secret_shape="text",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    # `enrich`: fetch the amounts of money facts from the API (docs/providers/gocardless.md, "Amounts");
    # it needs the source's `reconcile` (modules/sources_config.py).
    options={"enrich": spec.boolean},
    default_mapping=DEFAULT_MAPPING,
    facts=FACTS,
)
