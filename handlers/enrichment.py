"""Amounts for thin webhooks: fetch the object a money fact names from the provider's own API.

GoCardless events carry no amounts (docs/providers/gocardless.md, "Amounts"). A source with
`"enrich": true` gets them here, in one function both paths call before the admission contract: the door
(validator.py, for a verified delivery) and the reconciler (reconciler.py, for a listed event). Both hand
the same `ProviderEvent` with `amount` (minor units) and `currency` set, so `sources.canonical` converts
it with the provider's exponents (provider_exponents/<id>.json) and both store the same item; the payload
(the event's own JSON) is unchanged, so a reconciled event and its late webhook still dedupe by hash.

Only money facts are fetched (`money_facts.is_money_fact` of the canonical type and outcome, so a
source's `type_map` counts); lifecycle facts stay amount-less. Outcomes, never a guess:
- the API answers the object -> the amount, kept in a per-container cache (GoCardless payment and refund
  amounts never change once created), so a retried batch only fetches what it has not got yet;
- 429 / 5xx / timeout / connection error / an unreadable answer / 401-403 (a revoked key heals only when
  an operator replaces it) -> `ProviderApiError`: the door answers 503 (GoCardless retries, up to 8 times),
  the reconciler's run fails and the next run retries;
- 404 or another 4xx, or a money fact whose object has no amount to fetch -> `InvalidEventError`
  (`amount_not_found`, 422): the door keeps the verified delivery in the quarantine (readmit it once the
  cause is fixed), the reconciler counts it as refused and lists it again next run.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import money_facts

import sources
from errors import AMOUNT_NOT_FOUND
from provider_api import ApiClient, ProviderApiError, RateBudget
from providers import ProviderEvent
from webhook_event import InvalidEventError

OPTION = "enrich"
# At the door every attempt is short and there are two at most: GoCardless waits 10 s for the whole
# answer, and the conditional writes still need their worst case after the fetches (validator.py).
DOOR_TIMEOUT_SECONDS = 2.0
DOOR_MAX_ATTEMPTS = 2
# One delivery never makes more calls than this (GoCardless batches up to a few hundred events; a
# larger backlog of money facts is fetched over the retries, the cache keeping what each got).
DOOR_MAX_REQUESTS = 50
CACHE_SIZE = 4096
# How the door waits between attempts (a test replaces it to count the waits instead of sleeping).
SLEEP = time.sleep


class AmountCache:
    """(API base URL, path) -> (minor units, currency), least recently used dropped first; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: collections.OrderedDict[tuple[str, str], tuple[int, str]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[int, str] | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value: tuple[int, str]) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = AmountCache()


def enabled(source: Any) -> bool:
    """The source asked for amounts (`"enrich"` in its options: true in the config, the API settings in `SOURCES`)."""
    return bool(source.options.get(OPTION))


def needs_amount(source: Any, event: ProviderEvent) -> bool:
    """A money fact (after the source's `type_map`) that carries no amount of its own."""
    if event.amount is not None or not enabled(source):
        return False
    fact = sources.canonical(source, event)
    return money_facts.is_money_fact(fact.transaction_type, fact.outcome)


def enrich(
    source: Any, events: Sequence[ProviderEvent], client: ApiClient, cache: AmountCache = CACHE
) -> list[ProviderEvent]:
    """`events` with the amount and currency of every money fact fetched (others unchanged, same order).

    Raises `ProviderApiError` (retry later) or `InvalidEventError` (`amount_not_found`); see the module doc.
    """
    module = source.module
    enriched = []
    for event in events:
        if not needs_amount(source, event):
            enriched.append(event)
            continue
        path = module.amount_path(event)
        if path is None:
            raise InvalidEventError(
                AMOUNT_NOT_FOUND,
                f"{event.provider_event_type} {event.provider_event_id} is a money fact without an object to "
                "read its amount from",
                "links",
            )
        key = (client.base_url, path)
        found = cache.get(key)
        if found is None:
            found = _fetch(module, client, event, path)
            cache.put(key, found)
        amount, currency = found
        enriched.append(dataclasses.replace(event, amount=Decimal(amount), amount_unit="minor", currency=currency))
    return enriched


def _fetch(module: Any, client: ApiClient, event: ProviderEvent, path: str) -> tuple[int, str]:
    try:
        document = client.request("GET", path)
    except ProviderApiError as error:
        if error.reason == "client_error":
            # The provider says the object does not exist (or the request is wrong): no retry cures that.
            raise InvalidEventError(
                AMOUNT_NOT_FOUND,
                f"{event.provider_event_type} {event.provider_event_id}: the API answered HTTP {error.status} "
                f"for GET {path}",
                "links",
            ) from None
        raise
    try:
        return module.amount_of(event, document)
    except ValueError as error:
        raise ProviderApiError(
            client.provider, f"GET {path}", "malformed_response", str(error), retryable=True
        ) from None


def door_client(provider: str, base_url: str, credential: str, deadline: float | None) -> ApiClient:
    """The door's client: the source's API host only, short attempts, every wait ending by `deadline`."""
    import reconcile_apis  # the auth headers the reconciler sends (one definition per provider)

    return ApiClient(
        provider=provider,
        base_url=base_url,
        headers=reconcile_apis.load(provider).auth_headers(credential),
        budget=RateBudget(max_requests=DOOR_MAX_REQUESTS, min_interval=0.0),
        timeout_seconds=DOOR_TIMEOUT_SECONDS,
        max_attempts=DOOR_MAX_ATTEMPTS,
        deadline=deadline,
        sleep=SLEEP,
    )
