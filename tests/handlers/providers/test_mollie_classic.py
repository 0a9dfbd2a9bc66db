"""Mollie classic webhooks: the id is read, the payment is fetched (the authentication), every state mapped.

Mollie's API is played by `MollieStub` (pipeline_tools/sandbox/provider_stubs.py, built from the Get
payment reference's documented example) served by pytest-httpserver. No Mollie SDK is a dev dependency
(mollie-api-python would be the oracle; see docs/providers/mollie-classic.md), so the documented JSON is
the reference for the shapes.
"""

from __future__ import annotations

import datetime
import json
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from pipeline_tools.sandbox.provider_stubs import MollieStub, StubRequest, StubResponse
from tests.handlers.providers.signing_b import provider, request
from tests.handlers.reconcile.harness import serve_stub

mollie_classic = provider("mollie_classic")
providers = __import__("providers")
KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
OLD_KEY = "test_9kQz2ReVokedKeyWasRotatedOut0"
T0 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
NOW = int(T0.timestamp()) + 3600


@pytest.fixture
def stub(httpserver: HTTPServer) -> MollieStub:
    mollie = MollieStub(api_key=KEY)
    httpserver.clear()  # the server outlives the test: only this test's stub answers
    serve_stub(httpserver, mollie)
    mollie.add(mollie.make_event(1, T0))  # tr_0000000001, paid 10.00 EUR
    return mollie


def receive(stub: MollieStub, body: str = "id=tr_0000000001", keys: list[str] | None = None) -> list[Any]:
    return mollie_classic.receive(
        request({"Content-Type": "application/x-www-form-urlencoded"}, body),
        keys if keys is not None else [KEY],
        {"api_base_url": stub.base_url},
        NOW,
    )


def test_the_fetch_reads_the_documented_example_with_the_key_and_embeds(stub: MollieStub) -> None:
    (event,) = receive(stub)
    assert (event.provider_event_id, event.provider_event_type, event.outcome) == (
        "tr_0000000001:paid",
        "payment.paid",
        "succeeded",
    )
    assert (event.amount, event.amount_unit, event.currency, event.object_id) == (
        Decimal("10.00"),
        "major",
        "EUR",
        "tr_0000000001",
    )
    assert event.timestamp == T0 and mollie_classic.default_transaction_type(event) == "payment"
    (call,) = stub.requests
    assert (call.method, call.path, call.query) == (
        "GET",
        "/v2/payments/tr_0000000001",
        {"embed": "refunds,chargebacks"},
    )
    assert call.headers["authorization"] == f"Bearer {KEY}"
    # The stored payload is the projection of the fact, not the object: bookkeeping fields never enter it.
    assert json.loads(event.payload) == {"resource": "payment", "id": "tr_0000000001", "status": "paid",
                                         "amount": {"value": "10.00", "currency": "EUR"},
                                         "paidAt": "2026-11-20T10:00:00.000Z", "mode": "live"}  # fmt: skip


def test_a_repeat_about_the_same_state_is_the_same_event_and_a_new_state_a_new_one(stub: MollieStub) -> None:
    first = receive(stub)
    stub.set_state("tr_0000000001", "paid", T0, amountRefunded={"value": "3.00", "currency": "EUR"})
    assert [(e.provider_event_id, e.payload) for e in receive(stub)] == [
        (e.provider_event_id, e.payload) for e in first
    ]
    stub.add_refund("tr_0000000001", "re_1", "3.00", "refunded", T0 + datetime.timedelta(hours=1))
    ids = [event.provider_event_id for event in receive(stub)]
    assert ids == ["tr_0000000001:paid", "re_1:refunded"]


# Every row of the mapping table: (how the stub's payment is set up) -> the kind, outcome, amount expected.
def _payment(status: str, **fields: Any) -> Any:
    return lambda stub: stub.set_state("tr_0000000001", status, T0 + datetime.timedelta(minutes=5), **fields)


def _refund(status: str) -> Any:
    return lambda stub: stub.add_refund("tr_0000000001", "re_1", "4.00", status, T0 + datetime.timedelta(hours=1))


