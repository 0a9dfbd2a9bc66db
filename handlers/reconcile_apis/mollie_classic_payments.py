"""Mollie (classic webhooks): state-level reconciliation from the Payments, Refunds and Chargebacks lists.

Mollie lists objects, not events. Each run lists, newest first, `GET /v2/chargebacks`, `GET /v2/refunds` and
`GET /v2/payments`, in that order (`LISTS`) (https://docs.mollie.com/reference/list-payments, /reference/list-refunds,
/reference/list-chargebacks: `limit` up to 250, `from` = the id to start at, `_links.next.href` while more
remain) back to the run's floor, and turns every object into the same facts the door derives from a
fetched payment (`providers.mollie_classic.payment_facts` and its refund/chargeback readers): the same
`<object id>:<state>` event ids and the same projected payloads. A fact the door already stored is a
duplicate at the conditional write (or already in the seen-set); a fact it never got (a webhook lost,
or Mollie gave up) is written with `origin: reconciler` and counted in `ReconciledMissing`.

`LEVEL = "state"`: the reconciler lists back the whole window (not from its checkpoint) once a day, and
the last `recent_days` (default 3, modules/reconcile_config.py) on the other runs: an object created long
ago changes state later (a bank transfer paid after days, a refund refunded after its creation, a
chargeback reversed weeks later), and only its creation time orders the lists. A state
that came and went between two runs (a refund `queued` then `refunded`) is seen only in its later state;
money facts persist, so none is lost that way. States are read from the object as Mollie shows it at
the run: a payment's `paid` fact stays listed while it is `paid` (refunds do not change its status).

Credential: the profile's API key (`live_...`), or an organization access token with `payments.read` and
`refunds.read` (chargebacks are read with `payments.read`: https://docs.mollie.com/docs/permissions) and
the source option `profile_id`: an access token lists every profile of the organization, so every list
names the source's profile (`profileId`), and a run with an access token and no `profile_id` fails (R2-7).
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Iterator
from typing import Any

from errors import INVALID_AMOUNT
from provider_api import ApiClient, ProviderApiError
from providers import ProviderEvent
from providers import mollie_classic as webhook_module
from reconcile_apis import common
from webhook_event import InvalidEventError

LEVEL = "state"
PROVIDER = "mollie-classic"
DEFAULT_API_BASE_URL = webhook_module.DEFAULT_API_BASE_URL
# Mollie keeps payments for good; the cap bounds what the daily full listing reads.
MAX_WINDOW_DAYS = 90
API_KEY_SCOPE = "an organization access token with payments.read and refunds.read"
PAGE_SIZE = 250
# An organization access token (https://docs.mollie.com/overview/authentication): sees every profile.
ACCESS_TOKEN_PREFIX = "access_"  # noqa: S105 - a prefix, no credential
# (path, the list's key under `_embedded`): each listed newest first, the shortest lists first. Every
# refund and chargeback belongs to a payment, so these lists are (nearly always) far shorter than the
# payments': listed first, they are read on every run even when the payments exhaust
# `max_requests_per_run` (the run then fails with `budget_exhausted`, ReconcileFailed: the oldest payments
# of the lookback were not read). Listed last, as before, the payments starved them for good.
LISTS = (("/v2/chargebacks", "chargebacks"), ("/v2/refunds", "refunds"), ("/v2/payments", "payments"))


def auth_headers(credential: str) -> dict[str, str]:
    return webhook_module.auth_headers(credential)


def set_up(client: ApiClient) -> None:
    """Nothing to enable."""


def pages(
    client: ApiClient, since: datetime.datetime, until: datetime.datetime, *, profile_id: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every fact of the objects created since `since`, a page of objects at a time (`until` is not a bound:
    a state is the object's now, whenever it was created). `profile_id` (the source option, `pfl_...`) is
    sent as `profileId` on every list. Raises `ProviderApiError` (`configuration`) before any call when the
    credential is an organization access token and no `profile_id` is set (R2-7): Mollie's List
    chargebacks requires it then, and List payments without it "will return all payments across all
    profiles" (https://docs.mollie.com/reference/v2/chargebacks-api/list-chargebacks,
    https://docs.mollie.com/reference/v2/payments-api/list-payments): another website's payments must
    never be written into this source."""
    authorization = str(getattr(client, "headers", {}).get("Authorization", ""))
    if not profile_id and authorization.startswith(f"Bearer {ACCESS_TOKEN_PREFIX}"):
        raise ProviderApiError(
            PROVIDER, f"GET {LISTS[0][0]}", "configuration",
            "the API secret is an organization access token (access_...), which lists every profile of the "
            "organization: set the source option profile_id to this website's profile (pfl_..., Mollie Web App "
            "> Settings > Website profiles), or use the profile's API key (live_...)",
            retryable=False,
        )  # fmt: skip
    for path, key in LISTS:
        yield from _facts_of_list(client, path, key, since, profile_id)


