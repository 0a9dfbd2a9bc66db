"""Razorpay: `X-Razorpay-Signature` = hex HMAC-SHA256 of the raw body, keyed with the webhook secret.

https://razorpay.com/docs/webhooks/validate-test/; the official SDK's
`razorpay.Utility.verify_webhook_signature` does the same. The key is the secret chosen when the webhook
was set up in the Dashboard, as text (not the API key secret).

Event id, from signed content only: `<entity id>:<event>:<created_at>` (e.g.
`pay_DESp9bgForNoUd:payment.captured:1691735748`), all three read from the signed body. Razorpay's own
event id travels only in the `x-razorpay-event-id` header, which the signature does NOT cover, so it is
not used at all: whoever captured one delivery could otherwise replay it under fresh ids, each stored as
a new event. Trade-off, documented: a retry of a delivery carries the same body, so it dedupes; two
genuinely different events of the same kind about the same entity within the same second would share an
id (the second is a 409 and is kept in quarantine, README "Quarantine"); Razorpay sends one event per
state change of an entity, so this is not expected. A body without the entity's id is a 400
(`invalid_event_id`, field `payload.<entity>.entity.id`). Razorpay retries a non-2xx delivery for 24
hours, then disables the webhook and e-mails the alert address.

Events: type `event`, time `created_at` (epoch seconds); the amount and currency of the entity the event
is about: `payload.dispute.entity` for `payment.dispute.*`, else `payload.<first part of the type>.entity`
(`payload.payment.entity` for `payment.*`, `payload.refund.entity` for `refund.*`, ...), in minor units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers import ProviderEvent, WebhookRequest, common
from webhook_signature import SignatureError  # noqa: F401 - what verify raises, as module.SignatureError

SECRET_FORMAT = "the webhook secret entered when creating the webhook in the Dashboard, used as text"  # noqa: S105
OPTIONS: frozenset[str] = frozenset()
HEADER = "x-razorpay-signature"
# Sent by Razorpay but not signed: never read (see above).
EVENT_ID_HEADER = "x-razorpay-event-id"
# Razorpay's amounts are "in the smallest currency sub-unit" (ISO 4217 minor units; three-decimal
# currencies in thousandths): no override.
EXPONENT_OVERRIDES: Mapping[str, int] = {}

DEFAULT_MAPPING: Mapping[str, str] = {"payment.captured": "payment"}
_DISPUTE_PREFIX = "payment.dispute."
PREFIX_MAPPING: Mapping[str, str] = {"refund.": "refund", _DISPUTE_PREFIX: "dispute"}


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    return common.text_secret(text, rule="a Razorpay webhook secret must be 16 or more random characters")


def verify(request: WebhookRequest, keys: Sequence[bytes]) -> None:
    common.verify_body_hex(request.headers, request.body, keys, header=HEADER, key_name="webhook secret")


def _entity_name(event_type: str) -> str:
    return "dispute" if event_type.startswith(_DISPUTE_PREFIX) else event_type.split(".", 1)[0]


def _entity_id(body: dict[str, Any], name: str) -> tuple[Any, str]:
    """(id, field) of the entity the event is about: `payload.<name>.entity.id`, else the first entity of
    the signed `contains` list that has one (`payment.downtime.*` events carry `payload["payment.downtime"]`)."""
    payload = body.get("payload")
    contains = body.get("contains")
    names = [name, *(c for c in contains if isinstance(c, str))] if isinstance(contains, list) else [name]
    for candidate in names:
        part = payload.get(candidate) if isinstance(payload, dict) else None
        entity = part.get("entity") if isinstance(part, dict) else None
        if isinstance(entity, dict) and "id" in entity:
            return entity["id"], f"payload.{candidate}.entity.id"
    return None, f"payload.{name}.entity.id"


def read(request: WebhookRequest) -> ProviderEvent:
    body = common.parse_object(request.text)
    event_type = common.event_type(body.get("event"), "event")
    name = _entity_name(event_type)
    entity = common.get(body, f"payload.{name}.entity")
    amount, currency = (None, None)
    if isinstance(entity, dict):
        amount, currency = common.amount_and_currency(
            entity.get("amount"),
            entity.get("currency"),
            amount_field=f"payload.{name}.entity.amount",
            currency_field=f"payload.{name}.entity.currency",
        )
    timestamp = common.epoch_seconds(body.get("created_at"), "created_at")
    entity_id, entity_field = _entity_id(body, name)
    event_id = common.joined_id(
        [(entity_id, entity_field), (event_type, "event"), (str(body["created_at"]), "created_at")]
    )
    return ProviderEvent(
        provider_event_id=event_id,
        provider_event_type=event_type,
        timestamp=timestamp,
        payload=request.text,
        amount=amount,
        amount_unit="minor" if amount is not None else None,
        currency=currency,
    )


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    verify(request, keys)
    return [read(request)]


def default_transaction_type(event: ProviderEvent) -> str:
    """The default mapping (`DEFAULT_MAPPING`, then `PREFIX_MAPPING`); anything else is `other`."""
    return common.mapped_type(event.provider_event_type, DEFAULT_MAPPING, PREFIX_MAPPING)
