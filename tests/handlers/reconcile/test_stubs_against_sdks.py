"""The provider stubs answer what the official SDKs ask, in the shape the SDKs parse (dev-only oracles).

For each event-level provider: the official SDK lists the stub's events across several pages (its own
paginator following the stub's cursors), gets every event back parsed into its own types, and sends
the same path, method and filter parameter names as our reconciler does. If a stub drifted from the
real API (a renamed parameter, a page shape the SDK cannot read), these tests fail.
"""

from __future__ import annotations

import datetime
import json
import types

import pytest

from pipeline_tools.sandbox.provider_stubs import STUB_API_KEY
from tests.handlers.reconcile.harness import Harness

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
SINCE = NOW - datetime.timedelta(days=2)


def _our_requests(harness: Harness) -> list:
    harness.stub.requests.clear()
    harness.run(NOW, since=SINCE)
    return list(harness.stub.requests)


def test_stripe_sdk_lists_the_stub(aws, httpserver, monkeypatch) -> None:
    import stripe

    harness = Harness("stripe", httpserver, monkeypatch, page_size=2)
    ids = [i.split(":", 1)[1] for i in harness.add_events(5, NOW)]
    client = stripe.StripeClient(STUB_API_KEY, base_addresses={"api": harness.stub.base_url}, max_network_retries=0)
    listed = client.v1.events.list(params={"limit": 2, "created": {"gte": int(SINCE.timestamp())}})
    events = list(listed.auto_paging_iter())
    assert [event.id for event in events] == list(reversed(ids))  # newest first, as Stripe lists
    assert all(isinstance(event, stripe.Event) and event.data.object.amount == 1099 for event in events)
    sdk = harness.stub.requests[0]
    ours = _our_requests(harness)[0]
    assert (sdk.method, sdk.path) == (ours.method, ours.path) == ("GET", "/v1/events")
    assert {"limit", "created[gte]"} <= set(sdk.query) and {"limit", "created[gte]"} <= set(ours.query)
    assert "starting_after" in harness.stub.requests[-1].query or len(harness.stub.requests) > 1


def test_paddle_sdk_lists_the_stub(aws, httpserver, monkeypatch) -> None:
    from paddle_billing import Client
    from paddle_billing.Entities.DateTime import DateTime
    from paddle_billing.Entities.Event import Event
    from paddle_billing.Resources.Events.Operations import ListEvents
    from paddle_billing.Resources.Shared.Operations import Pager

    harness = Harness("paddle", httpserver, monkeypatch, page_size=2)
    ids = [i.split(":", 1)[1] for i in harness.add_events(5, NOW)]
    options = types.SimpleNamespace(environment=types.SimpleNamespace(base_url=harness.stub.base_url), retries=1)
    client = Client(STUB_API_KEY, options=options)
    start = DateTime(SINCE.replace(tzinfo=None).isoformat())
    events = list(client.events.list(ListEvents(pager=Pager(per_page=2), start=start)))
    assert [event.event_id for event in events] == ids
    assert all(isinstance(event, Event) for event in events)
    sdk_requests = list(harness.stub.requests)
    ours = _our_requests(harness)
    assert (sdk_requests[0].method, sdk_requests[0].path) == (ours[0].method, ours[0].path) == ("GET", "/events")
    for name in ("from", "order_by", "per_page"):
        assert name in sdk_requests[0].query and name in ours[0].query, name
    assert sdk_requests[0].query["order_by"] == ours[0].query["order_by"] == "id[asc]"
    assert len(sdk_requests) == len(ours) == 3  # the SDK followed the same `meta.pagination.next` links


