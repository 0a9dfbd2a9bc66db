"""The `sources` setting: which payment providers post to `POST /webhook/<name>`, and how.

    "sources": {"<name>": {"provider": "<id>", ...options}}

`<name>` matches `^[a-z0-9-]{1,32}$`; `provider` is one of handlers/providers `REGISTRY`. Common options:
`type_map` (`{"<provider event type>": "payment|refund|dispute|other"}`, overriding the provider's
default mapping; a value may also be an object `{"transaction_type": "<type>", "outcome": "<outcome>"}`
with either member, `outcome` one of handlers/money_facts.py `OUTCOMES`: the outcome policy for that
kind, README "The money contract") and `route_unmapped` (default true; false stores unmapped events without routing
them). Provider options are each provider's own; anything else stops the synth naming the file
and key. Each provider's options, their checks, required options, signature header and retry horizon
are declared once, in its module's `SPEC` (handlers/providers/spec.py); the tables below are views of it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modules.reconcile_config import (
    SOURCE_KEYS as RECONCILE_SOURCE_KEYS,
)
from modules.reconcile_config import (
    ReconcileConfigError,
    ReconcileSettings,
    api_base_url_problem,
    check_reconcile,
    parse_reconcile,
)

NAME_PATTERN = re.compile(r"^[a-z0-9-]{1,32}$")
# A source name is the namespace of its event ids (`<name>:<provider id>`): never `:` (NAME_PATTERN), and
# never the standard source's own label.
RESERVED_NAMES = frozenset({"standard"})
_EVENT_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9_.:*-]{1,128}$")
TRANSACTION_TYPES = ("payment", "refund", "dispute", "other")


def _handler_module(name: str) -> Any:
    """A module of handlers/ (the Lambda's zip root) read from its file, without handlers/ on sys.path."""
    spec = importlib.util.spec_from_file_location(
        f"_handlers_{name}", Path(__file__).parents[1] / "handlers" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


OUTCOMES: tuple[str, ...] = _handler_module("money_facts").OUTCOMES
# Lambda's limit for all environment variables of a function together (Lambda quotas page: 4 KB).
MAX_ENVIRONMENT_BYTES = 4096
# A secret ARN is at most this long: arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>.
_SECRET_ARN_ALLOWANCE = 140


def _provider_specs() -> Mapping[str, Any]:
    """Provider id -> its module's `SPEC` (handlers/providers/spec.py), for every id of `providers.REGISTRY`.

    The provider modules are imported the way Lambda imports them (handlers/ on `sys.path`, only for the
    import), so the synth reads the very declarations the validator runs with.
    """
    handlers = str(Path(__file__).parents[1] / "handlers")
    added = handlers not in sys.path
    if added:
        sys.path.insert(0, handlers)
    try:
        providers = importlib.import_module("providers")
        return {provider_id: providers.load(provider_id).SPEC for provider_id in providers.REGISTRY}
    finally:
        if added:
            sys.path.remove(handlers)


PROVIDER_SPECS: Mapping[str, Any] = _provider_specs()
# Views of the specs, by provider id, for the stacks and the checks below (each declared in the
# provider's module; docs/providers/README.md).
# How long each provider retries a delivery it did not see acknowledged, when stored ids must outlive it.
RETRY_HORIZON_DAYS: Mapping[str, int] = {
    provider_id: spec.retry_horizon_days
    for provider_id, spec in PROVIDER_SPECS.items()
    if spec.retry_horizon_days is not None
}
# The header each provider signs with, required on its route by API Gateway (None: in the body, or
# either of two header names).
SIGNATURE_HEADERS: Mapping[str, str | None] = {
    provider_id: spec.signature_header for provider_id, spec in PROVIDER_SPECS.items()
}
# Providers that sign inside the body: WAF counts their routes as signed (modules/waf.py).
BODY_SIGNED_PROVIDERS = frozenset(provider_id for provider_id, spec in PROVIDER_SPECS.items() if spec.signed_in_body)
# Provider id -> {option: check}. A check returns None when the value is good, else what is wrong.
# A provider whose door fetches from its API (`fetches_at_door`) also takes that API's `api_base_url`.
PROVIDER_OPTIONS: Mapping[str, Mapping[str, Callable[[Any], str | None]]] = {
    provider_id: {
        **spec.options,
        **(
            {"api_base_url": functools.partial(api_base_url_problem, provider=provider_id)}
            if spec.fetches_at_door
            else {}
        ),
    }
    for provider_id, spec in PROVIDER_SPECS.items()
}
# Providers whose door fetches each posted object from the provider's API (mollie-classic): their sources
# get the fetch-credential alarm (modules/alarms.py).
FETCHING_PROVIDERS = frozenset(provider_id for provider_id, spec in PROVIDER_SPECS.items() if spec.fetches_at_door)
REQUIRED_OPTIONS: Mapping[str, tuple[str, ...]] = {
    provider_id: spec.required_options for provider_id, spec in PROVIDER_SPECS.items() if spec.required_options
}


class SourceConfigError(ValueError):
    """A bad `sources` entry; the message names the key (`sources.<name>.<option>`)."""


@dataclasses.dataclass(frozen=True)
class SourceSettings:
    """One source. `options` holds the provider's own options, in sorted order (deterministic synth)."""

    name: str
    provider: str
    options: tuple[tuple[str, Any], ...] = ()
    # kind -> transaction type, or kind -> sorted (member, value) pairs of an object entry
    type_map: tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...] = ()
    route_unmapped: bool = True
    # Reconciliation and the quiet-source watchdog (modules/reconcile_config.py); not in `SOURCES`.
    reconcile: ReconcileSettings | None = None
    expect_events_within_minutes: int | None = None

    @property
    def enrich(self) -> bool:
        """Amounts are fetched from the provider's API (`"enrich": true`; needs `reconcile`)."""
        return dict(self.options).get("enrich") is True

    def environment_entry(self, secret_arn: str, api_secret: str | None = None) -> dict[str, Any]:
        """This source's entry of the validator's `SOURCES` variable (handlers/sources.py reads it).
        `api_secret`: the name of the source's API secret, for a source that enriches."""
        options = {key: value for key, value in self.options if key != "enrich"}
        entry: dict[str, Any] = {"provider": self.provider, "secret_arn": secret_arn, **options}
        if self.enrich:
            # What the door needs to fetch amounts (handlers/enrichment.py): absent unless asked for, so
            # every other source's entry is the bytes it always was.
            assert self.reconcile is not None and api_secret is not None  # parse_sources and the stack see to it
            entry["enrich"] = {"api_secret": api_secret, "api_base_url": self.reconcile.api_base_url}
        if self.type_map:
            entry["type_map"] = {
                kind: value if isinstance(value, str) else dict(value) for kind, value in self.type_map
            }
        if not self.route_unmapped:
            entry["route_unmapped"] = False
        return entry


def parse_sources(raw: Any, where: str) -> tuple[SourceSettings, ...]:
    """Check the `sources` object of a config file (`where` names it). Raises `SourceConfigError`."""
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where}: 'sources' must be an object of name -> {{\"provider\": ...}}")
    parsed = []
    for name in sorted(raw):
        entry = raw[name]
        key = f"sources.{name}"
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise SourceConfigError(f"{where}: '{key}': a source name is 1-32 lowercase letters, digits and '-'")
        if name in RESERVED_NAMES:
            # `standard` is the `source` of POST /webhook's events (items, message attributes): a source of
            # that name would share its label and its ids' owner (README, "Event identity").
            raise SourceConfigError(f"{where}: '{key}': the name {name!r} is reserved for POST /webhook")
        if not isinstance(entry, dict):
            raise SourceConfigError(f"{where}: '{key}' must be an object with a 'provider'")
        provider = entry.get("provider")
        if provider not in PROVIDER_OPTIONS:
            raise SourceConfigError(
                f"{where}: '{key}.provider' = {provider!r} is not a provider; use one of {', '.join(PROVIDER_OPTIONS)}"
            )
        checks = PROVIDER_OPTIONS[provider]
        options = []
        for option, value in sorted(entry.items()):
            if option in ("provider", "type_map", "route_unmapped") or (
                option in RECONCILE_SOURCE_KEYS and option not in checks
            ):
                continue
            if option not in checks:
                known = ", ".join([*checks, "type_map", "route_unmapped", *sorted(RECONCILE_SOURCE_KEYS)])
                raise SourceConfigError(f"{where}: '{key}.{option}' is not an option of {provider}; options: {known}")
            problem = checks[option](value)
            if problem:
                raise SourceConfigError(f"{where}: '{key}.{option}' = {value!r} {problem}")
            options.append((option, value))
        for option in REQUIRED_OPTIONS.get(provider, ()):
            if option not in entry:
                raise SourceConfigError(f"{where}: '{key}.{option}' is required for {provider}")
        try:
            reconcile, quiet = parse_reconcile(provider, entry, key, where)
        except ReconcileConfigError as error:
            raise SourceConfigError(str(error)) from None
        if entry.get("enrich") is True and reconcile is None:
            # The API key's secret is created with `reconcile` (`api_base_url` is the source's own option);
            # and the reconciler is what recovers a money fact whose fetch kept failing past GoCardless's 8 retries.
            raise SourceConfigError(
                f"{where}: '{key}.enrich' needs '{key}.reconcile': the enrichment fetches with the read-only API "
                f'key secret that reconcile creates; add "reconcile": {{}} to {key}'
            )
        route_unmapped = entry.get("route_unmapped", True)
        if not isinstance(route_unmapped, bool):
            raise SourceConfigError(f"{where}: '{key}.route_unmapped' must be true or false")
        parsed.append(
            SourceSettings(
                name=name,
                provider=provider,
                options=tuple(options),
                type_map=_type_map(entry.get("type_map", {}), f"{where}: '{key}.type_map'"),
                route_unmapped=route_unmapped,
                reconcile=reconcile,
                expect_events_within_minutes=quiet,
            )
        )
    return tuple(parsed)


def _type_map(raw: Any, where: str) -> tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...]:
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where} must be an object of provider event type -> transaction type")
    entries: list[tuple[str, str | tuple[tuple[str, str], ...]]] = []
    for event_type, value in sorted(raw.items()):
        if not _EVENT_TYPE_PATTERN.fullmatch(event_type):
            raise SourceConfigError(f"{where}: {event_type!r} is not a provider event type")
        if isinstance(value, dict):
            entries.append((event_type, _type_map_object(value, f"{where}: {event_type!r}")))
            continue
        if value not in TRANSACTION_TYPES:
            raise SourceConfigError(f"{where}: {event_type!r} -> {value!r}; use one of {TRANSACTION_TYPES}")
        entries.append((event_type, value))
    return tuple(entries)


