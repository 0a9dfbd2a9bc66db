"""Properties of the validator over arbitrary bodies and headers: it never raises, never says 2xx
without a stored item, and stores nothing for a request that is not correctly signed."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.helpers import FakeContext, make_event, stored_items

header_values = st.one_of(st.text(max_size=60), st.from_regex(r"v1,[A-Za-z0-9+/=]{0,50}", fullmatch=True))
headers_strategy = st.dictionaries(
    st.sampled_from(
        ["webhook-id", "Webhook-Id", "webhook-timestamp", "WEBHOOK-SIGNATURE", "webhook-signature", "x-other"]
    ),
    header_values,
    max_size=4,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
bodies = st.one_of(
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "event_id": st.text(max_size=12),
            "transaction_type": st.text(max_size=8),
            "amount": json_values,
            "timestamp": st.text(max_size=25),
        },
        optional={"currency": st.text(max_size=4)},
    ).map(json.dumps),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def invoke(validator: ModuleType, event: dict[str, Any]) -> int:
    response = validator.handler(event, FakeContext())
    json.loads(response["body"])  # always a JSON body
    return response["statusCode"]


@SETTINGS
@given(body=bodies, headers=headers_strategy, base64_flag=st.booleans())
def test_unsigned_requests_never_store_anything(
    validator: ModuleType, body: str, headers: dict[str, str], base64_flag: bool
) -> None:
    event = {"headers": headers, "body": body, "isBase64Encoded": base64_flag}
    status = invoke(validator, event)
    assert status in (400, 401)
    assert stored_items() == []


@SETTINGS
@given(body=bodies)
def test_signed_arbitrary_bodies_get_2xx_only_when_stored(validator: ModuleType, body: str) -> None:
    before = len(stored_items())
    status = invoke(validator, make_event(body))
    after = stored_items()
    assert status in (200, 202, 400, 409, 413)
    if status == 202:
        assert len(after) == before + 1
    else:
        assert len(after) == before
    if status in (200, 202):
        event_id = json.loads(body)["event_id"]
        assert any(item["event_id"]["S"] == event_id for item in after)
