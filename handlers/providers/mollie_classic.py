"""Mollie classic webhooks: an unsigned form post `id=tr_...`; the payment fetched back from Mollie is the truth.

Mollie's classic webhook (https://docs.mollie.com/overview/webhooks) carries only the id of the payment
whose status changed, form-encoded, with no signature. It is called when a payment becomes `paid`,
`authorized`, `expired`, `failed` or `canceled`, when one of its refunds reaches `processing`,
`refunded` or `failed`, and when a chargeback is received: every one of these arrives as the
*payment's* id. So the door fetches `GET /v2/payments/{id}?embed=refunds,chargebacks`
(https://docs.mollie.com/reference/v2/payments-api/get-payment) with the source's Mollie key and maps
what Mollie answers. **The fetch is the authentication**: anyone can post an id, but only Mollie's API,
reached over TLS at the configured host with our key, says what that id's payment is. A forged post
costs one API call and stores nothing that Mollie does not hold (docs/providers/mollie-classic.md).

One delivery becomes one event per *state* Mollie reports: the payment's status, each embedded refund's
status, each embedded chargeback (received, and reversed once `reversedAt` is set). The event id is
`<object id>:<state>` (`tr_x:paid`, `re_y:refunded`, `chb_z:received`, `chb_z:reversed`): a repeated
webhook about the same state is a duplicate of the stored event, a new state a new event, and the
reconciler (state-level) derives the same ids from Mollie's listings. The stored payload is the canonical
JSON of the few fields the fact rests on (see `_projection`), never the whole object: fields Mollie
changes without a status change (`amountRefunded`, `_links`, ...) must not turn a repeat into a conflict.

Answers (handlers/validator.py): the events as any provider's (202 new, 200 duplicates); `FetchUnavailable`
when Mollie did not answer usably (timeout, 429, 5xx, malformed, an amount with more decimals than
its currency's exponent, every key refused) -> 503 with
`Retry-After`, never a 2xx with a guessed amount; `UnknownObject` when Mollie answers 404 for every key (an
id of another account, a made-up id, a test payment asked for with a live key only) -> 200 and nothing stored.

Keys: the source secret's `secrets` list holds Mollie credentials used as `Authorization: Bearer`:
an API key (`live_...`/`test_...`) or an organization access token (`access_...`, scope `payments.read
refunds.read`). Several during a rotation: tried in order, the next one only when Mollie refused the
previous one (401/403) or did not know the id (404: keys may see disjoint payments); the id is unknown
only when every key answered 404. Get payment takes no `profileId` (the id is global) and, with an access
token, reads live mode unless `testmode=true` is sent (https://docs.mollie.com/overview/testing; not sent:
a test-mode source uses a `test_` key). Option `profile_id` (`pfl_...`): a fetched payment whose
`profileId` is another profile's is unknown (200, nothing stored): another website's payment is not this
source's. Option `api_base_url` (default https://api.mollie.com) points tests and the
sandbox at a stub; the client (handlers/provider_api.py) refuses every other host, redirects and proxies.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import money
from canonical_json import dumps
from errors import INVALID_AMOUNT, INVALID_EVENT_ID, NOT_PROVIDER_SHAPE
from provider_api import ApiClient, ProviderApiError, RateBudget
from providers import FetchUnavailableError, ProviderEvent, UnknownObjectError, WebhookRequest, common, mollie, spec
from providers.facts import microseconds
from webhook_event import InvalidEventError
from webhook_signature import SignatureError  # noqa: F401 - the contract names it; nothing here is signed

PROVIDER = "mollie-classic"
EXPONENT_OVERRIDES: Mapping[str, int] = money.provider_exponents(
    "mollie-classic"
)  # the same API as mollie: the same (empty) table
DEFAULT_API_BASE_URL = "https://api.mollie.com"
KEY_PREFIXES = ("live_", "test_", "access_")
# The id a classic payment webhook posts (https://docs.mollie.com/overview/webhooks: `id=tr_d0b0E3EA3v`).
PAYMENT_ID_PREFIX = "tr_"
EMBED = "refunds,chargebacks"
# The fetch runs inside the validator's request, which API Gateway cuts at 29 s and Mollie stops waiting
# for after a few seconds: each attempt gets 4 s, two attempts, and no wait (backoff or Retry-After) may
# end later than 8 s after the fetch began. Past that the answer is 503 and Mollie retries the webhook.
FETCH_TIMEOUT_SECONDS = 4.0
FETCH_ATTEMPTS = 2
FETCH_BUDGET_SECONDS = 8.0
# Seconds put in the 503's `Retry-After` (Mollie retries on its own schedule; other callers may read it).
RETRY_AFTER_SECONDS = 30

# status kind -> (transaction_type, outcome). Statuses: https://docs.mollie.com/reference/payment-statuses,
# https://docs.mollie.com/reference/refund-statuses, chargebacks: https://docs.mollie.com/reference/chargebacks-api
# (no status: `createdAt` is the receipt, `reversedAt` the reversal). The same statuses as next-gen
# webhooks, so every kind both name takes handlers/providers/mollie.py's row (one source's `type_map`
# reads the same for both); `payment.open` is classic only (next-gen's webhook for it is `payment.created`).
_SHARED_KINDS = (
    "payment.pending", "payment.authorized", "payment.paid", "payment.failed", "payment.canceled",
    "payment.expired", "refund.queued", "refund.pending", "refund.processing", "refund.refunded",
    "refund.failed", "refund.canceled", "chargeback.received", "chargeback.reversed",
)  # fmt: skip
FACTS: Mapping[str, tuple[str, str]] = {
    "payment.open": ("payment", "pending"),
    **{kind: mollie.FACTS[kind] for kind in _SHARED_KINDS},
}
DEFAULT_MAPPING: Mapping[str, str] = {kind: fact[0] for kind, fact in FACTS.items()}
# The payment field that holds the time it reached each status (Get payment's response fields).
STATUS_TIME: Mapping[str, str] = {
    "authorized": "authorizedAt",
    "paid": "paidAt",
    "failed": "failedAt",
    "canceled": "canceledAt",
    "expired": "expiredAt",
}
# Refunds carry one time (`createdAt`) for every status: their lifecycle order breaks the tie in
# `object_version`, so a later status always sorts after an earlier one of the same refund.
REFUND_ORDER = ("queued", "pending", "processing", "refunded", "failed", "canceled")


def parse_secret(text: str, options: Mapping[str, Any]) -> str:
    """One Mollie credential as text. Raises ValueError when it is not a Mollie key's shape."""
    prefix = next((p for p in KEY_PREFIXES if isinstance(text, str) and text.startswith(p)), None)
    if prefix is None:
        raise ValueError(
            "a Mollie key starts with live_, test_ or access_ (Mollie Web App > Developers > API access tokens)"
        )
    common.text_secret(text, prefix=prefix, rule="a Mollie key is its prefix and 30 or more generated characters")
    return text


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def payment_id(request: WebhookRequest) -> str:
    """The `id` of the form body: exactly one, a payment id. 400 otherwise (never fetched)."""
    try:
        fields = urllib.parse.parse_qs(request.text, keep_blank_values=True, strict_parsing=True, max_num_fields=4)
    except ValueError:
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "body must be the form id=tr_...") from None
    values = fields.get("id", [])
    if len(values) != 1:
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "body must carry exactly one id", "id")
    value = values[0]
    if not value.startswith(PAYMENT_ID_PREFIX) or not common.ID_PART_PATTERN.fullmatch(value) or len(value) > 64:
        raise InvalidEventError(
            INVALID_EVENT_ID, "id must be a Mollie payment id (tr_...); orders and other objects are not read", "id"
        )
    return value


