"""`routed_message.check_event` (the door's check without building the text, issue 20) refuses exactly
what building the message refuses: same reason, same status, for any values."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.handlers.helpers import HANDLERS_DIR

sys.path.insert(0, str(HANDLERS_DIR))
import routed_message
from routed_message import MAX_MESSAGE_BYTES, UndeliverableMessageError, check_event, event_message

# Characters that escape to 6 bytes, to 2, non-BMP, SQS-illegal ones, and plain ASCII.
characters = st.sampled_from(["a", "\x01", "\n", '"', "é", "\U0001f600", "\ufffe", "\ud800", "\x7f"])
texts = st.text(alphabet=characters, max_size=300) | st.text(max_size=50)


def outcome(check: Any, values: dict[str, Any]) -> tuple[str, int] | None:
    try:
        check(values)
    except UndeliverableMessageError as error:
        return error.reason, error.status
    return None


@settings(max_examples=300)
@given(
    st.fixed_dictionaries(
        {name: st.none() | texts for name in routed_message.EVENT_FIELDS if name not in ("amount", "object_version")},
    ),
    st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**20),
    st.integers(min_value=0, max_value=45_000),
    characters,
)
def test_check_event_refuses_what_the_built_message_refuses(
    values: dict[str, Any], amount: Decimal | None, padding: int, filler: str
) -> None:
    values = {**values, "amount": amount, "payload": (values["payload"] or "") + filler * padding}
    assert outcome(check_event, values) == outcome(event_message, values)


def test_a_payload_near_the_limit_is_measured_not_bounded() -> None:
    for payload in ("a" * (MAX_MESSAGE_BYTES - 600), "\x01" * (MAX_MESSAGE_BYTES // 6)):
        values = {"event_id": "s:1", "transaction_type": "payment", "source": "s", "payload": payload}
        assert outcome(check_event, values) == outcome(event_message, values)
