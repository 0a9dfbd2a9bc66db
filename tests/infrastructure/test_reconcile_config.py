"""`sources.<name>.reconcile`, `api_base_url`, `expect_events_within_minutes`: checked at synth, held to the handlers."""

from __future__ import annotations

import importlib
import sys

import pytest

from modules import reconcile_config
from modules.reconcile_config import CANNOT, DEFAULT_API_BASE_URLS, RECONCILE_WINDOW_DAYS, STATE_LEVEL
from modules.sources_config import SourceConfigError, check_sources, parse_sources
from tests.handlers.helpers import HANDLERS_DIR

if str(HANDLERS_DIR) not in sys.path:
    sys.path.insert(0, str(HANDLERS_DIR))


def parse(entry: dict) -> object:
    (source,) = parse_sources({"shop": entry}, "test.json")
    return source


def test_defaults_are_the_providers_windows_and_production_hosts() -> None:
    source = parse({"provider": "paddle", "reconcile": {}})
    assert source.reconcile.window_days == 90 and source.reconcile.interval_minutes == 60
    assert source.reconcile.api_base_url == "https://api.paddle.com"
    assert source.expect_events_within_minutes is None
    assert "reconcile" not in source.environment_entry("arn")  # never in the validator's SOURCES


def test_synth_facts_match_the_handlers_listing_modules() -> None:
    reconcile_apis = importlib.import_module("reconcile_apis")
    assert set(reconcile_apis.REGISTRY) == set(RECONCILE_WINDOW_DAYS)
    assert tuple(reconcile_apis.STATE_LEVEL) == STATE_LEVEL and tuple(reconcile_apis.CANNOT) == CANNOT
    for provider, window in RECONCILE_WINDOW_DAYS.items():
        module = reconcile_apis.load(provider)
        assert window == module.MAX_WINDOW_DAYS and DEFAULT_API_BASE_URLS[provider] == module.DEFAULT_API_BASE_URL


@pytest.mark.parametrize("provider", STATE_LEVEL)
def test_state_level_providers_are_not_yet(provider: str) -> None:
    entry = {"provider": provider, "reconcile": {}}
    if provider == "braintree":
        entry["public_key"] = "k"
    with pytest.raises(
        SourceConfigError, match=r"not built yet; reconcile works for stripe, paddle, gocardless, square"
    ):
        parse(entry)


def test_a_standard_webhooks_sender_cannot_be_reconciled() -> None:
    with pytest.raises(
        SourceConfigError, match=r"no API to list events from: it cannot be reconciled; reconcile works"
    ):
        parse({"provider": "standard-webhooks", "reconcile": {}})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"provider": "stripe", "reconcile": {"window_days": 31}},
            r"reconcile.window_days' = 31 must be an integer 1..30",
        ),
        ({"provider": "square", "reconcile": {"interval_minutes": 4}}, r"interval_minutes' = 4"),
        ({"provider": "stripe", "reconcile": {"window_days": 1, "interval_minutes": 600}}, r"well inside the window"),
        (
            {"provider": "stripe", "reconcile": {"every": 5}},
            r"'sources.shop.reconcile.every' is not a reconcile option",
        ),
        (
            {"provider": "stripe", "reconcile": {}, "api_base_url": "http://api.stripe.com"},
            r"must be https://api\.stripe\.com",
        ),
        # Another host would be sent the provider's API key (typo, hostile config): only its own hosts.
        (
            {"provider": "stripe", "reconcile": {}, "api_base_url": "https://api.stripe.co"},
            r"must be https://api\.stripe\.com \(stripe's API",
        ),
        (
            {"provider": "paddle", "reconcile": {}, "api_base_url": "https://example.com"},
            r"must be https://api\.paddle\.com or https://sandbox-api\.paddle\.com .* or a local stub http://localhost",
        ),
        (
            {"provider": "square", "reconcile": {}, "api_base_url": "https://connect.squareup.com/../x"},
            r"must be https://connect",
        ),
        ({"provider": "stripe", "api_base_url": "https://api.stripe.com"}, r"needs 'sources.shop.reconcile'"),
        ({"provider": "stripe", "reconcile": []}, r"must be an object"),
        (
            {"provider": "stripe", "reconcile": {"api_base_url": "https://api.stripe.com"}},
            r"'sources.shop.reconcile.api_base_url': api_base_url is an option of the source, not of reconcile: "
            r"move it next to 'reconcile', as 'sources.shop.api_base_url'",
        ),
        ({"provider": "stripe", "expect_events_within_minutes": 0}, r"expect_events_within_minutes' = 0"),
        ({"provider": "stripe", "expect_events_within_minutes": True}, r"expect_events_within_minutes' = True"),
    ],
)
def test_bad_settings_name_the_key(entry: dict, message: str) -> None:
    with pytest.raises(SourceConfigError, match=message):
        parse(entry)


