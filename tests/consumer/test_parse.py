"""`webhook_consumer.parse` and its models against the messages the pipeline builds and the schema."""

from __future__ import annotations

import datetime
import json
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline_tools.schema_compat import SCHEMA_DIR
from tests.consumer.conftest import CONSUMER_DIR
from tests.consumer.messages import Fact, body_fields, fact_record, lambda_record
from tests.handlers.helpers import HANDLERS_DIR
from tests.message_schema import validator

sys.path.insert(0, str(HANDLERS_DIR))
import money_facts
import webhook_consumer
from webhook_consumer import InvalidMessageError, Outcome, parse
from webhook_consumer.schema_rules import schema, violations

REFUND = Fact("psp:evt_2", "refund", "succeeded", "re_1", 7, Decimal("3.00"), parent_object_id="py_1")


def test_the_bundled_schema_is_the_published_one() -> None:
    bundled = CONSUMER_DIR / "src" / "webhook_consumer" / "routed-message.schema.json"
    assert json.loads(bundled.read_text()) == json.loads((SCHEMA_DIR / "routed-message.schema.json").read_text())
    assert webhook_consumer.schema_version() == schema()["x-schema-version"]


def test_the_vocabulary_is_the_pipelines() -> None:
    assert [o.value for o in Outcome if o is not Outcome.UNKNOWN] == list(money_facts.OUTCOMES)
    assert {t: {o.value for o in os} for t, os in webhook_consumer.MONEY_OUTCOMES.items()} == {
        t: set(os) for t, os in money_facts.MONEY_OUTCOMES.items()
    }
    assert {(t, o.value): s for (t, o), s in webhook_consumer.LEDGER_SIGN.items()} == dict(money_facts.LEDGER_SIGN)


def test_a_state_effect_is_the_sum_of_the_signs_on_the_way_to_it() -> None:
    paths = {
        ("payment", "succeeded"): ["succeeded"], ("payment", "reversed"): ["succeeded", "reversed"],
        ("refund", "succeeded"): ["succeeded"], ("refund", "reversed"): ["succeeded", "reversed"],
        ("dispute", "opened"): ["opened"], ("dispute", "won"): ["opened", "won"],
        ("dispute", "lost"): ["opened", "lost"], ("dispute", "reversed"): ["opened", "reversed"],
    }  # fmt: skip
    assert set(paths) == set(money_facts.LEDGER_SIGN)
    for (kind, outcome), path in paths.items():
        expected = sum(money_facts.LEDGER_SIGN[(kind, step)] for step in path)
        assert webhook_consumer.STATE_EFFECT[(kind, Outcome(outcome))] == expected


def test_a_routed_message_parses_to_exact_typed_values() -> None:
    event = parse(fact_record(REFUND, "m-1"))
    assert event.amount == Decimal("3.00") and str(event.amount) == "3.00"
    assert event.timestamp == datetime.datetime(2026, 11, 28, 0, 0, 7, tzinfo=datetime.UTC)
    assert event.timestamp.tzinfo is not None and event.received_at.tzinfo is not None
    assert event.outcome is Outcome.SUCCEEDED and event.is_money_fact and event.ledger_sign == -1
    assert (event.object_id, event.parent_object_id, event.object_version) == ("re_1", "py_1", 7)
    assert event.attributes == {
        "event_id": "psp:evt_2",
        "transaction_type": "refund",
        "source": "psp",
        "outcome": "succeeded",
    }
    assert event.message_id == "m-1" and event.extra == {}


def test_the_boto3_receive_message_shape_parses_too() -> None:
    record = fact_record(REFUND, "m-1")
    boto = {"MessageId": "m-1", "Body": record["body"],
            "MessageAttributes": {n: {"StringValue": a["stringValue"], "DataType": "String"}
                                  for n, a in record["messageAttributes"].items()}}  # fmt: skip
    assert parse(boto) == parse(record)


def test_future_members_types_and_outcomes_are_kept_not_fatal() -> None:
    fields = body_fields(REFUND) | {"transaction_type": "payout", "outcome": "partially_refunded"}
    fields["fee"] = Decimal("0.25")
    event = parse(lambda_record(fields, "m-1"))
    assert event.transaction_type == "payout"
    assert event.outcome is Outcome.UNKNOWN and event.outcome_text == "partially_refunded"
    assert not event.is_money_fact and event.ledger_sign == 0
    assert event.extra == {"fee": Decimal("0.25")}


def test_an_old_message_without_the_money_fact_members_parses_unordered() -> None:
    fields = {k: v for k, v in body_fields(REFUND).items() if k not in ("outcome", "object_id", "object_version")}
    event = parse(lambda_record(fields, "m-1"))
    assert event.outcome is None and not event.ordered and not event.is_money_fact


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda b: b.pop("payload"), "payload is required"),
        (lambda b: b.update(amount="3.00"), "$.body.amount: expected number"),
        (lambda b: b.update(object_version=1.5), "$.body.object_version: expected integer"),
        (lambda b: b.update(currency="eur"), "$.body.currency: does not match"),
        (lambda b: b.update(timestamp="2026-11-28T00:00:07+01:00"), "$.body.timestamp: does not match"),
        (lambda b: b.update(outcome=7), "$.body.outcome: expected string"),
        (lambda b: b.update(event_id="psp:other"), "differs from the body's event_id"),
    ],
)
def test_a_message_that_breaks_the_schema_is_refused_naming_the_member(change: Any, problem: str) -> None:
    record = fact_record(REFUND, "m-1")
    body = json.loads(record["body"], parse_float=Decimal)
    change(body)
    record["body"] = json.dumps(body, default=float)
    with pytest.raises(InvalidMessageError) as caught:
        parse(record)
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_not_json_or_no_body_is_refused() -> None:
    with pytest.raises(InvalidMessageError, match="not JSON"):
        parse({"body": "{", "messageAttributes": {}})
    with pytest.raises(InvalidMessageError, match="no body"):
        parse({"messageId": "m"})


def test_a_schema_keyword_the_rules_do_not_check_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="does not check"):
        list(violations("x", {"type": "string", "format": "email"}))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
              st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    lambda children: st.one_of(st.lists(children, max_size=2), st.dictionaries(st.text(max_size=4), children, max_size=2)),
    max_leaves=4,
)  # fmt: skip
members = st.sampled_from([*body_fields(REFUND), "extra_member"])


@settings(max_examples=300, deadline=None)
@given(
    removed=st.sets(members, max_size=2),
    replaced=st.dictionaries(members, st.one_of(json_values, st.sampled_from(list(money_facts.OUTCOMES))), max_size=2),
    attribute=st.one_of(st.none(), st.text(max_size=3)),
)
def test_the_package_rules_agree_with_jsonschema(
    removed: set[str], replaced: dict[str, Any], attribute: str | None
) -> None:
    body = {k: v for k, v in body_fields(REFUND).items() if k not in removed and v is not None} | replaced
    body = json.loads(json.dumps(body, default=str), parse_float=Decimal)
    for name, value in replaced.items():  # keep Decimals as JSON numbers, not strings
        if isinstance(value, Decimal):
            body[name] = value
    attributes = {"event_id": str(body.get("event_id")), "transaction_type": "refund"}
    if attribute is not None:
        attributes["source"] = attribute
    message = {"body": body, "attributes": attributes}
    oracle = list(validator().iter_errors(json.loads(json.dumps(message, default=float))))
    ours = list(violations(message, schema()))
    assert bool(oracle) == bool(ours), (oracle, ours)
