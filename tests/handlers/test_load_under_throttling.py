"""A bounded load run in the suite: bursts of signed deliveries while DynamoDB throttles a third of the
writes. Every refusal is a 503 with Retry-After; the sender's retries store each event exactly once;
the router delivers each once: 0 lost, 0 duplicated. (The full-size run against the sandbox is
`make load`'s job; this one proves the promise on every `make test`.)
"""

from __future__ import annotations

import collections
import json
import random
import time
from types import ModuleType
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from tests.handlers.helpers import FakeContext, make_event, payment, route_stored, stored_items
from tests.handlers.test_retry_budget import throttled_response

THROTTLED_HEADER = "x-test-throttled"
EVENTS = 60
TYPES = ("payment", "refund", "dispute", "chargeback")


class RandomThrottle:
    """Answer a seeded random share of PutItem attempts with throttling, before moto sees them."""

    def __init__(self, client: Any, share: float, monkeypatch: pytest.MonkeyPatch) -> None:
        self.random = random.Random(20)
        self.share = share
        self.throttled = 0
        client.meta.events.register_first("before-send", self)
        moto_call = BotocoreStubber.__call__

        def moto_unless_throttled(stub: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            if request.headers.get(THROTTLED_HEADER):
                return None  # already answered: moto must not carry the write out behind the throttle
            return moto_call(stub, event_name, request, **kwargs)

        monkeypatch.setattr(BotocoreStubber, "__call__", moto_unless_throttled)

    def __call__(self, request: Any, **_: Any) -> Any:
        if request.headers.get("X-Amz-Target") != b"DynamoDB_20120810.PutItem" or self.random.random() >= self.share:
            return None
        self.throttled += 1
        request.headers[THROTTLED_HEADER] = "1"
        return throttled_response(request)


def test_a_throttled_burst_is_refused_only_with_503_and_stored_and_routed_exactly_once(
    router: ModuleType, validator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)  # botocore's backoff, not the subject here
    throttle = RandomThrottle(validator._dynamodb, 0.35, monkeypatch)
    pending = [make_event(payment(f"evt_load_{i}", transaction_type=TYPES[i % 4]), webhook_id=f"msg_{i}")
               for i in range(EVENTS)]  # fmt: skip
    statuses: collections.Counter[int] = collections.Counter()
    rounds = 0
    while pending and rounds < 30:  # the sender retries what was refused
        rounds += 1
        refused = []
        for event in pending:
            response = validator.handler(event, FakeContext())
            statuses[response["statusCode"]] += 1
            if response["statusCode"] == 503:
                assert response["headers"]["Retry-After"] == "5"
                refused.append(event)
            else:
                assert response["statusCode"] == 202, response
        pending = refused
    assert pending == [], f"still refused after {rounds} rounds"
    assert throttle.throttled > 0 and statuses[503] > 0
    assert set(statuses) == {202, 503}
    ids = [item["event_id"]["S"] for item in stored_items()]
    assert len(ids) == len(set(ids)) == EVENTS  # 0 lost, 0 duplicated in the table

    sent = route_stored(router)
    routed = [json.loads(entry["MessageBody"])["event_id"] for entry in sent]
    assert sorted(routed) == sorted(ids)  # each delivered once
