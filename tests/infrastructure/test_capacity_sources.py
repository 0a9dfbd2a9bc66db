"""The capacity model per source route (modules/capacity.py `SourceRoute`) against the synthesized WAF.

A mollie-classic source posts unsigned form bodies (`id=tr_...`, no signature header: the door
authenticates by fetching the payment from Mollie), so under the WAF its deliveries meet the per-IP
*unsigned* rate rule, not the signed one. The fixture environment `mollieclassicwaf` (prod's WAF and
validator concurrency, plus a mollie-classic, a Stripe and an Adyen source) is synthesized, and Mollie's
deliveries from `provider_sending_ips` IPs are replayed through its web ACL: the route takes exactly
what the model reports for it, and not the contract's burst the environment's stages take.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import modules.capacity
from modules.capacity import (
    declared_fetch_api,
    door_fetch_seconds,
    plan_capacity,
    route_signing,
    unsigned_limit_for_contract,
)
from modules.config import load_settings
from modules.reconcile_config import ReconcileSettings
from modules.sources_config import BODY_SIGNED_PROVIDERS, PROVIDER_SPECS, SIGNATURE_HEADERS, SourceSettings
from modules.waf import signed_statement
from tests.conftest import fixture_config_dir
from tests.infrastructure.synth import SynthesizedApp, synthesize
from tests.infrastructure.test_capacity import Request, WebAcl, matches, resources, run

ENV = "mollieclassicwaf"
STACK = f"webhook-pipeline-{ENV}"
UNSIGNED_RULE = "WAF rate rule (unsigned requests, per IP)"
FETCH_STAGE = "validators held by door fetches"


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_config_dir(ENV, tmp_path_factory.mktemp("config-mollieclassicwaf"))


@pytest.fixture(scope="module")
def settings(config_dir: Path) -> Any:
    return load_settings(ENV, config_dir)


@pytest.fixture(scope="module")
def app(config_dir: Path, tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize(ENV, tmp_path_factory.mktemp("synth-mollieclassicwaf"), build_dir, config_dir=config_dir)


@pytest.fixture(scope="module")
def acl(app: SynthesizedApp) -> dict[str, Any]:
    [web_acl] = resources(app.config(STACK), "aws_wafv2_web_acl")
    return web_acl


def mollie_deliveries(ips: int) -> list[Request]:
    """Mollie's classic webhook as it arrives: a form post, no signature header at all
    (https://docs.mollie.com/overview/webhooks)."""
    headers = {"content-type": "application/x-www-form-urlencoded", "user-agent": "Mollie HTTP client/1.0"}
    return [Request(f"198.51.100.{n}", "/v1/webhook/shop", headers) for n in range(ips)]


def with_unsigned_limit(acl: dict[str, Any], limit: int) -> dict[str, Any]:
    """The synthesized web ACL with `waf_rate_limit_per_5min` set to `limit` (what the synth writes)."""
    changed = copy.deepcopy(acl)
    [rule] = [rule for rule in changed["rule"] if rule["name"] == "rate-limit-unsigned-per-ip"]
    rule["statement"]["rate_based_statement"]["limit"] = limit
    return changed


# --- the model: routes derived from the provider SPECs ----------------------------------------------


@pytest.mark.parametrize("provider_id", sorted(PROVIDER_SPECS))
def test_each_routes_signing_is_what_the_waf_labels(provider_id: str) -> None:
    """The model's classification agrees with the WAF the stack builds (modules/pipeline_stack.py): a
    delivery to a signed route (its header, or a body-signed path) is labelled signed; to an
    unsigned-fetching route it is not, and that provider's fetch API is modelled."""
    headers = sorted({"webhook-signature", "svix-signature"} | {h for h in SIGNATURE_HEADERS.values() if h})
    statement = signed_statement(headers, [f"/webhook/{p}" for p in sorted(BODY_SIGNED_PROVIDERS)])
    header = SIGNATURE_HEADERS[provider_id] or ("webhook-signature" if provider_id == "standard-webhooks" else None)
    request = Request("192.0.2.1", f"/v1/webhook/{provider_id}", {header: "sig"} if header else {})
    signing = route_signing(provider_id)
    assert matches(statement, request, set()) == (signing != "unsigned-fetching"), signing
    assert (signing == "signed-in-body") == PROVIDER_SPECS[provider_id].signed_in_body
    if signing == "unsigned-fetching":
        assert declared_fetch_api(provider_id) is not None
    assert route_signing("mollie-classic") == "unsigned-fetching"


def test_a_new_fetching_provider_is_classified_from_its_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    """No literal list: any provider whose SPEC fetches at the door is unsigned-fetching."""
    fetching = dataclasses.replace(
        PROVIDER_SPECS["stripe"],
        signature_header=None,
        fetches_at_door=True,
        fetch_api=PROVIDER_SPECS["mollie-classic"].fetch_api,
    )
    monkeypatch.setattr(modules.capacity, "PROVIDER_SPECS", {**PROVIDER_SPECS, "newpay": fetching})
    assert route_signing("newpay") == "unsigned-fetching"
    assert route_signing("stripe") == "signed-by-header"


def test_a_mollie_classic_route_under_the_waf_reports_its_own_binding_limit(settings: Any) -> None:
    plan = plan_capacity(settings)  # not refused: the contract is every route's together (warning below)
    routes = {route.source: route for route in plan.source_routes}
    shop = routes["shop"]
    assert (shop.provider, shop.signing) == ("mollie-classic", "unsigned-fetching")
    assert shop.binding is not None and shop.binding.name == UNSIGNED_RULE
    ips = settings.provider_sending_ips
    assert shop.binding.sustained_events_per_second == settings.waf_rate_limit_per_5min * ips / 300 == 20
    assert shop.binding.burst_events_per_second == settings.waf_rate_limit_per_5min * ips / 60 == 100
    assert "403" in shop.binding.beyond
    assert shop.fetch_api is not None and "429" in shop.fetch_api.beyond and "503" in shop.fetch_api.beyond
    assert shop.fetch_api.source == "https://docs.mollie.com/reference/rate-limiting"
    # below the contract: warned, naming the limit, the figure that carries the contract, and the fix
    assert shop.warning is not None and plan.warnings == (shop.warning,)
    # the contract's worst 300 s from one IP, (1,000/s x 60 s + 100/s x 240 s) / 3 IPs, with the signed
    # limit's 1.5 headroom: the sized signed limit
    assert unsigned_limit_for_contract(settings) == 28_000 * 1.5 == plan.waf_signed_limit_per_5min
    for words in ("'shop'", "waf_rate_limit_per_5min", "42,000", "lower the contract", "403"):
        assert words in shop.warning, words
    # the signed routes meet the environment's stages, which are prod's: model and reporting only
    assert routes["stripe"].signing == "signed-by-header" and routes["stripe"].stages == ()
    assert routes["adyen"].signing == "signed-in-body" and routes["adyen"].binding is None
    assert plan.stages == plan_capacity(load_settings("prod")).stages


def test_the_unsigned_limit_the_warning_names_carries_the_contract(settings: Any) -> None:
    # With validators enough for the door's fetches (1,000/s x 0.35 s = 350), the WAF is the only limit left.
    enough = dataclasses.replace(settings, validator_reserved_concurrency=350)
    raised = dataclasses.replace(enough, waf_rate_limit_per_5min=unsigned_limit_for_contract(settings))
    [shop] = [route for route in plan_capacity(raised).source_routes if route.source == "shop"]
    assert shop.warning is None and plan_capacity(raised).warnings == ()
    waf = shop.stages[0]
    assert waf.name == UNSIGNED_RULE and waf.sustained_events_per_second == 420
    below = dataclasses.replace(enough, waf_rate_limit_per_5min=unsigned_limit_for_contract(settings) - 1)
    assert plan_capacity(below).warnings


def test_without_the_waf_the_route_has_no_waf_stage_but_still_costs_a_fetch(settings: Any) -> None:
    plan = plan_capacity(dataclasses.replace(settings, waf_enabled=False, validator_reserved_concurrency=350))
    [shop] = [route for route in plan.source_routes if route.source == "shop"]
    assert [stage.name for stage in shop.stages] == [FETCH_STAGE] and shop.warning is None
    assert shop.fetch_api == declared_fetch_api("mollie-classic")


# --- validators held by the door's fetches --------------------------------------------------------------------


def test_a_fetching_doors_validators_are_its_own_stage_and_warned_below_the_contract(settings: Any) -> None:
    """Each mollie-classic delivery holds a validator for its own 0.1 s and a 0.25 s fetch: prod's 200
    validators take 571/s of it, under the contract's 1,000/s burst: warned, naming the setting that fixes it
    and the worst case (the 8 s fetch budget: 25/s hold every validator, and every route gets 500)."""
    plan = plan_capacity(dataclasses.replace(settings, waf_rate_limit_per_5min=unsigned_limit_for_contract(settings)))
    [shop] = [route for route in plan.source_routes if route.source == "shop"]
    fetches = shop.stages[-1]
    assert fetches.name == FETCH_STAGE and "500" in fetches.beyond and "every route" in fetches.beyond
    assert fetches.burst_events_per_second == pytest.approx(200 / (0.1 + 0.25))
    assert shop.binding == fetches and shop.warning is not None and shop.note is None
    for words in ("'shop'", "8 s", "571 deliveries/s", "25 deliveries/s", "all 200 validators",
                  "validator_reserved_concurrency"):  # fmt: skip
        assert words in shop.warning, words
    # Signed routes make no call from the door: no such stage, and the environment's stages are theirs.
    assert all(route.stages == () for route in plan.source_routes if route.source != "shop")


def test_enough_validators_for_typical_fetches_still_note_the_slow_api(settings: Any) -> None:
    """350 validators carry the contract at 0.25 s per fetch (no warning), but not an API answering at its
    slowest (350 / 8.1 s = 43/s): a note, which does not count as missing the contract."""
    enough = dataclasses.replace(
        settings, validator_reserved_concurrency=350, waf_rate_limit_per_5min=unsigned_limit_for_contract(settings)
    )
    plan = plan_capacity(enough)
    [shop] = [route for route in plan.source_routes if route.source == "shop"]
    assert shop.warning is None and plan.warnings == ()
    assert shop.note is not None and plan.notes == (shop.note,) and "43 deliveries/s" in shop.note
    # Validators enough even for the 8 s budget: nothing to note.
    huge = dataclasses.replace(enough, validator_reserved_concurrency=8_200, lambda_account_concurrency=20_000)
    assert plan_capacity(huge).notes == ()


def test_an_enriching_source_holds_validators_up_to_the_function_timeout(settings: Any) -> None:
    """A GoCardless source with `enrich: true` fetches amounts at the door until the function's deadline."""
    enriching = SourceSettings(
        "gc",
        "gocardless",
        options=(("enrich", True),),
        reconcile=ReconcileSettings(15, 7, 10, 200, "https://api.gocardless.com"),
    )
    plan = plan_capacity(dataclasses.replace(settings, sources=(*settings.sources, enriching)))
    [gc] = [route for route in plan.source_routes if route.source == "gc"]
    assert [stage.name for stage in gc.stages] == [FETCH_STAGE] and gc.signing == "signed-by-header"
    assert f"{settings.validator_timeout_seconds} s at most" in (gc.warning or "")
    assert door_fetch_seconds(enriching, settings) == settings.validator_timeout_seconds
    stripe = next(source for source in settings.sources if source.provider == "stripe")
    assert door_fetch_seconds(stripe, settings) is None


# --- the synthesized configuration --------------------------------------------------------------------


def test_the_synthesized_mollie_classic_route_requires_no_signature_header(app: SynthesizedApp) -> None:
    config = app.config(STACK)
    [key] = [k for k, r in config["resource"]["aws_api_gateway_resource"].items() if r["path_part"] == "shop"]
    methods = [m for m in resources(config, "aws_api_gateway_method") if f".{key}.id" in m["resource_id"]]
    assert len(methods) == 1 and methods[0]["http_method"] == "POST" and not methods[0].get("request_parameters")
    [stripe] = [k for k, r in config["resource"]["aws_api_gateway_resource"].items() if r["path_part"] == "stripe"]
    [stripe_method] = [m for m in resources(config, "aws_api_gateway_method") if f".{stripe}.id" in m["resource_id"]]
    assert stripe_method["request_parameters"] == {"method.request.header.Stripe-Signature": True}


def test_the_waf_passes_mollies_deliveries_up_to_the_models_figures(acl: dict[str, Any], settings: Any) -> None:
    [shop] = [route for route in plan_capacity(settings).source_routes if route.source == "shop"]
    assert shop.binding is not None
    mollie = mollie_deliveries(settings.provider_sending_ips)
    # just under the figure: exactly at it, one request counted over the limit blocks the IP
    sent, blocked = run(WebAcl(acl), [(0.99 * shop.binding.sustained_events_per_second, 900)], mollie)
    assert (sent, blocked) == (17_820, 0)
    burst = [(shop.binding.burst_events_per_second, settings.burst_seconds)]
    sent, blocked = run(WebAcl(acl), burst, mollie)
    assert (sent, blocked) == (6_000, 0)


def test_the_waf_blocks_mollie_just_past_the_models_figures(acl: dict[str, Any], settings: Any) -> None:
    """The model's figure is the limit, not a margin below it: 10 % more is blocked."""
    [shop] = [route for route in plan_capacity(settings).source_routes if route.source == "shop"]
    assert shop.binding is not None
    mollie = mollie_deliveries(settings.provider_sending_ips)
    _, blocked = run(WebAcl(acl), [(1.1 * shop.binding.sustained_events_per_second, 900)], mollie)
    assert blocked > 0
    _, blocked = run(WebAcl(acl), [(1.1 * shop.binding.burst_events_per_second, settings.burst_seconds)], mollie)
    assert blocked > 0


def contract_profile(settings: Any) -> list[tuple[float, float]]:
    return [
        (settings.peak_events_per_second, 240),
        (settings.burst_events_per_second, settings.burst_seconds),
        (settings.peak_events_per_second, 300),
    ]


def test_the_contracts_burst_passes_stripe_but_not_mollie_classic(acl: dict[str, Any], settings: Any) -> None:
    """What the README used to promise for every source holds for signed routes only."""
    ips = settings.provider_sending_ips
    stripe = [Request(f"198.51.100.{n}", "/v1/webhook/stripe", {"Stripe-Signature": "t=1,v1=x"}) for n in range(ips)]
    _, blocked = run(WebAcl(acl), contract_profile(settings), stripe)
    assert blocked == 0
    sent, blocked = run(WebAcl(acl), contract_profile(settings), mollie_deliveries(ips))
    assert blocked > sent / 2  # most of Mollie's burst is answered 403


def test_the_contracts_burst_passes_mollie_classic_at_the_limit_the_warning_names(
    acl: dict[str, Any], settings: Any
) -> None:
    mollie = mollie_deliveries(settings.provider_sending_ips)
    raised = with_unsigned_limit(acl, unsigned_limit_for_contract(settings))
    _, blocked = run(WebAcl(raised), contract_profile(settings), mollie)
    assert blocked == 0
    # without the headroom the worst window sits exactly at the limit: one request too many blocks the IP
    at_count = with_unsigned_limit(acl, unsigned_limit_for_contract(settings) * 2 // 3 - 1)
    _, blocked = run(WebAcl(at_count), contract_profile(settings), mollie)
    assert blocked > 0


@given(limit=st.integers(min_value=10, max_value=400), ips=st.integers(min_value=1, max_value=4))
@hypothesis_settings(max_examples=25)
def test_the_routes_figures_hold_for_any_unsigned_limit_and_ip_count(
    acl: dict[str, Any], settings: Any, limit: int, ips: int
) -> None:
    """For any `waf_rate_limit_per_5min` and `provider_sending_ips`, the synthesized rule passes Mollie's
    deliveries at 99 % of the model's sustained figure and blocks some at 110 %."""
    changed = dataclasses.replace(settings, waf_rate_limit_per_5min=limit, provider_sending_ips=ips)
    [shop] = [route for route in plan_capacity(changed).source_routes if route.source == "shop"]
    assert shop.binding is not None and shop.warning is not None
    rate = shop.binding.sustained_events_per_second
    assert rate == limit * ips / 300
    mollie = mollie_deliveries(ips)
    assert run(WebAcl(with_unsigned_limit(acl, limit)), [(0.99 * rate, 900)], mollie)[1] == 0
    assert run(WebAcl(with_unsigned_limit(acl, limit)), [(1.1 * rate, 900)], mollie)[1] > 0
