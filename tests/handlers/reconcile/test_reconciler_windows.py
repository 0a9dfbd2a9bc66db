"""Window edges under a frozen clock, checkpoints across runs, and the TTL-expiry case."""

from __future__ import annotations

import datetime
import json
import sys
import urllib.parse

import pytest
import time_machine

from tests.handlers.reconcile.harness import SOURCE, Harness

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


class Context:
    function_name = "webhook-reconciler-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook-reconciler-test"
    aws_request_id = "00000000-0000-0000-0000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def emitted_metrics(captured: str) -> dict[str, float]:
    """The EMF metric values Powertools printed, by name."""
    values: dict[str, float] = {}
    for line in captured.splitlines():
        if '"_aws"' not in line:
            continue
        record = json.loads(line)
        for definition in record["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                value = record[metric["Name"]]
                values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


def handler_run(harness: Harness, capsys: pytest.CaptureFixture[str]) -> tuple[dict, dict[str, float]]:
    capsys.readouterr()
    with time_machine.travel(NOW, tick=False):
        report = harness.reconciler.handler({"source": SOURCE}, Context())
    return report, emitted_metrics(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("provider", "inside", "outside"),
    # Each provider's documented window (GoCardless documents none: our 365-day cap) from both sides.
    [("stripe", 29, 31), ("square", 27, 29), ("paddle", 89, 91), ("gocardless", 364, 366)],
)
def test_window_edges_under_a_frozen_clock(aws, httpserver, monkeypatch, capsys, provider, inside, outside) -> None:
    """A checkpoint older than the provider's window: the run asks only as far back as the provider
    still lists (the day-29/27/89/364 event is recovered, the day-31/29/91/366 one is never asked for), and
    says so."""
    harness = Harness(provider, httpserver, monkeypatch)
    ids = harness.add_events(2, NOW, ages=[outside * DAY, inside * DAY])
    harness.state().advance(SOURCE, NOW - (outside + 9) * DAY)
    report, values = handler_run(harness, capsys)
    assert sorted(harness.items()) == [ids[1]]
    assert report["written"] == 1 and report["gap"] is True and report["complete"] is True
    assert values["ReconciledMissing"] == 1 and values["ReconcileGap"] == 1 and values["ReconcileFailed"] == 0
    window = harness.settings.window_days
    assert window == {"stripe": 30, "square": 28, "paddle": 90, "gocardless": 365}[provider]
    asked = _oldest_asked(harness)
    assert NOW - window * DAY < asked <= NOW - window * DAY + datetime.timedelta(minutes=5)


def _oldest_asked(harness: Harness) -> datetime.datetime:
    request = next(r for r in harness.stub.requests if r.method in ("GET", "POST") and "enable" not in r.path)
    if harness.provider == "stripe":
        return datetime.datetime.fromtimestamp(int(request.query["created[gte]"]), tz=datetime.UTC)
    if harness.provider in ("paddle", "gocardless"):
        since = request.query["from" if harness.provider == "paddle" else "created_at[gte]"]
        return datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))
    start = json.loads(request.body)["query"]["filter"]["created_at"]["start_at"]
    return datetime.datetime.fromisoformat(start)


def test_square_enables_event_search_once_and_checks_it(aws, httpserver, monkeypatch) -> None:
    harness = Harness("square", httpserver, monkeypatch)
    harness.add_events(2, NOW)
    assert harness.run(NOW).written == 2
    assert harness.run(NOW + DAY).written == 0
    enables = [r for r in harness.stub.requests if r.path == "/v2/events/enable"]
    assert len(enables) == 1 and enables[0].method == "PUT"


def test_first_run_looks_back_only_while_stored_items_still_exist(aws, httpserver, monkeypatch) -> None:
    """No checkpoint: Paddle lists 90 days, but items live 30 (`EVENT_TTL_DAYS`): an event of day 45 may
    have been delivered and expired, so the first run does not reach it."""
    harness = Harness("paddle", httpserver, monkeypatch)
    ids = harness.add_events(2, NOW, ages=[45 * DAY, 20 * DAY])
    report = harness.run(NOW, event_ttl_days=30)
    assert sorted(harness.items()) == [ids[1]] and report.gap is False
    query = harness.stub.requests[0].query
    assert datetime.datetime.fromisoformat(query["from"]) == NOW - 29 * DAY