def test_gocardless_sdk_lists_the_stub(aws, httpserver, monkeypatch) -> None:
    import gocardless_pro

    harness = Harness("gocardless", httpserver, monkeypatch, page_size=2)
    ids = [i.split(":", 1)[1] for i in harness.add_events(5, NOW)]
    client = gocardless_pro.Client(access_token=STUB_API_KEY, base_url=harness.stub.base_url)
    events = list(client.events.all(params={"limit": 2, "created_at[gte]": SINCE.isoformat()}))
    assert sorted(event.id for event in events) == sorted(ids)
    assert all(event.resource_type == "subscriptions" and event.created_at for event in events)
    sdk_requests = list(harness.stub.requests)
    ours = _our_requests(harness)
    assert (sdk_requests[0].method, sdk_requests[0].path) == (ours[0].method, ours[0].path) == ("GET", "/events")
    assert sdk_requests[0].headers["gocardless-version"] == ours[0].headers["gocardless-version"]
    assert {"limit", "created_at[gte]"} <= set(ours[0].query)
    assert [r.query.get("after") for r in sdk_requests] == [r.query.get("after") for r in ours]


def test_square_sdk_searches_the_stub(aws, httpserver, monkeypatch) -> None:
    import square
    from square.types.event import Event

    harness = Harness("square", httpserver, monkeypatch, page_size=2)
    ids = [i.split(":", 1)[1] for i in harness.add_events(5, NOW)]
    client = square.Square(token=STUB_API_KEY, base_url=harness.stub.base_url)
    assert not client.events.enable_events().errors
    query = {
        "filter": {"created_at": {"start_at": SINCE.strftime("%Y-%m-%dT%H:%M:%SZ")}},
        "sort": {"field": "DEFAULT", "order": "ASC"},
    }
    seen, cursor = [], None
    while True:
        answer = client.events.search_events(limit=2, query=query, **({"cursor": cursor} if cursor else {}))
        assert all(isinstance(event, Event) for event in answer.events or [])
        seen += [event.event_id for event in answer.events or []]
        cursor = answer.cursor
        if not cursor:
            break
    assert seen == ids
    sdk_requests = list(harness.stub.requests)
    ours = _our_requests(harness)
    assert [(r.method, r.path) for r in sdk_requests[:2]] == [("PUT", "/v2/events/enable"), ("POST", "/v2/events")]
    assert [(r.method, r.path) for r in ours[:2]] == [("PUT", "/v2/events/enable"), ("POST", "/v2/events")]
    sdk_body, our_body = json.loads(sdk_requests[1].body), json.loads(ours[1].body)
    assert set(sdk_body) - {"cursor"} == set(our_body) - {"cursor"} == {"limit", "query"}
    assert set(sdk_body["query"]) == set(our_body["query"]) and sdk_body["query"]["sort"] == our_body["query"]["sort"]
    assert set(sdk_body["query"]["filter"]["created_at"]) <= set(our_body["query"]["filter"]["created_at"])
    assert sdk_requests[1].headers["square-version"] == ours[1].headers["square-version"]


def test_gocardless_sdk_gets_the_stubs_payment_and_refund_as_the_door_does(aws, httpserver, monkeypatch) -> None:
    """`GET /payments/{id}` and `GET /refunds/{id}`: the SDK's own calls (path, version header) are the
    enrichment's, and the SDK reads the stub's answers (amount, currency, links) as the door does."""
    import gocardless_pro
    from gocardless_pro.errors import InvalidApiUsageError

    harness = Harness("gocardless", httpserver, monkeypatch, enrich=True)
    harness.stub.add_payment("PM0001", 1234, "GBP")
    harness.stub.add_refund("RF0001", 500, "GBP", payment_id="PM0001")
    client = gocardless_pro.Client(access_token=STUB_API_KEY, base_url=harness.stub.base_url)
    payment = client.payments.get("PM0001")
    refund = client.refunds.get("RF0001")
    assert (payment.id, payment.amount, payment.currency) == ("PM0001", 1234, "GBP")
    assert (refund.id, refund.amount, refund.currency, refund.links.payment) == ("RF0001", 500, "GBP", "PM0001")
    with pytest.raises(InvalidApiUsageError):  # the documented 404 shape is the SDK's error class
        client.payments.get("PM9999")
    sdk_requests = list(harness.stub.requests)
    harness.stub.requests.clear()
    for kind, links in (("payments", {"payment": "PM0001"}), ("refunds", {"refund": "RF0001", "payment": "PM0001"})):
        event = harness.stub.make_event(len(harness.stub.events), NOW)
        event.update(resource_type=kind, action="confirmed" if kind == "payments" else "paid", links=links)
        harness.stub.add(event)
    assert harness.deliver([0, 1], NOW) == 202
    ours = list(harness.stub.requests)
    assert [(r.method, r.path) for r in ours] == [(r.method, r.path) for r in sdk_requests[:2]]
    assert {r.headers["gocardless-version"] for r in ours} == {r.headers["gocardless-version"] for r in sdk_requests}


