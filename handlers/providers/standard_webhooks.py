"""Standard Webhooks v1 senders with their own body shape (Svix-based senders included).

Verification is `webhook_signature.verify`, the same code as `POST /webhook`: HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{raw body}`, `whsec_<base64>` secrets, any `v1,` signature of the header
against any secret, and the signed timestamp within `tolerance_seconds` in both directions (default 300,
the spec's recommendation). Svix's `svix-id`/`svix-timestamp`/`svix-signature` header names are accepted
when none of the `webhook-*` names is present.

Reading: event id = the `webhook-id` header (signed); type = the body's `type`; time = the body's
`timestamp` (ISO-8601 with an offset), else the signed `webhook-timestamp`. The amount, when the source
sets `amount_field` (a dotted path into the body, e.g. `data.amount`), is a JSON number or a numeric
string in `amount_unit` units (`major`, the default, or `minor`, which must be integral); the currency is
read from `currency_field`. An event without a value at `amount_field` carries no amount.

The money fact (docs/providers/standard-webhooks.md, "The payload contract"): a generic sender's kinds
mean nothing until the source's `type_map` maps them, and the outcome policy is, in this order, the
`type_map` entry's `outcome`, else the value at `outcome_field` (one of `money_facts.OUTCOMES`, taken for
the kinds `type_map` maps and ignored for the others, which stay unknown), else, only for a source that
sets no `outcome_field`, the mapped type's usual money outcome (`payment`/`refund` succeeded, `dispute`
opened): with `outcome_field` set, a null or absent value there is parked (`missing_outcome`), never
booked as `succeeded`. A money fact without an object id or an amount is parked (`missing_object_id`,
`missing_amount`, sources.canonical); a negative or unbounded amount, or a major-unit one finer than
its currency's exponent, is a 400 (`invalid_amount`). A mapped kind whose stated outcome is
another word (`paid`, `declined`) and whose `type_map` entry sets none is stored and parked in
unrouted-events (`unknown_outcome`, alarmed), never guessed: give the kind an outcome in `type_map` and
replay it. `object_id_field` and `parent_object_id_field` name strings (1-256 characters),
`object_version_field` a JSON integer 0..2^53-1; without `object_version_field` the version is the
event's time in microseconds. A value that is present but not of its shape (an outcome that is not a
string, an id that is not one, a version that is not such an integer) is a 400 naming the field
(`invalid_field`), like a bad amount: the sender's payload is wrong and a retry will not change it. Each delivery is one fact: a sender that
states one fact in several deliveries must map all but one of those kinds to a non-money outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import money_facts

from errors import INVALID_AMOUNT, INVALID_FIELD, MISSING_CURRENCY, NOT_PROVIDER_SHAPE
from providers import ProviderEvent, WebhookRequest, common, spec
from providers.facts import microseconds
from webhook_event import InvalidEventError
from webhook_signature import SignatureError, decode_secret, verify, with_svix_aliases

__all__ = ["InvalidEventError", "SignatureError", "default_transaction_type", "parse_secret", "receive"]
# The outcome at `outcome_field` is the sender's own statement: it holds for whatever type `type_map`
# gives the kind (sources.canonical), but only for kinds the source maps.
OUTCOME_FROM_PAYLOAD = True
_MAX_VERSION = 2**53 - 1
EXPONENT_OVERRIDES: Mapping[str, int] = {}
DEFAULT_TOLERANCE_SECONDS = 300
# A sender's own event types mean nothing here by default: the source's `type_map` maps them.
DEFAULT_MAPPING: Mapping[str, str] = {}

_NUMERIC = re.compile(r"-?\d{1,30}(?:\.\d{1,18})?", re.ASCII)
_MISSING = object()


def parse_secret(text: str, options: Mapping[str, Any]) -> bytes:
    """`whsec_<base64>` -> key bytes. Raises ValueError for anything else."""
    key = decode_secret(text)
    common.strong_enough(key, rule="a Standard Webhooks secret is whsec_ and the base64 of 24-64 random bytes")
    return key


def receive(
    request: WebhookRequest, keys: Sequence[bytes], options: Mapping[str, Any], now: int
) -> list[ProviderEvent]:
    """Verify the Standard Webhooks signature and timestamp, then read the one event of the body."""
    tolerance = options.get("tolerance_seconds", DEFAULT_TOLERANCE_SECONDS)
    headers = with_svix_aliases(request.headers)
    webhook_id = verify(headers, request.body, keys, now=now, tolerance_seconds=tolerance)
    signed_time = int(headers["webhook-timestamp"].strip())
    document = common.parse_json(request.text)
    if not isinstance(document, dict):
        raise InvalidEventError(NOT_PROVIDER_SHAPE, "body must be a JSON object")
    body_time = document.get("timestamp")
    timestamp = (
        common.iso_timestamp(body_time, "timestamp")
        if body_time is not None
        else common.epoch_seconds(signed_time, "webhook-timestamp")
    )
    amount, unit, code = _amount(document, options)
    version = _optional(document, options.get("object_version_field"), _version)
    stated = _optional(document, options.get("outcome_field"), _outcome)
    fields: dict[str, str] = {}
    if stated is not None and stated not in money_facts.OUTCOMES:
        fields["stated_outcome"] = stated[:64]
    elif stated is None and options.get("outcome_field"):
        # The source says where the outcome is and this event has none there: parked (`missing_outcome`,
        # sources.canonical) for a kind type_map maps without an outcome, never the type's default.
        fields["outcome_missing"] = "true"
    return [
        ProviderEvent(
            provider_event_id=common.event_id(webhook_id, "webhook-id"),
            provider_event_type=common.event_type(document.get("type"), "type"),
            timestamp=timestamp,
            payload=request.text,
            amount=amount,
            amount_unit=unit,
            currency=code,
            outcome=stated if stated in money_facts.OUTCOMES else None,
            fields=fields,
            object_id=_optional(document, options.get("object_id_field"), _object_id),
            parent_object_id=_optional(document, options.get("parent_object_id_field"), _object_id),
            object_version=microseconds(timestamp) if version is None else version,
        )
    ]


def _optional(document: Mapping[str, Any], field: Any, check: Any) -> Any:
    """The value at the option's dotted path, checked by `check(value) -> bool`; None when the option is
    unset or the path holds nothing; a present value of the wrong shape is a 400 naming the field."""
    if not field:
        return None
    value = _at(document, field)
    if value is _MISSING or value is None:
        return None
    if not check(value):
        raise InvalidEventError(INVALID_FIELD, f"{field}: {check.__doc__}", field)
    return value


def _outcome(value: Any) -> bool:
    """must be a string (an outcome of the vocabulary; any other word is parked as unknown_outcome)"""
    return isinstance(value, str) and len(value) > 0


def _object_id(value: Any) -> bool:
    """must be a string of 1-256 characters"""
    return isinstance(value, str) and 0 < len(value) <= 256


def _version(value: Any) -> bool:
    """must be an integer 0..2^53-1"""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_VERSION


def _at(document: Any, path: str) -> Any:
    """The value at a dotted path, or `_MISSING`."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _amount(document: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[Decimal | None, Any, str | None]:
    amount_field = options.get("amount_field")
    if not amount_field:
        return None, None, None
    raw = _at(document, amount_field)
    if raw is _MISSING or raw is None:
        return None, None, None
    unit = options.get("amount_unit", "major")
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be a number", amount_field)
    if isinstance(raw, str):
        if not _NUMERIC.fullmatch(raw):
            raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be a number", amount_field)
        raw = Decimal(raw)
    value = Decimal(raw)
    if value < 0:  # a money fact's direction is its (type, outcome); the amount is what moved, never below 0
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must not be negative", amount_field)
    if value.adjusted() >= 30:  # what a string may hold (`_NUMERIC`), also for a JSON number such as 1e999999
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} is too large", amount_field)
    if unit == "minor" and value != value.to_integral_value():
        raise InvalidEventError(INVALID_AMOUNT, f"{amount_field} must be an integer count of minor units", amount_field)
    currency_field = options.get("currency_field")
    raw_currency = _at(document, currency_field) if currency_field else _MISSING
    if raw_currency is _MISSING or raw_currency is None:
        if unit == "minor":
            field = currency_field or "currency_field"
            raise InvalidEventError(MISSING_CURRENCY, f"{field}: a minor-unit amount needs its currency", field)
        return value, unit, None
    return value, unit, common.currency(raw_currency, currency_field)


