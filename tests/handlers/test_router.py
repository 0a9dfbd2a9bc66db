"""The router against moto: grouping, call counts, exact bodies, partial failures reported, nothing dropped."""

from __future__ import annotations

import datetime
import json
import math
import sys
from collections import Counter
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.handlers.helpers import REGION, TABLE_NAME, FakeContext, fresh_import

TYPES = ("payment", "refund", "dispute")
QUEUE_OF = {
    "payment": "PAYMENTS_QUEUE_URL",
    "refund": "REFUNDS_QUEUE_URL",
    "dispute": "DISPUTES_QUEUE_URL",
}


def store_events(bodies: list[str]) -> list[dict[str, Any]]:
    """Store events the way the validator does and return the table's stream records for them."""
    webhook_event = fresh_import("webhook_event")
    client = boto3.client("dynamodb", region_name=REGION)
    now = datetime.datetime.now(tz=datetime.UTC)
    for index, body in enumerate(bodies):
        event = webhook_event.parse_event(body.encode())
        item = event.item(now=now, ttl_days=30, extra={"webhook_id": f"msg_{index}"})
        client.put_item(TableName=TABLE_NAME, Item=item)
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    stream_arn = client.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return records


def event_body(index: int, transaction_type: str, amount: str = "10.50") -> str:
    return (
        f'{{"event_id":"evt_{index}","transaction_type":"{transaction_type}","amount":{amount},'
        f'"currency":"USD","object_id":"obj_{index}","timestamp":"2026-11-28T10:00:00Z","meta":{{"n":{index}}}}}'
    )


def drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        if not batch:
            return messages
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )


def count_batch_calls(router: ModuleType) -> list[int]:
    sizes: list[int] = []
    router._sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch", lambda params, **_: sizes.append(len(params["Entries"]))
    )
    return sizes


@pytest.fixture
def stream_router(events_table: str, queues: dict[str, str]) -> ModuleType:
    return fresh_import("router")


def test_each_type_reaches_its_own_queue_with_attributes_and_exact_body(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    records = store_events(
        [event_body(1, "payment", "0.1"), event_body(2, "refund", "19.99"), event_body(3, "dispute", "1e-2")]
    )

    response = stream_router.handler({"Records": records}, FakeContext())

    assert response == {"batchItemFailures": []}
    for transaction_type, amount in (("payment", "0.10"), ("refund", "19.99"), ("dispute", "0.01")):
        [message] = drain(queues[QUEUE_OF[transaction_type]])
        body = json.loads(message["Body"], parse_float=Decimal)
        assert body["transaction_type"] == transaction_type
        assert body["source"] == "standard"
        # Written exactly with the currency's exponent, never via float: USD 0.1 is 0.10.
        assert f'"amount":{amount},"currency":"USD"' in message["Body"]
        assert str(body["amount"]) == amount
        payload = json.loads(body["payload"])  # the exact signed text
        assert payload["meta"]["n"] in (1, 2, 3)
        assert message["MessageAttributes"]["event_id"]["StringValue"] == body["event_id"]
        assert message["MessageAttributes"]["transaction_type"]["StringValue"] == transaction_type
        assert message["MessageAttributes"]["source"]["StringValue"] == "standard"
    assert drain(queues["UNROUTED_QUEUE_URL"]) == []


def test_unknown_type_is_parked_in_unrouted_not_dropped(stream_router: ModuleType, queues: dict[str, str]) -> None:
    records = store_events([event_body(7, "chargeback_reversal")])
    assert stream_router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    [message] = drain(queues["UNROUTED_QUEUE_URL"])
    assert message["MessageAttributes"]["transaction_type"]["StringValue"] == "chargeback_reversal"


@pytest.mark.parametrize("count", [1, 10, 11, 250])
def test_send_message_batch_calls_are_the_sum_of_ceilings_per_queue(
    stream_router: ModuleType, queues: dict[str, str], count: int
) -> None:
    types = [TYPES[i % 3] for i in range(count)]
    records = store_events([event_body(i, t) for i, t in enumerate(types)])
    sizes = count_batch_calls(stream_router)

    assert stream_router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}

    per_queue = Counter(types)
    assert len(sizes) == sum(math.ceil(n / 10) for n in per_queue.values())
    assert max(sizes) <= 10
    delivered = {t: len(drain(queues[QUEUE_OF[t]])) for t in TYPES}
    assert delivered == {t: per_queue.get(t, 0) for t in TYPES}