ROWS: dict[str, tuple[Any, str, str, Decimal]] = {
    "payment.open": (_payment("open"), "tr_0000000001:open", "pending", Decimal("10.00")),
    "payment.pending": (_payment("pending"), "tr_0000000001:pending", "pending", Decimal("10.00")),
    "payment.authorized": (_payment("authorized"), "tr_0000000001:authorized", "authorized", Decimal("10.00")),
    "payment.paid": (_payment("paid", amountCaptured={"value": "7.50", "currency": "EUR"}),
                     "tr_0000000001:paid", "succeeded", Decimal("7.50")),
    "payment.failed": (_payment("failed"), "tr_0000000001:failed", "failed", Decimal("10.00")),
    "payment.canceled": (_payment("canceled"), "tr_0000000001:canceled", "canceled", Decimal("10.00")),
    "payment.expired": (_payment("expired"), "tr_0000000001:expired", "canceled", Decimal("10.00")),
    **{f"refund.{status}": (_refund(status), f"re_1:{status}", outcome, Decimal("4.00"))
       for status, outcome in [("queued", "pending"), ("pending", "pending"), ("processing", "pending"),
                               ("refunded", "succeeded"), ("failed", "failed"), ("canceled", "canceled")]},
    "chargeback.received": (lambda stub: stub.add_chargeback("tr_0000000001", "chb_1", "10.00", T0 + datetime.timedelta(days=2)),
                            "chb_1:received", "opened", Decimal("10.00")),
    "chargeback.reversed": (lambda stub: stub.add_chargeback("tr_0000000001", "chb_1", "10.00", T0 + datetime.timedelta(days=2),
                                                             T0 + datetime.timedelta(days=9)),
                            "chb_1:reversed", "reversed", Decimal("10.00")),
}  # fmt: skip


def test_the_mapping_table_has_a_tested_row_for_every_kind() -> None:
    assert set(ROWS) == set(mollie_classic.FACTS)


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_every_row_of_the_mapping_table(stub: MollieStub, kind: str) -> None:
    arrange, event_id, outcome, amount = ROWS[kind]
    arrange(stub)
    events = {event.provider_event_id: event for event in receive(stub)}
    event = events[event_id]
    assert (event.provider_event_type, event.outcome, event.amount, event.currency) == (kind, outcome, amount, "EUR")
    transaction_type = mollie_classic.FACTS[kind][0]
    assert mollie_classic.default_transaction_type(event) == transaction_type
    if transaction_type != "payment":
        assert event.parent_object_id == "tr_0000000001" and event.object_id == event_id.split(":")[0]


def test_later_refund_states_sort_after_earlier_ones_of_the_same_refund(stub: MollieStub) -> None:
    versions = []
    for status in mollie_classic.REFUND_ORDER[:4]:
        _refund(status)(stub)
        versions.append(next(e.object_version for e in receive(stub) if e.object_id == "re_1"))
    assert versions == sorted(versions) and len(set(versions)) == 4


def test_a_reversed_chargeback_reports_both_facts(stub: MollieStub) -> None:
    ROWS["chargeback.reversed"][0](stub)
    kinds = [event.provider_event_type for event in receive(stub)]
    assert kinds == ["payment.paid", "chargeback.received", "chargeback.reversed"]


# --- the posted form: only a single payment id is ever fetched -------------------------------------------


@pytest.mark.parametrize(
    "body", ["", "id=", "id=ord_kEn1PlbGa", "id=re_4qqhO89gsT", "id=tr_1&id=tr_2", "tr_1", "id=tr_a/b", "id=tr_a%3Ab"]
)
def test_a_body_that_is_not_one_payment_id_is_refused_without_a_fetch(stub: MollieStub, body: str) -> None:
    with pytest.raises(mollie_classic.InvalidEventError) as refused:
        receive(stub, body)
    assert refused.value.status == 400
    assert stub.requests == []


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=80))
def test_any_posted_text_is_one_payment_id_or_refused_before_any_fetch(stub: MollieStub, body: str) -> None:
    before = len(stub.requests)
    try:
        identifier = mollie_classic.payment_id(request({}, body))
    except mollie_classic.InvalidEventError:
        assert len(stub.requests) == before
        return
    assert identifier.startswith("tr_") and "/" not in identifier and ":" not in identifier


# --- the answers Mollie gives: never a guessed fact -----------------------------------------------------


def test_an_id_mollie_does_not_know_is_unknown_not_stored(stub: MollieStub) -> None:
    with pytest.raises(providers.UnknownObjectError):
        receive(stub, "id=tr_NotOurs12345")


