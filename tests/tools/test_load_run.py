"""`pipeline_tools load`'s bookkeeping, against a stand-in endpoint (the sandbox run is in
tests/integration/test_load_run.py): retries after Retry-After, refusals by status, lost (answered but
not stored, or never accepted) and duplicated (stored twice) each counted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools import load

TABLE = "transaction-events-test"


class Endpoint:
    """Answers each event id's attempts from a script: (status, Retry-After or None, stores it?)."""

    def __init__(self, script: list[tuple[int, str | None, bool]]) -> None:
        self.script = script
        self.attempts: dict[str, int] = {}
        self.stored: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                event_id = body["event_id"]
                attempt = endpoint.attempts.get(event_id, 0)
                endpoint.attempts[event_id] = attempt + 1
                status, retry_after, store = endpoint.script[min(attempt, len(endpoint.script) - 1)]
                if store:
                    endpoint.stored.append(event_id)
                answer = json.dumps({"event_id": event_id, "status": "accepted"}).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        yield dynamodb


def run(endpoint: Endpoint, dynamodb: Any, count: int = 6) -> load.Report:
    outputs = {"api_endpoint": endpoint.url, "signing_secret": "whsec_" + "QUJD" * 8, "dynamodb_table_name": TABLE}
    deliveries = load.plan(outputs, count, None)
    seconds = load.drive(deliveries, rate=1000, burst=3, concurrency=3, attempts=4)
    for event_id in set(endpoint.stored):
        dynamodb.put_item(TableName=TABLE, Item={"event_id": {"S": event_id}})
    endpoint.server.shutdown()
    return load.report(outputs, deliveries, seconds, 0.0)


def test_a_refusal_with_retry_after_is_retried_stored_once_and_its_duplicate_answered_200(table: Any) -> None:
    report = run(Endpoint([(503, "0", False), (202, None, True), (200, None, False)]), table)
    assert report.first_attempt == {"503": 6} and report.refused_by_status == {"503": 6}
    assert (report.retries, report.accepted, report.resent, report.resent_answered_200) == (6, 6, 6, 6)
    assert (report.lost, report.duplicated, report.refusals_without_retry_after) == (0, 0, 0) and report.ok


def test_lost_duplicated_and_missing_retry_after_are_each_counted(table: Any) -> None:
    # A 500 without Retry-After, then stored; the duplicate delivery is answered 202 again: stored twice.
    twice = run(Endpoint([(500, None, False), (202, None, True), (202, None, False)]), table)
    assert twice.refusals_without_retry_after == 6 and twice.duplicated == 6 and twice.lost == 0
    assert twice.resent_answered_200 == 0 and not twice.ok
    unstored = run(Endpoint([(202, None, False), (200, None, False)]), table)
    assert unstored.lost == 6 and unstored.duplicated == 0 and not unstored.ok  # answered 202, never in the table
    refused = run(Endpoint([(503, "0", False)]), table)
    assert (refused.accepted, refused.lost, refused.retries, refused.resent) == (0, 6, 6 * 3, 0)