def test_mollie_sdk_gets_and_lists_the_stub_as_the_door_and_reconciler_do(aws, httpserver, monkeypatch) -> None:
    """mollie-api-python (dev-only oracle) against the Mollie stub: Get payment with `embed=refunds,chargebacks`
    (the door's fetch) parses into the SDK's Payment with the same amount and status, and the three lists the
    state-level reconciler reads (payments, refunds, chargebacks) page through `_links.next` to the same
    objects, newest first, with the same paths and parameter names as ours."""
    from mollie.api.client import Client
    from mollie.api.objects.payment import Payment

    harness = Harness("mollie-classic", httpserver, monkeypatch, page_size=2)
    ids = []
    for index in range(5):
        payment = harness.stub.make_event(index, NOW - datetime.timedelta(hours=5 - index))
        harness.stub.add(payment)
        ids.append(payment["id"])
    harness.stub.add_refund(ids[0], "re_0000000001", "4.00", "refunded", NOW - datetime.timedelta(hours=1))
    harness.stub.add_chargeback(ids[1], "chb_000000001", "10.00", NOW - datetime.timedelta(hours=1))
    client = Client(api_endpoint=harness.stub.base_url, retry=0)
    client.set_api_key(harness.api_key)

    fetched = client.payments.get(ids[0], embed="refunds,chargebacks")
    assert isinstance(fetched, Payment) and fetched.id == ids[0]
    assert (fetched.status, fetched.amount) == ("paid", {"value": "10.00", "currency": "EUR"})
    assert [refund["id"] for refund in fetched["_embedded"]["refunds"]] == ["re_0000000001"]
    sdk_get = harness.stub.requests[-1]
    assert (sdk_get.method, sdk_get.path, sdk_get.query.get("embed")) == (
        "GET", f"/v2/payments/{ids[0]}", "refunds,chargebacks",
    )  # fmt: skip

    listed, page = [], client.payments.list(limit=2)
    while True:
        listed += [payment.id for payment in page]
        if not page.has_next():
            break
        page = page.get_next()
    assert listed == list(reversed(ids))  # newest first, three pages of at most 2
    assert [payment["id"] for payment in client.refunds.list()] == ["re_0000000001"]
    assert [chargeback["id"] for chargeback in client.chargebacks.list()] == ["chb_000000001"]
    sdk_requests = list(harness.stub.requests)
    ours = _our_requests(harness)
    sdk_lists = {r.path for r in sdk_requests if r.path in ("/v2/payments", "/v2/refunds", "/v2/chargebacks")}
    our_lists = {r.path for r in ours}
    assert sdk_lists == our_lists == {"/v2/payments", "/v2/refunds", "/v2/chargebacks"}
    ours_payments = [r for r in ours if r.path == "/v2/payments"]
    sdk_payments = [r for r in sdk_requests if r.path == "/v2/payments"]
    assert len(ours_payments) == len(sdk_payments) == 3  # both followed the same `_links.next` pages
    assert {"limit"} <= set(ours_payments[0].query) and set(ours_payments[1].query) <= set(sdk_payments[1].query) | {
        "embed"
    }