def test_checkpoint_survives_restarts_and_overlaps(aws, httpserver, monkeypatch) -> None:
    harness = Harness("gocardless", httpserver, monkeypatch)
    harness.add_events(1, NOW, ages=[2 * DAY])
    harness.run(NOW - DAY)  # a first run a day ago
    harness.reconciler = __import__("tests.handlers.reconcile.harness", fromlist=["x"]).fresh_reconciler()
    harness.stub.requests.clear()
    harness.run(NOW)
    since = datetime.datetime.fromisoformat(harness.stub.requests[0].query["created_at[gte]"])
    assert since == NOW - DAY - datetime.timedelta(minutes=60)


def test_an_expired_item_is_not_injected_again(aws, httpserver, monkeypatch) -> None:
    """Paddle keeps events 90 days, the table 30: once the delivered item has expired, the seen-set
    (kept for the provider's window) stops the reconciler storing it again as new."""
    harness = Harness("paddle", httpserver, monkeypatch)
    ids = harness.add_events(1, NOW, ages=[DAY])
    assert harness.deliver(0, NOW - DAY) == 202
    assert harness.run(NOW).written == 0  # found stored: remembered in the seen-set
    later = NOW + 40 * DAY
    harness.dynamodb.delete_item(TableName=harness.events_table, Key={"event_id": {"S": ids[0]}})  # TTL expiry
    report = harness.run(later, since=NOW - 5 * DAY)
    assert report.found == 1 and report.written == 0 and harness.items() == {}
    # The test can fail: without the seen-set the same run injects it again.
    seen_key = {"pk": {"S": f"seen#{SOURCE}#{ids[0].split(':', 1)[1]}"}}
    ttl = int(harness.dynamodb.get_item(TableName=harness.state_table, Key=seen_key)["Item"]["ttl"]["N"])
    assert ttl >= (NOW - DAY + 90 * DAY).timestamp()
    harness.dynamodb.delete_item(TableName=harness.state_table, Key=seen_key)
    assert harness.run(later, since=NOW - 5 * DAY).written == 1


def test_dry_run_writes_nothing(aws, httpserver, monkeypatch) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    ids = harness.add_events(3, NOW)
    assert harness.deliver(1, NOW) == 202
    stored = set(harness.items())
    report = harness.run(NOW, dry_run=True, is_stored=stored.__contains__)
    assert report.missing == 2 and report.written == 0 and sorted(report.missing_ids) == sorted({*ids} - stored)
    assert set(harness.items()) == stored
    assert harness.state().checkpoint(SOURCE).high_water is None


def test_a_listed_event_that_differs_in_bookkeeping_counts_as_stored(aws, httpserver, monkeypatch) -> None:
    """Stripe's `pending_webhooks` changes after delivery: the door answers conflict, the stored delivery
    stays, nothing is counted missing."""
    harness = Harness("stripe", httpserver, monkeypatch)
    ids = harness.add_events(1, NOW)
    assert harness.deliver(0, NOW) == 202
    before = harness.items()[ids[0]]
    harness.stub.events[0]["pending_webhooks"] = 0
    report = harness.run(NOW)
    assert report.written == 0 and report.already_stored == 1
    assert harness.items()[ids[0]] == before


def test_reconciled_events_are_the_doors_canonical_events(aws, httpserver, monkeypatch) -> None:
    """The same event through the door and through the reconciler: the same canonical attributes."""
    door = Harness("stripe", httpserver, monkeypatch)
    door.add_events(1, NOW)
    assert door.deliver(0, NOW) == 202
    via_door = door.items()
    pulled = Harness("stripe", httpserver, monkeypatch)
    pulled.add_events(1, NOW)
    pulled.run(NOW)
    via_api = pulled.items()
    assert via_door.keys() == via_api.keys()
    (a,), (b,) = via_door.values(), via_api.values()
    for name in ("event_id", "transaction_type", "amount", "amount_text", "currency", "timestamp", "payload_sha256"):
        assert a.get(name) == b.get(name), name
    assert b["origin"] == {"S": "reconciler"} and "origin" not in a
    assert urllib.parse.urlsplit(pulled.settings.api_base_url).hostname == "localhost"


def test_the_doors_write_guard_is_bound_to_the_reconcilers_own_invocation(aws, httpserver, monkeypatch, capsys) -> None:
    """A process that ran the validator before (the sandbox runs both) holds the validator's last deadline,
    long past: the reconciler's writes must still happen, bounded by its own remaining time."""
    harness = Harness("paddle", httpserver, monkeypatch)
    [event_id] = harness.add_events(1, NOW, ages=[DAY])
    sys.modules["validator"]._deadline = 0.0  # a validator invocation that ended long ago
    report, values = handler_run(harness, capsys)
    assert report["written"] == 1 and report["error"] is None and list(harness.items()) == [event_id]
    assert values["ReconciledMissing"] == 1 and values["ReconcileFailed"] == 0