def _facts_of_list(
    client: ApiClient, path: str, key: str, since: datetime.datetime, profile_id: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    call = f"GET {path}"
    target: str = path
    params: dict[str, str] | None = {"limit": str(PAGE_SIZE), **({"profileId": profile_id} if profile_id else {})}
    while True:
        page = client.request("GET", target, params=params)
        embedded = page.get("_embedded")
        if not isinstance(embedded, dict):
            raise common.malformed(PROVIDER, call, "_embedded is missing")
        objects = common.event_list(PROVIDER, call, embedded, key)
        facts: list[dict[str, Any]] = []
        older = False
        for item in objects:
            created = common.iso(PROVIDER, item.get("createdAt"), f"{key}[].createdAt")
            if created < since:
                older = True  # newest first: everything after this one is older still
                break
            facts.extend(_facts(key, item, call))
        yield facts
        next_link = (page.get("_links") or {}).get("next") if isinstance(page.get("_links"), dict) else None
        if older or next_link is None:
            return
        href = next_link.get("href") if isinstance(next_link, dict) else None
        if not isinstance(href, str) or not href:
            raise common.malformed(PROVIDER, call, "_links.next.href is not a URL")
        target, params = href, None  # the API's own next link (ApiClient refuses another host)
        if profile_id:
            # The next link repeats the query it continues; should it not, the profile is named again, and
            # a link naming another profile is not followed.
            named = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query).get("profileId")
            if named is None:
                params = {"profileId": profile_id}
            elif named != [profile_id]:
                raise common.malformed(PROVIDER, call, "_links.next.href names another profileId")


def _facts(key: str, item: dict[str, Any], call: str) -> list[dict[str, Any]]:
    """The facts of one listed object, each as the record the reconciler reads (`event_id`, `created`,
    `provider_event`)."""
    try:
        if key == "payments":
            # The list shows a payment without its refunds and chargebacks: those come from their own lists.
            events = webhook_module.read_payment({**item, "_embedded": {}})[:1]
        elif key == "refunds":
            parent = common.text_id(PROVIDER, item.get("paymentId"), "refunds[].paymentId")
            events = [webhook_module._refund(item, parent, "refunds[]")]
        else:
            parent = common.text_id(PROVIDER, item.get("paymentId"), "chargebacks[].paymentId")
            events = webhook_module._chargeback(item, parent, "chargebacks[]")
    except InvalidEventError as error:
        raise common.malformed(PROVIDER, call, f"{error.field or key}: {error.reason}") from None
    # An amount finer than its currency (`amount_problem`, RT-3) is not a fact to write, nor a reason to
    # stop the run (the object stays listed: every run would stop there): `provider_event` refuses that one
    # fact, the reconciler counts it (`refused`, ReconcileRefused, alarmed) and goes on with the others.
    return [
        {"id": event.provider_event_id, "created": event.timestamp, "event": event,
         "refusal": webhook_module.amount_problem(event)}
        for event in events
    ]  # fmt: skip


def event_id(raw: dict[str, Any]) -> str:
    return str(raw["id"])


def created(raw: dict[str, Any]) -> datetime.datetime:
    moment: datetime.datetime = raw["created"]
    return moment


def provider_event(raw: dict[str, Any]) -> ProviderEvent:
    # Already read by the webhook module's own readers (`_facts`): the same event the door would store.
    if raw.get("refusal"):
        raise InvalidEventError(INVALID_AMOUNT, str(raw["refusal"]), "amount")
    event: ProviderEvent = raw["event"]
    return event
