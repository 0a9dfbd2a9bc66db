"""The quarantine (handlers/quarantine.py) against moto: signed refusals kept, unsigned ones not, readmission.

Before this change a signed delivery refused with 409/400/413 left nothing behind but a metric no alarm
watched: `test_a_signed_conflict_is_kept_with_what_it_takes_to_verify_it_again` failed.
"""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError

from tests.handlers.helpers import REGION, TABLE_NAME, FakeContext, make_event, payment, stored_items
from tests.handlers.providers.signing import stripe_header
from tests.handlers.test_sources import (
    SOURCES,
    api_event,
    call,
    configure,  # noqa: F401 - the pytest fixture, used by name
    error_of,
    fixture_bytes,
    post,
)

QUARANTINE = "webhook-quarantine-test"
STRIPE_SAMPLE = "stripe/payment_intent.succeeded.json"


@pytest.fixture
def quarantine_table(events_table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=QUARANTINE,
        KeySchema=[{"AttributeName": "quarantine_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "quarantine_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("QUARANTINE_TABLE_NAME", QUARANTINE)
    return QUARANTINE


@pytest.fixture
def validator(quarantine_table: str, configure: Any) -> ModuleType:  # noqa: F811
    return configure()[0]


def kept() -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=QUARANTINE)["Items"]


def delete_event(event_id: str) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_item(TableName=TABLE_NAME, Key={"event_id": {"S": event_id}})


def readmit(validator: ModuleType, key: str) -> dict[str, Any]:
    return validator.handler({"quarantine_readmit": key}, FakeContext())


def stripe_delivery(body: bytes, at: int | None = None) -> dict[str, Any]:
    at = int(time.time()) if at is None else at
    return api_event("stripe", body, {"Stripe-Signature": stripe_header([SOURCES["stripe"].secret], body, at)})


def test_a_signed_conflict_is_kept_with_what_it_takes_to_verify_it_again(validator: ModuleType) -> None:
    assert call(validator, make_event(payment("evt_q1")))[0] == 202
    conflicting = make_event(payment("evt_q1", amount=5))
    assert call(validator, conflicting)[0] == 409
    [item] = kept()
    assert item["source"]["S"] == "standard" and item["reason"]["S"] == "conflict"
    assert item["status"]["N"] == "409" and [v["S"] for v in item["event_ids"]["L"]] == ["evt_q1"]
    assert item["body"]["B"] == conflicting["body"].encode()
    assert json.loads(item["headers"]["S"])["webhook-signature"] == conflicting["headers"]["webhook-signature"]
    assert item["refusals"]["N"] == "1" and int(item["expires_at"]["N"]) > time.time() + 89 * 86400


def test_unsigned_or_unverifiable_refusals_are_never_kept(validator: ModuleType) -> None:
    assert call(validator, make_event(payment("evt_q2"), secret="whsec_" + "B" * 43 + "="))[0] == 401
    assert call(validator, make_event("{not json", omit=("webhook-signature",)))[0] == 401
    # Adyen's signature is inside the body: a body that does not parse was never verified.
    assert call(validator, api_event("adyen", b"{not json", {}))[0] == 400
    assert call(validator, stripe_delivery(b'{"id": "evt_x"}', at=int(time.time()) - 3600))[0] == 401
    assert kept() == []


def test_a_signed_mapping_refusal_is_kept(validator: ModuleType) -> None:
    body = json.dumps({"id": "evt_bad", "type": "charge.succeeded", "created": "yesterday"}).encode()
    status, answer = call(validator, stripe_delivery(body))
    assert status == 400
    [item] = kept()
    assert (item["source"]["S"], item["reason"]["S"], item["field"]["S"]) == ("stripe", error_of(answer), "created")


def test_a_retry_updates_its_one_item(validator: ModuleType) -> None:
    body = json.dumps({"id": "evt_bad", "type": "charge.succeeded", "created": "yesterday"}).encode()
    for _ in range(3):
        assert call(validator, stripe_delivery(body))[0] == 400
    [item] = kept()
    assert item["refusals"]["N"] == "3"


def test_when_the_quarantine_cannot_be_written_the_answer_is_503(
    validator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert call(validator, make_event(payment("evt_q3")))[0] == 202
    monkeypatch.setenv("QUARANTINE_TABLE_NAME", "no-such-table")
    status, body = call(validator, make_event(payment("evt_q3", amount=5)))
    assert status == 503 and error_of(body) == "unavailable"  # the sender retries; nothing is lost in silence


def test_readmission_after_the_fix_stores_it_and_releases_it_once(validator: ModuleType) -> None:
    body = fixture_bytes(STRIPE_SAMPLE)
    verified_at = int(time.time())
    # Something else took Stripe's id first (a sender bug, an operator's mistake): the genuine delivery is 409.
    other = json.loads(body)
    other["data"]["object"]["amount"] = 1
    assert call(validator, stripe_delivery(json.dumps(other).encode(), at=verified_at))[0] == 202
    assert call(validator, stripe_delivery(body, at=verified_at))[0] == 409
    [item] = [i for i in kept() if i["reason"]["S"] == "conflict"]
    key = item["quarantine_id"]["S"]

    still = readmit(validator, key)  # not fixed yet: refused again, kept, counted
    assert (still["statusCode"], still["released"]) == (409, False)
    assert [i["refusals"]["N"] for i in kept() if i["quarantine_id"]["S"] == key] == ["2"]

    delete_event("stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y")  # the fix: the wrong item removed
    # Hours later: the Stripe-Signature timestamp is checked against when it was verified, not against now.
    with time_machine.travel(verified_at + 7200, tick=False):
        done = readmit(validator, key)
    assert (done["statusCode"], done["released"]) == (202, True)
    assert kept() == []
    [stored] = [i for i in stored_items() if i["event_id"]["S"] == "stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"]
    assert json.loads(_payload(stored))["data"]["object"]["amount"] == json.loads(body)["data"]["object"]["amount"]
    assert readmit(validator, key) == {"quarantine_id": key, "found": False, "released": False}


def test_a_readmitted_duplicate_is_released_without_a_second_event(validator: ModuleType) -> None:
    """A provider retry may store the event before the operator readmits: the readmission dedupes (200)."""
    body = fixture_bytes(STRIPE_SAMPLE)
    other = json.loads(body)
    other["data"]["object"]["amount"] = 1
    assert call(validator, stripe_delivery(json.dumps(other).encode()))[0] == 202
    assert call(validator, stripe_delivery(body))[0] == 409
    [item] = kept()
    delete_event("stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y")
    assert call(validator, stripe_delivery(body))[0] == 202  # Stripe's next retry, after the fix
    answer = readmit(validator, item["quarantine_id"]["S"])
    assert (answer["statusCode"], answer["released"]) == (200, True)
    assert kept() == [] and len(stored_items()) == 1


def test_a_kept_body_edited_in_the_table_is_refused_on_readmission(validator: ModuleType) -> None:
    body = json.dumps({"id": "evt_dup", "type": "charge.succeeded", "created": "yesterday"}).encode()
    assert call(validator, stripe_delivery(body))[0] == 400
    [item] = kept()
    client = boto3.client("dynamodb", region_name=REGION)
    fixed = json.dumps({"id": "evt_dup", "type": "charge.succeeded", "created": 1700000000}).encode()
    client.update_item(TableName=QUARANTINE, Key={"quarantine_id": item["quarantine_id"]},
                       UpdateExpression="SET body = :b", ExpressionAttributeValues={":b": {"B": fixed}})  # fmt: skip
    # The kept signature no longer matches the edited body: today's door refuses it, nothing is released.
    assert readmit(validator, item["quarantine_id"]["S"])["statusCode"] == 401
    assert len(kept()) == 1


def test_no_http_request_can_reach_the_readmission(validator: ModuleType) -> None:
    event = make_event(payment("evt_q4"))
    event["quarantine_readmit"] = "standard:x"
    assert call(validator, event)[0] == 202  # a proxy event always goes through the door


def test_release_is_conditional_on_no_new_refusal(validator: ModuleType) -> None:
    assert call(validator, make_event(payment("evt_q5")))[0] == 202
    assert call(validator, make_event(payment("evt_q5", amount=5)))[0] == 409
    [item] = kept()
    assert call(validator, make_event(payment("evt_q5", amount=5)))[0] == 409  # refusals 2 since `item` was read
    import quarantine

    assert quarantine.release(boto3.client("dynamodb", region_name=REGION), item) is False
    assert len(kept()) == 1
    with pytest.raises(ClientError):
        boto3.client("dynamodb", region_name=REGION).delete_item(
            TableName="missing", Key={"quarantine_id": item["quarantine_id"]}
        )


class _InProcessLambda:
    """Lambda's Invoke for the validator, run in this process (as the sandbox's gateway does)."""

    def __init__(self, validator: ModuleType) -> None:
        self.validator = validator
        self.calls: list[dict[str, Any]] = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        import io

        event = json.loads(Payload)
        self.calls.append(event)
        return {"Payload": io.BytesIO(json.dumps(self.validator.handler(event, FakeContext())).encode())}


def test_the_cli_lists_shows_and_readmits_by_id(
    validator: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_tools import __main__ as cli
    from pipeline_tools import quarantine as tool

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({
        "api_endpoint": "https://x.execute-api.us-east-1.amazonaws.com/v1/webhook", "dynamodb_table_name": TABLE_NAME,
        "payments_queue_url": "q", "refunds_queue_url": "q", "disputes_queue_url": "q",
        "validator_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:webhook-validator-test",
        "quarantine_table_name": QUARANTINE,
    }))  # fmt: skip
    fake = _InProcessLambda(validator)
    monkeypatch.setattr(tool, "_lambda", lambda _outputs: fake)
    assert call(validator, make_event(payment("evt_c1")))[0] == 202
    assert call(validator, make_event(payment("evt_c1", amount=5)))[0] == 409
    capsys.readouterr()

    assert cli.main(["quarantine", "list", "--outputs", str(outputs)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    listed = json.loads(line)
    assert (listed["reason"], listed["event_ids"], listed["status"]) == ("conflict", ["evt_c1"], 409)
    key = listed["quarantine_id"]
    assert cli.main(["quarantine", "show", key, "--outputs", str(outputs)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert json.loads(shown["body"])["amount"] == 5 and "webhook-signature" in shown["headers"]

    def answer() -> dict[str, Any]:  # the CLI's line (the in-process validator logs to stdout too)
        [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"quarantine_id"')]
        return json.loads(line)

    assert cli.main(["quarantine", "readmit", key, "--outputs", str(outputs)]) == 1  # still conflicting: kept
    assert answer()["statusCode"] == 409
    delete_event("evt_c1")
    assert cli.main(["quarantine", "readmit", key, "--outputs", str(outputs)]) == 0
    assert answer()["released"] is True
    assert fake.calls == [{"quarantine_readmit": key}] * 2
    assert cli.main(["quarantine", "readmit", key, "--outputs", str(outputs)]) == 2  # gone: named, exit 2
    assert "no kept delivery" in capsys.readouterr().err
    assert cli.main(["quarantine", "show", "--outputs", str(outputs)]) == 2


def _payload(item: dict[str, Any]) -> str:
    """The stored payload, plain or compressed (handlers/payload_codec.py; handlers/ is on sys.path here)."""
    import payload_codec

    text = payload_codec.stored_payload(item)
    assert text is not None
    return text


@pytest.mark.parametrize("amount", [-1000, 10**21])
def test_a_signed_hostile_amount_is_refused_and_kept(validator: ModuleType, amount: int) -> None:
    """Red-team finding 3: a negative or unbounded amount was stored and routed. It is a 400
    `invalid_amount` (the provider's payload is wrong and a retry will not change it), kept here."""
    body = json.loads(fixture_bytes("checkout/payment_captured.json"))
    body["data"]["amount"] = amount
    status, answer = post(validator, "checkout", json.dumps(body).encode())
    assert (status, error_of(answer)) == (400, "invalid_amount")
    [item] = kept()
    assert (item["source"]["S"], item["reason"]["S"]) == ("checkout", "invalid_amount")
    assert stored_items() == []
