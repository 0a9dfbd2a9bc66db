"""The `sources` setting: every bad entry stops the synth naming the file and key (no provider import)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from modules.sources_config import (
    PROVIDER_OPTIONS,
    SIGNATURE_HEADERS,
    SourceConfigError,
    check_sources,
    parse_sources,
    sources_environment,
)

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def test_every_provider_id_of_the_issue_is_configurable() -> None:
    assert set(PROVIDER_OPTIONS) == {
        "standard-webhooks", "stripe", "adyen", "square", "checkout", "razorpay", "paddle", "gocardless",
        "braintree", "mollie", "mollie-classic",
    }  # fmt: skip
    assert set(SIGNATURE_HEADERS) == set(PROVIDER_OPTIONS)


@pytest.mark.parametrize("provider", sorted(PROVIDER_OPTIONS))
def test_synth_options_are_the_options_the_provider_module_reads(provider: str) -> None:
    sys.path.insert(0, str(HANDLERS))
    try:
        registry = importlib.import_module("providers").REGISTRY
        module = importlib.import_module(f"providers.{registry[provider]}")
    finally:
        sys.path.remove(str(HANDLERS))
    fetch = {"api_base_url"} if module.SPEC.fetches_at_door else set()  # the fetch's own option
    assert set(PROVIDER_OPTIONS[provider]) == set(module.SPEC.options) | fetch  # one declaration, read by the synth


def test_a_good_entry_is_parsed_with_sorted_options() -> None:
    [source] = parse_sources(
        {"shop-1": {"provider": "standard-webhooks", "amount_unit": "minor", "amount_field": "data.amount",
                    "type_map": {"payment.succeeded": "payment"}, "route_unmapped": False}},
        "f.json",
    )  # fmt: skip
    assert source.name == "shop-1" and source.provider == "standard-webhooks"
    assert source.options == (("amount_field", "data.amount"), ("amount_unit", "minor"))
    assert source.environment_entry("arn:s") == {
        "provider": "standard-webhooks", "secret_arn": "arn:s", "amount_field": "data.amount", "amount_unit": "minor",
        "type_map": {"payment.succeeded": "payment"}, "route_unmapped": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "'sources' must be an object"),
        ({"Shop": {"provider": "stripe"}}, "'sources.Shop': a source name is 1-32 lowercase"),
        ({"x" * 33: {"provider": "stripe"}}, "a source name is 1-32"),
        ({"shop": "stripe"}, "'sources.shop' must be an object"),
        ({"standard": {"provider": "stripe"}}, "'sources.standard': the name 'standard' is reserved"),
        ({"a:b": {"provider": "stripe"}}, "'sources.a:b': a source name is 1-32 lowercase"),
        ({"shop": {"provider": "paypal"}}, "'sources.shop.provider' = 'paypal' is not a provider"),
        ({"shop": {}}, "'sources.shop.provider' = None is not a provider"),
        ({"shop": {"provider": "stripe", "public_key": "x"}}, "'sources.shop.public_key' is not an option of stripe"),
        ({"shop": {"provider": "stripe", "tolerance_seconds": 0}}, "'sources.shop.tolerance_seconds' = 0 must be"),
        ({"shop": {"provider": "stripe", "tolerance_seconds": True}}, "tolerance_seconds' = True must be"),
        ({"shop": {"provider": "square", "notification_url": "http://x"}}, "notification_url' = 'http://x' must be"),
        ({"shop": {"provider": "braintree"}}, "'sources.shop.public_key' is required for braintree"),
        ({"shop": {"provider": "braintree", "public_key": ""}}, "public_key' = '' must be non-empty"),
        ({"shop": {"provider": "standard-webhooks", "amount_unit": "cents"}}, "amount_unit' = 'cents' must be"),
        ({"shop": {"provider": "standard-webhooks", "amount_field": "data..x"}}, "amount_field' = 'data..x'"),
        ({"shop": {"provider": "stripe", "type_map": {"x": "sale"}}}, "'sources.shop.type_map': 'x' -> 'sale'"),
        ({"shop": {"provider": "stripe", "type_map": {"a b": "payment"}}}, "'a b' is not a provider event type"),
        ({"shop": {"provider": "stripe", "type_map": []}}, "type_map' must be an object"),
        ({"shop": {"provider": "stripe", "route_unmapped": "no"}}, "route_unmapped' must be true or false"),
    ],
)
def test_bad_entries_name_the_file_and_key(sources: Any, message: str) -> None:
    with pytest.raises(SourceConfigError, match=r"^f\.json: ") as error:
        parse_sources(sources, "f.json")
    assert message in str(error.value)


def test_adyen_needs_stored_ids_to_outlive_its_30_days_of_retries() -> None:
    sources = parse_sources({"adyen": {"provider": "adyen"}}, "f.json")
    with pytest.raises(SourceConfigError, match="'event_ttl_days' = 30 must exceed 30: source 'adyen'"):
        check_sources(sources, event_ttl_days=30, where="f.json")
    check_sources(sources, event_ttl_days=31, where="f.json")
    check_sources(parse_sources({"s": {"provider": "stripe"}}, "f.json"), event_ttl_days=30, where="f.json")


def test_sources_that_cannot_fit_lambdas_environment_are_refused() -> None:
    type_map = {f"event.type.number.{i}": "payment" for i in range(100)}
    sources = parse_sources({"s": {"provider": "stripe", "type_map": type_map}}, "f.json")
    with pytest.raises(SourceConfigError, match="too large for the validator's environment"):
        check_sources(sources, event_ttl_days=30, where="f.json")


def test_the_environment_variable_is_deterministic() -> None:
    raw = {"b": {"provider": "stripe"}, "a": {"provider": "mollie"}}
    arns = {"a": "arn:a", "b": "arn:b"}
    assert sources_environment(parse_sources(raw, "f"), arns) == sources_environment(
        parse_sources(dict(reversed(list(raw.items()))), "f"), arns
    )
    assert sources_environment(parse_sources(raw, "f"), arns).startswith('{"a":{"provider":"mollie"')


# --- mollie-classic: the door fetches from Mollie's API, so `api_base_url` is its own option ------------


def test_a_mollie_classic_source_carries_its_api_base_url_to_the_validator() -> None:
    [default, stubbed] = parse_sources(
        {"a": {"provider": "mollie-classic"},
         "b": {"provider": "mollie-classic", "api_base_url": "http://127.0.0.1:8799/b"}},
        "f.json",
    )  # fmt: skip
    assert default.options == () and default.reconcile is None
    assert default.environment_entry("arn:a") == {"provider": "mollie-classic", "secret_arn": "arn:a"}
    assert stubbed.environment_entry("arn:b") == {
        "provider": "mollie-classic", "secret_arn": "arn:b", "api_base_url": "http://127.0.0.1:8799/b",
    }  # fmt: skip
    assert SIGNATURE_HEADERS["mollie-classic"] is None  # unsigned: API Gateway requires no header


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"api_base_url": "http://api.mollie.com"},
            "'sources.shop.api_base_url' = 'http://api.mollie.com' must be https://api.mollie.com",
        ),
        ({"api_base_url": 5}, "'sources.shop.api_base_url' = 5 must be https://api.mollie.com"),
        # Any other https host would be sent the Mollie key (the door's fetch): a typo or a hostile config.
        (
            {"api_base_url": "https://api.mollie.co"},
            "'sources.shop.api_base_url' = 'https://api.mollie.co' must be https://api.mollie.com (mollie-classic's "
            "API: it is sent the API key) or a local stub http://localhost|127.0.0.1|host.docker.internal",
        ),
        ({"api_base_url": "https://api.mollie.com.evil.test"}, "must be https://api.mollie.com"),
        ({"api_base_url": "https://api.mollie.com:8443"}, "must be https://api.mollie.com"),
        ({"notification_url": "https://x"}, "'sources.shop.notification_url' is not an option of mollie-classic"),
        ({"reconcile": {"window_days": 91}}, "'sources.shop.reconcile.window_days' = 91 must be an integer 1..90"),
    ],
)
def test_a_bad_mollie_classic_entry_names_its_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceConfigError) as error:
        parse_sources({"shop": {"provider": "mollie-classic", **entry}}, "f.json")
    assert message in str(error.value)


def test_other_providers_still_need_reconcile_for_api_base_url() -> None:
    with pytest.raises(SourceConfigError, match=r"'sources\.shop\.api_base_url' needs 'sources\.shop\.reconcile'"):
        parse_sources({"shop": {"provider": "mollie", "api_base_url": "https://api.mollie.com"}}, "f.json")
