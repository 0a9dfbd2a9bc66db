"""A secret change takes effect at the next request that needs it (issue 22).

Before: a wrongly shaped secret kept its route at 500 for 300 s after it was corrected (Powertools
cached the raw value whatever it held). Now only a secret that parsed is cached; a forged request
never causes a fetch.
"""

from __future__ import annotations

import contextlib
import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from secret_cache import ParsedSecret, ParsedSecretCache, SecretUnusableError

from tests.handlers.helpers import REGION, ROTATED_SECRET, SIGNING_SECRET, FakeContext, make_event, payment


def call(validator: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = validator.handler(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def _fetches(validator: ModuleType) -> list[str]:
    calls: list[str] = []
    validator._secrets.client.meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **kwargs: calls.append(kwargs["event_name"])
    )
    return calls


def _put_raw(value: str) -> None:
    import os

    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=os.environ["SIGNING_SECRET_ARN"], SecretString=value
    )


@pytest.mark.parametrize(
    "wrong",
    [
        json.dumps({"secrets": [SIGNING_SECRET]}),  # a provider source's key on POST /webhook
        json.dumps({"signing_secrets": ["whsec_not base64!"]}),  # no entry parses
        "whsec_pasted-without-json",
    ],
)
def test_a_fixed_secret_takes_effect_at_the_next_request(validator: ModuleType, wrong: str) -> None:
    _put_raw(wrong)
    assert call(validator, make_event(payment("evt_before_fix")))[0] == 500
    _put_raw(json.dumps({"signing_secrets": [SIGNING_SECRET]}))
    assert call(validator, make_event(payment("evt_after_fix")))[0] == 202  # no 300 s wait


def test_a_forged_request_never_fetches_the_secret(validator: ModuleType) -> None:
    fetches = _fetches(validator)
    assert call(validator, make_event(payment("evt_ok")))[0] == 202
    assert len(fetches) == 1
    for index in range(5):
        forged = make_event(payment(f"evt_forged_{index}"), secret=ROTATED_SECRET)
        assert call(validator, forged)[0] == 401
    assert len(fetches) == 1  # the cached keys answered every forgery


class _Client:
    def __init__(self, value: str) -> None:
        self.value, self.calls = value, 0

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.calls += 1
        return {"SecretString": self.value}


def _parse(value: dict[str, Any]) -> ParsedSecret:
    entries = value["secrets"]
    keys = [entry for entry in entries if isinstance(entry, str) and entry.startswith("ok")]
    return ParsedSecret(keys, complete=len(keys) == len(entries))


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(st.sampled_from(["ok1", "ok2", "bad", 7]), max_size=4), elapsed=st.floats(0, 400))
def test_only_a_parsed_secret_is_cached_and_for_how_long(entries: list[Any], elapsed: float) -> None:
    now = [0.0]
    client = _Client(json.dumps({"secrets": entries}))
    cache = ParsedSecretCache(client, max_age_seconds=300, partial_max_age_seconds=10, clock=lambda: now[0])
    usable = [e for e in entries if isinstance(e, str) and e.startswith("ok")]
    for _ in range(2):
        if usable:
            assert cache.get("arn", _parse) == usable
        else:
            with pytest.raises(SecretUnusableError):
                cache.get("arn", _parse)
    now[0] = elapsed
    with contextlib.suppress(SecretUnusableError):
        cache.get("arn", _parse)
    complete = bool(usable) and len(usable) == len(entries)
    lifetime = 300 if complete else 10
    first_fetches = 1 if usable else 2  # an unusable secret is read again by every request
    assert client.calls == first_fetches + (0 if usable and elapsed < lifetime else 1)
