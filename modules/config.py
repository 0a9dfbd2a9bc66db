"""Per-environment settings: `terraform-state-config/default.json` overlaid with `<env>.json`.

Every setting is a typed dataclass field, so a typo in a config file is an error at synth time rather
than a silently ignored key.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modules.queue_names import MAX_QUEUE_NAME_LENGTH, money_queue_names
from modules.sources_config import SourceConfigError, SourceSettings, check_sources, parse_sources

CONFIG_DIR = Path(__file__).resolve().parent.parent / "terraform-state-config"
DEFAULT_ENVIRONMENT = "dev"
# Long suffixes push names such as `event-router-dlq-<env>` past AWS limits (64 for IAM roles with
# their own suffix, 80 for queues); 20 leaves room for every name this stack builds.
MAX_SUFFIX_LENGTH = 20
_SUFFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# The retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


# A project tool (the test suite, the integration sandbox) may synthesize an environment that has no
# settings file of its own by naming it here; people never need to, so a typo cannot slip through.
DECLARED_ENVIRONMENT_VARIABLE = "PIPELINE_DECLARED_ENVIRONMENT"
# Fields filled by the loader, not by any file: never offered as keys in an error message.
_INTERNAL_KEYS = frozenset({"environment", "backend"})

# OFF needs nothing; ERROR and INFO need the account's API Gateway CloudWatch role.
API_LOGGING_LEVELS = ("OFF", "ERROR", "INFO")
# The API Gateway flavour in front of the validator (docs/FRONT-DOOR.md): a REST API (request model,
# WAF, execution logs, X-Ray) or an HTTP API (about a third of the request price, none of those).
FRONT_DOORS = ("rest", "http_api")


class ConfigError(ValueError):
    """A setting or the environment suffix is invalid; the message says which and why."""


def environment_suffix(environ: dict[str, str] | None = None) -> str:
    """Return `ENVIRONMENT_SUFFIX` (default `dev`) after checking it can be part of every resource name."""
    env = os.environ if environ is None else environ
    suffix = env.get("ENVIRONMENT_SUFFIX", DEFAULT_ENVIRONMENT)
    if not suffix or len(suffix) > MAX_SUFFIX_LENGTH or not _SUFFIX_PATTERN.fullmatch(suffix):
        raise ConfigError(
            f"ENVIRONMENT_SUFFIX={suffix!r} is invalid: use 1 to {MAX_SUFFIX_LENGTH} lowercase letters, "
            "digits and '-', starting and ending with a letter or digit (e.g. dev, staging, pr-123)."
        )
    return suffix


@dataclasses.dataclass(frozen=True)
class BackendSettings:
    bucket: str
    key: str
    region: str
    encrypt: bool = True
    use_lockfile: bool = True
    kms_key_id: str | None = None


@dataclasses.dataclass(frozen=True)
class PipelineSettings:
    environment: str
    backend: BackendSettings
    region: str
    validator_memory_mb: int
    validator_timeout_seconds: int
    router_memory_mb: int
    router_timeout_seconds: int
    validator_reserved_concurrency: int | None
    router_reserved_concurrency: int | None
    # null: sized from the capacity contract below (modules/capacity.py); a number is checked against it.
    api_throttle_rate_limit: int | None
    api_throttle_burst_limit: int | None
    api_execution_logging_level: str
    log_retention_days: int
    alarm_email: str | None
    # The role operators run `replay`/`redrive` with: with the router's, the only one that may send to
    # the routed queues (null: nobody but the router).
    operator_role_arn: str | None
    deletion_protection: bool
    waf_enabled: bool
    waf_rate_limit_per_5min: int
    manage_api_gateway_account: bool
    max_receive_count: int
    router_batch_size: int
    router_batching_window_seconds: int
    router_maximum_retry_attempts: int
    router_maximum_record_age_seconds: int
    signature_tolerance_seconds: int
    event_ttl_days: int
    # Provider sources, `POST /webhook/<name>` each (modules/sources_config.py).
    sources: tuple[SourceSettings, ...] = ()
    # The money queues and their DLQs as FIFO queues (`<kind>-queue-<env>.fifo`), MessageGroupId = object_id
    # (README, "Consuming events").
    fifo_money_queues: bool = False
    # Deploy the example ledger consumer on the money queues (modules/example_consumer.py; sandbox only).
    example_consumer: bool = False
    # The capacity contract (modules/capacity.py, README "Capacity"): the sustained rate and the burst
    # (rate, seconds) every stage must take without refusing, from this many provider IPs.
    peak_events_per_second: int = 100
    burst_events_per_second: int = 1000
    burst_seconds: int = 60
    provider_sending_ips: int = 3
    typical_payload_bytes: int = 2048
    # The write units/s the events table takes at once when more than a new on-demand table's 4,000: the
    # DynamoDB warm throughput you set on it (`aws dynamodb update-table --warm-throughput`), which the pinned
    # hashicorp/aws 5.100 cannot set. Only the capacity model reads it (README, "Capacity").
    dynamodb_warm_write_units_per_second: int | None = None
    # The account's Lambda concurrency quota in this region (1,000 unless raised through Service Quotas).
    lambda_account_concurrency: int = 1000
    # false: no reserved concurrency (accounts whose quota is too small to reserve any, e.g. new ones at 10);
    # the functions then share the account's unreserved pool, which the capacity model counts instead.
    reserve_concurrency: bool = True
    # null: sized from the contract.
    router_parallelization_factor: int | None = None
    waf_signed_rate_limit_per_5min: int | None = None
    # An X-Ray sampling rule for the stage (modules/tracing.py); false keeps X-Ray's default rule
    # (the sandbox: moto has no sampling rules).
    xray_sampling_rule: bool = True
    # "rest" (API Gateway REST API) or "http_api" (API Gateway HTTP API, payload format 1.0; no WAF, no
    # request model, no X-Ray): docs/FRONT-DOOR.md.
    front_door: str = "rest"


# (minimum, maximum) for integer settings, from the AWS limits of the setting they feed.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "validator_memory_mb": (128, 10240),
    "router_memory_mb": (128, 10240),
    "validator_timeout_seconds": (1, 29),  # API Gateway gives up on the integration after 29 s
    "router_timeout_seconds": (1, 900),
    "validator_reserved_concurrency": (1, 10000),
    "router_reserved_concurrency": (1, 10000),
    "api_throttle_rate_limit": (1, 100000),
    "api_throttle_burst_limit": (1, 100000),
    "log_retention_days": (1, 3653),
    "waf_rate_limit_per_5min": (10, 2000000000),
    "max_receive_count": (1, 1000),
    "router_batch_size": (1, 10000),
    "router_batching_window_seconds": (0, 300),
    "router_maximum_retry_attempts": (0, 10000),
    "router_maximum_record_age_seconds": (60, 604800),
    "signature_tolerance_seconds": (1, 3600),
    "event_ttl_days": (1, 3650),
    "peak_events_per_second": (1, 100000),
    "burst_events_per_second": (1, 100000),
    "burst_seconds": (1, 3600),
    "provider_sending_ips": (1, 1000),
    "typical_payload_bytes": (1, 102400),
    # DynamoDB warm throughput: above a new on-demand table's 4,000 and at most 40,000 write units/s, the
    # on-demand table quota per table (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
    "dynamodb_warm_write_units_per_second": (4000, 40000),
    "lambda_account_concurrency": (1, 1000000),
    "router_parallelization_factor": (1, 10),
    "waf_signed_rate_limit_per_5min": (10, 2000000000),
}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object")
    return data


def _check_keys(path: Path, values: dict[str, Any], known: set[str], prefix: str = "") -> None:
    """Refuse keys no setting has, naming the file and the closest known key (never an internal one)."""
    for key in sorted(set(values) - known):
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hint = (
            f"; did you mean '{prefix}{close[0]}'?" if close else "; see the README's 'Configuration per environment'"
        )
        raise ConfigError(f"{path}: unknown key '{prefix}{key}'{hint}")


def _settable_keys(cls: type) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)} - _INTERNAL_KEYS


def _check_type(source: str, key: str, value: Any, annotation: str) -> None:
    optional = "None" in annotation
    if value is None:
        if not optional:
            raise ConfigError(f"{source}: '{key}' must not be null")
        return
    if annotation.startswith("int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation.startswith("bool"):
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str) and value != ""
    if not ok:
        raise ConfigError(f"{source}: '{key}' must be {annotation}, got {value!r}")


def _build(cls: type, source: str, values: dict[str, Any], extra: dict[str, Any]) -> Any:
    fields = {field.name: field for field in dataclasses.fields(cls)}
    arguments = dict(extra)
    for name, field in fields.items():
        if name in arguments:
            continue
        if name not in values:
            if field.default is dataclasses.MISSING:
                raise ConfigError(f"{source}: missing key '{name}'")
            continue
        _check_type(source, name, values[name], str(field.type))
        arguments[name] = values[name]
    return cls(**arguments)


def _validate(settings: PipelineSettings, where: Callable[[str], str]) -> None:
    """Range and format checks; `where(key)` names the file the key's value came from."""
    for key, (low, high) in _INT_RANGES.items():
        value = getattr(settings, key)
        if value is not None and not low <= value <= high:
            raise ConfigError(f"{where(key)}: '{key}' = {value} is outside {low}..{high}")
    if settings.log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(f"{where('log_retention_days')}: 'log_retention_days' must be one of {LOG_RETENTION_DAYS}")
    if settings.api_execution_logging_level not in API_LOGGING_LEVELS:
        raise ConfigError(
            f"{where('api_execution_logging_level')}: 'api_execution_logging_level' must be one of {API_LOGGING_LEVELS}"
        )
    if settings.front_door not in FRONT_DOORS:
        raise ConfigError(
            f"{where('front_door')}: 'front_door' must be one of {FRONT_DOORS}, got {settings.front_door!r}"
        )
    if settings.front_door == "http_api" and settings.waf_enabled:
        files = sorted({where("front_door"), where("waf_enabled")})
        raise ConfigError(
            f"{', '.join(files)}: 'front_door' = 'http_api' cannot have 'waf_enabled': AWS WAF protects REST API "
            "stages, not HTTP APIs (docs/FRONT-DOOR.md); set 'waf_enabled' to false or keep 'front_door' 'rest'"
        )
    if settings.alarm_email is not None and not _EMAIL_PATTERN.fullmatch(settings.alarm_email):
        raise ConfigError(f"{where('alarm_email')}: 'alarm_email' = {settings.alarm_email!r} is not an e-mail address")
    for name, region in (("region", settings.region), ("backend.region", settings.backend.region)):
        if not _REGION_PATTERN.fullmatch(region):
            raise ConfigError(f"{where(name.split('.')[0])}: '{name}' = {region!r} is not an AWS region name")
    if not settings.reserve_concurrency:
        reserved = [
            k for k in ("validator_reserved_concurrency", "router_reserved_concurrency") if getattr(settings, k)
        ]
        if reserved:
            # Silently ignored, the number would read as what the function gets: it shares the account's pool.
            files = sorted({where("reserve_concurrency"), *(where(key) for key in reserved)})
            raise ConfigError(
                f"{', '.join(files)}: {', '.join(repr(k) for k in reserved)} cannot apply with 'reserve_concurrency' "
                "false (nothing is reserved: the functions share the account's unreserved pool); remove it or set "
                "'reserve_concurrency' to true"
            )
    if settings.burst_events_per_second < settings.peak_events_per_second:
        files = sorted({where("burst_events_per_second"), where("peak_events_per_second")})
        raise ConfigError(f"{', '.join(files)}: 'burst_events_per_second' must be at least 'peak_events_per_second'")
    if (
        settings.api_throttle_burst_limit is not None
        and settings.api_throttle_rate_limit is not None
        and settings.api_throttle_burst_limit < settings.api_throttle_rate_limit
    ):
        raise ConfigError(
            f"{where('api_throttle_burst_limit')}: 'api_throttle_burst_limit' must be at least 'api_throttle_rate_limit'"
        )
    if settings.operator_role_arn is not None and not _ROLE_ARN_PATTERN.fullmatch(settings.operator_role_arn):
        raise ConfigError(
            f"{where('operator_role_arn')}: 'operator_role_arn' = {settings.operator_role_arn!r} is not an IAM role ARN"
        )
    if settings.backend.encrypt and not settings.backend.kms_key_id:
        # Without it Terraform sends AES256, which overrides the bucket's SSE-KMS default.
        raise ConfigError(f"{where('backend')}: backend 'kms_key_id' must name the state key when 'encrypt' is true")
    if settings.fifo_money_queues:
        longest = max(
            (name for kind in ("payments", "refunds", "disputes")
             for name in money_queue_names(kind, settings.environment, fifo=True)),
            key=len,
        )  # fmt: skip
        if len(longest) > MAX_QUEUE_NAME_LENGTH:
            raise ConfigError(
                f"{where('fifo_money_queues')}: 'fifo_money_queues' needs queue names of at most "
                f"{MAX_QUEUE_NAME_LENGTH} characters; {longest!r} is {len(longest)}: use a shorter environment suffix"
            )
    if "{env}" not in settings.backend.key and settings.environment not in settings.backend.key:
        raise ConfigError(f"{where('backend')}: backend 'key' must contain '{{env}}' so environments never share state")


