"""Per-source reconciliation and watchdog settings (`sources.<name>.reconcile`, `api_base_url`,
`expect_events_within_minutes`), checked at synth.

    "sources": {"shop": {"provider": "stripe",
                         "reconcile": {"interval_minutes": 60, "window_days": 30},
                         "api_base_url": "https://api.stripe.com",
                         "expect_events_within_minutes": 120}}

`reconcile` turns the reconciler on for the source (handlers/reconciler.py). Keys, all optional:
`interval_minutes` (5..1440, default 60), `window_days` (how far back a run may ever ask; 1..the
provider's window, default the provider's window), `overlap_minutes` (how far before its checkpoint a
run asks again, 1..1440, default 60), `max_requests_per_run` (1..10000, default 200).
Only event-level providers can be reconciled (`RECONCILE_WINDOW_DAYS`); the others are refused naming
those that can. The windows are the providers' documented retention of listable events; a test holds
them equal to the handlers' `reconcile_apis` modules.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _api_hosts_module() -> Any:
    """handlers/api_hosts.py (stdlib only) read from its file, without handlers/ on sys.path."""
    spec = importlib.util.spec_from_file_location(
        "_handlers_api_hosts", Path(__file__).parents[1] / "handlers" / "api_hosts.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# Provider -> how many days back its API lists events (Stripe: "going back up to 30 days"; Square
# SearchEvents: "a 28-day timeframe"; Paddle: 90 days; GoCardless documents no limit: a year here).
RECONCILE_WINDOW_DAYS: Mapping[str, int] = {
    "stripe": 30,
    "paddle": 90,
    "gocardless": 365,
    "square": 28,
    # State-level (objects, not events): Mollie keeps payments for good; 90 days bounds what each run lists.
    "mollie-classic": 90,
}
DEFAULT_API_BASE_URLS: Mapping[str, str] = {
    "stripe": "https://api.stripe.com",
    "paddle": "https://api.paddle.com",
    "gocardless": "https://api.gocardless.com",
    "square": "https://connect.squareup.com",
    "mollie-classic": "https://api.mollie.com",
}
# The provider's own API hosts an `api_base_url` may name, and the local stubs: one table, in the Lambdas'
# code (handlers/api_hosts.py), which their client also enforces at runtime (R2-1).
_API_HOSTS_MODULE = _api_hosts_module()
API_HOSTS: Mapping[str, tuple[str, ...]] = _API_HOSTS_MODULE.API_HOSTS
STATE_LEVEL = ("mollie", "razorpay", "braintree", "checkout", "adyen")
# Providers whose door fetches each posted object from the provider's API (handlers/providers/mollie_classic.py):
# `api_base_url` is their validator option too, with or without `reconcile`.
FETCHING_PROVIDERS = ("mollie-classic",)
CANNOT = ("standard-webhooks",)
DEFAULT_INTERVAL_MINUTES = 60
DEFAULT_OVERLAP_MINUTES = 60
DEFAULT_MAX_REQUESTS = 200
RECONCILE_KEYS = ("interval_minutes", "window_days", "overlap_minutes", "max_requests_per_run", "recent_days")
# State-level providers (handlers/reconcile_apis LEVEL = "state") list their lookback every run; with
# `recent_days` a run lists only the last few days and one run a day the whole lookback
# (handlers/reconciler.py FULL_LISTING_EVERY). Default 3 days: most Mollie methods (cards, iDEAL, Bancontact,
# PayPal, ...) reach their final status "directly after payment", a bank transfer is received "on average
# within 2 business days" (https://help.mollie.com/hc/en-us/articles/115002540294, processing times;
# https://docs.mollie.com/docs/status-change, "When does a payment expire?"); what changes later (a SEPA
# Direct Debit failing up to 5 business days after its date, a late bank transfer, a refund, a chargeback
# reversal) is recovered by the daily full listing, at most a day later. 0: the whole lookback every run.
STATE_LEVEL_RECENT_DAYS: Mapping[str, int] = {"mollie-classic": 3}
SOURCE_KEYS = frozenset({"reconcile", "api_base_url", "expect_events_within_minutes"})


class ReconcileConfigError(ValueError):
    """A bad reconciliation setting; the message names the key."""


@dataclasses.dataclass(frozen=True)
class ReconcileSettings:
    interval_minutes: int
    window_days: int
    overlap_minutes: int
    max_requests_per_run: int
    api_base_url: str
    recent_days: int = 0  # state-level providers only (STATE_LEVEL_RECENT_DAYS)
    # mollie-classic's source option `profile_id` (checked by its SPEC): the profile its lists name (R2-7).
    profile_id: str | None = None

    def environment_entry(self, provider: str, api_secret_arn: str) -> dict[str, Any]:
        """This source's part of the reconciler's `RECONCILE_SOURCES` (handlers/reconciler.py reads it)."""
        return {
            "provider": provider,
            "api_secret_arn": api_secret_arn,
            "api_base_url": self.api_base_url,
            "window_days": self.window_days,
            "overlap_minutes": self.overlap_minutes,
            "max_requests_per_run": self.max_requests_per_run,
            **({"recent_days": self.recent_days} if provider in STATE_LEVEL_RECENT_DAYS else {}),
            **({"profile_id": self.profile_id} if self.profile_id else {}),
        }

    def api_calls_per_month(self) -> int:
        """List calls a month when every run fits one page (30-day month); Square adds nothing after set-up."""
        return (30 * 24 * 60) // self.interval_minutes


def _integer(value: Any, low: int, high: int, key: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ReconcileConfigError(f"{where}: '{key}' = {value!r} must be an integer {low}..{high}")
    return value


def unsupported_message(provider: str) -> str:
    can = ", ".join(RECONCILE_WINDOW_DAYS)
    if provider in STATE_LEVEL:
        return f"{provider} lists objects, not events: state-level reconciliation is not built yet; reconcile works for {can}"
    if provider in CANNOT:
        return f"a {provider} sender has no API to list events from: it cannot be reconciled; reconcile works for {can}"
    return f"{provider} cannot be reconciled; reconcile works for {can}"


def parse_reconcile(
    provider: str, entry: Mapping[str, Any], key: str, where: str
) -> tuple[ReconcileSettings | None, int | None]:
    """The `reconcile` and `expect_events_within_minutes` settings of one source entry (`key` is
    `sources.<name>`). Raises `ReconcileConfigError`."""
    quiet = entry.get("expect_events_within_minutes")
    if quiet is not None:
        quiet = _integer(quiet, 5, 1440, f"{key}.expect_events_within_minutes", where)
    raw = entry.get("reconcile")
    if raw is None:
        if "api_base_url" in entry and provider not in FETCHING_PROVIDERS:
            raise ReconcileConfigError(f"{where}: '{key}.api_base_url' needs '{key}.reconcile'")
        return None, quiet
    if provider not in RECONCILE_WINDOW_DAYS:
        raise ReconcileConfigError(f"{where}: '{key}.reconcile': {unsupported_message(provider)}")
    if not isinstance(raw, dict):
        raise ReconcileConfigError(f"{where}: '{key}.reconcile' must be an object (may be empty: {{}})")
    unknown = sorted(set(raw) - set(RECONCILE_KEYS))
    if "api_base_url" in unknown:
        raise ReconcileConfigError(
            f"{where}: '{key}.reconcile.api_base_url': api_base_url is an option of the source, not of reconcile: "
            f"move it next to 'reconcile', as '{key}.api_base_url'"
        )
    if unknown:
        raise ReconcileConfigError(
            f"{where}: '{key}.reconcile.{unknown[0]}' is not a reconcile option; options: {', '.join(RECONCILE_KEYS)}"
        )
    window_max = RECONCILE_WINDOW_DAYS[provider]
    interval = _integer(
        raw.get("interval_minutes", DEFAULT_INTERVAL_MINUTES), 5, 1440, f"{key}.reconcile.interval_minutes", where
    )
    window = _integer(raw.get("window_days", window_max), 1, window_max, f"{key}.reconcile.window_days", where)
    overlap = _integer(
        raw.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES), 1, 1440, f"{key}.reconcile.overlap_minutes", where
    )
    budget = _integer(raw.get("max_requests_per_run", DEFAULT_MAX_REQUESTS), 1, 10000, f"{key}.reconcile.max_requests_per_run", where)  # fmt: skip
    if interval * 4 > window * 1440:
        raise ReconcileConfigError(
            f"{where}: '{key}.reconcile.interval_minutes' = {interval} must be well inside the window "
            f"({window} days): at most a quarter of it"
        )
    if "recent_days" in raw and provider not in STATE_LEVEL_RECENT_DAYS:
        raise ReconcileConfigError(
            f"{where}: '{key}.reconcile.recent_days' is for state-level providers "
            f"({', '.join(STATE_LEVEL_RECENT_DAYS)}); {provider} lists from its checkpoint"
        )
    default_recent = min(STATE_LEVEL_RECENT_DAYS.get(provider, 0), window)
    recent = _integer(raw.get("recent_days", default_recent), 0, window, f"{key}.reconcile.recent_days", where)
    base_url = entry.get("api_base_url", DEFAULT_API_BASE_URLS[provider])
    problem = api_base_url_problem(base_url, provider)
    if problem:
        raise ReconcileConfigError(f"{where}: '{key}.api_base_url' = {base_url!r} {problem}")
    profile = entry.get("profile_id") if isinstance(entry.get("profile_id"), str) else None
    return ReconcileSettings(interval, window, overlap, budget, base_url.rstrip("/"), recent, profile), quiet


def api_base_url_problem(value: Any, provider: str) -> str | None:
    """None for `provider`'s own API (`https://<one of API_HOSTS[provider]>`, an optional trailing `/`) or
    a local stub (plain http on localhost, 127.0.0.1 or host.docker.internal), else what is wrong, naming
    the allowed values. The URL receives the provider's API key: no other host is accepted. The rule is
    handlers/api_hosts.py `base_url_problem`, the one `ApiClient` applies at runtime."""
    problem: str | None = _API_HOSTS_MODULE.base_url_problem(value, provider)
    return problem


def check_reconcile(name: str, settings: ReconcileSettings, *, event_ttl_days: int, where: str) -> None:
    """Runs must come well inside the event TTL: the seen-set learns a delivered event only while its
    item still exists, so a run interval near the TTL could re-inject an expired event as new."""
    if settings.interval_minutes * 4 > event_ttl_days * 1440:
        raise ReconcileConfigError(
            f"{where}: 'sources.{name}.reconcile.interval_minutes' must be at most a quarter of event_ttl_days"
        )
