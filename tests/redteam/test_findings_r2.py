"""Red-team round 2: reproductions of defects in the fixes that just landed (mollie-classic door and
reconciler, `api_base_url`, POST /webhook parking, Paddle `STATUS_FACTS`, Checkout action ids).

Every test FAILS on the current code (`xfail(strict=True)`: this file passes today and turns red, XPASS,
when a fix lands; then remove the marker). Ids R2-n match the round-2 report.
"""

from __future__ import annotations

import datetime
import importlib
import json
from typing import Any

import pytest

from tests.handlers.helpers import fresh_import

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
QUEUES = {
    "PAYMENTS_QUEUE_URL": "payments",
    "REFUNDS_QUEUE_URL": "refunds",
    "DISPUTES_QUEUE_URL": "disputes",
    "UNROUTED_QUEUE_URL": "unrouted",
    "LIFECYCLE_QUEUE_URL": "lifecycle",
}


def standard_body(**fields: Any) -> bytes:
    """A POST /webhook body of a money fact (a payment, 10.50 EUR, its own object id), `fields` replacing."""
    body = {
        "event_id": "evt_r2_1",
        "transaction_type": "payment",
        "amount": 10.5,
        "currency": "EUR",
        "object_id": "pay_1",
        "timestamp": "2026-11-20T10:00:00Z",
    }
    body.update(fields)
    return json.dumps(body).encode()


def queue_of(body: bytes) -> str:
    """Where the router sends what POST /webhook stores for `body`: `unrouted` when parked."""
    webhook_event = fresh_import("webhook_event")
    routing = importlib.import_module("routing")
    event = webhook_event.parse_event(body)
    if event.unrouted_reason:
        return "unrouted"
    return routing.destination(event.transaction_type, event.outcome, QUEUES, event.amount)


# --------------------------------------------------------------------------------------------------
# R2-3 POST /webhook: a money fact in a currency with no known exponent is routed, not parked
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", ["ABC", "XXX", "XTS"])
@pytest.mark.xfail(
    strict=True, reason="R2-3: POST /webhook routes a payment in an unknown currency (ABC) to payments-queue"
)
def test_r2_3_a_money_fact_in_an_unknown_currency_is_parked(aws: None, currency: str) -> None:
    """README "The money contract": "Every money fact on a money queue carries ... a `currency` whose
    exponent the provider or ISO 4217 documents. The door enforces it for every route: ... `POST /webhook`
    by its schema and `webhook_event.parked_reason`", and a money fact lacking "its `currency`
    (`unknown_currency_exponent`: an amount in no known currency, none at all included)" is parked;
    `parked_reason`'s own docstring says the same. The code parks only `currency is None`: `ABC` (no such
    code), `XXX` ("no currency") or `XTS` (testing) pass the schema's `^[A-Z]{3}$`, skip the exponent
    check (`decimal_places_beyond_exponent` returns None for an unknown code) and reach payments-queue,
    where a consumer cannot convert 10.5 of them into minor units. Provider sources park the same fact
    (`sources.canonical`)."""
    assert queue_of(standard_body(currency=currency)) == "unrouted"


# --------------------------------------------------------------------------------------------------
# R2-4 POST /webhook: a whitespace-only object_id passes for an object id
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("object_id", [" ", "\t", "\u200b"], ids=["space", "tab", "zero-width-space"])
@pytest.mark.xfail(
    strict=True, reason="R2-4: POST /webhook routes money facts whose object_id is blank (' ', tab, U+200B)"
)
def test_r2_4_a_blank_object_id_is_no_object_id(aws: None, object_id: str) -> None:
    """The fix parks a money fact without `object_id` (`missing_object_id`: "consumers deduplicate and
    order by it", README "The money contract"). The schema's `object_id` is `minLength: 1` with no
    pattern, so `" "` is an object id: every sender bug that writes a blank id routes its payments to
    payments-queue under the one object `payment: ` - a consumer keeping each object's latest state
    (README: `<transaction_type>:<object_id>`, by `object_version`) books one payment and drops the
    others as stale. Provider sources refuse such ids (`common.id_part`, `[A-Za-z0-9_.-]`). Expected:
    parked `missing_object_id` (or 400), never routed."""
    assert queue_of(standard_body(object_id=object_id, event_id=f"evt_r2_4_{ord(object_id)}")) == "unrouted"


# --------------------------------------------------------------------------------------------------
# R2-5 POST /webhook: `PAYMENT`/`Refund` with a money outcome is a quiet lifecycle fact
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("transaction_type", "outcome"), [("PAYMENT", "succeeded"), ("Refund", "succeeded"), ("DISPUTE", "opened")]
)
@pytest.mark.xfail(
    strict=True,
    reason="R2-5: a money fact with a differently cased transaction_type (PAYMENT + succeeded) goes quietly "
    "to lifecycle-events: no money queue, no park, no alarm",
)
def test_r2_5_a_miscased_money_type_with_a_money_outcome_is_not_a_quiet_lifecycle_fact(
    aws: None, transaction_type: str, outcome: str
) -> None:
    """README: "`payment`, `refund` and `dispute` are routed to their queues, any other value is stored and
    parked in `unrouted-events`" and a money fact is "never booked and never a quiet lifecycle fact". With
    an `outcome`, `routing.destination` sends any type that is not exactly `payment`/`refund`/`dispute` to
    lifecycle-events, and `_unmapped` gives it no reason (outcome set): `{"transaction_type": "PAYMENT",
    "outcome": "succeeded", "amount": 10.5, "currency": "EUR", ...}` is answered 202 and the payment never
    reaches payments-queue nor any alarm. (Without `outcome` the same body is parked
    `unmapped_transaction_type`, alarmed: stating the outcome makes it quieter.) Expected: parked (or 400)."""
    assert queue_of(standard_body(transaction_type=transaction_type, outcome=outcome)) == "unrouted"


# --------------------------------------------------------------------------------------------------
# R2-6 Paddle: a chargeback_reverse whose status turns `reversed` is booked as a new chargeback
# --------------------------------------------------------------------------------------------------
@pytest.mark.xfail(
    strict=True,
    reason="R2-6: Paddle adjustment.updated chargeback_reverse -> reversed is a money fact (dispute opened, "
    "a debit), the same class as RT-1",
)
def test_r2_6_a_reversed_chargeback_reverse_is_not_a_second_debit(aws: None) -> None:
    """Paddle's Adjustment status enum (https://developer.paddle.com/api-reference/adjustments/overview;
    mirrored at https://docs.rs/paddle-rust-sdk/latest/paddle_rust_sdk/enums/enum.AdjustmentStatus.html):
    `reversed` - "Set by Paddle when a chargeback_reverse or credit_reverse adjustment is created for this
    adjustment". The RT-1 fix applies that reading to `chargeback` only (`STATUS_FACTS`): the status change
    restates what the new adjustment carries, so it is lifecycle. The sibling row
    `ADJUSTMENT_FACTS["chargeback_reverse"]["reversed"] = "opened"` is still a money fact (dispute opened,
    LEDGER_SIGN -1): Paddle documents no transition of a `chargeback_reverse` to `reversed` other than a
    new reversing adjustment, which carries its own money fact; a re-debit by the issuer is a new
    `chargeback` adjustment (approved -> `opened`), so the row books that debit a second time."""
    paddle = fresh_import("providers.paddle")
    money_facts = importlib.import_module("money_facts")
    transaction_type, outcome = paddle.money_fact(
        "adjustment.updated", {"action": "chargeback_reverse", "status": "reversed"}
    )
    assert not money_facts.is_money_fact(transaction_type, outcome)