def client(base_url: str, credential: str, deadline: float | None = None) -> ApiClient:
    """One key's client: the configured host only, short attempts, and `deadline` (a `time.monotonic()`
    value; default now + `FETCH_BUDGET_SECONDS`): `fetch_payment` passes the one deadline of the whole
    fetch, so trying more keys never extends it (R2-8)."""
    return ApiClient(
        provider=PROVIDER,
        base_url=base_url,
        headers=auth_headers(credential),
        budget=RateBudget(max_requests=FETCH_ATTEMPTS, min_interval=0.0),
        timeout_seconds=FETCH_TIMEOUT_SECONDS,
        max_attempts=FETCH_ATTEMPTS,
        deadline=time.monotonic() + FETCH_BUDGET_SECONDS if deadline is None else deadline,
    )


def fetch_payment(identifier: str, keys: Sequence[str], base_url: str) -> dict[str, Any]:
    """Mollie's payment with its refunds and chargebacks embedded, asked with each key in turn until one
    reads it. Raises `UnknownObjectError` only when every key answered 404, `FetchUnavailableError` for
    anything else that is not a usable answer.

    Keys of one source may see disjoint payments (test and live mode, two profiles, an access token next
    to an API key: https://docs.mollie.com/overview/testing), so one key's 404 is no answer for the source:
    the next key is asked (RT-4). A 404 from some keys and a refusal (401/403) from the others is 503 with
    `credential_refused`: the refused key may be the one that owns the payment, so acknowledging the id
    could lose it; Mollie retries, and the alarm says to fix or remove that key. Any other failure (5xx,
    429, timeout) stops at once: Mollie is not answering usably, whichever key asks."""
    refused = 0
    unknown = 0
    # One budget for the whole fetch, every key included: N slow 404s must not take N x 8 s, past API
    # Gateway's 29 s (R2-8). A key asked after the deadline fails `deadline` -> 503, Mollie retries.
    deadline = time.monotonic() + FETCH_BUDGET_SECONDS
    for key in keys:
        try:
            fetcher = client(base_url, key, deadline)
        except ValueError as error:
            # `api_base_url` is not Mollie's API nor a local stub (R2-1: the client refuses it, the key is never
            # sent): a configuration fault, 503 and the FetchFailed alarm, never a 500 nor a guess.
            raise FetchUnavailableError(str(error), retry_after=RETRY_AFTER_SECONDS) from None
        try:
            return fetcher.request("GET", f"/v2/payments/{identifier}", params={"embed": EMBED})
        except ProviderApiError as error:
            if error.reason == "credential_refused":
                refused += 1
                continue  # a rotated-out key: the next one may be the current one
            if error.reason == "client_error" and error.status == 404:
                unknown += 1
                continue  # this key does not see it: another key of the source may
            raise FetchUnavailableError(str(error), retry_after=RETRY_AFTER_SECONDS) from None
    if unknown and not refused:
        raise UnknownObjectError(f"Mollie has no payment {identifier} for any of the {unknown} keys")
    if not unknown and not refused:
        raise FetchUnavailableError(f"{PROVIDER}: no usable key", retry_after=RETRY_AFTER_SECONDS)
    detail = f", {unknown} answered 404 (the refused key may own the payment)" if unknown else ""
    raise FetchUnavailableError(
        f"{PROVIDER}: Mollie refused {refused} of {refused + unknown} keys (401/403){detail}: revoked or wrong "
        "mode? set the source secret",
        retry_after=RETRY_AFTER_SECONDS,
        credential_refused=True,
    )


