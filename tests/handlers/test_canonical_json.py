"""canonical_json.dumps must keep writing exactly what it wrote when events were first stored: a
changed byte changes `payload_sha256`, and a provider's retry would then look like a 409 conflict."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.handlers.helpers import HANDLERS_DIR

sys.path.insert(0, str(HANDLERS_DIR))
from canonical_json import decimal_text, dumps


def reference(value: Any) -> str:
    """The original json.dumps-based spelling, kept as the oracle."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{reference(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(reference(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return decimal_text(value)
    return json.dumps(value, ensure_ascii=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=None),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(json_values)
def test_matches_the_original_spelling(value: Any) -> None:
    assert dumps(value) == reference(value)


def test_keys_are_ascii_escaped_values_are_not_and_decimals_exact() -> None:
    value = {"é": 'é\n"', "b": [True, False, None, 10**30, Decimal("19.990"), Decimal("1e2")], "a": Decimal("-0")}
    assert dumps(value) == '{"a":0,"b":[true,false,null,1000000000000000000000000000000,19.99,100],"\\u00e9":"é\\n\\""}'


@pytest.mark.parametrize("value", [1.5, {"amount": 0.1}, object()])
def test_floats_and_other_objects_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        dumps(value)


# The C-encoder fast path for parsed payloads (issue 20): wherever it answers, the same bytes.
nul_and_escapes = st.text(alphabet=st.sampled_from(["\x00", "\x7f", "\\", "u", "0", '"', "é", "a", "D", "1"]))
tricky_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | nul_and_escapes
    | st.decimals(allow_nan=False, allow_infinity=False, places=None),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text() | nul_and_escapes, children, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(st.dictionaries(st.text() | nul_and_escapes, tricky_values, max_size=5))
def test_the_fast_path_writes_the_same_bytes_or_steps_aside(value: dict[str, Any]) -> None:
    from canonical_json import _fast_dumps

    fast = _fast_dumps(value)
    assert fast is None or fast == reference(value)
    assert dumps(value, parsed=True) == reference(value)
    assert dumps(value, ascii_keys=False, parsed=True) == dumps(value, ascii_keys=False)


def test_the_provider_samples_take_the_fast_path() -> None:
    from canonical_json import _fast_dumps
    from strict_json import loads

    samples = sorted((HANDLERS_DIR.parent / "tests" / "fixtures" / "providers").rglob("*.json"))
    assert samples
    for path in samples:
        value = loads(path.read_text(encoding="utf-8"))
        if isinstance(value, dict):
            assert _fast_dumps(value) == reference(value), path.name
            assert _fast_dumps(value, ascii_keys=False) == dumps(value, ascii_keys=False), path.name


@given(st.dictionaries(st.text() | nul_and_escapes, tricky_values, max_size=5))
def test_canonical_text_hashes_as_the_payload_hash_of_its_parse(value: dict[str, Any]) -> None:
    """`sources._payload_hash` hashes `CanonicalText` as it is, skipping the parse: that must be the hash the
    strict parse and canonical spelling of the same text would give, or a provider's retry would be a 409."""
    import hashlib

    import strict_json
    from canonical_event import payload_sha256
    from canonical_json import CanonicalText, canonical_text

    text = canonical_text(value)
    assert isinstance(text, CanonicalText) and text == reference(value)
    assert hashlib.sha256(text.encode()).hexdigest() == payload_sha256(strict_json.loads(str(text)))
