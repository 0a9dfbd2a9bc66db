"""Properties of the admission contract over adversarial signed bodies and arbitrary headers.

Generators reach what the outside world sends: any code point (surrogates and noncharacters included,
raw or escaped), deep nesting, extreme numbers, duplicate keys, byte order marks and other encodings.
"""

from __future__ import annotations

import itertools
import json
import sys
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.handlers.helpers import HANDLERS_DIR, FakeContext, make_event, stored_items, stream_records
from tests.handlers.sqs_stand_in import enforce_on
from tests.handlers.test_admission_contract import call

sys.path.insert(0, str(HANDLERS_DIR))
import strict_json
from canonical_event import payload_sha256

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_ids = itertools.count()

any_character = st.one_of(
    st.characters(codec=None, exclude_categories=()),  # every code point, surrogates included
    st.sampled_from(["\ufffe", "\uffff", "\u0000", "\ud800", "\udfff", "\U0010ffff", "\ufeff", '"', "\\"]),
)
any_text = st.text(any_character, max_size=12)
number_texts = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(
        ["-0", "0.0", "1e300000", "1E-999999", "1e999999", "1e1000000", "-1e-1000000", "1" * 45, "0." + "0" * 40 + "1"]
    ),
)


def string_literal(text: str, escaped: bool) -> str:
    if escaped:
        return json.dumps(text, ensure_ascii=True)
    return json.dumps(text, ensure_ascii=False)


json_texts = st.recursive(
    st.one_of(
        st.sampled_from(["null", "true", "false"]),
        number_texts,
        st.builds(string_literal, any_text, st.booleans()),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(any_text, st.booleans(), children), max_size=3, unique_by=lambda t: t[0]).map(
            lambda members: "{" + ",".join(f"{string_literal(k, e)}:{v}" for k, e, v in members) + "}"
        ),
        st.tuples(children, st.integers(0, 120)).map(lambda pair: "[" * pair[1] + pair[0] + "]" * pair[1]),
    ),
    max_leaves=8,
)
encodings = st.sampled_from(["utf-8"] * 9 + ["bom", "utf-16", "surrogatepass"])


def encode(text: str, encoding: str) -> bytes:
    if encoding == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


@SETTINGS
@given(extra=json_texts, transaction_type=any_text, encoding=encodings, duplicate=st.integers(0, 9))
def test_every_2xx_is_delivered_once_in_a_message_sqs_accepts(
    validator: ModuleType, router: ModuleType, extra: str, transaction_type: str, encoding: str, duplicate: int
) -> None:
    event_id = f"evt_{next(_ids)}"
    if duplicate == 0:
        extra = '{"k":' + extra + ',"k":' + extra + "}"
    text = (
        f'{{"event_id":"{event_id}","transaction_type":{string_literal(transaction_type or "t", False)},'
        f'"amount":1,"timestamp":"2026-11-28T10:00:00Z","x":{extra}}}'
    )
    body = encode(text, encoding)
    status, response = call(validator, make_event(body))
    event(f"{status} {response.get('error', '')}")
    assert status in (202, 400, 413)
    stored = [item for item in stored_items() if item["event_id"]["S"] == event_id]
    if status != 202:
        assert stored == []
        return
    [item] = stored
    # A repeat of the same body is a duplicate with the same stored hash.
    assert call(validator, make_event(body))[0] == 200
    # The router delivers it exactly once, in a message the SQS stand-in accepts.
    sent = enforce_on(router)
    records = [r for r in stream_records() if r["dynamodb"]["NewImage"]["event_id"]["S"] == event_id]
    assert router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    assert len(sent) == 1
    message = json.loads(sent[0]["MessageBody"])
    assert message["event_id"] == event_id
    assert message["payload_sha256"] == item["payload_sha256"]["S"]
    assert message["payload"] == body.decode("utf-8")


def same_meaning(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, but `true` is not `1` and `"1"` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_meaning(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_meaning(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return a == b  # int and Decimal compare by value


@SETTINGS
@given(first=json_texts, second=json_texts)
def test_bodies_share_a_hash_only_when_they_mean_the_same(first: str, second: str) -> None:
    try:
        a, b = strict_json.loads(first), strict_json.loads(second)
    except strict_json.JsonDecodeError:
        return
    assert (payload_sha256(a) == payload_sha256(b)) == same_meaning(a, b)


@SETTINGS
@given(first=json_texts)
def test_the_same_value_in_other_spellings_shares_a_hash(first: str) -> None:
    try:
        value = strict_json.loads(first)
    except strict_json.JsonDecodeError:
        return
    respelled = json.dumps(value, default=str, indent=2)  # other whitespace; Decimals become strings
    try:
        again = strict_json.loads(respelled)
    except strict_json.JsonDecodeError:
        return
    if same_meaning(value, again):
        assert payload_sha256(value) == payload_sha256(again)


header_text = st.one_of(st.text(any_character, max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1")))


@SETTINGS
@given(
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "Webhook-Signature", "x-other"]),
        header_text,
    )
)
def test_unsigned_requests_always_get_401(validator: ModuleType, headers: dict[str, str]) -> None:
    body = '{"event_id":"m","transaction_type":"t","amount":1,"timestamp":"2026-11-28T10:00:00Z"}'
    status, _ = call(validator, {"headers": headers, "body": body, "isBase64Encoded": False})
    assert status == 401
    assert stored_items() == []
