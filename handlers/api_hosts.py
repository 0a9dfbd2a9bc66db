"""The hosts a provider API client may be sent a credential to: one table for the Lambdas and the synth.

The Lambdas' client (handlers/provider_api.py `ApiClient`) refuses any other base URL at runtime, and the
synth (modules/reconcile_config.py `api_base_url_problem`, which reads this file) refuses it before
deploying, so a `SOURCES`/`RECONCILE_SOURCES` edited outside the synth (console, a hand-written sandbox
config) still cannot send `Authorization: Bearer live_...` elsewhere (R2-1). Stdlib only: the synth loads
this file without handlers/ on `sys.path`.

Allowed: `https://` on the provider's production host or its documented sandbox host (default port, an
optional trailing `/`, nothing else: no userinfo, port, path, query or fragment), or a local stub over
plain http on localhost, 127.0.0.1 or host.docker.internal (tests, the sandbox).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The provider's own API hosts: the production host and the provider's documented sandbox host, which
# takes the sandbox account's keys: Paddle https://developer.paddle.com/sdks/sandbox (sandbox-api.paddle.com),
# GoCardless https://developer.gocardless.com/getting-started/set-up (Sandbox: its own API URL,
# api-sandbox.gocardless.com), Square https://developer.squareup.com/docs/testing/sandbox
# (connect.squareupsandbox.com). Stripe and Mollie serve test mode from the production host (test keys).
# Any other host would be sent the provider's API key: a typo or a hostile config must not do that.
API_HOSTS: Mapping[str, tuple[str, ...]] = {
    "stripe": ("api.stripe.com",),
    "paddle": ("api.paddle.com", "sandbox-api.paddle.com"),
    "gocardless": ("api.gocardless.com", "api-sandbox.gocardless.com"),
    "square": ("connect.squareup.com", "connect.squareupsandbox.com"),
    "mollie-classic": ("api.mollie.com",),
}
# Local stubs (tests, the sandbox) are the only other hosts accepted, over plain http; the whole URL is
# matched, so `http://localhost@evil.example` or `http://localhost.evil.example` are not local.
LOCAL_HTTP = re.compile(r"^http://(localhost|127\.0\.0\.1|host\.docker\.internal)(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
LOCAL_STUB = "a local stub http://localhost|127.0.0.1|host.docker.internal[:port][/path]"


def base_url_problem(value: Any, provider: str) -> str | None:
    """None for `provider`'s own API (`https://<one of API_HOSTS[provider]>`, an optional trailing `/`) or
    a local stub, else what is wrong, naming the allowed values. An exact string match, never a parse: a
    suffix (`api.mollie.com.evil.example`), userinfo (`api.mollie.com@evil.example`) or port cannot pass."""
    allowed = [f"https://{host}" for host in API_HOSTS.get(provider, ())]
    if isinstance(value, str) and (value.rstrip("/") in allowed or LOCAL_HTTP.fullmatch(value)):
        return None
    own = f"{' or '.join(allowed)} ({provider}'s API: it is sent the API key) or " if allowed else ""
    return f"must be {own}{LOCAL_STUB}"