def receive(request: WebhookRequest, keys: Sequence[str], options: Mapping[str, Any], now: int) -> list[ProviderEvent]:
    """Read the id, fetch its payment from Mollie (the authentication), map every state it reports."""
    identifier = payment_id(request)
    document = fetch_payment(identifier, keys, str(options.get("api_base_url") or DEFAULT_API_BASE_URL))
    if document.get("id") != identifier:
        # Mollie answers the object asked for; anything else is not an answer to trust.
        raise FetchUnavailableError(f"{PROVIDER}: the API answered another object", retry_after=RETRY_AFTER_SECONDS)
    profile = options.get("profile_id")
    if profile and document.get("profileId") != profile:
        # An organization access token reads every profile's payments (Get payment takes no `profileId`):
        # a payment of another website profile is not this source's, as if Mollie had answered 404 (R2-7).
        raise UnknownObjectError(f"Mollie's payment {identifier} belongs to another profile than {profile}")
    try:
        return payment_facts(document)
    except InvalidEventError as error:
        # Mollie's own answer did not read: never guess, never refuse Mollie's retry; 503 and an alarm.
        raise FetchUnavailableError(
            f"{PROVIDER}: payment {identifier}: {error.field or 'object'}: {error.reason}",
            retry_after=RETRY_AFTER_SECONDS,
        ) from None


def payment_facts(payment: Mapping[str, Any]) -> list[ProviderEvent]:
    """Every state a fetched payment reports: its own, its refunds', its chargebacks'. Raises
    `InvalidEventError` when Mollie's answer does not read, an amount finer than its currency included
    (`amount_problem`): the door answers 503 then, never a 400 for Mollie's own answer (RT-3)."""
    events = read_payment(payment)
    for event in events:
        problem = amount_problem(event)
        if problem is not None:
            raise InvalidEventError(INVALID_AMOUNT, problem, f"{event.provider_event_id}.amount")
    return events