def test_batches_stay_under_the_sqs_byte_limit() -> None:
    routing = fresh_import("routing")
    routed_message = sys.modules["routed_message"]
    big = [
        routing.OutgoingMessage(str(i), "q", f"evt_{i}", routed_message.RoutedMessage("x" * 90_000, {"event_id": "e"}))
        for i in range(5)
    ]
    batches = list(routing.batches(big))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert all(sum(m.size for m in b) <= routing.MAX_BATCH_BYTES for b in batches)


def test_only_failed_entries_are_retried(stream_router: ModuleType, queues: dict[str, str]) -> None:
    records = store_events([event_body(i, "payment") for i in range(3)])
    url = queues["PAYMENTS_QUEUE_URL"]
    with Stubber(stream_router._sqs) as stubber:
        stubber.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}, {"Id": "2", "MessageId": "m2", "MD5OfMessageBody": "x"}],
             "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError"}]},
            {"QueueUrl": url, "Entries": ANY},
        )  # fmt: skip
        stubber.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "1", "MessageId": "m1", "MD5OfMessageBody": "x"}], "Failed": []},
            {"QueueUrl": url, "Entries": [stream_router.OutgoingMessage.entry(stream_router.message_for(records[1], stream_router._queue_urls()), "1")]},
        )  # fmt: skip
        response = stream_router.handler({"Records": records}, FakeContext())
        stubber.assert_no_pending_responses()
    assert response == {"batchItemFailures": []}


def test_entries_that_keep_failing_are_reported_by_sequence_number(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    records = store_events([event_body(i, "payment") for i in range(3)])
    failing = records[2]["dynamodb"]["SequenceNumber"]
    with Stubber(stream_router._sqs) as stubber:
        stubber.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}, {"Id": "1", "MessageId": "m1", "MD5OfMessageBody": "x"}],
             "Failed": [{"Id": "2", "SenderFault": False, "Code": "InternalError"}]},
        )  # fmt: skip
        for _ in range(stream_router.SEND_ATTEMPTS - 1):
            stubber.add_response(
                "send_message_batch",
                {"Successful": [], "Failed": [{"Id": "2", "SenderFault": False, "Code": "InternalError"}]},
            )
        response = stream_router.handler({"Records": records}, FakeContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": failing}]}


def test_a_failing_call_reports_every_record_of_the_batch(stream_router: ModuleType, queues: dict[str, str]) -> None:
    records = store_events([event_body(i, "refund") for i in range(2)])
    with Stubber(stream_router._sqs) as stubber:
        for _ in range(stream_router.SEND_ATTEMPTS):
            stubber.add_client_error("send_message_batch", service_error_code="KMS.KMSThrottlingException")
        response = stream_router.handler({"Records": records}, FakeContext())
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {
        r["dynamodb"]["SequenceNumber"] for r in records
    }


def test_a_record_whose_parking_pointer_is_refused_too_goes_back_to_lambda(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    records = store_events([event_body(1, "payment")])
    with Stubber(stream_router._sqs) as stubber:
        stubber.add_response(  # the event, refused for the sender's fault: parked
            "send_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": True, "Code": "InvalidMessageContents"}]},
        )
        stubber.add_response(  # its pointer, refused as well: nothing holds the record any more
            "send_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": True, "Code": "InvalidParameterValue"}]},
        )
        response = stream_router.handler({"Records": records}, FakeContext())
        stubber.assert_no_pending_responses()
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}


