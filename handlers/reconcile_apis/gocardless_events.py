"""GoCardless: `GET /events` (https://developer.gocardless.com/api-reference#events-list-events).

Filtered by `created_at[gte]`/`created_at[lt]` (RFC 3339), `limit` up to 500, paged with `after` =
`meta.cursors.after` until it is null. Each listed event is the same object a webhook's `events[]`
carries (`id`, `created_at`, `resource_type`, `action`, `links`, `details`), read by the same function.
GoCardless documents no retention limit for events; the source's `window_days` bounds how far back the
reconciler asks (and how long its seen-set remembers an event).

Credential: a **read-only** access token (Developers > Create > Access token, scope "Read-only"),
`Authorization: Bearer`, with `GoCardless-Version: 2015-07-06` as the official SDKs send.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from provider_api import ApiClient
from providers import ProviderEvent
from providers import gocardless as webhook_module
from reconcile_apis import common

PROVIDER = "gocardless"
DEFAULT_API_BASE_URL = "https://api.gocardless.com"
MAX_WINDOW_DAYS = 365
API_KEY_SCOPE = "a read-only access token"
API_VERSION = "2015-07-06"
PATH = "/events"
PAGE_SIZE = 500


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", "GoCardless-Version": API_VERSION}


def set_up(client: ApiClient) -> None:
    """Nothing to enable."""


def pages(client: ApiClient, since: datetime.datetime, until: datetime.datetime) -> Iterator[list[dict[str, Any]]]:
    params = {
        "limit": str(PAGE_SIZE),
        "created_at[gte]": common.rfc3339(since),
        "created_at[lt]": common.rfc3339(until),
    }
    while True:
        page = client.request("GET", PATH, params=params)
        yield common.event_list(PROVIDER, f"GET {PATH}", page, "events")
        meta = page.get("meta")
        cursors = meta.get("cursors") if isinstance(meta, dict) else None
        if not isinstance(cursors, dict):
            raise common.malformed(PROVIDER, f"GET {PATH}", "meta.cursors is missing")
        after = cursors.get("after")
        if after is None:
            return
        if not isinstance(after, str) or not after:
            raise common.malformed(PROVIDER, f"GET {PATH}", "meta.cursors.after is not a cursor")
        params = {**params, "after": after}


def event_id(raw: dict[str, Any]) -> str:
    return common.text_id(PROVIDER, raw.get("id"), "id")


def created(raw: dict[str, Any]) -> datetime.datetime:
    return common.iso(PROVIDER, raw.get("created_at"), "created_at")


def provider_event(raw: dict[str, Any]) -> ProviderEvent:
    # The webhook module's reader of one `events[]` entry: the listed event is that same object.
    return common.read(PROVIDER, lambda item: webhook_module._event(item, 0), raw)
