"""Helpers shared by the listing modules: strict reads of a provider's page (nothing guessed)."""

from __future__ import annotations

import datetime
from typing import Any

from canonical_json import dumps
from provider_api import ProviderApiError
from providers import ProviderEvent, WebhookRequest
from providers import common as read_common
from webhook_event import InvalidEventError


def malformed(provider: str, call: str, detail: str) -> ProviderApiError:
    return ProviderApiError(provider, call, "malformed_response", detail, retryable=True)


def event_list(provider: str, call: str, page: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """`page[key]` as a list of objects, or `malformed_response`."""
    items = page.get(key)
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise malformed(provider, call, f"'{key}' is not a list of objects")
    return items


def as_request(raw: dict[str, Any]) -> WebhookRequest:
    """An API-listed event as the body a webhook would carry: the same reader maps both. The text is the
    event's canonical JSON, so the payload hash equals a webhook's hash of the same content."""
    text = dumps(raw, ascii_keys=False)
    return WebhookRequest(headers={}, body=text.encode(), text=text, url="")


def read(provider: str, reader: Any, raw: dict[str, Any]) -> ProviderEvent:
    try:
        return reader(raw)
    except InvalidEventError as error:
        raise malformed(provider, "event", f"{error.field or 'event'}: {error.reason}") from None


def iso(provider: str, value: Any, field: str) -> datetime.datetime:
    try:
        return read_common.iso_timestamp(value, field)
    except InvalidEventError:
        raise malformed(provider, "event", f"{field} is not an RFC 3339 time") from None


def rfc3339(moment: datetime.datetime) -> str:
    """UTC, seconds precision, `Z`: the form every provider's filter accepts."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_id(provider: str, value: Any, field: str) -> str:
    if not isinstance(value, str) or not read_common.EVENT_ID_PATTERN.fullmatch(value):
        raise malformed(provider, "event", f"{field} is not an event id")
    return value
