"""Square: `POST /v2/events` SearchEvents (https://developer.squareup.com/reference/square/events-api).

"Search for Square API events that occur within a 28-day timeframe", and only events that happened
after `PUT /v2/events/enable` ("All events are disabled by default"): set-up calls it and checks the
answer carries no `errors`. The query filters `created_at` (`start_at`, `end_at`, RFC 3339), sorts
`{"field": "DEFAULT", "order": "ASC"}`, `limit` up to 100, and pages with the returned `cursor`
(the same query again with it). Events have the webhook's shape (`event_id`, `type`, `created_at`,
`data`), read by the same function.

Credential: the application's personal (production) access token, `Authorization: Bearer`, with
`Square-Version` as the official SDK sends. The Events API takes no OAuth token, and a personal token
cannot be narrowed; the application must hold the events' read permissions (`PAYMENTS_READ`,
`DISPUTES_READ`) when they happen (https://developer.squareup.com/docs/events-api/overview).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from provider_api import ApiClient, ProviderApiError
from providers import ProviderEvent
from providers import square as webhook_module
from reconcile_apis import common

PROVIDER = "square"
DEFAULT_API_BASE_URL = "https://connect.squareup.com"
MAX_WINDOW_DAYS = 28
API_KEY_SCOPE = (
    "the personal access token of the application that owns the webhook subscription (the Events API takes no "
    "OAuth token; it cannot be narrowed: use an application for nothing else)"
)
API_VERSION = "2026-09-16"
PATH = "/v2/events"
ENABLE_PATH = "/v2/events/enable"
PAGE_SIZE = 100


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", "Square-Version": API_VERSION}


def set_up(client: ApiClient) -> None:
    """Enable event search (idempotent) and check Square said yes. Raises `ProviderApiError`."""
    answer = client.request("PUT", ENABLE_PATH)
    if answer.get("errors"):
        raise ProviderApiError(
            PROVIDER, f"PUT {ENABLE_PATH}", "client_error", "Square refused to enable event search", retryable=False
        )


def pages(client: ApiClient, since: datetime.datetime, until: datetime.datetime) -> Iterator[list[dict[str, Any]]]:
    query = {
        "filter": {"created_at": {"start_at": common.rfc3339(since), "end_at": common.rfc3339(until)}},
        "sort": {"field": "DEFAULT", "order": "ASC"},
    }
    body: dict[str, Any] = {"limit": PAGE_SIZE, "query": query}
    while True:
        page = client.request("POST", PATH, body=body)
        if page.get("errors"):
            raise common.malformed(PROVIDER, f"POST {PATH}", "the answer carries errors")
        yield common.event_list(PROVIDER, f"POST {PATH}", page, "events")
        cursor = page.get("cursor")
        if cursor is None or cursor == "":
            return
        if not isinstance(cursor, str):
            raise common.malformed(PROVIDER, f"POST {PATH}", "cursor is not text")
        body = {**body, "cursor": cursor}


def event_id(raw: dict[str, Any]) -> str:
    return common.text_id(PROVIDER, raw.get("event_id"), "event_id")


def created(raw: dict[str, Any]) -> datetime.datetime:
    return common.iso(PROVIDER, raw.get("created_at"), "created_at")


def provider_event(raw: dict[str, Any]) -> ProviderEvent:
    return common.read(PROVIDER, lambda item: webhook_module.read(common.as_request(item)), raw)