def amount_problem(event: ProviderEvent) -> str | None:
    """Why `event`'s amount cannot be booked as Mollie wrote it, or None: more decimals than its currency's
    exponent (`money.decimal_places_beyond_exponent`, the rule `sources.canonical` applies to every
    provider, with this provider's exponent table). Mollie writes amounts "with the right amount of
    decimals" for the currency (https://docs.mollie.com/docs/multicurrency); `1.005` EUR is not one, and
    rounding it would be a guess."""
    if event.amount is None:
        return None
    digits = money.decimal_places_beyond_exponent(event.amount, event.currency, EXPONENT_OVERRIDES)
    if digits is None:
        return None
    return (
        f"{event.provider_event_id}: amount {money.text(event.amount)} {event.currency} has more than {digits} decimals"
    )


def read_payment(payment: Mapping[str, Any]) -> list[ProviderEvent]:
    """`payment_facts` without the amount check: the reconciler checks each fact on its own
    (handlers/reconcile_apis/mollie_classic_payments.py), so one odd refund does not hide the others."""
    if payment.get("resource", "payment") != "payment":
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "resource must be payment", "resource")
    identifier = common.id_part(payment.get("id"), "id")
    status = _status(payment, "status", {kind.split(".")[1] for kind in FACTS if kind.startswith("payment.")})
    moment_field = STATUS_TIME.get(status, "createdAt")
    moment = common.iso_timestamp(payment.get(moment_field) or payment.get("createdAt"), moment_field)
    # A paid payment moved `amountCaptured` where Mollie reports it (payments with captures, also after a
    # partial capture and a released authorization); otherwise `amount` is what the payment was for.
    amount_field = "amountCaptured" if status == "paid" and payment.get("amountCaptured") is not None else "amount"
    value, code = _money(payment, amount_field)
    projection = {"resource": "payment", "id": identifier, "status": status, amount_field: payment[amount_field],
                  moment_field: payment.get(moment_field) or payment.get("createdAt"), "mode": payment.get("mode")}  # fmt: skip
    events = [_event(identifier, f"payment.{status}", moment, projection, value, code, microseconds(moment))]
    embedded = payment.get("_embedded") or {}
    if not isinstance(embedded, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "_embedded must be an object", "_embedded")
    for index, refund in enumerate(_objects(embedded, "refunds")):
        events.append(_refund(refund, identifier, f"_embedded.refunds[{index}]"))
    for index, chargeback in enumerate(_objects(embedded, "chargebacks")):
        events.extend(_chargeback(chargeback, identifier, f"_embedded.chargebacks[{index}]"))
    return events


def _refund(refund: Mapping[str, Any], parent: str, where: str) -> ProviderEvent:
    identifier = common.id_part(refund.get("id"), f"{where}.id")
    status = _status(refund, f"{where}.status", set(REFUND_ORDER))
    moment = common.iso_timestamp(refund.get("createdAt"), f"{where}.createdAt")
    value, code = _money(refund, "amount", where)
    projection = {"resource": "refund", "id": identifier, "paymentId": parent, "status": status,
                  "amount": refund["amount"], "createdAt": refund["createdAt"]}  # fmt: skip
    version = microseconds(moment) + REFUND_ORDER.index(status)
    return _event(identifier, f"refund.{status}", moment, projection, value, code, version, parent)


def _chargeback(chargeback: Mapping[str, Any], parent: str, where: str) -> list[ProviderEvent]:
    identifier = common.id_part(chargeback.get("id"), f"{where}.id")
    received = common.iso_timestamp(chargeback.get("createdAt"), f"{where}.createdAt")
    value, code = _money(chargeback, "amount", where)
    base = {"resource": "chargeback", "id": identifier, "paymentId": parent, "amount": chargeback["amount"]}
    received_projection = base | {"createdAt": chargeback["createdAt"]}
    events = [
        _event(
            identifier,
            "chargeback.received",
            received,
            received_projection,
            value,
            code,
            microseconds(received),
            parent,
        )
    ]
    if chargeback.get("reversedAt") is not None:
        reversed_at = common.iso_timestamp(chargeback.get("reversedAt"), f"{where}.reversedAt")
        reversed_projection = base | {"reversedAt": chargeback["reversedAt"]}
        version = microseconds(reversed_at)
        events.append(
            _event(identifier, "chargeback.reversed", reversed_at, reversed_projection, value, code, version, parent)
        )
    return events


