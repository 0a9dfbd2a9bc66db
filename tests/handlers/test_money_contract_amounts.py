"""The money contract's amounts and identities, for every provider route (red-team findings 1-6).

- a negative amount, or one not below `money.MAX_MAJOR_AMOUNT`, is refused (400 `invalid_amount`; at the
  door the signed delivery is kept in the quarantine: tests/handlers/test_quarantine.py);
- a major-unit amount finer than its currency's exponent (10.005 USD, 12.5 JPY) is refused, as on
  `POST /webhook` (commit 271c66a);
- a zero amount moves nothing: the fact goes to the lifecycle queue, never a money queue;
- a money fact without an amount is parked (`missing_amount`; GoCardless, whose events carry none, is
  the documented exception), and one without an object_id is parked (`missing_object_id`);
- Checkout.com's exponents are its documented table, closed: a currency it does not document is parked
  (`unknown_currency_exponent`), never written with a guessed 2 decimals.

Each test failed on main (51b3e9b): the hostile amounts were stored and routed, the amountless facts
reached the payments queue, Checkout.com wrote ITL with 2 decimals.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from tests.handlers import lifecycle
from tests.handlers.lifecycle import Delivery
from tests.handlers.providers.signing import NOW, STAGE_URL, request, square_signature
from tests.handlers.providers.signing_b import request as request_b
from tests.handlers.test_lifecycle_checkout import PAY, action
from tests.handlers.test_lifecycle_checkout import SECRET as CKO_SECRET
from tests.handlers.test_lifecycle_checkout import delivery as checkout_delivery

import money
import providers
import routing
from providers import ProviderEvent, common
from sources import Source, canonical

CHECKOUT = lifecycle.source("checkout")
SQUARE = lifecycle.source("square")
SQUARE_SECRET = "sq0wss-lifecycle-signature-key-0123456789"
SW_SECRET = "whsec_" + base64.b64encode(b"money-contract-amounts-key-0001").decode()
SW_NOW = 1_800_000_000
SW_TYPE_MAP = {"payment.succeeded": "payment"}


def _refused(error: BaseException) -> str:
    """The reason of a refusal, matched by class name (a cold re-import elsewhere replaces the class)."""
    assert type(error).__name__ == "InvalidEventError", error
    return error.reason  # type: ignore[attr-defined]


def _reason_of(run: Any) -> str | None:
    try:
        run()
    except Exception as error:
        return _refused(error)
    return None


# --- the shared readers: common.minor_amount / major_amount ------------------------------------------


@given(value=st.integers(max_value=-1))
def test_minor_amount_refuses_every_negative_count(value: int) -> None:
    assert _reason_of(lambda: common.minor_amount(value, "amount")) == "invalid_amount"
    assert _reason_of(lambda: common.minor_amount(str(value), "amount", as_text=True)) == "invalid_amount"
    assert common.minor_amount(value, "amount", negative=True) == value  # only where a provider documents it


@given(value=st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False, places=2))
def test_major_amount_refuses_every_negative_amount(value: Decimal) -> None:
    assert _reason_of(lambda: common.major_amount(str(value), "amount")) == "invalid_amount"


@given(value=st.integers(min_value=0, max_value=10**20))
def test_non_negative_amounts_are_read_exactly(value: int) -> None:
    assert common.minor_amount(value, "amount") == value
    assert common.major_amount(f"{value}.25", "amount") == Decimal(f"{value}.25")


# --- the generic rule of sources.canonical, for any provider module ----------------------------------


def _canonical(provider_id: str, amount: Decimal, unit: str, currency: str = "USD", **event: Any) -> Any:
    source = Source(name="src", provider_id=provider_id, secret_arn="arn", options={}, type_map={}, route_unmapped=True)
    fields = {"provider_event_id": "evt_1", "provider_event_type": "x", "payload": "{}", "amount": amount,
              "amount_unit": unit, "currency": currency,
              "timestamp": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)} | event  # fmt: skip
    return canonical(source, ProviderEvent(**fields))


HOSTILE = st.one_of(
    st.integers(max_value=-1).map(Decimal),
    st.integers(min_value=10**22, max_value=10**40).map(Decimal),
    st.integers(min_value=22, max_value=999_999).map(lambda power: Decimal(f"1E+{power}")),
)


@settings(max_examples=200)
@given(amount=HOSTILE, unit=st.sampled_from(["minor", "major"]), provider_id=st.sampled_from(
    ["checkout", "square", "stripe", "adyen", "paddle", "razorpay", "braintree", "mollie", "standard-webhooks"]))  # fmt: skip
@example(amount=Decimal("1E+999999"), unit="minor", provider_id="checkout")
@example(amount=Decimal("1E+18"), unit="major", provider_id="mollie")
@example(amount=Decimal("-0.01"), unit="major", provider_id="braintree")
def test_a_negative_or_unbounded_amount_is_refused_for_every_provider(
    amount: Decimal, unit: str, provider_id: str
) -> None:
    assert _reason_of(lambda: _canonical(provider_id, amount, unit)) == "invalid_amount"


@given(cents=st.integers(min_value=0, max_value=10**20 - 1))
def test_every_amount_below_the_bound_is_kept_exactly(cents: int) -> None:
    stored = _canonical("checkout", Decimal(cents), "minor")
    assert stored.amount == Decimal(cents).scaleb(-2) and stored.amount < money.MAX_MAJOR_AMOUNT


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("10.005", "USD"), ("12.5", "JPY"), ("0.001", "EUR"), ("1.0001", "KWD"), ("1E-5", "USD")],
)
def test_a_major_amount_finer_than_its_exponent_is_refused(amount: str, currency: str) -> None:
    for provider_id in ("standard-webhooks", "braintree", "mollie"):
        refused = _reason_of(lambda p=provider_id: _canonical(p, Decimal(amount), "major", currency))
        assert refused == "invalid_amount", provider_id
    assert _canonical("standard-webhooks", Decimal("10.50"), "major", "USD").amount == Decimal("10.50")
    assert money.text(_canonical("standard-webhooks", Decimal("1E+5"), "major", "JPY").amount) == "100000"


# --- Standard Webhooks: numbers as the sender writes them (findings 3, 4) -------------------------------


def sw_delivery(amount: Any, currency: str = "USD", unit: str = "major") -> tuple[Source, Delivery]:
    options = {"amount_field": "data.amount", "currency_field": "data.currency", "amount_unit": unit,
               "object_id_field": "data.id"}  # fmt: skip
    source = lifecycle.source("standard-webhooks", options=options, type_map=SW_TYPE_MAP)
    raw = {"type": "payment.succeeded", "timestamp": "2026-11-20T10:00:00Z",
           "data": {"id": "pay_1", "currency": currency}}  # fmt: skip
    text = json.dumps(raw).replace('"currency"', f'"amount": {amount}, "currency"')  # the number as written
    moment = datetime.datetime.fromtimestamp(SW_NOW, tz=datetime.UTC)
    headers = {"webhook-id": "msg_amount1", "webhook-timestamp": str(SW_NOW),
               "webhook-signature": Webhook(SW_SECRET).sign("msg_amount1", moment, text)}  # fmt: skip
    return source, Delivery(request_b(headers, text), (), "payment.succeeded")


def sw_run(amount: Any, currency: str = "USD", unit: str = "major") -> lifecycle.Result:
    source, delivery = sw_delivery(amount, currency, unit)
    return lifecycle.run(source, [delivery], secrets=[SW_SECRET], now=SW_NOW)


@settings(max_examples=60, deadline=None)
@given(written=st.one_of(
    st.integers(max_value=-1).map(str),
    st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=18, max_value=999_999).map(lambda power: f"1e{power}"),  # beyond: strict_json refuses
    st.integers(min_value=10**18, max_value=10**29).map(str),
    st.sampled_from(['"-5.00"', "-0.5", "10.005", "12.345", "1e-5", '"10.001"']),
))  # fmt: skip
def test_standard_webhooks_refuses_hostile_amounts(written: str) -> None:
    assert _reason_of(lambda: sw_run(written)) == "invalid_amount"


@pytest.mark.parametrize(("written", "currency", "unit"), [("12.5", "JPY", "major"), ("1.5", "JPY", "minor")])
def test_standard_webhooks_refuses_fractions_of_the_minor_unit(written: str, currency: str, unit: str) -> None:
    assert _reason_of(lambda: sw_run(written, currency, unit)) == "invalid_amount"


def test_standard_webhooks_reads_exponent_notation_within_the_bounds() -> None:
    [paid] = sw_run("1e5", "USD", "minor").money["payment"]
    assert paid["amount"] == Decimal("1000.00")
    [paid] = sw_run("10.5", "USD").money["payment"]
    assert paid["amount"] == Decimal("10.50")


def test_a_zero_amount_is_a_lifecycle_fact_never_money() -> None:
    """A zero-value capture or a 100%-discounted invoice paid moves nothing: lifecycle, not a money queue
    (refusing it would make the provider retry a true event for days)."""
    result = sw_run("0")
    assert not any(result.money.values())
    [zero] = result.messages["lifecycle"]
    assert (zero["outcome"], zero["amount"]) == ("succeeded", Decimal("0.00"))


# --- Checkout.com and Square: hostile amounts, amountless money facts (findings 3, 6) ----------------


def cko(kind: str, data: dict[str, Any], number: int = 1) -> lifecycle.Result:
    return lifecycle.run(CHECKOUT, [checkout_delivery(number, kind, data)], secrets=[CKO_SECRET], now=NOW)


@settings(max_examples=40, deadline=None)
@given(cents=st.one_of(st.integers(max_value=-1), st.integers(min_value=10**20, max_value=10**35)))
def test_checkout_refuses_a_negative_or_unbounded_amount(cents: int) -> None:
    assert _reason_of(lambda: cko("payment_captured", action("act_1", cents))) == "invalid_amount"


def test_checkout_zero_capture_is_lifecycle() -> None:
    result = cko("payment_captured", action("act_1", 0))
    assert not any(result.money.values()) and [m["amount"] for m in result.messages["lifecycle"]] == [Decimal("0.00")]


@pytest.mark.parametrize("kind", ["payment_captured", "payment_refunded", "dispute_evidence_required"])
def test_a_checkout_money_fact_without_an_amount_is_parked(kind: str) -> None:
    """Money moved and we do not know how much: parked (`missing_amount`, alarmed), never booked and
    never a quiet lifecycle fact."""
    data = action("act_1", 1000) if kind.startswith("payment") else {"id": "dsp_1", "payment_id": PAY,
                                                                     "amount": 1000, "currency": "EUR"}  # fmt: skip
    del data["amount"]
    result = cko(kind, data)
    assert not any(result.money.values())
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "missing_amount"


def square_body(kind: str, member: str, subject: dict[str, Any], number: int = 1) -> Delivery:
    body = json.dumps({"merchant_id": "M", "type": kind, "event_id": f"6a8f5f28-54a1-4eb0-a98a-{number:012d}",
                       "created_at": "2026-11-20T10:00:00Z",
                       "data": {"type": member, "id": subject["id"], "object": {member: subject}}}).encode()  # fmt: skip
    return Delivery(request({"X-Square-HmacSha256-Signature": square_signature(SQUARE_SECRET, STAGE_URL, body)}, body))


def test_a_square_completed_payment_without_money_is_parked() -> None:
    subject = {"id": "pay_sq1", "status": "COMPLETED", "version": 3}
    result = lifecycle.run(SQUARE, [square_body("payment.updated", "payment", subject)], secrets=[SQUARE_SECRET],
                           now=NOW)  # fmt: skip
    assert not any(result.money.values())
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "missing_amount"


@settings(max_examples=30, deadline=None)
@given(cents=st.integers(max_value=-1))
def test_square_refuses_a_negative_amount(cents: int) -> None:
    money_field = {"amount": cents, "currency": "USD"}
    subject = {"id": "pay_sq1", "status": "COMPLETED", "version": 3, "total_money": money_field,
               "amount_money": money_field}  # fmt: skip
    delivery = square_body("payment.updated", "payment", subject)
    assert _reason_of(lambda: lifecycle.run(SQUARE, [delivery], secrets=[SQUARE_SECRET], now=NOW)) == "invalid_amount"


# --- Checkout.com's exponents: its documented table, every row (finding 5) ---------------------------

CHECKOUT_DOCUMENT = json.loads(
    (money.PROVIDER_EXPONENTS_DIR / "checkout.json").read_text(encoding="utf-8")
)  # fmt: skip
PINNED = {row["currency"]: row["exponent"] for row in CHECKOUT_DOCUMENT["rows"]}
# ISO 4217 fund codes and an accounting unit: not currencies a payment is made in, never in Checkout.com's
# lists; its "all other currencies" are payment currencies (provider_exponents/checkout.json, `all_other`).
EXCLUDED = {"BOV", "CHE", "CHW", "COU", "MXV", "USN", "UYI", "XAD"}
EVERY_CODE = sorted(set(money.ISO_EXPONENTS) | set(money.HISTORIC_EXPONENTS) | money.NO_MINOR_UNIT | set(PINNED))


def _documented(code: str) -> int | None:
    """Checkout.com's rule (format-the-amount-value): its lists, else 100 for every other current
    currency; None (not documented) for withdrawn codes, fund codes and codes without a minor unit."""
    if code in PINNED:
        return PINNED[code]
    if code in money.ISO_EXPONENTS and code not in EXCLUDED:
        return 2
    return None


def test_the_file_excludes_exactly_the_fund_codes() -> None:
    assert set(CHECKOUT_DOCUMENT["all_other"]["excluding"]) == EXCLUDED
    assert CHECKOUT_DOCUMENT["all_other"]["source"].startswith(CHECKOUT_DOCUMENT["source"])


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_currency_follows_checkouts_documented_table_or_is_parked(code: str) -> None:
    digits = _documented(code)
    stored = _canonical("checkout", Decimal(123456), "minor", code)
    if digits is None:
        assert stored.amount is None and stored.unrouted_reason == "unknown_currency_exponent"
    else:
        assert stored.unrouted_reason is None and stored.amount == Decimal(123456).scaleb(-digits)
        assert -stored.amount.as_tuple().exponent == digits


@pytest.mark.parametrize("code", ["UYI", "BYR", "TRL", "ITL", "ESP", "PTE", "GRD", "BEF", "LUF", "XAU", "XTS"])
def test_the_red_team_currencies_are_parked_at_checkout(code: str) -> None:
    data = copy.deepcopy(action("act_1", 5000)) | {"currency": code}
    result = cko("payment_captured", data)
    assert not any(result.money.values())
    [parked] = result.messages["unrouted"]
    assert parked["unrouted_reason"] == "unknown_currency_exponent" and "amount" not in parked


# --- identities: every provider, through the generic rule (findings 1, 6) ----------------------------

EVERY_PROVIDER = sorted(providers.REGISTRY)


@settings(max_examples=120)
@given(
    provider_id=st.sampled_from(EVERY_PROVIDER),
    kind=st.sampled_from(["payment", "refund", "dispute"]),
    object_id=st.none() | st.just("obj_1"),
    cents=st.none() | st.integers(min_value=0, max_value=10**9),
)
def test_no_money_fact_without_an_object_id_or_an_amount_reaches_a_money_queue(
    provider_id: str, kind: str, object_id: str | None, cents: int | None
) -> None:
    """Whatever a provider module reads, the door's rule: a money fact that reaches a money queue has an
    object id and a non-zero amount (GoCardless's facts carry no amount: that alone is allowed there)."""
    source = Source(name="src", provider_id=provider_id, secret_arn="arn", options={}, type_map={"x": kind},
                    route_unmapped=True)  # fmt: skip
    event = ProviderEvent(
        provider_event_id="evt_1", provider_event_type="x", payload="{}", object_id=object_id,
        timestamp=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), amount=None if cents is None else Decimal(cents),
        amount_unit=None if cents is None else "minor", currency=None if cents is None else "EUR",
    )  # fmt: skip
    stored = canonical(source, event)
    item = stored.item(now=lifecycle.NOW, ttl_days=30)
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": item}}
    queue = routing.message_for(record, lifecycle.QUEUE_URLS).queue_url
    on_money_queue = queue in lifecycle.MONEY_QUEUES
    amountless_allowed = provider_id == "gocardless" and cents is None
    assert on_money_queue == (object_id is not None and (cents not in (None, 0) or amountless_allowed))
    if not on_money_queue and cents != 0:
        expected = "missing_object_id" if (cents is not None or amountless_allowed) else "missing_amount"
        assert (queue, stored.unrouted_reason) == ("unrouted", expected)


def test_a_checkout_capture_without_ids_is_parked() -> None:
    data = action("act_1", 1000)
    del data["action_id"], data["id"]
    [parked] = cko("payment_captured", data).messages["unrouted"]
    assert parked["unrouted_reason"] == "missing_object_id"