def _undeclared_environment_error(environment: str, config_dir: Path) -> ConfigError:
    known = sorted(path.stem for path in config_dir.glob("*.json") if path.stem != "default")
    close = difflib.get_close_matches(environment, known, n=1, cutoff=0.5)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    return ConfigError(
        f"ENVIRONMENT_SUFFIX={environment!r} has no settings file {config_dir / (environment + '.json')}. {hint}"
        f"Known environments: {', '.join(known) or 'none'}. To create this one (it inherits default.json; "
        f"put its overrides inside): echo '{{}}' > {config_dir.name}/{environment}.json"
    )


def declared_environment(environ: dict[str, str] | None = None) -> str | None:
    """The environment a project tool declared through `PIPELINE_DECLARED_ENVIRONMENT`, if any."""
    env = os.environ if environ is None else environ
    return env.get(DECLARED_ENVIRONMENT_VARIABLE) or None


def load_settings(environment: str, config_dir: Path = CONFIG_DIR, *, declared: bool = False) -> PipelineSettings:
    """Merge `default.json` with `<environment>.json` and check every value.

    An environment needs its own `<environment>.json` (even `{}`), so a typo such as `prd` is refused
    instead of building a whole environment on defaults; `declared=True` (or the environment named in
    `PIPELINE_DECLARED_ENVIRONMENT`) lets a project tool use `default.json` alone.
    Raises `ConfigError` naming the file and key for unknown keys, wrong types and out-of-range values.
    """
    default_path = config_dir / "default.json"
    override_path = config_dir / f"{environment}.json"
    if not override_path.is_file() and not (declared or declared_environment() == environment):
        raise _undeclared_environment_error(environment, config_dir)
    merged = _read_json(default_path)
    pipeline_keys, backend_keys = _settable_keys(PipelineSettings) | {"backend"}, _settable_keys(BackendSettings)
    _check_keys(default_path, merged, pipeline_keys)
    if isinstance(merged.get("backend"), dict):
        _check_keys(default_path, merged["backend"], backend_keys, "backend.")
    override: dict[str, Any] = {}
    if override_path.is_file():
        override = _read_json(override_path)
        _check_keys(override_path, override, pipeline_keys)
        backend_override = override.get("backend", {})
        if not isinstance(backend_override, dict):
            raise ConfigError(f"{override_path}: 'backend' must be an object")
        _check_keys(override_path, backend_override, backend_keys, "backend.")
        merged = {**merged, **override, "backend": {**merged.get("backend", {}), **backend_override}}
    backend_values = merged.pop("backend", None)
    if not isinstance(backend_values, dict):
        raise ConfigError(f"{default_path}: 'backend' must be an object")
    backend_values = {
        key: value.replace("{env}", environment) if isinstance(value, str) else value
        for key, value in backend_values.items()
    }

    def holder(key: str, section: dict[str, Any]) -> str:
        """The file a value came from, so the message points at the line to change."""
        return str(override_path if key in section else default_path)

    backend = _build(BackendSettings, f"{holder('backend', override)} [backend]", backend_values, {})
    try:
        sources = parse_sources(merged.pop("sources", {}), holder("sources", override))
    except SourceConfigError as error:
        raise ConfigError(str(error)) from None
    for key in merged:
        _check_type(holder(key, override), key, merged[key], _annotation(PipelineSettings, key))
    settings = _build(
        PipelineSettings,
        str(default_path),
        merged,
        {"environment": environment, "backend": backend, "sources": sources},
    )
    _validate(settings, lambda key: holder(key, override))
    try:
        check_sources(settings.sources, event_ttl_days=settings.event_ttl_days, where=holder("sources", override))
    except SourceConfigError as error:
        raise ConfigError(str(error)) from None
    return settings


def with_overrides(settings: PipelineSettings, overrides: dict[str, Any], where: str = "override") -> PipelineSettings:
    """`settings` with `overrides` (setting name -> value) put in, checked as a settings file's values are:
    names, types, ranges and combinations (`sources` takes parsed `SourceSettings`, checked as a file's).
    Raises `ConfigError` naming `where` and the setting."""
    unknown = sorted(set(overrides) - _settable_keys(PipelineSettings) - {"environment"})
    if unknown:
        raise ConfigError(f"{where}: unknown settings {unknown}")
    for key, value in overrides.items():
        if key not in ("sources", "environment"):
            _check_type(where, key, value, _annotation(PipelineSettings, key))
    changed = dataclasses.replace(settings, **overrides)
    _validate(changed, lambda key: where)
    try:
        check_sources(changed.sources, event_ttl_days=changed.event_ttl_days, where=where)
    except SourceConfigError as error:
        raise ConfigError(str(error)) from None
    return changed


def _annotation(cls: type, key: str) -> str:
    return next(str(field.type) for field in dataclasses.fields(cls) if field.name == key)
