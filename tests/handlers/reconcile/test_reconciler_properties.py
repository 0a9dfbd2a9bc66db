"""Per event-level provider: whatever subset the door received, one reconciliation leaves exactly N.

The stub holds N events; the door receives a random subset (with repeats, in any order); the reconciler
runs, possibly cut short by its request budget and run again. Then the table holds each of the N
events once, the reconciled ones marked `origin: reconciler`, and the recovered count is N minus the
distinct events delivered.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests.handlers.reconcile.harness import PROVIDERS, Harness

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[int, list[int], int | None]:
    count = draw(st.integers(min_value=0, max_value=12))
    deliveries = draw(st.lists(st.integers(0, count - 1), max_size=2 * count)) if count else []
    interrupt_after = draw(st.none() | st.integers(min_value=1, max_value=6))
    return count, deliveries, interrupt_after


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=scenario())
def test_the_table_ends_with_each_listed_event_exactly_once(provider, case, httpserver, monkeypatch) -> None:
    count, deliveries, interrupt_after = case
    with mock_aws():
        harness = Harness(provider, httpserver, monkeypatch, page_size=3)
        expected = harness.add_events(count, NOW)
        for index in deliveries:
            assert harness.deliver(index, NOW - datetime.timedelta(hours=12)) in (200, 202)
        delivered = {expected[index] for index in deliveries}

        recovered = 0
        provider_api = __import__("provider_api")
        if interrupt_after is not None:
            try:
                report = harness.run(NOW, client=harness.client(max_requests=interrupt_after))
                recovered += report.written
            except provider_api.ProviderApiError as error:
                assert error.reason == "budget_exhausted"
                recovered += error.report.written
        report = harness.run(NOW)
        recovered += report.written
        assert report.complete

        items = harness.items()
        assert sorted(items) == sorted(expected)
        reconciled = {event_id for event_id, item in items.items() if item.get("origin", {}).get("S") == "reconciler"}
        assert reconciled == set(expected) - delivered
        assert recovered == count - len(delivered)
        # A second complete run finds nothing new.
        assert harness.run(NOW + datetime.timedelta(minutes=5)).written == 0
        assert len(harness.items()) == count
