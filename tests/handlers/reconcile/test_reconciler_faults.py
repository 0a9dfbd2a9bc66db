"""Faults on the provider's side: bounded retries, a clear failure, nothing written twice, nothing guessed."""

from __future__ import annotations

import datetime
import json
import time

import pytest

from pipeline_tools.sandbox.provider_stubs import StubResponse
from tests.handlers.reconcile.harness import PROVIDERS, SOURCE, Harness
from tests.handlers.reconcile.test_reconciler_windows import NOW, handler_run


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"{}") -> StubResponse:
    return StubResponse(code, body, {"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_with_retry_after_is_honoured(aws, httpserver, monkeypatch, provider) -> None:
    harness = Harness(provider, httpserver, monkeypatch, page_size=2)
    ids = harness.add_events(5, NOW)
    harness.stub.fail_next(status(429, {"Retry-After": "3"}), status(503))
    report = harness.run(NOW)
    assert sorted(harness.items()) == sorted(ids) and report.written == 5
    # Retry-After replaces the backoff (3 s); the 503 without it backs off 0.5 s x 2^1 (jitter pinned at 1).
    assert harness.sleeps == [3.0, 1.0]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_5xx_fails_the_run_after_bounded_retries_and_the_next_run_recovers(
    aws, httpserver, monkeypatch, provider
) -> None:
    harness = Harness(provider, httpserver, monkeypatch, page_size=2)
    ids = harness.add_events(5, NOW)
    provider_api = __import__("provider_api")
    # The first page comes (after Square's set-up call), then the next fails on every attempt.
    good = 2 if provider == "square" else 1
    real = harness.stub.answer
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        return real(request) if calls["n"] <= good else status(500)

    harness.stub.answer = flaky
    with pytest.raises(provider_api.ProviderApiError) as failure:
        harness.run(NOW)
    assert failure.value.reason == "server_error" and failure.value.retryable
    assert calls["n"] == good + 4  # then max_attempts, no more
    written_first = failure.value.report.written
    assert written_first == 2 and len(harness.items()) == 2
    assert harness.state().checkpoint(SOURCE).high_water is None  # not advanced
    harness.stub.answer = real
    report = harness.run(NOW)
    assert sorted(harness.items()) == sorted(ids)
    assert report.written == 3 and report.already_stored == 2  # nothing written twice


def test_a_timeout_is_retried(aws, httpserver, monkeypatch) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    ids = harness.add_events(2, NOW)

    def slow() -> StubResponse:
        time.sleep(0.6)
        return status(200, body=b'{"object":"list","data":[],"has_more":false}')

    harness.stub.fail_next(slow)
    report = harness.run(NOW, client=harness.client(timeout_seconds=0.3))
    assert report.written == 2 and sorted(harness.items()) == sorted(ids)
    # The stub serves one request at a time, so an attempt may wait behind the slow one: retried, bounded.
    assert 1 <= len(harness.sleeps) <= 3


@pytest.mark.parametrize(
    "body",
    [b"<html>gateway</html>", b"[]", b'{"object":"list","data":{"id":"evt_1"},"has_more":false}', b'{"data": [1]}'],
)
def test_malformed_pages_stop_the_run_without_guessing(aws, httpserver, monkeypatch, body) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    harness.add_events(2, NOW)
    harness.stub.fail_next(*[status(200, body=body)] * 4)
    provider_api = __import__("provider_api")
    with pytest.raises(provider_api.ProviderApiError) as failure:
        harness.run(NOW)
    assert failure.value.reason == "malformed_response"
    assert harness.items() == {} and harness.state().checkpoint(SOURCE).high_water is None


def test_a_malformed_event_stops_the_page_before_anything_of_it_is_written(aws, httpserver, monkeypatch) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    harness.add_events(3, NOW)
    page = [dict(event) for event in harness.stub.events]
    del page[1]["id"]
    harness.stub.fail_next(status(200, body=json.dumps({"object": "list", "data": page, "has_more": False}).encode()))
    provider_api = __import__("provider_api")
    with pytest.raises(provider_api.ProviderApiError) as failure:
        harness.run(NOW)
    assert failure.value.reason == "malformed_response" and "id" in str(failure.value)
    assert harness.items() == {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_revoked_credential_is_one_call_a_clear_failure_and_no_write(
    aws, httpserver, monkeypatch, capsys, provider
) -> None:
    harness = Harness(provider, httpserver, monkeypatch)
    harness.add_events(2, NOW)
    harness.stub.api_key = "rotated-elsewhere"
    report, values = handler_run(harness, capsys)
    assert len(harness.stub.requests) == 1  # never retried
    assert "credential_refused" in report["error"] and provider in report["error"]
    assert "sandbox-read-only-key" not in report["error"]
    assert values["ReconcileFailed"] == 1 and values["ReconciledMissing"] == 0
    assert harness.items() == {}


def test_a_next_page_on_another_host_is_never_requested(aws, httpserver, monkeypatch) -> None:
    harness = Harness("paddle", httpserver, monkeypatch, page_size=1)
    harness.add_events(2, NOW)
    harness.stub.base_url = "https://attacker.example"
    provider_api = __import__("provider_api")
    with pytest.raises(provider_api.ProviderApiError) as failure:
        harness.run(NOW)
    assert failure.value.reason == "foreign_host"
    assert len(harness.stub.requests) == 1 and len(harness.items()) == 1


def test_the_budget_bounds_a_run_and_the_next_run_resumes(aws, httpserver, monkeypatch) -> None:
    harness = Harness("gocardless", httpserver, monkeypatch, page_size=2)
    ids = harness.add_events(7, NOW)
    provider_api = __import__("provider_api")
    with pytest.raises(provider_api.ProviderApiError) as failure:
        harness.run(NOW, client=harness.client(max_requests=2))
    assert failure.value.reason == "budget_exhausted" and failure.value.report.written == 4
    report = harness.run(NOW)
    assert report.written == 3 and report.already_stored == 4 and sorted(harness.items()) == sorted(ids)


def test_an_aws_failure_at_the_door_stops_the_run_and_nothing_is_remembered_wrongly(
    aws, httpserver, monkeypatch
) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    ids = harness.add_events(2, NOW)
    monkeypatch.setenv("EVENTS_TABLE_NAME", "no-such-table")
    with pytest.raises(harness.reconciler.StoreUnavailableError):
        harness.run(NOW)
    monkeypatch.setenv("EVENTS_TABLE_NAME", harness.events_table)
    assert harness.run(NOW).written == 2 and sorted(harness.items()) == sorted(ids)


def test_an_event_the_door_would_refuse_is_counted_and_not_remembered(aws, httpserver, monkeypatch) -> None:
    harness = Harness("stripe", httpserver, monkeypatch)
    harness.add_events(1, NOW)
    harness.stub.events[0]["data"]["object"]["description"] = "x" * 500_000  # over the item size
    report = harness.run(NOW)
    assert report.refused == 1 and report.written == 0 and harness.items() == {}
    # Counted (ReconcileRefused, alarmed) and not remembered: a run over the same time refuses it again.
    assert harness.run(NOW, since=NOW - datetime.timedelta(days=2)).refused == 1
    assert json.dumps(report.as_dict())


@pytest.mark.parametrize(
    "url",
    [
        "https://api.mollie.com.evil.example",
        "https://api.mollie.com@evil.example",
        "https://evil.example@api.mollie.com",
        "https://api.mollie.com:8443",
        "http://api.mollie.com",
        "http://evil.example",
        "http://localhost@evil.example",
        "http://localhost.evil.example",
        "https://api.stripe.com",
    ],
    ids=["suffix-host", "userinfo", "userinfo-before", "port", "plain-http", "other-http", "local-userinfo",
         "local-suffix", "another-providers-host"],
)  # fmt: skip
def test_the_api_client_refuses_a_host_that_is_not_the_providers(aws: None, url: str) -> None:
    """R2-1: only the synth (modules/reconcile_config.api_base_url_problem) checked `api_base_url`; the
    client the Lambdas use now applies the same rule (handlers/api_hosts.py), so a `SOURCES` or
    `RECONCILE_SOURCES` edited outside the synth cannot send `Authorization: Bearer live_...` to another
    host (nor in clear text over `http://`). The URL is not echoed in the refusal."""
    provider_api = __import__("provider_api")
    with pytest.raises(ValueError, match=r"must be https://api\.mollie\.com") as refused:
        provider_api.ApiClient(provider="mollie-classic", base_url=url, headers={"Authorization": "Bearer live_x"})
    assert "evil" not in str(refused.value)


@pytest.mark.parametrize("provider", [*PROVIDERS, "mollie-classic"])
def test_the_api_client_takes_the_providers_own_hosts_and_a_local_stub(aws: None, provider: str) -> None:
    provider_api = __import__("provider_api")
    api_hosts = __import__("api_hosts")
    for url in [
        *(f"https://{host}" for host in api_hosts.API_HOSTS[provider]),
        "http://127.0.0.1:8080",
        "http://localhost/v1",
        "http://host.docker.internal:4010/",
    ]:
        provider_api.ApiClient(provider=provider, base_url=url, headers={})
    module = __import__("reconcile_apis").load(provider)
    provider_api.ApiClient(provider=provider, base_url=module.DEFAULT_API_BASE_URL, headers={})
