"""The sandbox's part of reconciliation: the provider API stubs on one port, the schedules EventBridge
would fire, and `send --source --drop` (pipeline_tools/sandbox/provider_apis.py, reconcile_schedule.py)."""

from __future__ import annotations

import datetime
import json
import socket
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_tools.__main__ import main
from pipeline_tools.operations import _handlers_on_path
from pipeline_tools.sandbox.function_logs import ThreadCapturingStdout
from pipeline_tools.sandbox.provider_apis import ProviderApiServer, configured_port, drop_events
from pipeline_tools.sandbox.provider_stubs import STUB_API_KEY
from pipeline_tools.sandbox.reconcile_schedule import (
    ReconcileScheduler,
    Schedule,
    deployed_schedules,
    rate_seconds,
    reconcile_line,
)


@pytest.fixture
def apis() -> Any:
    server = ProviderApiServer(
        {"stripe": "stripe", "paddle": "paddle", "gocardless": "gocardless", "square": "square"}
    ).start()
    yield server
    server.stop()


def _listed(server: ProviderApiServer, source: str) -> list[str]:
    """Every id the deployed listing code gets from the stub (handlers/reconcile_apis, stdlib client)."""
    _handlers_on_path()  # as `pipeline_tools reconcile` imports the deployed code
    import reconcile_apis
    from provider_api import ApiClient

    module = reconcile_apis.load(server.stubs[source].provider)
    client = ApiClient(
        provider=module.PROVIDER, base_url=server.base_urls[source], headers=module.auth_headers(STUB_API_KEY)
    )
    module.set_up(client)
    now = datetime.datetime.now(tz=datetime.UTC)  # the stub stamps events with the time they are dropped
    since = now - datetime.timedelta(days=1)
    until = now + datetime.timedelta(minutes=1)
    return sorted(module.event_id(raw) for page in module.pages(client, since, until) for raw in page)


@pytest.mark.parametrize("source", ["stripe", "paddle", "gocardless", "square"])
def test_dropped_events_are_listed_by_the_deployed_listing_code_through_the_source_prefix(
    apis: ProviderApiServer, source: str
) -> None:
    # More than one page where the provider pages by its own cursor (Paddle: a full next URL on the prefix).
    for stub in apis.stubs.values():
        stub.events.clear()
    dropped = drop_events(apis.base_urls[source], {"count": 3})
    ids = sorted(apis.stubs[source].events[i].get("id") or apis.stubs[source].events[i]["event_id"] for i in range(3))
    assert len(dropped) == 3 and len(set(ids)) == 3
    assert _listed(apis, source) == ids
    others = [name for name in apis.stubs if name != source]
    assert all(not apis.stubs[name].events for name in others)


def test_a_dropped_delivery_keeps_its_content_with_a_fresh_id_and_time(apis: ProviderApiServer) -> None:
    fixture = (
        Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "stripe" / "payment_intent.succeeded.json"
    )
    original = json.loads(fixture.read_text())
    [event] = drop_events(apis.base_urls["stripe"], {"event": original})
    assert event["id"] != original["id"] and event["type"] == original["type"]
    assert abs(event["created"] - datetime.datetime.now(tz=datetime.UTC).timestamp()) < 60
    assert event["data"]["object"]["amount"] == original["data"]["object"]["amount"]


def test_the_admin_route_needs_the_stub_key_and_a_valid_body(apis: ProviderApiServer) -> None:
    with pytest.raises(RuntimeError, match="refused"):
        drop_events(apis.base_urls["stripe"], {"count": 1}, api_key="wrong")
    with pytest.raises(RuntimeError, match="refused"):
        drop_events(apis.base_urls["stripe"], {"count": 0})
    assert not apis.stubs["stripe"].events


def test_a_taken_port_gives_another_and_the_configured_port_is_read_from_the_urls() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        urls = {"stripe": f"http://127.0.0.1:{port}/stripe", "square": f"http://127.0.0.1:{port}/square"}
        assert configured_port(urls) == port
        server = ProviderApiServer({"stripe": "stripe"}, port=configured_port(urls))
        try:
            assert server.port != port
            assert server.base_urls == {"stripe": f"http://127.0.0.1:{server.port}/stripe"}
        finally:
            server.server.server_close()
    assert configured_port({"a": "http://127.0.0.1:1/a", "b": "http://127.0.0.1:2/b"}) == 0


