"""Per-environment settings: `terraform-state-config/default.json` overlaid with `<env>.json`.

Every setting is a typed dataclass field, so a typo in a config file is an error at synth time rather
than a silently ignored key.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

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


# OFF needs nothing; ERROR and INFO need the account's API Gateway CloudWatch role.
API_LOGGING_LEVELS = ("OFF", "ERROR", "INFO")


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
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
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
}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object")
    return data


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
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(fields))}")
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


def _validate(settings: PipelineSettings, source: str) -> None:
    for key, (low, high) in _INT_RANGES.items():
        value = getattr(settings, key)
        if value is not None and not low <= value <= high:
            raise ConfigError(f"{source}: '{key}' = {value} is outside {low}..{high}")
    if settings.log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(f"{source}: 'log_retention_days' must be one of {LOG_RETENTION_DAYS}")
    if settings.api_execution_logging_level not in API_LOGGING_LEVELS:
        raise ConfigError(f"{source}: 'api_execution_logging_level' must be one of {API_LOGGING_LEVELS}")
    if settings.alarm_email is not None and not _EMAIL_PATTERN.fullmatch(settings.alarm_email):
        raise ConfigError(f"{source}: 'alarm_email' = {settings.alarm_email!r} is not an e-mail address")
    for name, region in (("region", settings.region), ("backend.region", settings.backend.region)):
        if not _REGION_PATTERN.fullmatch(region):
            raise ConfigError(f"{source}: '{name}' = {region!r} is not an AWS region name")
    if settings.api_throttle_burst_limit < settings.api_throttle_rate_limit:
        raise ConfigError(f"{source}: 'api_throttle_burst_limit' must be at least 'api_throttle_rate_limit'")
    if settings.operator_role_arn is not None and not _ROLE_ARN_PATTERN.fullmatch(settings.operator_role_arn):
        raise ConfigError(f"{source}: 'operator_role_arn' = {settings.operator_role_arn!r} is not an IAM role ARN")
    if settings.backend.encrypt and not settings.backend.kms_key_id:
        # Without it Terraform sends AES256, which overrides the bucket's SSE-KMS default.
        raise ConfigError(f"{source}: backend 'kms_key_id' must name the state key when 'encrypt' is true")
    if "{env}" not in settings.backend.key and settings.environment not in settings.backend.key:
        raise ConfigError(f"{source}: backend 'key' must contain '{{env}}' so environments never share state")


def load_settings(environment: str, config_dir: Path = CONFIG_DIR) -> PipelineSettings:
    """Merge `default.json` with the optional `<environment>.json` and check every value.

    Raises `ConfigError` naming the file and key for unknown keys, wrong types and out-of-range values.
    """
    default_path = config_dir / "default.json"
    override_path = config_dir / f"{environment}.json"
    merged = _read_json(default_path)
    source = str(default_path)
    if override_path.is_file():
        override = _read_json(override_path)
        source = f"{default_path} + {override_path}"
        backend_override = override.pop("backend", {})
        if not isinstance(backend_override, dict):
            raise ConfigError(f"{override_path}: 'backend' must be an object")
        merged = {**merged, **override, "backend": {**merged.get("backend", {}), **backend_override}}
    backend_values = merged.pop("backend", None)
    if not isinstance(backend_values, dict):
        raise ConfigError(f"{source}: 'backend' must be an object")
    backend_values = {
        key: value.replace("{env}", environment) if isinstance(value, str) else value
        for key, value in backend_values.items()
    }
    backend = _build(BackendSettings, f"{source} [backend]", backend_values, {})
    settings = _build(PipelineSettings, source, merged, {"environment": environment, "backend": backend})
    _validate(settings, source)
    return settings