@pytest.mark.parametrize(
    "fault",
    [
        StubResponse(429, b'{"status":429}', {"Retry-After": "60"}),  # a wait past the fetch budget: stop now
        StubResponse(500, b'{"status":500}'),
        StubResponse(503, b"<html>maintenance</html>"),
        StubResponse(200, b"not json"),
        StubResponse(200, json.dumps({"resource": "payment", "id": "tr_0000000001", "status": "paid"}).encode()),
        StubResponse(200, json.dumps({"resource": "payment", "id": "tr_Other0000", "status": "paid"}).encode()),
        StubResponse(400, b'{"status":400}'),
    ],
    ids=["429-retry-after", "500", "503-html", "not-json", "no-amount", "another-object", "400"],
)
def test_no_usable_answer_is_unavailable_never_a_fact(stub: MollieStub, fault: StubResponse) -> None:
    stub.fail_next(fault, fault)
    with pytest.raises(providers.FetchUnavailableError) as unavailable:
        receive(stub)
    assert unavailable.value.retry_after > 0 and not unavailable.value.credential_refused
    assert KEY not in str(unavailable.value)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(["payment", "refund", "chargeback"]),
    currency=st.sampled_from(["EUR", "USD", "JPY", "ISK"]),
    whole=st.integers(0, 10**6),
    extra=st.integers(1, 10**4),
)
def test_an_amount_finer_than_its_currency_is_unavailable_never_a_fact(
    stub: MollieStub, where: str, currency: str, whole: int, extra: int
) -> None:
    """RT-3: any amount Mollie answers with more decimals than its currency's exponent (the rule
    `sources.canonical` applies: handlers/money.py; Mollie's table is ISO's, ISK and JPY 0) makes the
    fetch unavailable (503, Mollie retries), whichever object of the payment carries it."""
    places = __import__("money").exponent(currency) + 1
    value = f"{whole}.{extra % 10**places:0{places}d}"
    if value.endswith("0"):
        value = value[:-1] + "7"  # a trailing zero says nothing: keep the last place significant
    shown = stub.make_event(2, T0)  # never added: the answer below is the whole of Mollie this time
    shown["amount"] = {"value": "10" if where != "payment" else value, "currency": currency}
    shown.pop("amountCaptured", None)  # `amount` is then what the paid payment moved
    odd = {"amount": {"value": value, "currency": currency}, "createdAt": shown["createdAt"], "paymentId": shown["id"]}
    if where == "refund":
        shown["_embedded"] = {"refunds": [odd | {"resource": "refund", "id": "re_odd", "status": "refunded"}]}
    elif where == "chargeback":
        shown["_embedded"] = {"chargebacks": [odd | {"resource": "chargeback", "id": "chb_odd", "reversedAt": None}]}
    stub.fail_next(StubResponse(200, json.dumps(shown).encode()))
    with pytest.raises(providers.FetchUnavailableError) as unavailable:
        receive(stub, f"id={shown['id']}")
    assert unavailable.value.retry_after > 0 and "amount: invalid_amount" in str(unavailable.value)


def test_an_amount_with_trailing_zeros_beyond_the_exponent_is_read(stub: MollieStub) -> None:
    """`10.000` EUR says nothing finer than `10.00`: not refused (the canonical rule ignores trailing zeros)."""
    stub.add_refund("tr_0000000001", "re_1", "1.000", "refunded", T0 + datetime.timedelta(hours=1))
    assert [event.provider_event_id for event in receive(stub)] == ["tr_0000000001:paid", "re_1:refunded"]


def test_one_5xx_is_retried_within_the_fetch(stub: MollieStub) -> None:
    stub.fail_next(StubResponse(502, b"{}"))
    assert [event.provider_event_id for event in receive(stub)] == ["tr_0000000001:paid"]
    assert len(stub.requests) == 2


