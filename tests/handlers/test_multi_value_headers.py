"""A signature header sent twice (a sender rotating its secret): every value API Gateway delivers is read.

API Gateway's REST proxy event keeps only the last value of a repeated header in `headers` and all of them
in `multiValueHeaders`. Before the change the validator read `headers` only, so a delivery whose valid
signature was in the first copy was refused 401.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tests.handlers.helpers import ROTATED_SECRET, SIGNING_SECRET, FakeContext, fresh_import, make_event, payment
from tests.handlers.providers.signing_b import mollie_signature
from tests.handlers.test_sources import (
    SOURCES,
    api_event,
    call,
    configure,  # noqa: F401 - the pytest fixture, used by name
)


def repeated(event: dict[str, Any], name: str, values: list[str]) -> dict[str, Any]:
    event["headers"][name] = values[-1]  # what API Gateway puts in `headers`: the last value
    event["multiValueHeaders"] = {key: [value] for key, value in event["headers"].items()}
    event["multiValueHeaders"][name] = values
    return event


def test_post_webhook_reads_every_copy_of_webhook_signature(validator: ModuleType, signing_secret: Any) -> None:
    signing_secret([SIGNING_SECRET])
    fresh = fresh_import("validator")
    good = make_event(payment("evt_mv1"))
    stale = make_event(payment("evt_mv1"), secret=ROTATED_SECRET)  # signed with a key no longer configured
    event = repeated(good, "webhook-signature", [good["headers"]["webhook-signature"],
                                                  stale["headers"]["webhook-signature"]])  # fmt: skip
    assert fresh.handler(event, FakeContext())["statusCode"] == 202


def test_only_the_last_copy_is_not_enough_to_forge(validator: ModuleType) -> None:
    bad = make_event(payment("evt_mv2"), secret=ROTATED_SECRET)
    event = repeated(bad, "webhook-signature", ["v1,AAAA", bad["headers"]["webhook-signature"]])
    assert validator.handler(event, FakeContext())["statusCode"] == 401


def test_mollie_reads_every_copy_of_its_signature_header(configure: Any) -> None:  # noqa: F811
    validator, _ = configure()
    body = b'{"resource": "event", "id": "event_mv", "type": "payment-link.paid", "createdAt": "2024-12-16T15:57:04Z"}'
    good = mollie_signature(body, SOURCES["mollie"].secret)
    other = mollie_signature(body, "another-mollie-secret-0123456")
    event = repeated(api_event("mollie", body, {"X-Mollie-Signature": other}), "X-Mollie-Signature", [good, other])
    status, answer = call(validator, event)
    assert status != 401, answer
