"""State-level reconciliation of a mollie-classic source: Mollie's lists -> the door's facts, each once.

The stub (`MollieStub`) holds payments in random final states with refunds and chargebacks; the door
receives the classic webhooks of a random subset (with repeats: each fetches the current state); the
reconciler (possibly cut short by its request budget, then run again) lists payments, refunds and
chargebacks. The table must then hold exactly every fact of every object once, the ones the door
never stored written by the reconciler (`ReconciledMissing` = their count), and a late webhook after
a recovery must be a duplicate, not a conflict.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from tests.handlers.reconcile.harness import SOURCE, Harness

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
PAYMENT_STATES = ("open", "pending", "authorized", "paid", "failed", "canceled", "expired")
REFUND_STATES = ("queued", "pending", "processing", "refunded", "failed", "canceled")


@pytest.fixture
def harness(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, aws: None) -> Any:
    return lambda page_size=None: Harness("mollie-classic", httpserver, monkeypatch, page_size=page_size)


payment_story = st.fixed_dictionaries({
    "status": st.sampled_from(PAYMENT_STATES),
    "refunds": st.lists(st.sampled_from(REFUND_STATES), max_size=2),
    "chargeback": st.sampled_from([None, "received", "reversed"]),
    "age_hours": st.integers(1, 24 * 20),
})  # fmt: skip


def build(h: Any, stories: list[dict[str, Any]]) -> list[str]:
    """The stub's payments (refunds and chargebacks only on paid ones, as Mollie allows); their ids."""
    ids = []
    for index, story in enumerate(stories):
        created = NOW - datetime.timedelta(hours=story["age_hours"])
        payment = h.stub.make_event(index, created)
        h.stub.add(payment)
        ids.append(payment["id"])
        status = story["status"] if not (story["refunds"] or story["chargeback"]) else "paid"
        h.stub.set_state(payment["id"], status, created + datetime.timedelta(minutes=3))
        for number, refund_status in enumerate(story["refunds"]):
            at = created + datetime.timedelta(minutes=30 + number)
            h.stub.add_refund(payment["id"], f"re_{index}x{number}", "1.00", refund_status, at)
        if story["chargeback"]:
            at = created + datetime.timedelta(minutes=50)
            back = at + datetime.timedelta(minutes=5) if story["chargeback"] == "reversed" else None
            h.stub.add_chargeback(payment["id"], f"chb_{index}", "10.00", at, back)
    return ids


def all_facts(h: Any) -> set[str]:
    """Every fact the objects report now, as the door derives them from a fetch."""
    reader = __import__("providers.mollie_classic", fromlist=["payment_facts"])
    return {
        f"{SOURCE}:{event.provider_event_id}"
        for payment in h.stub.events
        for event in reader.payment_facts(h.stub.shown(payment, "refunds,chargebacks"))
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    stories=st.lists(payment_story, min_size=1, max_size=6),
    data=st.data(),
    budget=st.one_of(st.none(), st.integers(1, 3)),
)
def test_the_table_holds_every_fact_once_whatever_the_door_got(
    harness: Any, stories: list[dict[str, Any]], data: st.DataObject, budget: int | None
) -> None:
    h = harness(page_size=2)
    ids = build(h, stories)
    delivered = data.draw(st.lists(st.sampled_from(range(len(ids))), max_size=len(ids) + 3))
    for index in delivered:
        assert h.deliver(index, NOW) in (200, 202)
    by_door = set(h.items())
    expected = all_facts(h)
    assert by_door <= expected
    written = 0
    if budget is not None:  # a run maybe cut short by its budget: nothing is advanced, the next run resumes
        try:
            written += h.run(NOW, client=h.client(max_requests=budget)).written
        except Exception as cut:  # ProviderApiError (budget_exhausted) of the freshly imported client
            assert getattr(cut, "reason", None) == "budget_exhausted", cut
            written += cut.report.written  # type: ignore[attr-defined]
    report = h.run(NOW + datetime.timedelta(minutes=5))
    written += report.written
    assert report.complete and report.refused == 0
    items = h.items()
    assert set(items) == expected
    assert written == len(expected - by_door)
    assert {key for key, item in items.items() if item.get("origin", {}).get("S") == "reconciler"} == expected - by_door
    assert h.run(NOW + datetime.timedelta(minutes=10)).written == 0  # nothing twice


