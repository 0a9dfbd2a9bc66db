"""The published schemas (schema/) describe what the code builds: the routed message and the stored item."""

from __future__ import annotations

import base64
import datetime
import json
import sys
from decimal import Decimal

import boto3
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline_tools import schema_compat
from tests.handlers.helpers import HANDLERS_DIR, REGION, fresh_import
from tests.message_schema import check_message, validator

sys.path.insert(0, str(HANDLERS_DIR))
import money_facts

import routed_message
import routing
from canonical_event import CanonicalEvent, payload_sha256, utc_text

MONEY_FACT_FIELDS = ("outcome", "object_id", "parent_object_id", "object_version")


def schema(name: str) -> dict:
    return schema_compat.load(schema_compat.SCHEMA_DIR / f"{name}.schema.json")


@pytest.mark.parametrize("name", schema_compat.SCHEMA_NAMES)
def test_each_schema_is_2020_12_and_its_version_is_published_as_is(name: str) -> None:
    current = schema(name)
    assert current["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(current)
    version = current[schema_compat.VERSION_KEY]
    frozen = schema_compat.PUBLISHED_DIR / f"{name}-{version}.schema.json"
    assert frozen.exists(), f"publish {frozen.name}: a copy of the schema at this version"
    assert schema_compat.load(frozen) == current, f"{name} changed without a new version: bump it and publish"


def test_the_body_members_are_the_builders_and_the_attributes_the_routers() -> None:
    event = schema("routed-message")["$defs"]["event"]
    assert tuple(event["properties"]) == routed_message.EVENT_FIELDS
    assert set(MONEY_FACT_FIELDS) <= set(event["properties"]) - set(event["required"])  # optional in version 1
    assert set(event["required"]) <= set(routed_message.EVENT_FIELDS)
    attributes = schema("routed-message")["$defs"]["attributes"]
    assert tuple(attributes["properties"]) == routed_message._ATTRIBUTES
    assert event["properties"]["outcome"]["enum"] == list(money_facts.OUTCOMES)


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
identifiers = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
moments = st.datetimes(
    min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(9000, 1, 1), timezones=st.just(datetime.UTC)
)
events = st.builds(
    CanonicalEvent,
    event_id=identifiers,
    source=identifiers,
    provider_event_type=texts,
    transaction_type=st.one_of(st.sampled_from(["payment", "refund", "dispute", "other"]), identifiers),
    timestamp=moments.map(utc_text),
    # Short payloads stay text, repeated ones are stored compressed (payload_codec.COMPRESS_FROM_BYTES).
    payload=st.one_of(texts, texts.map(lambda text: text * 40)).map(lambda text: json.dumps({"text": text})),
    payload_sha256=texts.map(payload_sha256),
    amount=st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**12)),
    currency=st.one_of(st.none(), st.from_regex(r"\A[A-Z]{3}\Z")),
    unrouted_reason=st.one_of(st.none(), st.just("unknown_currency")),
    outcome=st.one_of(st.none(), st.sampled_from(money_facts.OUTCOMES)),
    object_id=st.one_of(st.none(), identifiers),
    parent_object_id=st.one_of(st.none(), identifiers),
    object_version=st.one_of(st.none(), st.integers(0, 2**63)),
)


@settings(max_examples=150, deadline=None)
@given(event=events, now=moments)
def test_every_message_and_item_the_code_builds_validates(event: CanonicalEvent, now: datetime.datetime) -> None:
    received_at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = event.message(received_at)
    check_message(message.body, dict(message.attributes))
    item = event.item(now=now, ttl_days=30)
    validator("stored-item").validate(wire(item))
    # The router rebuilds the same message from the stored item.
    record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": item}}
    rebuilt = routing.message_for(
        record, {v: v for v in (*routing.ROUTED_TYPES.values(), routing.UNROUTED, routing.LIFECYCLE)}
    )
    assert rebuilt is not None and rebuilt.message.body == message.body


def wire(item: dict) -> dict:
    """The item in DynamoDB JSON as GetItem's wire form and the stream carry it: binary values base64."""
    return {k: {"B": base64.b64encode(v["B"]).decode()} if "B" in v else v for k, v in item.items()}


@pytest.mark.parametrize("codec", ["zlib", "zlib-dict-1"])
def test_items_with_a_compressed_payload_validate_and_an_unknown_codec_or_no_payload_does_not(codec: str) -> None:
    import payload_codec

    text = json.dumps({"id": "evt_1", "object": "event", "data": {"note": "x" * 600}})
    base = {"event_id": {"S": "s:evt_1"}, "transaction_type": {"S": "payment"}, "timestamp": {"S": "t"},
            "payload_sha256": {"S": "0" * 64}, "received_at": {"S": "t"}, "ttl": {"N": "1"}}  # fmt: skip
    item = wire(base | payload_codec.payload_attributes(text, codec))
    assert item["payload_encoding"] == {"S": codec}
    validator("stored-item").validate(item)
    validator("stored-item").validate(base | {"payload": {"S": text}})  # as items stored before compression
    for wrong in (base, base | {"payload_encoding": {"S": codec}}, item | {"payload_encoding": {"S": "brotli"}}):
        with pytest.raises(jsonschema.ValidationError):
            validator("stored-item").validate(wrong)


def test_a_message_with_the_money_fact_members_validates_and_old_messages_without_them_too() -> None:
    body = {
        "event_id": "s:evt_1", "transaction_type": "refund", "amount": Decimal("10.00"), "currency": "EUR",
        "timestamp": "2026-11-28T10:00:00Z", "received_at": "2026-11-28T10:00:01.000Z",
        "payload_sha256": "0" * 64, "payload": "{}",
    }  # fmt: skip
    old = routed_message.build(body, {"event_id": "s:evt_1", "transaction_type": "refund"})
    check_message(old.body, dict(old.attributes))
    new = json.loads(old.body) | {"outcome": "succeeded", "object_id": "re_1", "parent_object_id": "py_1",
                                  "object_version": 1764324000000000}  # fmt: skip
    check_message(json.dumps(new), dict(old.attributes))
    for wrong in ({"outcome": "refunded"}, {"object_version": "7"}, {"object_version": 1.5}, {"amount": "10.00"}):
        with pytest.raises(jsonschema.ValidationError):
            check_message(json.dumps(new | wrong), dict(old.attributes))


def test_a_parked_pointer_validates() -> None:
    pointer = routing.parked_message("42", "url", "s:evt_1", "unreadable_record").message
    check_message(pointer.body, dict(pointer.attributes))


def test_the_hook_fails_a_router_test_that_sends_a_message_the_schema_refuses(queues: dict[str, str]) -> None:
    router = fresh_import("router")
    entry = {"Id": "0", "MessageBody": '{"event_id": "e"}',
             "MessageAttributes": {"event_id": {"DataType": "String", "StringValue": "e"}}}  # fmt: skip
    with pytest.raises(jsonschema.ValidationError, match="required"):
        router._sqs.send_message_batch(QueueUrl=queues["PAYMENTS_QUEUE_URL"], Entries=[entry])
    assert (
        boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queues["PAYMENTS_QUEUE_URL"]).get("Messages")
        is None
    )
