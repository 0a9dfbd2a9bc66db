"""The money contract at the door and the router: outcome fields, defaults, and where each fact goes."""

from __future__ import annotations

import datetime
import json
from types import ModuleType

import money_facts
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.helpers import FakeContext, fresh_import
from tests.handlers.test_router import drain, store_events

import providers
import routing
import sources
import webhook_event

QUEUES = {"PAYMENTS_QUEUE_URL": "payment", "REFUNDS_QUEUE_URL": "refund", "DISPUTES_QUEUE_URL": "dispute",
          "UNROUTED_QUEUE_URL": "unrouted", "LIFECYCLE_QUEUE_URL": "lifecycle"}  # fmt: skip
TYPES = ("payment", "refund", "dispute", "other", "subscription")


@given(transaction_type=st.sampled_from(TYPES), outcome=st.sampled_from((None, *money_facts.OUTCOMES)))
def test_destination_of_every_type_and_outcome(transaction_type: str, outcome: str | None) -> None:
    queue = routing.destination(transaction_type, outcome, QUEUES)
    if outcome is None:  # items stored before outcomes: the old route
        assert queue == (transaction_type if transaction_type in ("payment", "refund", "dispute") else "unrouted")
    elif money_facts.is_money_fact(transaction_type, outcome):
        assert queue == transaction_type
    else:  # a known fact that moves no money: never a money queue, never the unknown-type alarm
        assert queue == "lifecycle"


@pytest.mark.parametrize(("transaction_type", "outcome"), [("payment", "succeeded"), ("refund", "succeeded"),
                                                            ("dispute", "opened"), ("chargeback", None)])  # fmt: skip
def test_post_webhook_without_outcome_routes_as_before(transaction_type: str, outcome: str | None) -> None:
    body = {"event_id": "e1", "transaction_type": transaction_type, "amount": 1, "timestamp": "2026-01-01T00:00:00Z"}
    event = webhook_event.parse_event(json.dumps(body).encode())
    assert event.outcome == outcome
    assert (event.object_id, event.parent_object_id, event.object_version) == (None, None, None)


def test_post_webhook_carries_the_money_fact_fields_to_item_and_message() -> None:
    body = {"event_id": "e1", "transaction_type": "refund", "amount": 30, "currency": "USD", "outcome": "failed",
            "object_id": "re_1", "parent_object_id": "pi_1", "object_version": 1_764_000_000_123_456,
            "timestamp": "2026-01-01T00:00:00Z"}  # fmt: skip
    event = webhook_event.parse_event(json.dumps(body).encode())
    item = event.item(now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), ttl_days=1)
    assert item["outcome"] == {"S": "failed"} and item["object_id"] == {"S": "re_1"}
    assert item["parent_object_id"] == {"S": "pi_1"} and item["object_version"] == {"N": "1764000000123456"}
    message = event.message("2026-01-01T00:00:00.000Z")
    assert message.attributes["outcome"] == "failed"
    assert '"outcome":"failed","amount":30.00,"currency":"USD","object_id":"re_1","parent_object_id":"pi_1",' \
           '"object_version":1764000000123456,' in message.body  # fmt: skip


@pytest.mark.parametrize(
    ("member", "value"),
    [("outcome", "paid"), ("outcome", ""), ("object_id", ""), ("object_id", "x" * 257), ("object_version", 1.5),
     ("object_version", -1), ("object_version", "7"), ("parent_object_id", 3)],
)  # fmt: skip
def test_post_webhook_refuses_bad_money_fact_fields_naming_them(member: str, value: object) -> None:
    body = {"event_id": "e1", "transaction_type": "payment", "amount": 1, "timestamp": "2026-01-01T00:00:00Z",
            member: value}  # fmt: skip
    with pytest.raises(webhook_event.InvalidEventError) as raised:
        webhook_event.parse_event(json.dumps(body).encode())
    assert raised.value.field == member


def test_type_map_objects_set_the_outcome_policy() -> None:
    types, outcomes = sources.type_map_entries(
        {"a": "payment", "b": {"outcome": "authorized"}, "c": {"transaction_type": "refund", "outcome": "failed"}}
    )
    assert types == {"a": "payment", "c": "refund"}
    assert outcomes == {"b": "authorized", "c": "failed"}