def test_a_late_webhook_after_a_recovery_is_a_duplicate(harness: Any) -> None:
    h = harness()
    build(h, [{"status": "paid", "refunds": ["refunded"], "chargeback": "reversed", "age_hours": 3}])
    report = h.run(NOW)
    assert sorted(report.missing_ids) == [
        "shop:chb_0:received", "shop:chb_0:reversed", "shop:re_0x0:refunded", "shop:tr_0000000000:paid",
    ]  # fmt: skip
    assert h.deliver(0, NOW) == 200  # every fact already stored: the same ids and payloads
    assert h.run(NOW + datetime.timedelta(hours=1)).written == 0


def test_a_state_change_on_an_object_older_than_the_checkpoint_is_recovered(harness: Any) -> None:
    """State-level runs list their whole lookback every time, not from the checkpoint."""
    h = harness()
    build(h, [{"status": "open", "refunds": [], "chargeback": None, "age_hours": 24 * 5}])
    first = h.run(NOW)
    assert first.written == 1  # tr_0000000000:open (a lifecycle fact)
    later = NOW + datetime.timedelta(days=3)
    h.stub.set_state("tr_0000000000", "paid", later - datetime.timedelta(hours=1))
    h.stub.add_refund("tr_0000000000", "re_late", "2.00", "refunded", later - datetime.timedelta(minutes=10))
    second = h.run(later)
    assert sorted(second.missing_ids) == ["shop:re_late:refunded", "shop:tr_0000000000:paid"]


def test_objects_older_than_the_lookback_are_not_listed(harness: Any) -> None:
    """The lookback is `min(window_days, event_ttl_days - 1)`: older objects are not asked for (an item
    the table let expire must not come back as new)."""
    h = harness()
    build(h, [{"status": "paid", "refunds": [], "chargeback": None, "age_hours": 24 * 30}])
    report = h.run(NOW)
    assert (report.found, report.written) == (0, 0)
    assert [request.path for request in h.stub.requests] == ["/v2/chargebacks", "/v2/refunds", "/v2/payments"]


def test_an_amount_finer_than_its_currency_is_refused_and_the_run_goes_on(harness: Any) -> None:
    """RT-3 on the reconciler's path: a listed refund of `1.005` EUR (more decimals than EUR's 2,
    handlers/money.py's rule) is not written and does not stop the run (it stays listed: a stopped run
    would stop there every time); it is counted as refused (ReconcileRefused, alarmed) every run, and the
    payment's and the other refund's facts are written."""
    h = harness()
    build(h, [{"status": "paid", "refunds": ["refunded"], "chargeback": None, "age_hours": 3}])
    h.stub.add_refund("tr_0000000000", "re_odd", "1.005", "refunded", NOW - datetime.timedelta(hours=1))
    report = h.run(NOW)
    assert report.complete and report.refused == 1
    assert sorted(report.missing_ids) == ["shop:re_0x0:refunded", "shop:tr_0000000000:paid"]
    assert "shop:re_odd:refunded" not in h.items()
    again = h.run(NOW + datetime.timedelta(minutes=5))
    assert again.complete and (again.refused, again.written) == (1, 0)


def test_refunds_and_chargebacks_are_listed_even_when_the_payments_exhaust_the_budget(harness: Any) -> None:
    """New-user review: at ~50,000 payments in the lookback the default budget (200 requests of 250) was
    spent on the payments list, listed first, and refunds and chargebacks were never listed on any run.
    Here: 8 payments on pages of 2 (4 pages) and a budget of 4 requests: the chargebacks' and refunds'
    pages (one each) are read and written; the run is cut in the payments (`budget_exhausted`, a failed
    run: ReconcileFailed, its log names `max_requests_per_run`)."""
    h = harness(page_size=2)
    stories = [{"status": "paid", "refunds": [], "chargeback": None, "age_hours": 2 + i} for i in range(8)]
    stories[7] = {"status": "paid", "refunds": ["refunded"], "chargeback": "received", "age_hours": 40}
    build(h, stories)
    with pytest.raises(Exception) as cut:  # ProviderApiError of the freshly imported client module
        h.run(NOW, client=h.client(max_requests=4))
    assert getattr(cut.value, "reason", None) == "budget_exhausted"
    assert {"shop:re_7x0:refunded", "shop:chb_7:received"} <= set(h.items())
    assert "shop:tr_0000000007:paid" not in h.items()  # the oldest payment: on the page the budget cut
    assert cut.value.report.error and not cut.value.report.complete  # type: ignore[attr-defined]


