"""A small HTTP client for the providers' own APIs (reconciliation): stdlib only, bounded in every way.

- **Egress**: the base URL must be the provider's own API host, its documented sandbox host or a local
  stub (handlers/api_hosts.py, the synth's rule too), else `ApiClient` refuses to exist (ValueError, R2-1):
  a `SOURCES`/`RECONCILE_SOURCES` edited outside the synth cannot send the credential elsewhere. Every
  request goes to the scheme, host and port of the configured `api_base_url`; a URL
  the provider hands back (Paddle's `meta.pagination.next`) on any other origin is refused
  (`foreign_host`), so a tampered page cannot send the credential elsewhere.
- **Time**: each attempt has `timeout_seconds` (default 10 s); retries never sleep past `deadline`
  (a `time.monotonic()` value; the reconciler passes the Lambda's remaining time minus a margin).
- **Retries**: 429, 5xx, timeouts, connection errors and unparseable bodies are retried up to
  `max_attempts` (default 4) with exponential backoff and full jitter (0.5 s x 2^n, capped at 8 s);
  a `Retry-After` in seconds or as an HTTP date (RFC 9110 §10.2.3) replaces the backoff; a wait that
  would cross the deadline ends the call at once. 401/403 (`credential_refused`) and other 4xx are not
  retried: a revoked key does not heal by hammering the provider.
- **Rate**: one `RateBudget` per source and run: at most `max_requests`, at least `min_interval` apart.
- **Errors** (`ProviderApiError`) name the provider, the method and the path, never the query string's
  cursor values nor the credential (the credential travels only in the `Authorization` header).
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from api_hosts import base_url_problem

import strict_json

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# A page larger than this is refused rather than parsed (Stripe's 100 events of ~10 KB each fit easily).
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
USER_AGENT = "webhook-pipeline-reconciler/1"


class ProviderApiError(Exception):
    """A provider API call that did not give a usable answer. `reason`: `credential_refused`,
    `client_error`, `rate_limited`, `server_error`, `timeout`, `connection_error`, `malformed_response`,
    `foreign_host`, `budget_exhausted`, `deadline`, `configuration` (the source's settings would make the
    call wrong: fix them). `retryable`: a later run may succeed."""

    def __init__(
        self, provider: str, call: str, reason: str, detail: str, *, retryable: bool, status: int | None = None
    ) -> None:
        super().__init__(f"{provider} {call}: {reason}: {detail}")
        self.provider = provider
        self.call = call
        self.reason = reason
        self.retryable = retryable
        self.status = status  # the HTTP status, when the provider answered one


@dataclasses.dataclass
class RateBudget:
    """At most `max_requests` per run, spaced at least `min_interval` seconds apart (the providers'
    read limits are far higher: Stripe 100/s, Paddle 240/min; this keeps a backlog from competing with
    the merchant's own integration)."""

    max_requests: int = 200
    min_interval: float = 0.05
    used: int = 0
    _last: float | None = None

    def take(self, provider: str, call: str, sleep: Callable[[float], None]) -> None:
        if self.used >= self.max_requests:
            raise ProviderApiError(
                provider, call, "budget_exhausted", f"{self.max_requests} requests used", retryable=True
            )
        now = time.monotonic()
        if self._last is not None and now - self._last < self.min_interval:
            sleep(self.min_interval - (now - self._last))
        self._last = time.monotonic()
        self.used += 1


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclasses.dataclass
class ApiClient:
    """JSON over HTTPS to one provider. `headers` carry the credential (never logged)."""

    provider: str
    base_url: str
    headers: Mapping[str, str]
    budget: RateBudget = dataclasses.field(default_factory=RateBudget)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    deadline: float | None = None
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        problem = base_url_problem(self.base_url, self.provider)
        if problem is not None:  # the value is not echoed: it may be a URL with credentials in it
            raise ValueError(f"{self.provider}: api_base_url {problem}")
        parsed = urllib.parse.urlsplit(self.base_url)
        self._origin = (parsed.scheme, parsed.netloc)
        self._prefix = parsed.path.rstrip("/")

    def url(self, path_or_url: str, params: Mapping[str, str] | None = None) -> str:
        """The absolute URL of a path (joined to the base URL) or of a URL the provider returned."""
        parsed = urllib.parse.urlsplit(path_or_url)
        if parsed.scheme or parsed.netloc:
            if (parsed.scheme, parsed.netloc) != self._origin:
                raise ProviderApiError(
                    self.provider, _call("GET", parsed.path), "foreign_host", "the API returned a URL on another host",
                    retryable=False,
                )  # fmt: skip
            url = path_or_url
        else:
            url = f"{self._origin[0]}://{self._origin[1]}{self._prefix}{path_or_url}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return url

    def request(
        self, method: str, path_or_url: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """One JSON call with retries. Returns the decoded JSON object. Raises `ProviderApiError`."""
        url = self.url(path_or_url, params)
        call = _call(method, urllib.parse.urlsplit(url).path)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        last: ProviderApiError | None = None
        for attempt in range(self.max_attempts):
            self._check_deadline(call)
            self.budget.take(self.provider, call, self.sleep)
            wait: float | None = None
            try:
                return self._once(method, url, data, headers, call)
            except _Retry as retry:
                last, wait = retry.error, retry.after
            if attempt + 1 == self.max_attempts:
                break
            if wait is None:
                wait = self.jitter() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
            if self.deadline is not None and time.monotonic() + wait > self.deadline:
                break
            self.sleep(wait)
        assert last is not None
        raise last

    def _check_deadline(self, call: str) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ProviderApiError(self.provider, call, "deadline", "no time left in this run", retryable=True)

    def _once(self, method: str, url: str, data: bytes | None, headers: dict[str, str], call: str) -> dict[str, Any]:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - scheme checked
        timeout = self.timeout_seconds
        if self.deadline is not None:
            timeout = max(0.1, min(timeout, self.deadline - time.monotonic()))
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            status = error.code
            after = retry_after_seconds(error.headers.get("Retry-After") if error.headers else None)
            error.close()
            if status in (401, 403):
                raise ProviderApiError(
                    self.provider, call, "credential_refused", f"HTTP {status}: check the API key's secret and scope",
                    retryable=False, status=status,
                ) from None  # fmt: skip
            if status == 429:
                raise _Retry(self._error(call, "rate_limited", f"HTTP {status}"), after) from None
            if status >= 500:
                raise _Retry(self._error(call, "server_error", f"HTTP {status}"), after) from None
            raise ProviderApiError(
                self.provider, call, "client_error", f"HTTP {status}", retryable=False, status=status
            ) from None
        except TimeoutError:
            raise _Retry(self._error(call, "timeout", f"no answer within {timeout:.1f} s"), None) from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            raise _Retry(self._error(call, "connection_error", type(error).__name__), None) from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise _Retry(self._error(call, "malformed_response", "response too large"), None)
        try:
            # Strict, as at the door: decimals never pass a float, duplicate keys are refused.
            _text, document = strict_json.decode(raw)
        except strict_json.JsonDecodeError as error:
            raise _Retry(self._error(call, "malformed_response", f"not JSON ({error.reason})"), None) from None
        if not isinstance(document, dict):
            raise _Retry(self._error(call, "malformed_response", "not a JSON object"), None)
        return document

    def _error(self, call: str, reason: str, detail: str) -> ProviderApiError:
        return ProviderApiError(self.provider, call, reason, detail, retryable=True)


class _Retry(Exception):
    def __init__(self, error: ProviderApiError, after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.after = after


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could leave the configured host with the credential: refused (it surfaces as a 3xx)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy handler from the environment either: egress goes straight to the configured host.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _call(method: str, path: str) -> str:
    return f"{method} {path}"
