"""`python -m pipeline_tools check-secrets`: is every configured secret usable and strong enough?

Run after putting secrets (README, "Deploying to AWS") and before registering the URLs with providers:
it reads `signing_secret_arn` (POST /webhook, `{"signing_secrets": [...]}`) and each source's secret
(`source_secret_arns`, `{"secrets": [...]}`), and parses every entry exactly as the validator will (the
same `decode_secret`/`parse_secret` code, including the strength rules of
`handlers/providers/common.py`). Each problem names the source, the entry's index and the rule, never the
value. The providers of the sources are the validator's deployed `SOURCES`.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline_tools.operations import _handlers_on_path
from pipeline_tools.outputs import client


def problems(outputs: dict[str, Any]) -> list[str]:
    """One line per unusable entry or source without a usable entry; empty when all is well."""
    _handlers_on_path()
    import providers
    from providers.common import strong_enough
    from webhook_signature import decode_secret

    secrets = client(outputs, "secretsmanager")
    found: list[str] = []

    def entries(arn: str, key: str, label: str) -> list[Any] | None:
        try:
            value = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
            listed = value[key]
            if not isinstance(listed, list):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            found.append(f'{label}: the secret is not JSON {{"{key}": [...]}}')
            return None
        return listed

    def check(label: str, listed: list[Any], parse: Any) -> None:
        usable = 0
        for index, entry in enumerate(listed):
            try:
                if not isinstance(entry, str):
                    raise ValueError("an entry must be a string")
                parse(entry)
                usable += 1
            except ValueError as error:
                found.append(f"{label} entry {index}: {error}")
        if not usable:
            found.append(f"{label}: no usable entry (every request would be answered 5xx or 401)")

    if outputs.get("signing_secret_arn"):
        listed = entries(outputs["signing_secret_arn"], "signing_secrets", "POST /webhook")
        if listed is not None:

            def standard(entry: str) -> None:
                strong_enough(
                    decode_secret(entry), rule="a signing secret is whsec_ and the base64 of 24-64 random bytes"
                )

            check("POST /webhook", listed, standard)
    configured = _sources(outputs)
    for name, arn in sorted((outputs.get("source_secret_arns") or {}).items()):
        entry = configured.get(name)
        if entry is None:
            found.append(f"source {name}: not in the validator's SOURCES")
            continue
        listed = entries(arn, "secrets", f"source {name}")
        if listed is not None:
            module = providers.load(entry["provider"])
            check(f"source {name}", listed, lambda text, module=module, entry=entry: module.parse_secret(text, entry))
    return found


def _sources(outputs: dict[str, Any]) -> dict[str, Any]:
    function = str(outputs["validator_lambda_arn"]).split(":")[-1]
    configuration = client(outputs, "lambda").get_function_configuration(FunctionName=function)
    return json.loads(configuration.get("Environment", {}).get("Variables", {}).get("SOURCES") or "{}")
