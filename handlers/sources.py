"""Provider sources (`POST /webhook/<name>`): configuration, secrets, and provider events -> canonical events.

`SOURCES` (validator environment) is JSON `{"<name>": {"provider": "<id>", "secret_arn": "<arn>",
"type_map": {...}, "route_unmapped": true, ...provider options}}`, written at synth from
`terraform-state-config/*.json`. A provider's module is imported on the first request of a source
that uses it, so unused providers cost no cold-start time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import ModuleType
from typing import Any

import money_facts

import money
import providers
import strict_json
from canonical_event import CanonicalEvent, payload_sha256, utc_text
from canonical_json import CanonicalText
from errors import (
    INVALID_AMOUNT,
    MISSING_AMOUNT,
    MISSING_OBJECT_ID,
    MISSING_OUTCOME,
    UNKNOWN_CURRENCY_EXPONENT,
    UNKNOWN_OUTCOME,
)
from providers import ProviderEvent
from webhook_event import InvalidEventError

COMMON_OPTIONS = frozenset({"provider", "secret_arn", "type_map", "route_unmapped"})
WEBHOOK_RESOURCE_PREFIX = "/webhook/"


class UnknownSourceError(LookupError):
    """The request names no configured source (answered 404, nothing stored)."""


@dataclasses.dataclass(frozen=True)
class Source:
    """One configured source. `options` are the provider's own options (e.g. `public_key`)."""

    name: str
    provider_id: str
    secret_arn: str
    options: Mapping[str, Any]
    type_map: Mapping[str, str]
    route_unmapped: bool
    # provider event kind -> outcome, from `type_map` entries written as objects (see `type_map_entries`).
    outcome_map: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def module(self) -> ModuleType:
        return providers.load(self.provider_id)


# What an event of a money type means when nothing says otherwise: the route every sender had before
# outcomes existed (payment/refund to their queues as succeeded, dispute as opened).
DEFAULT_OUTCOMES: Mapping[str, str] = {"payment": "succeeded", "refund": "succeeded", "dispute": "opened"}