def _type_map_object(value: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """`{"transaction_type": ..., "outcome": ...}` (either member, nothing else), checked."""
    unknown = sorted(set(value) - {"transaction_type", "outcome"})
    if unknown or not value:
        raise SourceConfigError(f"{where} must be an object with 'transaction_type' and/or 'outcome'; not {unknown}")
    if "transaction_type" in value and value["transaction_type"] not in TRANSACTION_TYPES:
        raise SourceConfigError(
            f"{where}: transaction_type {value['transaction_type']!r}; use one of {TRANSACTION_TYPES}"
        )
    if "outcome" in value and value["outcome"] not in OUTCOMES:
        raise SourceConfigError(f"{where}: outcome {value['outcome']!r}; use one of {OUTCOMES}")
    return tuple(sorted(value.items()))


def check_sources(sources: tuple[SourceSettings, ...], *, event_ttl_days: int, where: str) -> None:
    """Cross-setting checks: stored ids outlive every provider's retries; `SOURCES` fits Lambda's 4 KB."""
    for source in sources:
        horizon = RETRY_HORIZON_DAYS.get(source.provider)
        if horizon is not None and event_ttl_days <= horizon:
            raise SourceConfigError(
                f"{where}: 'event_ttl_days' = {event_ttl_days} must exceed {horizon}: source '{source.name}' "
                f"({source.provider}) retries for up to {horizon} days, and a retry after the stored id expired "
                "would be stored as a new event"
            )
        if source.reconcile is not None:
            try:
                check_reconcile(source.name, source.reconcile, event_ttl_days=event_ttl_days, where=where)
            except ReconcileConfigError as error:
                raise SourceConfigError(str(error)) from None
    estimate = sources_environment(
        sources, {s.name: "x" * _SECRET_ARN_ALLOWANCE for s in sources}, {s.name: "x" * 64 for s in sources}
    )
    if len(estimate.encode()) > MAX_ENVIRONMENT_BYTES - 1024:  # room for the other variables
        raise SourceConfigError(
            f"{where}: 'sources' is too large for the validator's environment (Lambda allows 4 KB in all): "
            "shorten type_map entries or split sources across environments"
        )


def sources_environment(
    sources: tuple[SourceSettings, ...], secret_arns: Mapping[str, str], api_secrets: Mapping[str, str] | None = None
) -> str:
    """The `SOURCES` variable: compact JSON, sorted keys, so the same settings synthesize the same bytes.
    `api_secrets`: source name -> API secret name, read for the sources that enrich."""
    entries = {
        source.name: source.environment_entry(secret_arns[source.name], (api_secrets or {}).get(source.name))
        for source in sources
    }
    return json.dumps(entries, sort_keys=True, separators=(",", ":"))
