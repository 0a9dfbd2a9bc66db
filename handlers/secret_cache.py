"""Signing secrets, cached only once they parsed (issue 22).

Powertools' `SecretsProvider` cached the raw SecretString for 300 s whatever it held, so a secret set
in the wrong shape kept its route at 500 for five minutes after it was corrected. Here the *parsed*
keys are cached, and only when parsing succeeded:

- every entry parsed: cached for `max_age_seconds` (300), so a rotation takes effect within that
  time and a forged request (its signature fails against cached keys) never causes a fetch;
- some entries parsed, some not: used, and cached for `partial_max_age_seconds` (10) only, so fixing
  the broken entry takes effect within seconds while a busy route still makes at most one
  `GetSecretValue` call per 10 s;
- nothing usable (missing, not JSON, wrong key, no entry parses): never cached, so the next request
  that needs the secret reads it again, and the fix takes effect on that request.

Rule source: Secrets Manager charges per API call and throttles `GetSecretValue` at 10,000 requests/s
per account and region (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html):
the cache keeps the hot path off that quota.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SecretUnusableError(Exception):
    """The secret could not be read or holds nothing usable; the message says why (never its value)."""


@dataclass(frozen=True)
class ParsedSecret:
    """`keys`: the usable parsed entries; `complete`: every entry parsed."""

    keys: list[Any]
    complete: bool


class ParsedSecretCache:
    """`get(arn, parse)` -> the parsed keys; `parse(value: dict) -> ParsedSecret` may raise any error,
    which becomes `SecretUnusableError` (not cached)."""

    def __init__(
        self,
        client: Any,
        *,
        max_age_seconds: float = 300,
        partial_max_age_seconds: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client  # a boto3 Secrets Manager client (benchmarks attach stubs to it)
        self.max_age_seconds = max_age_seconds
        self.partial_max_age_seconds = partial_max_age_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, list[Any]]] = {}
        self._lock = threading.Lock()

    def get(self, arn: str, parse: Callable[[dict[str, Any]], ParsedSecret]) -> list[Any]:
        now = self._clock()
        with self._lock:
            cached = self._entries.get(arn)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            value = json.loads(self.client.get_secret_value(SecretId=arn)["SecretString"])
            if not isinstance(value, dict):
                raise TypeError("the SecretString is not a JSON object")
            parsed = parse(value)
        except Exception as error:  # any failure here must end in 5xx, whatever raised it
            with self._lock:
                self._entries.pop(arn, None)
            raise SecretUnusableError(f"{type(error).__name__}: {error}"[:300]) from error
        if not parsed.keys:
            with self._lock:
                self._entries.pop(arn, None)
            raise SecretUnusableError("no entry is usable")
        age = self.max_age_seconds if parsed.complete else self.partial_max_age_seconds
        with self._lock:
            self._entries[arn] = (now + age, parsed.keys)
        return parsed.keys

    def clear_cache(self) -> None:
        with self._lock:
            self._entries.clear()
