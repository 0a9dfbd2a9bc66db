"""The validator's AWS retry budget ends inside the function timeout with the designed 503 + Retry-After.

Proven twice: arithmetically from the clients' botocore `Config` against every environment's
`validator_timeout_seconds`, and behaviourally by answering PutItem with
`ProvisionedThroughputExceededException` at botocore's `before-send` (a canned HTTP response, so the
real retry handler, signing and error parsing run).
"""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

from modules.config import CONFIG_DIR, load_settings
from tests.handlers.helpers import FakeContext, make_event, payment, stored_items


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def throttled_response(request: Any) -> AWSResponse:
    """What DynamoDB answers a throttled PutItem (HTTP 400, JSON 1.0 error document)."""
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was exceeded.",
        }
    ).encode()
    return AWSResponse(request.url, 400, {"x-amzn-requestid": "stub"}, _Raw(body))


class Throttle:
    """Answer every PutItem of `client` with throttling at `before-send`; count the attempts."""

    def __init__(self, client: Any) -> None:
        self.attempts = 0
        self._client = client
        # botocore runs every `before-send` handler and takes the first answer: moto's stub would still
        # carry out the write behind ours, so it stands aside while the throttle is on (warm containers
        # only: nothing but PutItem is answered meanwhile).
        client.meta.events.register_first("before-send", self)
        botocore_stubber.enabled = False

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target") != b"DynamoDB_20120810.PutItem":
            return None
        self.attempts += 1
        return throttled_response(request)

    def stop(self) -> None:
        self._client.meta.events.unregister("before-send", self)
        botocore_stubber.enabled = True


class Deadline(FakeContext):
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def environments() -> list[str]:
    return sorted(path.stem for path in CONFIG_DIR.glob("*.json") if path.stem != "default")


@pytest.mark.parametrize("environment", environments())
def test_worst_case_call_plus_answer_fits_the_validator_timeout(validator: ModuleType, environment: str) -> None:
    import sdk_config

    config = validator._dynamodb.meta.config
    assert config.retries == {"mode": "legacy", "total_max_attempts": 3}
    worst = sdk_config.worst_case_call_seconds(config)
    # 3 attempts x (0.5 s connect + 1.5 s read) + 50 ms + 100 ms of legacy backoff
    assert worst == pytest.approx(3 * (0.5 + 1.5) + 0.05 + 0.1)
    timeout = load_settings(environment, declared=True).validator_timeout_seconds
    assert worst + sdk_config.ANSWER_MARGIN_SECONDS <= timeout
    # The secret's client (cold start) is bounded the same way.
    assert validator._secrets.client.meta.config.retries == config.retries


def test_botocore_defaults_would_not_fit(validator: ModuleType) -> None:
    """Why the settings exist: DynamoDB's default legacy policy alone sleeps ~25.6 s over 10 attempts."""
    legacy_default_backoff = sum(0.05 * 2 ** (n - 1) for n in range(1, 10))
    assert legacy_default_backoff > load_settings("dev", declared=True).validator_timeout_seconds


def test_throttled_write_is_503_with_retry_after_within_the_budget_and_the_retry_stores_once(
    validator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sdk_config

    assert validator.handler(make_event(payment("evt_warm")), Deadline(10_000))["statusCode"] == 202
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    throttle = Throttle(validator._dynamodb)
    event = make_event(payment("evt_throttled"))
    response = validator.handler(event, Deadline(10_000))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    assert throttle.attempts == sdk_config.TOTAL_MAX_ATTEMPTS
    assert slept == pytest.approx([0.05, 0.1])  # the legacy backoff, deterministic
    throttle.stop()
    assert [item["event_id"]["S"] for item in stored_items()] == ["evt_warm"]

    assert validator.handler(event, Deadline(10_000))["statusCode"] == 202  # the sender's retry
    assert validator.handler(event, Deadline(10_000))["statusCode"] == 200  # and a duplicate of it
    assert sorted(item["event_id"]["S"] for item in stored_items()) == ["evt_throttled", "evt_warm"]


def test_no_write_is_started_that_could_outlast_the_function(validator: ModuleType) -> None:
    import sdk_config

    assert validator.handler(make_event(payment("evt_warm")), Deadline(10_000))["statusCode"] == 202
    throttle = Throttle(validator._dynamodb)
    too_little = int((sdk_config.worst_case_call_seconds() + sdk_config.ANSWER_MARGIN_SECONDS) * 1000) - 100
    response = validator.handler(make_event(payment("evt_late")), Deadline(too_little))
    assert response["statusCode"] == 503
    throttle.stop()
    assert throttle.attempts == 0
    assert [item["event_id"]["S"] for item in stored_items()] == ["evt_warm"]


# GoCardless counts a delivery failed when no 2xx came within 10 s (support.gocardless.com, "Webhook
# retries / failures"): an answer later than that is a retry even if the events were stored.
GOCARDLESS_ANSWER_SECONDS = 10


@pytest.mark.parametrize("environment", environments())
def test_the_doors_amount_fetch_fits_between_the_start_and_the_last_write(
    validator: ModuleType, environment: str
) -> None:
    """The door fetches until `deadline - worst write - margin` (validator.enrich_at_the_door): that window
    holds at least one whole fetch attempt, and the whole answer still comes inside GoCardless's 10 s."""
    import enrichment

    import sdk_config

    timeout = load_settings(environment, declared=True).validator_timeout_seconds
    window = timeout - sdk_config.worst_case_call_seconds() - sdk_config.ANSWER_MARGIN_SECONDS
    assert window >= enrichment.DOOR_TIMEOUT_SECONDS  # 10 - 6.15 - 1 = 2.85 s >= 2 s
    assert timeout <= GOCARDLESS_ANSWER_SECONDS
