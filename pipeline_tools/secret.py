"""`python -m pipeline_tools secret set|rotate|show-format --source NAME`: a source's signing secret,
checked against its provider's format before anything is written (issue 22).

The value is parsed by the validator's own `parse_secret` of the source's provider (the code that
will use it), then checked against the formats of the *other* providers, so a secret copied from the
wrong dashboard is refused with what it looks like (e.g. a Stripe `whsec_<hex>` on a Standard Webhooks
source, which would decode as base64 and silently never match). `--source webhook` is `POST /webhook`'s
own Standard Webhooks secret (`signing_secrets`). Secrets Manager holds `{"secrets": [...]}`, newest
first; in the sandbox the outputs file's `source_secrets` (or `signing_secret`) follows, so
`send --source` signs with the new value. The value is never printed.

When it takes effect (handlers/secret_cache.py): at the next request if the route's current secret is
unusable (a route answering 500); otherwise within 300 s, the validator's cache of a secret that parsed.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import re
import sys
from pathlib import Path
from typing import Any

from modules.sources_config import PROVIDER_SPECS
from pipeline_tools.operations import OperationError
from pipeline_tools.outputs import client, environment_of

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STANDARD_ROUTE = "webhook"  # `--source webhook`: POST /webhook's own secret
CACHE_SECONDS = 300  # handlers/validator.py SECRET_CACHE_SECONDS

# What each provider's secret is and where its dashboard shows it (docs/providers/<id>.md has the steps),
# and how a secret of each recognisable format looks: both declared in the provider's SPEC.
FORMATS: dict[str, str] = {provider: spec.secret_help for provider, spec in PROVIDER_SPECS.items()}
_LOOKALIKES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (provider, re.compile(spec.secret_lookalike[0]), spec.secret_lookalike[1])
    for provider, spec in PROVIDER_SPECS.items()
    if spec.secret_lookalike is not None
)


@dataclasses.dataclass(frozen=True)
class SecretTarget:
    name: str
    provider: str
    arn: str
    key: str  # "secrets" (provider sources) or "signing_secrets" (POST /webhook)
    options: dict[str, Any]


def _provider_module(provider: str) -> Any:
    handlers = str(PROJECT_ROOT / "handlers")
    if handlers not in sys.path:
        sys.path.insert(0, handlers)
    from providers import REGISTRY, load  # type: ignore[import-not-found]

    if provider not in REGISTRY:
        raise OperationError(f"unknown provider {provider!r}; known: {', '.join(sorted(REGISTRY))}")
    return load(provider)


def check_value(provider: str, value: str, options: dict[str, Any] | None = None) -> None:
    """Raise `OperationError` saying what is wrong unless `value` is a secret in `provider`'s format."""
    module = _provider_module(provider)
    try:
        module.parse_secret(value, options or {})
    except ValueError as error:
        raise OperationError(f"not a valid {provider} secret: {error}. Expected {FORMATS.get(provider, '?')}") from None
    for other, pattern, looks_like in _LOOKALIKES:
        if other != provider and pattern.fullmatch(value):
            raise OperationError(
                f"this looks like {looks_like}, not a {provider} secret: expected {FORMATS.get(provider, '?')}. "
                f"Copy it from the {provider} dashboard (docs/providers/{provider}.md)"
            )


def target(outputs: dict[str, Any], name: str) -> SecretTarget:
    arns = outputs.get("source_secret_arns") or {}
    if name in arns:
        entry = (outputs.get("source_secrets") or {}).get(name) or {}
        provider = entry.get("provider") or _configured_provider(outputs, name)
        options = {key: value for key, value in entry.items() if key not in ("provider", "secret")}
        return SecretTarget(name, provider, arns[name], "secrets", options)
    if name == STANDARD_ROUTE and outputs.get("signing_secret_arn"):
        return SecretTarget(name, "standard-webhooks", outputs["signing_secret_arn"], "signing_secrets", {})
    known = ", ".join(sorted(arns) + ([STANDARD_ROUTE] if outputs.get("signing_secret_arn") else [])) or "none"
    raise OperationError(f"no source named {name!r} in environment {environment_of(outputs)}; sources: {known}")


def _configured_provider(outputs: dict[str, Any], name: str) -> str:
    from modules.config import load_settings

    settings = load_settings(environment_of(outputs), declared=True)
    for source in settings.sources:
        if source.name == name:
            return source.provider
    raise OperationError(f"source {name} has a secret but terraform-state-config does not say its provider")


def read_value(given: str | None, value_file: Path | None) -> str:
    """`--value`, `--value-file`, or standard input (a prompt that does not echo on a terminal)."""
    if given is not None:
        return given
    if value_file is not None:
        return value_file.read_text(encoding="utf-8").strip()
    if sys.stdin.isatty():
        return getpass.getpass("secret (not echoed): ").strip()
    return sys.stdin.read().strip()


def current_entries(outputs: dict[str, Any], secret: SecretTarget) -> list[str]:
    secretsmanager = client(outputs, "secretsmanager")
    try:
        value = secretsmanager.get_secret_value(SecretId=secret.arn)["SecretString"]
        entries = json.loads(value).get(secret.key)
    except secretsmanager.exceptions.ResourceNotFoundException:
        return []  # a container without a value yet
    except (ValueError, AttributeError):
        return []  # not JSON, or not an object: nothing worth keeping
    return [entry for entry in entries if isinstance(entry, str)] if isinstance(entries, list) else []


def write(outputs: dict[str, Any], outputs_path: Path, secret: SecretTarget, entries: list[str]) -> None:
    client(outputs, "secretsmanager").put_secret_value(
        SecretId=secret.arn, SecretString=json.dumps({secret.key: entries})
    )
    if not outputs.get("sandbox"):
        return
    # The sandbox's outputs file follows, so `send` signs with the newest secret.
    data = json.loads(outputs_path.read_text(encoding="utf-8"))
    if secret.key == "signing_secrets":
        data["signing_secret"] = entries[0]
    else:
        data.setdefault("source_secrets", {}).setdefault(secret.name, {"provider": secret.provider})["secret"] = (
            entries[0]
        )
    temporary = outputs_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(outputs_path)


def when_it_takes_effect(was_usable: bool) -> str:
    if not was_usable:
        return (
            "takes effect at the next request (the route's secret was unusable, and an unusable secret is never cached)"
        )
    return (
        f"takes effect within {CACHE_SECONDS} s (the validator caches a secret that parsed for {CACHE_SECONDS} s); "
        "keep the old one listed until then (`secret rotate` does)"
    )


def usable(provider: str, entries: list[str], options: dict[str, Any]) -> bool:
    module = _provider_module(provider)
    for entry in entries:
        try:
            module.parse_secret(entry, options)
            return True
        except ValueError:
            continue
    return False
