"""`ProviderSpec`: everything about a provider that is data, declared once in its module as `SPEC`.

Each module under handlers/providers/ ends with `SPEC = ProviderSpec(...)`. The synth
(modules/sources_config.py: option checks, required options, signature header, retry horizon;
modules/waf.py through pipeline_stack: body-signed routes), the validator (acknowledgement body,
exponent table) and the operator tools (pipeline_tools: secret help and look-alike patterns, event-id
header, signer, sample for load runs) read it instead of keeping their own per-provider tables.
Behaviour stays in functions: the module's `receive`/`parse_secret`/`default_transaction_type`, the
CLI's `sign_<provider>` in pipeline_tools/provider_signing.py (named here by `signer`).

Pure standard library: modules/ imports this through the provider modules, outside Lambda.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping
from typing import Any, Literal

# A check returns None when an option's value is good, else what is wrong with it (the synth's message
# reads "'sources.<name>.<option>' = <value> <problem>").
OptionCheck = Callable[[Any], "str | None"]
# How `python -m pipeline_tools sandbox` makes a fresh secret in the provider's own format
# (pipeline_tools/provider_signing.py `random_secret`).
SecretShape = Literal["whsec_hex", "whsec_base64", "hex64_upper", "hex32", "mollie_api_key", "text"]

_DOTTED_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
# A Mollie profile id: `pfl_` and letters and digits (https://docs.mollie.com/reference/profiles-api,
# e.g. `pfl_3RkSN1zuPE`).
_MOLLIE_PROFILE_ID = re.compile(r"^pfl_[A-Za-z0-9]{1,64}$")


def tolerance_seconds(value: Any) -> str | None:
    """A signed timestamp's allowed skew: an integer number of seconds, 1..3600."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3600
    return None if ok else "must be an integer number of seconds, 1..3600"


def dotted_path(value: Any) -> str | None:
    """A path into the JSON payload, `data.amount`."""
    return (
        None
        if isinstance(value, str) and _DOTTED_PATH.fullmatch(value)
        else "must be a dotted path such as data.amount"
    )


def amount_unit(value: Any) -> str | None:
    """`major` (a decimal as written) or `minor` (integer count of the currency's smallest unit)."""
    return None if value in ("major", "minor") else "must be 'major' or 'minor'"


def https_url(value: Any) -> str | None:
    """An exact https:// URL, at most 2048 characters (what a provider signs, e.g. Square)."""
    ok = isinstance(value, str) and value.startswith("https://") and len(value) <= 2048 and " " not in value
    return None if ok else "must be the exact https:// URL registered with the provider"


def boolean(value: Any) -> str | None:
    """JSON true or false (e.g. GoCardless's `enrich`)."""
    return None if isinstance(value, bool) else "must be true or false"


def non_empty_text(value: Any) -> str | None:
    """Text of 1..256 characters without surrounding white space (e.g. a public key)."""
    return (
        None
        if isinstance(value, str) and value.strip() == value and 0 < len(value) <= 256
        else "must be non-empty text"
    )