def test_router_sends_non_money_facts_to_lifecycle_and_raises_no_unrouted_metric(
    events_table: str, queues: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    router: ModuleType = fresh_import("router")
    bodies = [
        '{"event_id":"e_auth","transaction_type":"payment","amount":10,"currency":"USD","outcome":"authorized",'
        '"object_id":"pi_1","timestamp":"2026-11-28T10:00:00Z"}',
        '{"event_id":"e_paid","transaction_type":"payment","amount":10,"currency":"USD","outcome":"succeeded",'
        '"object_id":"pi_1","timestamp":"2026-11-28T10:00:01Z"}',
        '{"event_id":"e_lost","transaction_type":"dispute","amount":10,"currency":"USD","outcome":"lost",'
        '"object_id":"du_1","parent_object_id":"pi_1","timestamp":"2026-11-28T10:00:02Z"}',
        '{"event_id":"e_sub","transaction_type":"subscription","amount":10,"currency":"USD","outcome":"pending",'
        '"timestamp":"2026-11-28T10:00:03Z"}',
    ]
    assert router.handler({"Records": store_events(bodies)}, FakeContext()) == {"batchItemFailures": []}
    ids = {
        name: [m["MessageAttributes"]["event_id"]["StringValue"] for m in drain(url)] for name, url in queues.items()
    }
    assert sorted(ids["LIFECYCLE_QUEUE_URL"]) == ["e_auth", "e_sub"]
    assert ids["PAYMENTS_QUEUE_URL"] == ["e_paid"]
    assert ids["DISPUTES_QUEUE_URL"] == ["e_lost"]
    assert ids["UNROUTED_QUEUE_URL"] == []
    assert '"Unrouted"' not in capsys.readouterr().out  # the unknown-type alarm's metric


def test_a_stripe_sample_body_amount_is_this_facts_amount() -> None:
    """The regression of the issue in one line: charge.refunded's running total is never a refund amount."""
    source = sources.load_sources(json.dumps({"s": {"provider": "stripe", "secret_arn": "arn"}}))["s"]
    event = source.module.read(
        providers.WebhookRequest(
            {},
            b"",
            json.dumps(
                {
                    "id": "evt_1",
                    "type": "charge.refunded",
                    "created": 1,
                    "data": {"object": {"id": "ch_1", "amount": 10000, "amount_refunded": 5000, "currency": "usd"}},
                }
            ),
            "",
        )
    )
    canonical = sources.canonical(source, event)
    assert (canonical.transaction_type, canonical.outcome, canonical.amount) == ("other", "succeeded", None)


def _routed_queue(body: dict[str, object]) -> tuple[str, str | None]:
    import tests.handlers.lifecycle as lifecycle

    item = webhook_event.parse_event(json.dumps(body).encode()).item(now=lifecycle.NOW, ttl_days=30)
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": item}}
    outgoing = routing.message_for(record, lifecycle.QUEUE_URLS)
    assert outgoing is not None
    return outgoing.queue_url, outgoing.unrouted_reason


def test_post_webhook_money_fact_without_object_id_is_parked() -> None:
    """Red-team RT-5 (the reproduction): README "The money contract": "Every money fact on a money queue
    carries an `object_id`, an `amount` ... and a `currency`"; the schema requires neither, and the outcome
    defaults to `succeeded`. Such a body is stored and parked, never routed to payments-queue."""
    body = {"event_id": "evt_no_object", "transaction_type": "payment", "amount": 10.5,
            "timestamp": "2026-11-20T10:00:00Z"}  # fmt: skip
    assert _routed_queue(body)[0] == "unrouted"


@given(
    transaction_type=st.sampled_from(TYPES),
    outcome=st.sampled_from((None, *money_facts.OUTCOMES)),
    has_object=st.booleans(),
    has_currency=st.booleans(),
    amount=st.sampled_from(("0.01", "10.50", "999999.99")),
)
def test_post_webhook_routes_a_money_fact_only_with_object_id_and_currency(
    transaction_type: str, outcome: str | None, has_object: bool, has_currency: bool, amount: str
) -> None:
    """Every `POST /webhook` body that is a money fact (its type's money outcome, stated or defaulted) reaches
    its money queue only with both `object_id` and `currency`; without either it is parked with the reason
    (`unknown_currency_exponent` first, as `sources.canonical` checks the currency first). Anything else
    routes exactly as before: the contract adds parking, never moves a non-money fact."""
    body: dict[str, object] = {"event_id": "e1", "transaction_type": transaction_type,
                               "timestamp": "2026-11-20T10:00:00Z"}  # fmt: skip
    body["amount"] = float(amount)
    if outcome is not None:
        body["outcome"] = outcome
    if has_object:
        body["object_id"] = "obj_1"
    if has_currency:
        body["currency"] = "USD"
    queue, reason = _routed_queue(body)
    effective = outcome or webhook_event.DEFAULT_OUTCOMES.get(transaction_type)
    expected = routing.destination(transaction_type, effective, QUEUES)
    if money_facts.is_money_fact(transaction_type, effective) and not (has_object and has_currency):
        assert (queue, reason) == ("unrouted", "unknown_currency_exponent" if not has_currency else "missing_object_id")
    else:
        assert queue == expected


def _money_body(**fields: object) -> dict[str, object]:
    """A POST /webhook payment (10.50 EUR, its own object id), `fields` replacing."""
    body: dict[str, object] = {"event_id": "evt_r2", "transaction_type": "payment", "amount": 10.5,
                               "currency": "EUR", "object_id": "pay_1", "timestamp": "2026-11-20T10:00:00Z"}  # fmt: skip
    body.update(fields)
    return body


@pytest.mark.parametrize("currency", ["ABC", "XXX", "XTS"])
def test_post_webhook_money_fact_in_an_unknown_currency_is_parked(currency: str) -> None:
    """Red-team R2-3. README "The money contract": a money fact's `currency` has an exponent the provider or
    ISO 4217 documents, else it is parked `unknown_currency_exponent`. `ABC` is no code; ISO gives `XXX`
    ("no currency") and `XTS` (testing) no minor unit. All pass the schema's `^[A-Z]{3}$`."""
    assert _routed_queue(_money_body(currency=currency)) == ("unrouted", "unknown_currency_exponent")


@given(currency=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3))
def test_post_webhook_parks_a_money_fact_exactly_when_its_currency_has_no_exponent(currency: str) -> None:
    """Any schema-valid code: routed to payments-queue iff `money.exponent` knows it (ISO 4217 list one or
    a withdrawn code such as HRK), else parked `unknown_currency_exponent`."""
    import money

    try:
        money.exponent(currency)
    except money.UnknownCurrencyError:
        expected: tuple[str, str | None] = ("unrouted", "unknown_currency_exponent")
    else:
        expected = ("payment", None)
    assert _routed_queue(_money_body(currency=currency, amount=10)) == expected


