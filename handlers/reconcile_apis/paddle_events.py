"""Paddle Billing: `GET /events` (https://developer.paddle.com/api-reference/events/list-events).

Paddle keeps events for 90 days. Filtered by `from`/`to` (RFC 3339; the official SDK's
`ListEvents(start=, end=)` writes exactly these), ordered `order_by=id[asc]`, `per_page` up to 200,
paged by following `meta.pagination.next` (a full URL, checked to be on the configured host) while
`meta.pagination.has_more`. Events have the webhook's shape (`event_id`, `event_type`, `occurred_at`,
`data`), read by the same function.

Credential: an API key with only the **Events: Read** permission (`event.read`), `Authorization: Bearer`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from provider_api import ApiClient
from providers import ProviderEvent
from providers import paddle as webhook_module
from reconcile_apis import common

PROVIDER = "paddle"
DEFAULT_API_BASE_URL = "https://api.paddle.com"
MAX_WINDOW_DAYS = 90
API_KEY_SCOPE = "an API key with the single permission Events: Read (event.read)"
PATH = "/events"
PAGE_SIZE = 200


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def set_up(client: ApiClient) -> None:
    """Nothing to enable."""


def pages(client: ApiClient, since: datetime.datetime, until: datetime.datetime) -> Iterator[list[dict[str, Any]]]:
    target: str = PATH
    params: dict[str, str] | None = {
        "per_page": str(PAGE_SIZE),
        "order_by": "id[asc]",  # as the official SDK writes it (Pager, OrderBy.id_ascending)
        "from": common.rfc3339(since),
        "to": common.rfc3339(until),
    }
    while True:
        page = client.request("GET", target, params=params)
        yield common.event_list(PROVIDER, f"GET {PATH}", page, "data")
        pagination = (page.get("meta") or {}).get("pagination") if isinstance(page.get("meta"), dict) else None
        if not isinstance(pagination, dict):
            raise common.malformed(PROVIDER, f"GET {PATH}", "meta.pagination is missing")
        if pagination.get("has_more") is not True:
            return
        following = pagination.get("next")
        if not isinstance(following, str) or not following:
            raise common.malformed(PROVIDER, f"GET {PATH}", "has_more without meta.pagination.next")
        target, params = following, None


def event_id(raw: dict[str, Any]) -> str:
    return common.text_id(PROVIDER, raw.get("event_id"), "event_id")


def created(raw: dict[str, Any]) -> datetime.datetime:
    return common.iso(PROVIDER, raw.get("occurred_at"), "occurred_at")


def provider_event(raw: dict[str, Any]) -> ProviderEvent:
    return common.read(PROVIDER, lambda item: webhook_module.read(common.as_request(item)), raw)
