"""Stripe: `GET /v1/events` (https://docs.stripe.com/api/events/list).

Lists events of the last 30 days ("List events, going back up to 30 days"), newest first, 100 per page
(`limit` 1..100), filtered by `created[gte]`/`created[lt]` (Unix seconds), paged with `starting_after`
= the last id of the previous page while `has_more`. Each event's `data` is rendered with the API version
it was created with, as its webhook was, so the listed event maps exactly like the delivered one (only
`pending_webhooks` and `request` may differ; the door then answers `conflict`, which the reconciler
counts as already stored). No `delivery_success` filter: an event Stripe believes delivered but we do not
hold (a proxy answered 2xx, an endpoint pointed elsewhere) must be found too.

Credential: a restricted key (`rk_live_...`) with only **Events: Read**, sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from provider_api import ApiClient
from providers import ProviderEvent
from providers import stripe as webhook_module
from reconcile_apis import common

PROVIDER = "stripe"
DEFAULT_API_BASE_URL = "https://api.stripe.com"
MAX_WINDOW_DAYS = 30
API_KEY_SCOPE = "a restricted key (rk_...) with the single permission Events: Read"
PATH = "/v1/events"
PAGE_SIZE = 100


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def set_up(client: ApiClient) -> None:
    """Nothing to enable: Stripe keeps every event for 30 days."""


def pages(client: ApiClient, since: datetime.datetime, until: datetime.datetime) -> Iterator[list[dict[str, Any]]]:
    params = {
        "limit": str(PAGE_SIZE),
        "created[gte]": str(int(since.timestamp())),
        "created[lt]": str(int(until.timestamp())),
    }
    while True:
        page = client.request("GET", PATH, params=params)
        events = common.event_list(PROVIDER, f"GET {PATH}", page, "data")
        yield events
        if page.get("has_more") is not True or not events:
            return
        params = {**params, "starting_after": event_id(events[-1])}


def event_id(raw: dict[str, Any]) -> str:
    return common.text_id(PROVIDER, raw.get("id"), "id")


def created(raw: dict[str, Any]) -> datetime.datetime:
    value = raw.get("created")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise common.malformed(PROVIDER, "event", "created is not Unix seconds")
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def provider_event(raw: dict[str, Any]) -> ProviderEvent:
    return common.read(PROVIDER, lambda item: webhook_module.read(common.as_request(item)), raw)