def test_post_webhook_routes_a_withdrawn_currency() -> None:
    """A withdrawn ISO 4217 code keeps its last exponent (money.py: old payments keep arriving in HRK)."""
    assert _routed_queue(_money_body(currency="HRK")) == ("payment", None)


# Characters that show nothing: Unicode separators, controls and format characters (U+200B, U+2060,
# U+FEFF), and the fillers `webhook_event.blank` names.
INVISIBLE = st.characters(categories=("Zs", "Zl", "Zp", "Cc", "Cf", "Mn"), exclude_characters="\x00") | st.sampled_from(
    sorted(webhook_event._BLANK_GRAPHEMES)
)


@pytest.mark.parametrize(
    "object_id", [" ", "\t", "\u200b", "\u2060", "\ufeff", "\u3000", "\u3164", " \u200b\t"],
    ids=["space", "tab", "zero-width-space", "word-joiner", "bom", "ideographic-space", "hangul-filler", "mixed"],
)  # fmt: skip
def test_post_webhook_money_fact_with_a_blank_object_id_is_parked(object_id: str) -> None:
    """Red-team R2-4. A blank `object_id` is no object id: every payment a sender bug writes with `" "`
    would be the one object `payment: `, and a consumer keeping each object's latest state books one of
    them. Parked `missing_object_id`, as an absent one is (README, "The webhook contract")."""
    assert _routed_queue(_money_body(object_id=object_id)) == ("unrouted", "missing_object_id")


@given(object_id=st.text(INVISIBLE, min_size=1, max_size=20))
def test_post_webhook_parks_every_invisible_object_id(object_id: str) -> None:
    assert webhook_event.blank(object_id)
    assert _routed_queue(_money_body(object_id=object_id)) == ("unrouted", "missing_object_id")


@given(
    prefix=st.text(INVISIBLE, max_size=3),
    visible=st.characters(categories=("L", "N", "P", "S")).filter(lambda c: c not in webhook_event._BLANK_GRAPHEMES),
    suffix=st.text(INVISIBLE, max_size=3),
)
def test_post_webhook_routes_an_object_id_with_one_visible_character(prefix: str, visible: str, suffix: str) -> None:
    """Only blank ids are parked: one letter, digit, punctuation or symbol makes an id (`"pay 1"` included)."""
    object_id = prefix + visible + suffix
    assert not webhook_event.blank(object_id)
    assert _routed_queue(_money_body(object_id=object_id, event_id="evt_visible"))[1] is None


def _miscased(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(money_facts.MONEY_OUTCOMES)))
    upper = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)).filter(any))
    return "".join(c.upper() if flip else c for c, flip in zip(name, upper, strict=True))


@pytest.mark.parametrize(
    ("transaction_type", "outcome"),
    [("PAYMENT", "succeeded"), ("Refund", "succeeded"), ("DISPUTE", "opened"), ("Payment", None), ("REFUND", "failed")],
)
def test_post_webhook_parks_a_miscased_money_type(transaction_type: str, outcome: str | None) -> None:
    """Red-team R2-5. README "The webhook contract": types are exact; `payment`, `refund` and `dispute` in
    another case are parked `unmapped_transaction_type` (alarmed) with or without an `outcome`, never a
    quiet lifecycle fact (the outcome used to make `PAYMENT` + `succeeded` quieter than `PAYMENT` alone)."""
    fields: dict[str, object] = {"transaction_type": transaction_type}
    if outcome is not None:
        fields["outcome"] = outcome
    assert _routed_queue(_money_body(**fields)) == ("unrouted", "unmapped_transaction_type")


@given(transaction_type=st.composite(_miscased)(), outcome=st.sampled_from((None, *money_facts.OUTCOMES)))
def test_post_webhook_never_sends_a_miscased_money_type_to_lifecycle(
    transaction_type: str, outcome: str | None
) -> None:
    fields: dict[str, object] = {"transaction_type": transaction_type}
    if outcome is not None:
        fields["outcome"] = outcome
    assert _routed_queue(_money_body(**fields)) == ("unrouted", "unmapped_transaction_type")