def _event(
    identifier: str, kind: str, moment: Any, projection: Mapping[str, Any], value: Decimal, code: str,
    version: int, parent: str | None = None,
) -> ProviderEvent:  # fmt: skip
    """One state as a provider event; its id `<object id>:<state>` and its payload the canonical projection."""
    state = kind.split(".", 1)[1]
    return ProviderEvent(
        provider_event_id=common.joined_id([(identifier, "id"), (state, "status")]),
        provider_event_type=kind,
        timestamp=moment,
        payload=dumps(dict(projection), ascii_keys=False),
        amount=value,
        amount_unit="major",
        currency=code,
        outcome=FACTS[kind][1],
        object_id=identifier,
        parent_object_id=parent,
        object_version=version,
    )


def _status(document: Mapping[str, Any], field: str, known: set[str]) -> str:
    status = document.get(field.rsplit(".", 1)[-1])
    if not isinstance(status, str) or status not in known:
        # An unknown status is not guessed into a fact: the fetch answers 503 and the alarm says why.
        raise InvalidEventError(NOT_PROVIDER_SHAPE, f"{field} must be one of {sorted(known)}", field)
    return status


def _money(document: Mapping[str, Any], name: str, where: str = "") -> tuple[Decimal, str]:
    field = f"{where}.{name}" if where else name
    amount = document.get(name)
    if not isinstance(amount, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, f"{field} must be an amount object", field)
    return common.major_amount(amount.get("value"), f"{field}.value"), common.currency(
        amount.get("currency"), f"{field}.currency"
    )


def _objects(embedded: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    items = embedded.get(name) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, f"_embedded.{name} must be a list of objects", f"_embedded.{name}")
    return items


def default_transaction_type(event: ProviderEvent) -> str:
    """The kind's row of `FACTS`; a kind not in it is `other`."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")


# Everything about mollie-classic that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id=PROVIDER,
    signature_header=None,  # unsigned: the fetch authenticates (module docstring)
    secret_format="a Mollie API key (live_... or test_...) or organization access token (access_...)",  # noqa: S106
    secret_help="a Mollie API key `live_…`/`test_…` or an organization access token `access_…` with "  # noqa: S106
    "payments.read and refunds.read (Mollie Web App → Developers → API access tokens → Create access token: a "
    "Standard API key, or an Advanced access token, the former organization access token); the door fetches each "
    "posted id with it",
    signer="sign_mollie_classic",
    secret_shape="mollie_api_key",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    # `api_base_url` (default https://api.mollie.com) is the fetch's option, checked by the synth for every
    # provider that `fetches_at_door` (modules/sources_config.py). `profile_id` (`pfl_...`): the website
    # profile this source is for; required by the reconciler with an organization access token (R2-7).
    options={"profile_id": spec.mollie_profile_id},
    secret_lookalike=(r"(live|test)_[A-Za-z0-9]{30,}", "a Mollie API key (live_/test_ + 30 letters and digits)"),
    default_mapping=DEFAULT_MAPPING,
    facts=spec.frozen(FACTS),
    fetches_at_door=True,
    # Mollie: limits are per account, in requests per second with a burst allowance, "dynamic", differ per
    # endpoint and mode, shown in the Dashboard's Developers overview (rolled out gradually); no figure is
    # published. A 429 is an unusable answer: 503 with Retry-After (`FetchUnavailableError`) after at most
    # `FETCH_ATTEMPTS` attempts.
    fetch_api=spec.frozen(
        {
            "call": "one GET /v2/payments/{id}?embed=refunds,chargebacks (two when the first attempt fails)",
            "rate_limit": "Mollie's per-account API rate limit (no figure published: dynamic, per endpoint, shown in "
            "the Dashboard's Developers overview; ask Mollie for a capacity increase before a known peak)",
            "beyond": f"503 with Retry-After: {RETRY_AFTER_SECONDS} from the door when Mollie answers 429 (nothing "
            "stored; Mollie retries the webhook; with `reconcile` the reconciler recovers what Mollie gives up)",
            "source": "https://docs.mollie.com/reference/rate-limiting",
            "budget_seconds": FETCH_BUDGET_SECONDS,
        }
    ),
)