@pytest.mark.parametrize(
    ("provider", "url"),
    [("stripe", "https://api.stripe.com"), ("paddle", "https://sandbox-api.paddle.com/"),
     ("gocardless", "https://api-sandbox.gocardless.com"), ("square", "https://connect.squareupsandbox.com"),
     ("mollie-classic", "https://api.mollie.com")],
)  # fmt: skip
def test_the_providers_own_hosts_are_accepted(provider: str, url: str) -> None:
    assert parse({"provider": provider, "reconcile": {}, "api_base_url": url}).reconcile.api_base_url == url.rstrip("/")


def test_local_stub_urls_are_accepted_for_tests_and_the_sandbox() -> None:
    source = parse({"provider": "stripe", "reconcile": {}, "api_base_url": "http://127.0.0.1:8781/"})
    assert source.reconcile.api_base_url == "http://127.0.0.1:8781"


def test_runs_must_come_well_inside_the_event_ttl() -> None:
    sources = parse_sources({"shop": {"provider": "gocardless", "reconcile": {"interval_minutes": 1440}}}, "t")
    with pytest.raises(SourceConfigError, match=r"a quarter of event_ttl_days"):
        check_sources(sources, event_ttl_days=3, where="t")
    check_sources(sources, event_ttl_days=30, where="t")


def test_api_calls_per_month_at_the_default_interval() -> None:
    assert parse({"provider": "stripe", "reconcile": {}}).reconcile.api_calls_per_month() == 720


def test_recent_days_is_a_state_level_option_with_a_default_of_three_days() -> None:
    """mollie-classic lists only its last `recent_days` (default 3) on most runs, the whole lookback once a
    day (handlers/reconciler.py); the handler reads it from the environment entry."""
    source = parse({"provider": "mollie-classic", "reconcile": {}})
    assert source.reconcile.recent_days == 3
    assert source.reconcile.environment_entry("mollie-classic", "arn:s")["recent_days"] == 3
    assert parse({"provider": "mollie-classic", "reconcile": {"recent_days": 0}}).reconcile.recent_days == 0
    assert parse({"provider": "mollie-classic", "reconcile": {"window_days": 2}}).reconcile.recent_days == 2
    with pytest.raises(SourceConfigError, match=r"'sources.shop.reconcile.recent_days' = 91 must be an integer 0..90"):
        parse({"provider": "mollie-classic", "reconcile": {"recent_days": 91}})
    with pytest.raises(SourceConfigError, match=r"'sources.shop.reconcile.recent_days' is for state-level providers"):
        parse({"provider": "stripe", "reconcile": {"recent_days": 3}})
    assert "recent_days" not in parse({"provider": "stripe", "reconcile": {}}).reconcile.environment_entry(
        "stripe", "a"
    )


def test_the_synth_and_the_lambdas_client_apply_one_host_rule() -> None:
    """R2-1: `API_HOSTS` is handlers/api_hosts.py's table (not a copy), every provider with a default API
    has its hosts there, and the synth's `api_base_url_problem` agrees with the runtime check."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("api_hosts_under_test", HANDLERS_DIR / "api_hosts.py")
    handlers_hosts = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(handlers_hosts)  # type: ignore[union-attr]
    assert dict(reconcile_config.API_HOSTS) == dict(handlers_hosts.API_HOSTS)
    assert set(reconcile_config.DEFAULT_API_BASE_URLS) == set(reconcile_config.API_HOSTS)
    for provider, url in reconcile_config.DEFAULT_API_BASE_URLS.items():
        for value in (url, url + "/", url + ":443", url + ".evil.example", url.replace("://", "://x@"), "http://x.y"):
            assert reconcile_config.api_base_url_problem(value, provider) == handlers_hosts.base_url_problem(
                value, provider
            )
        assert reconcile_config.api_base_url_problem(url, provider) is None
        assert reconcile_config.api_base_url_problem(url + ".evil.example", provider) is not None


def test_profile_id_is_a_mollie_classic_option_that_reaches_the_validator_and_the_reconciler() -> None:
    """R2-7: `profile_id` (`pfl_...`) is checked by mollie-classic's SPEC, goes to the validator's
    `SOURCES` (the door drops another profile's payment) and the reconciler's `RECONCILE_SOURCES` (its
    lists name the profile); absent, neither entry changes (the synth stays byte-identical)."""
    source = parse({"provider": "mollie-classic", "profile_id": "pfl_QkEhN94Ba", "reconcile": {}})
    assert dict(source.options)["profile_id"] == "pfl_QkEhN94Ba"
    assert source.reconcile.environment_entry("mollie-classic", "arn:s")["profile_id"] == "pfl_QkEhN94Ba"
    plain = parse({"provider": "mollie-classic", "reconcile": {}})
    assert "profile_id" not in plain.reconcile.environment_entry("mollie-classic", "arn:s")
    assert "profile_id" not in dict(plain.options)
    with pytest.raises(SourceConfigError, match=r"'sources.shop.profile_id' = 'shop' must be a Mollie profile id"):
        parse({"provider": "mollie-classic", "profile_id": "shop"})
    with pytest.raises(SourceConfigError, match=r"'sources.shop.profile_id' is not an option of stripe"):
        parse({"provider": "stripe", "profile_id": "pfl_QkEhN94Ba", "reconcile": {}})