def test_with_recent_days_a_run_lists_the_recent_days_and_one_run_a_day_the_whole_lookback(harness: Any) -> None:
    """Cost (new-user review: ~$92 per million events when every run lists the whole lookback): with
    `recent_days`, a run within a day of the last complete full listing lists only the last `recent_days`;
    the first run a day later lists the whole lookback again, so a late state change of an older object
    (a bank transfer paid after days) is still recovered, at most a day later."""
    import dataclasses

    h = harness()
    h.settings = dataclasses.replace(h.settings, recent_days=3)
    build(h, [{"status": "open", "refunds": [], "chargeback": None, "age_hours": 24 * 5}])
    first = h.run(NOW)  # no full listing yet: the whole lookback
    assert first.full_listing and first.written == 1
    h.stub.set_state("tr_0000000000", "paid", NOW + datetime.timedelta(hours=1))
    recent = h.run(NOW + datetime.timedelta(hours=2))  # the payment is 5 days old: not in the last 3 days
    assert not recent.full_listing and recent.written == 0 and recent.complete
    assert recent.since == (NOW + datetime.timedelta(hours=2) - datetime.timedelta(days=3)).isoformat().replace(
        "+00:00", "Z"
    )
    daily = h.run(NOW + datetime.timedelta(days=1))
    assert daily.full_listing and daily.missing_ids == ["shop:tr_0000000000:paid"]
    assert not h.run(NOW + datetime.timedelta(days=1, hours=1)).full_listing
    # An operator's run from an explicit `since` is not the daily full listing: it does not move it.
    later = NOW + datetime.timedelta(days=2, hours=1)
    assert not h.run(later, since=later - datetime.timedelta(hours=1)).full_listing
    assert h.run(later + datetime.timedelta(minutes=5)).full_listing


def test_a_full_listing_cut_by_the_deadline_is_a_failed_run(harness: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """R2-2: the Lambda's time (`reconcile`'s `time.monotonic() > deadline` after a page) cuts a full
    listing: the run must publish `ReconcileFailed` (alarmed, as a budget cut), not only the unalarmed
    `ReconcileIncomplete`. A state-level listing does not resume, so a lookback that always outlasts the
    300 s timeout would otherwise leave the checkpoint stuck forever with no alarm (and state-level sources
    never report `ReconcileGap`). Reproduction: the page loop's deadline already passed after the first
    page (the client itself has no deadline here, as when the last page answered just after it)."""
    import dataclasses

    h = harness()
    h.settings = dataclasses.replace(h.settings, recent_days=3)
    h.stub.add(h.stub.make_event(0, NOW - datetime.timedelta(days=5)))
    published: list[tuple[dict[str, Any], bool]] = []
    monkeypatch.setattr(h.reconciler, "credential", lambda arn, source: h.api_key)
    monkeypatch.setattr(h.reconciler, "api_client", lambda settings, credential, deadline=None: h.client())
    monkeypatch.setattr(h.reconciler, "publish", lambda report, failed: published.append((report.as_dict(), failed)))
    monkeypatch.setattr(h.reconciler, "_SETTINGS_CACHE", {h.settings.name: h.settings})
    report = h.reconciler.run({"source": h.settings.name}, NOW, remaining_ms=1_000)  # deadline already passed
    assert report["full_listing"] and not report["complete"]
    assert h.state().checkpoint(h.settings.name).high_water is None  # the full listing never counted
    [(_, failed)] = published
    assert failed, "a cut full listing published ReconcileFailed=0: nothing alarms"
    assert "deadline" in report["error"] and "window_days" in report["error"]


PROFILE = "pfl_QkEhN94Ba"  # the profile of the stub's payments (Mollie's documented Get payment example)
ACCESS_TOKEN = "access_Wwvu7egPcJLLJ9Kb7J632x8wJ2zMeJ"


class RecordingClient:
    """Stands in for `ApiClient`: records each list call and answers an empty last page."""

    def __init__(self, credential: str = ACCESS_TOKEN) -> None:
        self.headers = {"Authorization": f"Bearer {credential}"}
        self.calls: list[tuple[str, dict[str, str]]] = []

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None) -> dict[str, Any]:
        self.calls.append((path, dict(params or {})))
        key = path.rsplit("/", 1)[-1]
        return {"count": 0, "_embedded": {key: []}, "_links": {"next": None}}


