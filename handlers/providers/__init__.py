"""Provider adapters: verify a delivery the way its provider signs, then read its events.

One module per provider id (`stripe.py`, `adyen.py`, ...), each a set of pure functions of the request,
the secrets and the clock: no AWS, no globals that change. The registry below maps the provider ids of
`terraform-state-config/*.json` (`"sources": {"<name>": {"provider": "<id>"}}`) to module names; a module
is imported only when a configured source uses it, so an unused provider costs no cold-start time.

The contract every provider module fulfils (docs/providers/README.md has the checklist)::

    def parse_secret(text: str, options: Mapping[str, Any]) -> Key
        # one entry of the secret's {"secrets": [...]} list -> key material; ValueError if malformed
        # (the caller skips that entry and logs which index, never the value)
    def receive(request: WebhookRequest, keys: Sequence[Key], options: Mapping[str, Any], now: int)
            -> list[ProviderEvent]
        # verify (raise SignatureError, 401) and then read (raise InvalidEventError, 400) the delivery;
        # a batch is verified whole before anything is returned
    def default_transaction_type(event: ProviderEvent) -> str
        # "payment" | "refund" | "dispute" | "other": the provider's default mapping table (data, tested)
    EXPONENT_OVERRIDES: Mapping[str, int]   # currency -> exponent where the provider differs from ISO 4217
    SPEC: spec.ProviderSpec                 # everything else that is data: signature header, options and
                                            # their checks, retry horizon, ack body, event-id source, secret
                                            # format, signer name, tables (handlers/providers/spec.py)
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
from collections.abc import Mapping
from decimal import Decimal
from types import ModuleType
from typing import Literal

# Provider id (configuration) -> module under handlers/providers/.
REGISTRY: Mapping[str, str] = {
    "standard-webhooks": "standard_webhooks",
    "stripe": "stripe",
    "adyen": "adyen",
    "square": "square",
    "checkout": "checkout",
    "razorpay": "razorpay",
    "paddle": "paddle",
    "gocardless": "gocardless",
    "braintree": "braintree",
    "mollie": "mollie",
    "mollie-classic": "mollie_classic",
}
TRANSACTION_TYPES = ("payment", "refund", "dispute", "other")


@dataclasses.dataclass(frozen=True)
class WebhookRequest:
    """One delivery as the validator received it.

    `headers` have lower-case names; `body` is the raw bytes the provider signed; `text` is `body`
    decoded as strict UTF-8 (RFC 8259 §8.1); `url` is the URL the request was sent to
    (`https://<host>/<stage>/webhook/<name>`, or the source's configured `notification_url`).
    """

    headers: Mapping[str, str]
    body: bytes
    text: str
    url: str


@dataclasses.dataclass(frozen=True)
class ProviderEvent:
    """One event read from a verified delivery, before it becomes the canonical event.

    `amount` is in `amount_unit` units of `currency` (minor: integer count of the currency's smallest
    unit, e.g. cents; major: the decimal as the provider wrote it); both are None when the provider's
    event carries no amount. `timestamp` is the provider's event time, timezone-aware.
    `payload` is the exact signed text (or, for one item of a batch, that item's own JSON).
    `fields` holds provider-specific values the mapping table needs (e.g. Adyen's `success`).
    `content`, when the payload carries its own signature (Adyen's `hmacSignature`, Braintree's
    `bt_signature`), is the payload without it: it is what the duplicate check hashes, so a retry that the
    provider signed again (a rotated key, another key pair) is a duplicate, not a conflict.
    """

    provider_event_id: str
    provider_event_type: str
    timestamp: datetime.datetime
    payload: str
    amount: Decimal | None = None
    amount_unit: Literal["minor", "major"] | None = None
    currency: str | None = None
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)
    content: str | None = None
    # The money fact (handlers/money_facts.py): `outcome` from the OUTCOMES vocabulary; `object_id` the
    # provider's id of the object the fact is about (payment/charge, refund, dispute); `parent_object_id`
    # the payment a refund or dispute belongs to; `object_version` orders facts about one object: the
    # provider's own version or sequence where it has one, else the event time in microseconds since the
    # Unix epoch (an integer either way; compared only between facts about the same object).
    outcome: str | None = None
    object_id: str | None = None
    parent_object_id: str | None = None
    object_version: int | None = None


class FetchUnavailableError(Exception):
    """A provider that authenticates by fetching (mollie-classic) could not fetch the truth: the validator
    answers 503 with `Retry-After` (never a 2xx with a guessed amount). `credential_refused`: every key
    was refused (401/403): a separate metric and alarm, since no retry heals it. The message names the
    provider and call, never the key."""

    def __init__(self, message: str, *, retry_after: int, credential_refused: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.credential_refused = credential_refused


class UnknownObjectError(Exception):
    """The provider's API does not know the posted id (404): acknowledged with 200, nothing stored."""


def load(provider_id: str) -> ModuleType:
    """The module of `provider_id`. Raises KeyError for an unknown id (the synth refuses those first)."""
    return importlib.import_module(f"providers.{REGISTRY[provider_id]}")