def test_an_unreadable_record_is_parked_with_its_reason_and_the_rest_routed(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    records = store_events([event_body(1, "payment"), event_body(2, "payment")])
    del records[0]["dynamodb"]["NewImage"]["transaction_type"]

    response = stream_router.handler({"Records": records}, FakeContext())

    assert response == {"batchItemFailures": []}  # not retried forever: parked
    assert len(drain(queues["PAYMENTS_QUEUE_URL"])) == 1
    [parked] = drain(queues["UNROUTED_QUEUE_URL"])
    body = json.loads(parked["Body"])
    assert body == {
        "event_id": "evt_1",
        "parked_reason": "unreadable_record",
        "sequence_number": records[0]["dynamodb"]["SequenceNumber"],
    }
    assert parked["MessageAttributes"]["parked_reason"]["StringValue"] == "unreadable_record"


def test_non_insert_records_are_ignored(stream_router: ModuleType, queues: dict[str, str]) -> None:
    [record] = store_events([event_body(1, "payment")])
    record["eventName"] = "REMOVE"
    assert stream_router.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    assert drain(queues["PAYMENTS_QUEUE_URL"]) == []


def test_router_imports_as_lambda_does() -> None:
    router = fresh_import("router")
    assert callable(router.handler)
    assert sys.modules["routing"].__file__.endswith("handlers/routing.py")


@pytest.mark.parametrize(
    "spoil",
    [
        lambda image: image.update({"amount": {"N": "abc"}}) or image.pop("amount_text"),  # legacy item, bad number
        lambda image: image.pop("payload"),
        lambda image: image.update({"transaction_type": {"S": 7}}),  # not a string
    ],
    ids=["legacy-amount-not-a-number", "no-payload", "type-not-text"],
)
def test_any_failure_of_one_record_parks_it_and_never_fails_the_batch(
    stream_router: ModuleType, queues: dict[str, str], spoil: Any
) -> None:
    records = store_events([event_body(1, "payment"), event_body(2, "payment")])
    spoil(records[0]["dynamodb"]["NewImage"])

    assert stream_router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    assert len(drain(queues["PAYMENTS_QUEUE_URL"])) == 1
    [parked] = drain(queues["UNROUTED_QUEUE_URL"])
    assert json.loads(parked["Body"])["parked_reason"] == "unreadable_record"


def test_a_record_without_a_readable_image_is_parked_by_its_sequence_number(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    [record] = store_events([event_body(1, "payment")])
    record["dynamodb"]["NewImage"] = "not an image"
    assert stream_router.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    [parked] = drain(queues["UNROUTED_QUEUE_URL"])
    assert json.loads(parked["Body"])["sequence_number"] == record["dynamodb"]["SequenceNumber"]


def test_an_entry_sqs_refuses_is_parked_and_the_rest_delivered_without_failing_the_batch(
    stream_router: ModuleType, queues: dict[str, str]
) -> None:
    records = store_events([event_body(i, "payment") for i in range(3)])
    parked: list[dict[str, Any]] = []
    with Stubber(stream_router._sqs) as stubber:
        stubber.add_response(  # entry 1 refused for the sender's fault: no retry can help it
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m0", "MD5OfMessageBody": "x"}, {"Id": "2", "MessageId": "m2", "MD5OfMessageBody": "x"}],
             "Failed": [{"Id": "1", "SenderFault": True, "Code": "InvalidMessageContents"}]},
            {"QueueUrl": queues["PAYMENTS_QUEUE_URL"], "Entries": ANY},
        )  # fmt: skip
        stubber.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "p0", "MD5OfMessageBody": "x"}], "Failed": []},
            {"QueueUrl": queues["UNROUTED_QUEUE_URL"], "Entries": ANY},
        )
        stream_router._sqs.meta.events.register(
            "before-parameter-build.sqs.SendMessageBatch", lambda params, **_: parked.append(params)
        )
        response = stream_router.handler({"Records": records}, FakeContext())
        stubber.assert_no_pending_responses()
    assert response == {"batchItemFailures": []}  # one bad record never blocks the shard
    [pointer] = parked[1]["Entries"]
    assert json.loads(pointer["MessageBody"]) == {
        "event_id": "evt_1",
        "parked_reason": "InvalidMessageContents",
        "sequence_number": records[1]["dynamodb"]["SequenceNumber"],
    }