def test_the_lists_name_the_sources_profile(aws: None) -> None:
    """R2-7: with an organization access token, Mollie's List chargebacks requires `profileId` ("required
    for access tokens": https://docs.mollie.com/reference/v2/chargebacks-api/list-chargebacks) and List
    payments without it "will return all payments across all profiles"
    (https://docs.mollie.com/reference/v2/payments-api/list-payments): every list names the source's
    `profile_id`."""
    lists = __import__("reconcile_apis.mollie_classic_payments", fromlist=["pages"])
    client = RecordingClient()
    for _ in lists.pages(client, NOW - datetime.timedelta(days=3), NOW, profile_id=PROFILE):  # type: ignore[arg-type]
        pass
    assert [path for path, _ in client.calls] == ["/v2/chargebacks", "/v2/refunds", "/v2/payments"]
    assert all(params.get("profileId") == PROFILE for _, params in client.calls), client.calls


def test_an_access_token_without_a_profile_id_lists_nothing(aws: None) -> None:
    """R2-7: never a list across the organization's profiles: the run fails before its first call, naming
    the fix. An API key (one profile's) needs no `profile_id`."""
    lists = __import__("reconcile_apis.mollie_classic_payments", fromlist=["pages"])
    provider_api = __import__("provider_api")
    client = RecordingClient()
    with pytest.raises(provider_api.ProviderApiError) as refused:
        next(iter(lists.pages(client, NOW - datetime.timedelta(days=3), NOW)))  # type: ignore[arg-type]
    assert refused.value.reason == "configuration" and "profile_id" in str(refused.value)
    assert ACCESS_TOKEN not in str(refused.value) and client.calls == []
    api_key_client = RecordingClient("live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM")
    for _ in lists.pages(api_key_client, NOW - datetime.timedelta(days=3), NOW):  # type: ignore[arg-type]
        pass
    assert len(api_key_client.calls) == 3


def test_with_an_access_token_a_run_reconciles_its_own_profile_only(harness: Any) -> None:
    """R2-7 end to end against the stub (which lists every profile without `profileId`, and refuses List
    chargebacks then, as Mollie documents): another website's payment is never written into this source;
    without `profile_id` the run fails and writes nothing."""
    import dataclasses

    h = harness(page_size=1)  # next links: the profile must hold across pages too
    h.api_key = h.stub.api_key = ACCESS_TOKEN
    build(
        h, [{"status": "paid", "refunds": ["refunded"], "chargeback": "received", "age_hours": 5 + i} for i in range(3)]
    )
    other = h.stub.make_event(7, NOW - datetime.timedelta(hours=2))
    other["profileId"] = "pfl_AnotherSite1"
    h.stub.add(other)
    provider_api = __import__("provider_api")
    with pytest.raises(provider_api.ProviderApiError, match="profile_id"):
        h.run(NOW)
    assert h.items() == {}
    h.settings = dataclasses.replace(h.settings, profile_id=PROFILE)
    report = h.run(NOW)
    assert report.complete
    assert sorted(h.items()) == sorted(
        f"shop:{fact}"
        for i in range(3)
        for fact in (f"tr_000000000{i}:paid", f"re_{i}x0:refunded", f"chb_{i}:received")
    )  # never tr_0000000007, the other profile's
    assert all(r.query.get("profileId") == PROFILE for r in h.stub.requests[-report.requests :])