def mollie_profile_id(value: Any) -> str | None:
    """A Mollie profile id, `pfl_` + letters and digits (Mollie Web App > Settings > Website profiles)."""
    return (
        None
        if isinstance(value, str) and _MOLLIE_PROFILE_ID.fullmatch(value)
        else "must be a Mollie profile id: pfl_ and letters and digits, e.g. pfl_3RkSN1zuPE"
    )


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of `mapping` (a spec's tables must not change after import)."""
    return types.MappingProxyType(dict(mapping))


@dataclasses.dataclass(frozen=True, eq=False)
class ProviderSpec:
    """One provider's declared facts. Units and sources are in each field's comment.

    `provider_id` is the configuration's `"provider"` value and the key of `providers.REGISTRY`.
    `signature_header` is the header the provider signs with, as its docs spell it; API Gateway requires
    it on the source's route (a missing one is refused before any Lambda runs). None when the signature is
    in the body (`signed_in_body`: Adyen, Braintree; WAF then counts the route as signed) or may come
    under either of two header names (Standard Webhooks / Svix).
    `options`: provider option name -> check, beyond the common `type_map`/`route_unmapped` and the
    reconcile keys; `required_options` must be present.
    `retry_horizon_days`: how long the provider retries an unacknowledged delivery, in days, when it is
    long enough to matter for the stored ids' TTL (None: a few days at most).
    `ack_body`: the response body the provider needs to count a delivery as accepted (None: any 2xx).
    `event_id_header`: the (lower-case) request header carrying the provider's event id, when it is not in
    the body (the CLI's `send --event-id` sets it); `load_id_field`: the dotted path in the body of
    `load_sample` that a load run rewrites to give each delivery a fresh stored id (None: the header does).
    `exponent_overrides`: currency -> exponent where the provider writes amounts unlike ISO 4217.
    `secret_format`: one line for logs and docs; `secret_help`: the CLI's text, with where the dashboard
    shows it; `secret_lookalike`: (regex, description) of how this provider's secret looks, so a secret
    pasted into another provider's source is recognised (None: plain text, recognisable by nothing).
    `signer`: name of the CLI's signing function in pipeline_tools/provider_signing.py.
    `signs_url`: the signature covers the notification URL (Square), so the CLI must sign that URL.
    `load_sample`: a sample under tests/fixtures/providers/ that `pipeline_tools load` sends (None: none).
    `default_mapping`: the module's mapping table (event kind -> transaction type) where it is a table;
    `facts`: the module's money-fact table (kind -> row) where it has one; both for docs and tests.
    `fetches_at_door`: the door authenticates a delivery by fetching its object from the provider's API
    (mollie-classic): the source takes the `api_base_url` option and gets a fetch-credential alarm.
    `fetch_api`: for such a provider, what the capacity report says of that API (modules/capacity.py
    `FetchApi`): `call` (what one delivery costs), `rate_limit` (the documented limit, in words), `beyond`
    (what the provider sees when the API refuses our fetch), `source` (the rate limit's documentation),
    `budget_seconds` (float: the longest one delivery's fetches may take, every attempt and wait included;
    a validator is held that long when the API answers at its slowest).
    """

    provider_id: str
    signature_header: str | None
    secret_format: str
    secret_help: str
    signer: str
    secret_shape: SecretShape
    exponent_overrides: Mapping[str, int]
    options: Mapping[str, OptionCheck] = dataclasses.field(default_factory=lambda: frozen({}))
    required_options: tuple[str, ...] = ()
    signed_in_body: bool = False
    retry_horizon_days: int | None = None
    ack_body: str | None = None
    event_id_header: str | None = None
    load_id_field: str | None = None
    secret_lookalike: tuple[str, str] | None = None
    signs_url: bool = False
    load_sample: str | None = None
    default_mapping: Mapping[str, str] | None = None
    facts: Mapping[str, Any] | None = None
    fetches_at_door: bool = False
    fetch_api: Mapping[str, str | float] | None = None

    def __post_init__(self) -> None:
        # Frozen views, so no caller can change a provider's declared options or tables.
        object.__setattr__(self, "options", frozen(self.options))
        missing = [name for name in self.required_options if name not in self.options]
        if missing:
            raise ValueError(f"{self.provider_id}: required options {missing} are not among its options")
        if self.signed_in_body and self.signature_header is not None:
            raise ValueError(f"{self.provider_id}: a body-signed provider has no signature header")
        if self.fetches_at_door != (self.fetch_api is not None):
            raise ValueError(f"{self.provider_id}: a provider that fetches at the door declares its fetch_api")
        if self.fetches_at_door and (self.signed_in_body or self.signature_header is not None):
            raise ValueError(f"{self.provider_id}: a provider that authenticates by fetching is unsigned")