def test_a_timeout_is_unavailable_within_the_budget(stub: MollieStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mollie_classic, "FETCH_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(mollie_classic, "FETCH_BUDGET_SECONDS", 1.5)

    def slow() -> StubResponse:
        time.sleep(1.0)
        return StubResponse(200, b"{}")

    stub.fail_next(slow, slow)
    started = time.monotonic()
    with pytest.raises(providers.FetchUnavailableError):
        receive(stub)
    assert time.monotonic() - started < 1.5 + 1.0
    time.sleep(1.2)  # let the slow answers finish, so the next test's stub does not receive them


def test_a_revoked_key_is_credential_refused(stub: MollieStub) -> None:
    with pytest.raises(providers.FetchUnavailableError) as unavailable:
        receive(stub, keys=[OLD_KEY])
    assert unavailable.value.credential_refused
    assert OLD_KEY not in str(unavailable.value)
    # A 401 is not retried: a revoked key does not heal. (Counted by key: a slow request of another test
    # may still reach the shared server.)
    assert [r for r in stub.requests if r.headers.get("authorization") == f"Bearer {OLD_KEY}"] == stub.requests[-1:]


def test_during_a_rotation_the_next_key_is_tried_after_a_refusal(stub: MollieStub) -> None:
    assert [event.provider_event_id for event in receive(stub, keys=[OLD_KEY, KEY])] == ["tr_0000000001:paid"]


OTHER_MODE_KEY = "live_9kQz2ReAnotherModeOrProfileKey00"  # valid at Mollie, sees none of the stub's payments


class _TwoKeyMollie(MollieStub):
    """Mollie with a second valid key that sees none of these payments: Mollie answers 404 for them
    (test and live mode, and profiles, see disjoint payments: https://docs.mollie.com/overview/testing,
    https://docs.mollie.com/reference/v2/payments-api/get-payment "404 Not Found")."""

    def answer(self, request: StubRequest) -> StubResponse:
        if request.headers.get("authorization") == f"Bearer {OTHER_MODE_KEY}" and not self._faults:
            self.requests.append(request)
            body = {"status": 404, "title": "Not Found", "detail": "No payment exists with token."}
            return StubResponse(404, json.dumps(body).encode(), {"Content-Type": "application/hal+json"})
        return super().answer(request)


@pytest.fixture
def two_keys(httpserver: HTTPServer) -> MollieStub:
    mollie = _TwoKeyMollie(api_key=KEY)
    httpserver.clear()
    serve_stub(httpserver, mollie)
    mollie.add(mollie.make_event(1, T0))
    return mollie


def test_a_404_from_one_key_asks_the_next_key(two_keys: MollieStub) -> None:
    """RT-4 (was tests/redteam): the first key's 404 ended the fetch as `UnknownObjectError` (200 ignored,
    Mollie stops retrying), though the second key reads the payment: a paid payment lost with no alarm.
    An id is unknown only when no key knows it."""
    events = receive(two_keys, keys=[OTHER_MODE_KEY, KEY])
    assert [event.provider_event_id for event in events] == ["tr_0000000001:paid"]
    assert [r.headers.get("authorization") for r in two_keys.requests[-2:]] == [
        f"Bearer {OTHER_MODE_KEY}", f"Bearer {KEY}",
    ]  # fmt: skip


def test_an_id_no_key_knows_is_unknown(two_keys: MollieStub) -> None:
    with pytest.raises(providers.UnknownObjectError):
        receive(two_keys, "id=tr_NotOurs12345", keys=[OTHER_MODE_KEY, KEY])


@pytest.mark.parametrize(
    "keys", [[OLD_KEY, OTHER_MODE_KEY], [OTHER_MODE_KEY, OLD_KEY]], ids=["refused-first", "404-first"]
)
def test_404s_and_a_refused_key_are_unavailable_with_the_refusal_alarm(two_keys: MollieStub, keys: list[str]) -> None:
    """The refused key may be the one that owns the payment: acknowledging the id (200) could lose it.
    503 (Mollie retries) and `credential_refused` (its alarm: fix or remove the key)."""
    with pytest.raises(providers.FetchUnavailableError) as unavailable:
        receive(two_keys, keys=keys)
    assert unavailable.value.credential_refused and unavailable.value.retry_after > 0
    assert OLD_KEY not in str(unavailable.value) and OTHER_MODE_KEY not in str(unavailable.value)


def test_a_5xx_stops_at_once_whichever_key_asks(two_keys: MollieStub) -> None:
    two_keys.fail_next(StubResponse(500, b"{}"), StubResponse(500, b"{}"))
    with pytest.raises(providers.FetchUnavailableError) as unavailable:
        receive(two_keys, keys=[KEY, OTHER_MODE_KEY])
    assert not unavailable.value.credential_refused
    assert {r.headers.get("authorization") for r in two_keys.requests} == {f"Bearer {KEY}"}


@pytest.mark.parametrize("text", ["", "sk_live_abcdefghijklmnopqrstuvwxyz0123", "test_short", "live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  f" {KEY}"])  # fmt: skip
def test_a_secret_that_is_not_a_mollie_key_is_skipped(text: str) -> None:
    with pytest.raises(ValueError):
        mollie_classic.parse_secret(text, {})


def test_the_options_are_the_synth_checks() -> None:
    from modules import reconcile_config, sources_config

    assert set(sources_config.PROVIDER_OPTIONS["mollie-classic"]) == {"api_base_url", "profile_id"}
    # The reconciler's config keeps its own list of fetching providers (it cannot import the specs): the same.
    assert set(reconcile_config.FETCHING_PROVIDERS) == set(sources_config.FETCHING_PROVIDERS) == {"mollie-classic"}


def test_the_secret_help_says_where_mollie_keeps_its_tokens() -> None:
    """Mollie merged its "API keys" and "Organization access tokens" pages into Developers → API access
    tokens; the organization access token is now the "Advanced access token"
    (https://docs.mollie.com/reference/authentication, https://help.mollie.com/hc/en-us/articles/360023732273)."""
    help_text = mollie_classic.SPEC.secret_help
    assert "Developers → API access tokens" in help_text and "Advanced access token" in help_text
    assert "Developers → API keys" not in help_text


def test_the_fetch_budget_bounds_the_whole_fetch_not_each_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """R2-8: the 8 s `FETCH_BUDGET_SECONDS` is the whole fetch's, every key included: keys answering 404
    slowly (3.9 s each, inside the 4 s attempt timeout) must not stretch a 4-key fetch to ~16-32 s, past
    API Gateway's 29 s. A fake clock; every client's deadline is the fetch's start + 8 s, and a key asked
    after it fails `deadline` (503, Mollie retries), never a 200 `UnknownObject` for keys never asked."""
    clock = {"now": 1000.0}
    deadlines: list[float] = []
    asked: list[str] = []

    class SlowNotFound:
        def __init__(self, **kwargs: Any) -> None:
            deadlines.append(kwargs["deadline"])
            self.deadline = kwargs["deadline"]
            self.key = kwargs["headers"]["Authorization"]

        def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if clock["now"] >= self.deadline:  # as ApiClient._check_deadline
                raise mollie_classic.ProviderApiError(  # the class the module catches
                    "mollie-classic", "GET /v2/payments/x", "deadline", "no time left", retryable=True
                )
            asked.append(self.key)
            clock["now"] += 3.9
            raise mollie_classic.ProviderApiError(  # the class the module catches
                "mollie-classic", "GET /v2/payments/x", "client_error", "HTTP 404", retryable=False, status=404
            )

    monkeypatch.setattr(mollie_classic, "ApiClient", SlowNotFound)
    monkeypatch.setattr(mollie_classic.time, "monotonic", lambda: clock["now"])
    keys = [f"test_{index}dHar4XY7LxsDOtmnkVtjNVWXLSlX" for index in range(4)]
    with pytest.raises(providers.FetchUnavailableError):
        mollie_classic.fetch_payment("tr_0000000001", keys, "http://localhost")
    assert deadlines == [1000.0 + mollie_classic.FETCH_BUDGET_SECONDS] * len(deadlines), deadlines
    assert len(asked) == 3  # 0 s, 3.9 s, 7.8 s: the fourth key comes after the 8 s
    assert clock["now"] - 1000.0 <= mollie_classic.FETCH_BUDGET_SECONDS + 4.0  # at most one attempt past it


def test_a_payment_of_another_profile_is_unknown(stub: MollieStub) -> None:
    """R2-7: an organization access token reads every profile's payments (Get payment takes no
    `profileId`): with `profile_id` set, a payment whose `profileId` is another profile's is not this
    source's: unknown (200, nothing stored), never its events."""
    options = {"api_base_url": stub.base_url, "profile_id": "pfl_AnotherSite1"}
    form = request({"Content-Type": "application/x-www-form-urlencoded"}, "id=tr_0000000001")
    with pytest.raises(providers.UnknownObjectError):
        mollie_classic.receive(form, [KEY], options, NOW)
    own = {**options, "profile_id": "pfl_QkEhN94Ba"}  # the documented example's profile
    assert [e.provider_event_id for e in mollie_classic.receive(form, [KEY], own, NOW)] == ["tr_0000000001:paid"]
    assert mollie_classic.SPEC.options["profile_id"]("pfl_QkEhN94Ba") is None
    for bad in ("QkEhN94Ba", "pfl_", "pfl_a b", "pfl_x/../y", 7, None):
        assert mollie_classic.SPEC.options["profile_id"](bad) is not None


@pytest.mark.parametrize("url", ["https://api.mollie.com.evil.example", "https://api.mollie.com@evil.example"])
def test_a_foreign_api_base_url_is_unavailable_and_never_asked(stub: MollieStub, url: str) -> None:
    """R2-1 at the door: a `SOURCES` whose `api_base_url` is not Mollie's (edited outside the synth) is a
    503 (FetchFailed, alarmed), the key never sent anywhere; never a 500 nor a 200."""
    form = request({"Content-Type": "application/x-www-form-urlencoded"}, "id=tr_0000000001")
    with pytest.raises(providers.FetchUnavailableError, match="api_base_url must be"):
        mollie_classic.receive(form, [KEY], {"api_base_url": url}, NOW)