@pytest.mark.parametrize(
    ("expression", "seconds"), [("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(2 hours)", 7200)]
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_expressions_are_refused() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        rate_seconds("cron(0 12 * * ? *)")


def test_the_deployed_rules_that_target_the_reconciler_are_the_schedules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook-reconciler-t"
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        for source, expression, target in (("shop", "rate(5 minutes)", arn), ("other", "rate(1 hour)", arn + "x")):
            events.put_rule(Name=f"webhook-reconcile-{source}-t", ScheduleExpression=expression)
            events.put_targets(
                Rule=f"webhook-reconcile-{source}-t",
                Targets=[{"Id": "1", "Arn": target, "Input": json.dumps({"source": source})}],
            )
        events.put_rule(Name="disabled", ScheduleExpression="rate(5 minutes)", State="DISABLED")
        events.put_targets(Rule="disabled", Targets=[{"Id": "1", "Arn": arn, "Input": "{}"}])
        assert deployed_schedules(events, arn) == [Schedule("webhook-reconcile-shop-t", 300, {"source": "shop"})]


class _Context:
    def with_request_id(self, request_id: str) -> _Context:
        return self


def test_each_schedule_fires_one_interval_after_start_then_every_interval() -> None:
    now = [0.0]
    runs: list[tuple[float, dict[str, Any]]] = []
    seen: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        print(json.dumps({"message": "run"}))
        runs.append((now[0], event))
        return {"found": 1, "written": 0, "missing_ids": []}

    scheduler = ReconcileScheduler(
        handler,
        _Context(),
        [Schedule("r", 300, {"source": "shop"})],
        on_run=lambda event, report, lines: seen.append((event, report)),
        clock=lambda: now[0],
    )
    scheduler.start()
    try:
        for moment in (299.0, 300.0, 599.0, 600.0):
            now[0] = moment
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=5)
            expected = {299.0: 0, 300.0: 1, 599.0: 1, 600.0: 2}[moment]
            while len(runs) < expected and datetime.datetime.now() < deadline:
                scheduler._stop.wait(0.05)
            scheduler._stop.wait(1.2)  # one more tick: no extra run
            assert len(runs) == expected, moment
    finally:
        scheduler.stop()
    assert [event for _, event in runs] == [{"source": "shop"}] * 2
    assert seen[0] == ({"source": "shop"}, {"found": 1, "written": 0, "missing_ids": []})


def test_an_invoked_run_reports_its_lines_and_raises_the_function_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ThreadCapturingStdout(sys.stdout))  # as the sandbox installs it
    reported: list[list[dict[str, Any]]] = []

    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        print(json.dumps({"level": "ERROR", "message": "boom"}))
        raise ValueError("no reconciling source named 'x'")

    scheduler = ReconcileScheduler(failing, _Context(), [], on_run=lambda e, r, lines: reported.append(lines))
    with pytest.raises(ValueError, match="no reconciling source"):
        scheduler.invoke({"source": "x"})
    assert reported == [[{"level": "ERROR", "message": "boom"}]]


def test_the_live_log_line_names_what_was_recovered() -> None:
    report = {"found": 5, "written": 4, "missing_ids": ["s:a", "s:b", "s:c", "s:d"]}
    line = reconcile_line({"source": "s"}, report)
    assert "found 5, RECOVERED 4" in line and "s:a, s:b, s:c and 1 more" in line
    assert "nothing missing" in reconcile_line({"source": "s"}, {"found": 2, "written": 0, "missing_ids": []})


def test_send_drop_puts_the_delivery_in_the_stub_only(apis: ProviderApiServer, tmp_path: Path, capsys) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"api_endpoint": "http://127.0.0.1:9/v1/webhook", "dynamodb_table_name": "t",
                                   "payments_queue_url": "p", "refunds_queue_url": "r", "disputes_queue_url": "d",
                                   "source_secrets": {"stripe": {"provider": "stripe", "secret": "whsec_x"}},
                                   "provider_api_stubs": apis.base_urls,
                                   "reconcile_schedules": {"stripe": "every 5 minutes"}}))  # fmt: skip
    fixture = (
        Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "stripe" / "payment_intent.succeeded.json"
    )
    code = main(["send", "--outputs", str(outputs), "--source", "stripe", "--file", str(fixture), "--drop"])
    assert code == 0
    [held] = apis.stubs["stripe"].events
    out = capsys.readouterr().out
    assert f"dropped stripe:{held['id']}" in out and "every 5 minutes" in out
    assert main(["send", "--outputs", str(outputs), "--file", str(fixture), "--drop"]) != 0


def test_a_gocardless_payment_added_in_the_sandbox_is_what_enrichment_reads(apis: ProviderApiServer) -> None:
    """`POST /_sandbox/<source>/objects` (the stub's key): the payment the door then fetches its amount from."""
    import urllib.error
    import urllib.request

    def post(source: str, body: dict[str, Any], key: str = STUB_API_KEY) -> int:
        base = apis.base_urls[source].rsplit("/", 1)[0]
        request = urllib.request.Request(
            f"{base}/_sandbox/{source}/objects", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post("gocardless", {"payments": {"id": "PM0042", "amount": 1999, "currency": "EUR"}}) == 201
    assert post("gocardless", {"payments": {"id": "PM0043", "amount": 1}}, key="wrong") == 401
    assert post("gocardless", {"mandates": {"id": "MD1", "amount": 1, "currency": "EUR"}}) == 400
    assert post("stripe", {"payments": {"id": "PM1", "amount": 1, "currency": "EUR"}}) == 404
    _handlers_on_path()
    import reconcile_apis
    from provider_api import ApiClient

    module = reconcile_apis.load("gocardless")
    client = ApiClient(
        provider="gocardless", base_url=apis.base_urls["gocardless"], headers=module.auth_headers(STUB_API_KEY)
    )
    payment = client.request("GET", "/payments/PM0042")["payments"]
    assert (payment["id"], payment["amount"], payment["currency"]) == ("PM0042", 1999, "EUR")