def default_transaction_type(event: ProviderEvent) -> str:
    """No default mapping: a sender's own types are mapped by the source's `type_map`; else `other`."""
    return DEFAULT_MAPPING.get(event.provider_event_type, "other")


# Everything about standard-webhooks that is data (handlers/providers/spec.py; docs/providers/README.md).
SPEC = spec.ProviderSpec(
    provider_id="standard-webhooks",
    signature_header=None,
    secret_format="whsec_<base64>, as the sender shows it",  # noqa: S106
    secret_help="`whsec_` + base64 of a 24–64 byte key (the sender's endpoint page; Svix: Signing Secret)",  # noqa: S106
    signer="sign_standard_webhooks",
    secret_shape="whsec_base64",  # noqa: S106
    exponent_overrides=EXPONENT_OVERRIDES,
    options={
        "tolerance_seconds": spec.tolerance_seconds,
        "amount_field": spec.dotted_path,
        "currency_field": spec.dotted_path,
        "amount_unit": spec.amount_unit,
        # The payload contract of the money fact (docs/providers/standard-webhooks.md).
        "outcome_field": spec.dotted_path,
        "object_id_field": spec.dotted_path,
        "parent_object_id_field": spec.dotted_path,
        "object_version_field": spec.dotted_path,
    },
    event_id_header="webhook-id",  # webhook_signature.ID_HEADER (svix-id is its alias)
    secret_lookalike=(r"whsec_[A-Za-z0-9+/]*[+/=][A-Za-z0-9+/=]*", "a Standard Webhooks secret (whsec_ + base64)"),
    load_sample="standard-webhooks/payment.succeeded_svix_style.json",
    default_mapping=DEFAULT_MAPPING,
)