def type_map_entries(type_map: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Split a source's `type_map` into (kind -> transaction_type, kind -> outcome).

    Each value is either a transaction type (`"invoice.paid": "payment"`) or an object
    `{"transaction_type": "<type>", "outcome": "<one of money_facts.OUTCOMES>"}` (either member may be
    left out; `outcome` alone keeps the provider's type and sets the outcome policy). The synth checks the
    shape (modules/sources_config.py); here it is taken as synthesized.
    """
    types: dict[str, str] = {}
    outcomes: dict[str, str] = {}
    for kind, value in type_map.items():
        if isinstance(value, str):
            types[kind] = value
            continue
        if value.get("transaction_type"):
            types[kind] = value["transaction_type"]
        if value.get("outcome"):
            outcomes[kind] = value["outcome"]
    return types, outcomes


def load_sources(text: str | None) -> dict[str, Source]:
    """Parse the `SOURCES` environment variable. Raises ValueError when it is not the synthesized shape."""
    configured = json.loads(text or "{}")
    sources = {}
    for name, entry in configured.items():
        options = {key: value for key, value in entry.items() if key not in COMMON_OPTIONS}
        type_map, outcome_map = type_map_entries(entry.get("type_map") or {})
        sources[name] = Source(
            name=name,
            provider_id=entry["provider"],
            secret_arn=entry["secret_arn"],
            options=options,
            type_map=type_map,
            route_unmapped=bool(entry.get("route_unmapped", True)),
            outcome_map=outcome_map,
        )
    return sources


def source_name(event: Mapping[str, Any]) -> str | None:
    """The source a proxy event was sent to: None for `POST /webhook` (the standard source).

    API Gateway puts the matched resource in `resource` (`/webhook/<name>`); a `{source}` path
    parameter is read too. Raises `UnknownSourceError` for any other resource.
    """
    resource = event.get("resource") or "/webhook"
    if resource != "/webhook" and not (isinstance(resource, str) and resource.startswith(WEBHOOK_RESOURCE_PREFIX)):
        # Only `/webhook` and the resources under it name a source, even with a `source` path parameter.
        raise UnknownSourceError(f"no source at {str(resource)[:64]}")
    parameters = event.get("pathParameters") or {}
    if isinstance(parameters, dict) and isinstance(parameters.get("source"), str):
        return parameters["source"]
    if resource == "/webhook":
        return None
    return resource[len(WEBHOOK_RESOURCE_PREFIX) :]


def request_url(event: Mapping[str, Any], source: Source) -> str:
    """The URL the provider posted to: the source's `notification_url`, else this stage's URL for the
    route (`https://<domainName><path>` from the request context, the stage included in the path)."""
    configured = source.options.get("notification_url")
    if isinstance(configured, str):
        return configured
    context = event.get("requestContext") or {}
    return f"https://{context.get('domainName', '')}{context.get('path', event.get('path', ''))}"


def keys(source: Source, entries: Sequence[Any], log_skipped: Any) -> list[Any]:
    """Each usable entry of the secret's `secrets` list, parsed in the provider's own format; a
    malformed entry is reported to `log_skipped(index, problem)` (never its value) and skipped."""
    module = source.module
    parsed = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, str):
                raise ValueError("an entry must be a string")
            parsed.append(module.parse_secret(entry, source.options))
        except ValueError as error:
            log_skipped(index, str(error))
    return parsed


def _payload_hash(payload: str) -> str:
    """Canonical-JSON hash when the payload is JSON (key order and whitespace do not matter), else of the text.

    Text already canonical (`CanonicalText`) hashes as it is: parsing and writing it again gives it back."""
    if isinstance(payload, CanonicalText):
        return hashlib.sha256(payload.encode()).hexdigest()
    try:
        return payload_sha256(strict_json.loads(payload))
    except strict_json.JsonDecodeError:
        return hashlib.sha256(payload.encode()).hexdigest()


def canonical(source: Source, event: ProviderEvent) -> CanonicalEvent:
    """The canonical event of one provider event: prefixed id, mapped type, exact major-unit amount.

    A currency with no known exponent is stored and parked (`unrouted_reason`), never refused: a 4xx
    would make the provider retry for days. The outcome is the source's `type_map` policy for the kind,
    else the provider module's (`event.outcome`, unless `type_map` changed the type), else
    `DEFAULT_OUTCOMES` of the type (None for `other`: an unknown kind stays parked in unrouted-events).

    The money contract (README, "The money contract"), for every provider: an amount is refused (400
    `invalid_amount`, the delivery kept in the quarantine) when it is negative, not below
    `money.MAX_MAJOR_AMOUNT`, or (major units) finer than its currency's exponent; a money fact that
    moves money is parked, never routed, when it has no amount (`missing_amount`; a provider whose
    events carry none, `AMOUNTS_IN_EVENTS = False`, GoCardless, is exempt) or no `object_id`
    (`missing_object_id`). A zero amount is routed to the lifecycle queue (routing.destination).
    """
    module = source.module
    kind = event.provider_event_type
    provider_type = module.default_transaction_type(event)
    transaction_type = source.type_map.get(kind) or provider_type
    # A type the source's map changed takes that type's default outcome: the provider's outcome was
    # about another type (README, "The money contract").
    provider_outcome = event.outcome if transaction_type == provider_type else None
    stated_unknown = stated_missing = False
    if getattr(module, "OUTCOME_FROM_PAYLOAD", False):
        # A sender that states the outcome itself (standard-webhooks' `outcome_field`): it holds for the
        # type the source maps the kind to, and only for mapped kinds (an unmapped one stays unknown); a
        # word outside the vocabulary on a mapped kind without a type_map outcome is parked, not guessed,
        # and so is a null or absent value where the source said the outcome is (never a default).
        mapped = kind in source.type_map or kind in source.outcome_map
        provider_outcome = event.outcome if mapped else None
        stated_unknown = mapped and kind not in source.outcome_map and "stated_outcome" in event.fields
        stated_missing = mapped and kind not in source.outcome_map and "outcome_missing" in event.fields
    outcome = source.outcome_map.get(kind) or provider_outcome or DEFAULT_OUTCOMES.get(transaction_type)
    if outcome is not None and outcome not in money_facts.OUTCOMES:
        outcome = None  # a module bug must not invent a route: treated as unknown (parked, alarmed)
    if stated_unknown or stated_missing:
        outcome = None  # parked below: no outcome is stored that the sender did not state
    amount: Decimal | None = None
    unrouted_reason = UNKNOWN_OUTCOME if stated_unknown else MISSING_OUTCOME if stated_missing else None
    currency = event.currency.upper() if event.currency else None
    overrides = module.SPEC.exponent_overrides
    if event.amount is not None:
        _check_bounds(event.amount, event.amount_unit)
        try:
            if currency is None:
                raise money.UnknownCurrencyError("the event carries an amount without a currency")
            if event.amount_unit == "minor":
                amount = money.from_minor_units(event.amount, currency, overrides)
            else:
                money.exponent(currency, overrides)  # an unknown currency is parked, not guessed
                places = money.decimal_places_beyond_exponent(event.amount, currency, overrides)
                if places is not None:  # as POST /webhook (webhook_event.py): no fractions of a minor unit
                    raise InvalidEventError(
                        INVALID_AMOUNT,
                        f"amount {money.text(event.amount)[:40]} has more decimal places than {currency}'s "
                        f"exponent ({places})",
                        "amount",
                    )
                amount = money.with_exponent(event.amount, currency, overrides)
            _check_bounds(amount, "major")  # minor units were bounded loosely above, major ones exactly here
        except money.UnknownCurrencyError:
            unrouted_reason = unrouted_reason or UNKNOWN_CURRENCY_EXPONENT
    if unrouted_reason is None and money_facts.moves_money(transaction_type, outcome, amount):
        if event.amount is None and getattr(module, "AMOUNTS_IN_EVENTS", True):
            unrouted_reason = MISSING_AMOUNT  # money moved and we do not know how much: alarm, never book
        elif event.object_id is None:
            unrouted_reason = MISSING_OBJECT_ID  # consumers dedupe and order money facts by it
    return CanonicalEvent(
        event_id=f"{source.name}:{event.provider_event_id}",
        source=source.name,
        provider_event_type=event.provider_event_type,
        transaction_type=transaction_type,
        timestamp=utc_text(event.timestamp),
        payload=event.payload,
        payload_sha256=_payload_hash(event.payload if event.content is None else event.content),
        amount=amount,
        currency=currency,
        unrouted_reason=unrouted_reason,
        routed=source.route_unmapped or transaction_type != "other" or outcome is not None,
        outcome=outcome,
        object_id=event.object_id,
        parent_object_id=event.parent_object_id,
        object_version=event.object_version,
    )


def _check_bounds(amount: Decimal, unit: str | None) -> None:
    """400 `invalid_amount` for an amount no fact may carry (`money.beyond_bounds`), checked on the value
    as the provider wrote it, before any conversion (`1E+999999` minor units is never expanded)."""
    # Minor units are at most 10^4 times the major amount (exponents 0..4): bound them by that much more.
    major = amount.scaleb(-4) if unit == "minor" and amount.is_finite() else amount
    problem = money.beyond_bounds(major)
    if problem is not None:
        raise InvalidEventError(INVALID_AMOUNT, f"the amount {problem}", "amount")
