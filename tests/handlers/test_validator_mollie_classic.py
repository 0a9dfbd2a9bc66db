"""The door's answers for a mollie-classic source (moto table, Mollie's API played by `MollieStub`).

202 stored / 200 duplicate as for any provider; 200 `ignored` with nothing stored for an id Mollie does not
know; 503 with `Retry-After` and nothing stored when the fetch fails (429, 5xx, timeout, a refused key);
the refused key also counts `FetchCredentialRefused` (what its alarm reads).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer

from pipeline_tools.sandbox.provider_stubs import MollieStub, StubResponse
from tests.handlers.helpers import REGION, TABLE_NAME, FakeContext, fresh_import
from tests.handlers.reconcile.harness import serve_stub

KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
REVOKED = "test_9kQz2ReVokedKeyWasRotatedOut0"
T0 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def door(
    events_table: str, signing_secret: Any, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], tuple[ModuleType, MollieStub]]:
    def make(keys: list[str]) -> tuple[ModuleType, MollieStub]:
        stub = MollieStub(api_key=KEY)
        httpserver.clear()
        serve_stub(httpserver, stub)
        stub.add(stub.make_event(1, T0))
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"webhook-source-shop-{len(keys)}-{keys[0][:8]}", SecretString=json.dumps({"secrets": keys})
        )["ARN"]
        entry = {"provider": "mollie-classic", "secret_arn": arn, "api_base_url": stub.base_url}
        monkeypatch.setenv("SOURCES", json.dumps({"shop": entry}))
        return fresh_import("validator"), stub

    return make


def post(validator: ModuleType, body: str = "id=tr_0000000001") -> dict[str, Any]:
    event = {
        "resource": "/webhook/shop",
        "path": "/webhook/shop",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Mollie HTTP client/1.0"},
        "isBase64Encoded": False,
        "body": body,
        "requestContext": {"requestId": "r", "stage": "test", "domainName": "x.test", "path": "/test/webhook/shop"},
    }
    return validator.handler(event, FakeContext())


def stored() -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE_NAME)["Items"]
    return {item["event_id"]["S"]: item for item in items}


def test_a_webhook_is_stored_once_and_a_repeat_is_a_duplicate(door: Any) -> None:
    validator, stub = door([KEY])
    first = post(validator)
    assert first["statusCode"] == 202 and json.loads(first["body"])["event_id"] == "shop:tr_0000000001:paid"
    assert post(validator)["statusCode"] == 200
    stub.add_refund("tr_0000000001", "re_1", "2.50", "refunded", T0 + datetime.timedelta(hours=1))
    third = post(validator)
    assert third["statusCode"] == 202 and json.loads(third["body"]) == {"status": "accepted", "events": 2}
    items = stored()
    assert sorted(items) == ["shop:re_1:refunded", "shop:tr_0000000001:paid"]
    refund = items["shop:re_1:refunded"]
    assert (refund["transaction_type"]["S"], refund["amount"]["N"], refund["parent_object_id"]["S"]) == (
        "refund", "2.5", "tr_0000000001",
    )  # fmt: skip


def test_an_unknown_id_is_acknowledged_and_nothing_is_stored(door: Any) -> None:
    validator, _ = door([KEY])
    response = post(validator, "id=tr_SomeoneElses")
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"status": "ignored"})
    assert stored() == {}


def test_a_body_that_is_not_an_id_is_refused_before_any_fetch(door: Any) -> None:
    validator, stub = door([KEY])
    assert post(validator, '{"id": "tr_0000000001"}')["statusCode"] == 400
    assert stub.requests == [] and stored() == {}


@pytest.mark.parametrize(
    "fault",
    [StubResponse(429, b"{}", {"Retry-After": "120"}), StubResponse(500, b"{}"), StubResponse(503, b"{}")],
    ids=["429", "500", "503"],
)
def test_a_failed_fetch_answers_503_with_retry_after_and_stores_nothing(door: Any, fault: StubResponse) -> None:
    validator, stub = door([KEY])
    stub.fail_next(fault, fault)
    response = post(validator)
    assert response["statusCode"] == 503 and int(response["headers"]["Retry-After"]) > 0
    assert stored() == {}
    stub._faults.clear()  # a 429 with a long Retry-After ends the fetch at once: its second fault is unused
    assert post(validator)["statusCode"] == 202  # Mollie's retry, once the API answers again


def test_a_revoked_key_answers_503_and_counts_for_its_alarm(door: Any, capsys: pytest.CaptureFixture[str]) -> None:
    validator, _ = door([REVOKED])
    capsys.readouterr()
    response = post(validator)
    assert response["statusCode"] == 503 and stored() == {}
    out = capsys.readouterr().out
    assert "FetchCredentialRefused" in out and REVOKED not in out


def test_an_amount_finer_than_its_currency_answers_503_and_mollie_retries(door: Any) -> None:
    """RT-3 (was tests/redteam): an embedded refund whose `amount.value` has more decimals than EUR's 2
    (Mollie writes "the right amount of decimals", https://docs.mollie.com/docs/multicurrency) was read by
    the module and then refused by `sources.canonical` (400 `invalid_amount`): the whole delivery, the valid
    `paid` fact included, refused with a final 4xx and - the post being unsigned - nothing quarantined.
    Mollie's answer is the truth: one it cannot be read is Mollie answering unusably, 503 with
    `Retry-After` (Mollie retries), nothing stored, never a rounded amount."""
    validator, stub = door([KEY])
    stub.add_refund("tr_0000000001", "re_odd", "1.005", "refunded", T0 + datetime.timedelta(hours=1))
    response = post(validator)
    assert response["statusCode"] == 503 and int(response["headers"]["Retry-After"]) > 0, response
    assert stored() == {}
