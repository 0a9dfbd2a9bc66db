"""Secrets strong enough to sign (issue 18): every provider's `parse_secret` refuses placeholders, with a
message naming the rule (never the value); at run time such an entry is skipped and logged by source and
index while the good entries keep working. Before the change `x`, `changeme` and `whsec_x` were keys."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.helpers import fresh_import, make_event, payment
from tests.handlers.test_sources import (
    SOURCES,
    call,
    capture_logs,  # noqa: F401 - the pytest fixture, used by name
    configure,  # noqa: F401 - the pytest fixture, used by name
    fixture_bytes,
    json_lines,
    post,
)

PLACEHOLDERS = ["x", "changeme", "whsec_x", "secret", "a" * 40, "whsec_" + "a" * 40, "0" * 64, "abababababababababab"]
OPTIONS = {"braintree": {"public_key": "pk"}}


@pytest.mark.parametrize("provider", sorted({spec.provider for spec in SOURCES.values()}))
@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_every_provider_refuses_placeholder_secrets(provider: str, placeholder: str) -> None:
    fresh_import("sources")
    providers = fresh_import("providers")
    module = providers.load(provider)
    with pytest.raises(ValueError) as refused:
        module.parse_secret(placeholder, OPTIONS.get(provider, {}))
    assert len(placeholder) < 20 or placeholder not in str(refused.value)  # the value is never echoed


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_test_secrets_are_strong_enough(name: str) -> None:
    providers = fresh_import("providers")
    spec = SOURCES[name]
    assert providers.load(spec.provider).parse_secret(spec.secret, spec.options)


def test_a_weak_standard_webhooks_key_is_refused_by_its_decoded_bytes() -> None:
    providers = fresh_import("providers")
    weak = "whsec_" + base64.b64encode(b"\x00" * 32).decode()  # 32 bytes, all the same
    with pytest.raises(ValueError, match="too regular"):
        providers.load("standard-webhooks").parse_secret(weak, {})


def test_a_placeholder_entry_is_skipped_and_logged_by_source_and_index(
    configure: Any,  # noqa: F811
    capture_logs: Any,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    validator, _router = configure(secrets={"stripe": ["whsec_x", SOURCES["stripe"].secret]})
    capture_logs(validator)
    assert post(validator, "stripe", fixture_bytes("stripe/payment_intent.succeeded.json"))[0] == 202
    lines = json_lines(capsys.readouterr().out)
    [skipped] = [line for line in lines if line.get("message") == "signing secret entry skipped"]
    assert (skipped["source"], skipped["entry_index"]) == ("stripe", 0)
    assert "too short" in skipped["problem"] and "whsec_x" not in json.dumps(skipped)
    assert any("SecretEntrySkipped" in json.dumps(line) for line in lines)


def test_post_webhook_skips_a_weak_signing_secret(validator: ModuleType, signing_secret: Any) -> None:
    weak = "whsec_" + base64.b64encode(b"\x01" * 24).decode()
    signing_secret([weak])
    fresh = fresh_import("validator")
    status, body = call(fresh, make_event(payment("evt_weak"), secret=weak))
    assert status == 500 and json.loads(body)["error"] == "unavailable"  # no usable secret: never accept
