"""What each provider's API lets the reconciler list: one module per event-level provider.

Event-level providers list past events with the same ids their webhooks carry, so a missed event is
recovered exactly and dedupes against a late webhook by the same `event_id`. The contract of a module::

    PROVIDER: str                     # the provider id (handlers/providers/REGISTRY)
    DEFAULT_API_BASE_URL: str         # the provider's production API
    MAX_WINDOW_DAYS: int              # how far back the provider lists events (its documented retention)
    API_KEY_SCOPE: str                # the minimal read-only credential, for docs and errors
    def auth_headers(credential: str) -> dict[str, str]
    def set_up(client: ApiClient) -> None            # once per source (Square enables event search)
    def pages(client: ApiClient, since: datetime, until: datetime) -> Iterator[list[dict]]
        # every event created in [since, until), page by page, in any order
    def event_id(raw: dict) -> str                   # the provider's event id (without the source prefix)
    def created(raw: dict) -> datetime               # the event's creation time, timezone-aware
    def provider_event(raw: dict) -> ProviderEvent   # the same reading as the webhook module's

A malformed page or event raises `ProviderApiError(reason="malformed_response")`: nothing is guessed.

A module may set `LEVEL = "state"` (default "event"): its provider lists objects, not events, and the module
turns each object into the facts the webhook path derives from it, with the same deterministic event ids
(`<object id>:<state>`), so a late webhook and a recovered fact dedupe at the conditional write. Such a
run lists its lookback (`min(window_days, event_ttl_days - 1)` back from now), not from the checkpoint:
the whole lookback once a day and, with `recent_days`, only the last `recent_days` on the other runs
(handlers/reconciler.py; the checkpoint is then the last complete full listing). Built: `mollie-classic`. Other state-level providers (Mollie next-gen, Razorpay,
Braintree, Checkout.com, Adyen): not yet supported. A generic Standard Webhooks sender has no API at all: cannot be reconciled.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType

REGISTRY: Mapping[str, str] = {
    "stripe": "stripe_events",
    "paddle": "paddle_events",
    "gocardless": "gocardless_events",
    "square": "square_events",
    "mollie-classic": "mollie_classic_payments",
}
# Providers whose APIs list objects only: reconciliation would have to dedupe by object and outcome.
STATE_LEVEL = ("mollie", "razorpay", "braintree", "checkout", "adyen")
# Providers with no API to ask.
CANNOT = ("standard-webhooks",)


def load(provider_id: str) -> ModuleType:
    """The listing module of an event-level provider. Raises KeyError for any other provider."""
    return importlib.import_module(f"reconcile_apis.{REGISTRY[provider_id]}")
