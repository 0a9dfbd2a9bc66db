"""The reconciler under test: a provider stub served by pytest-httpserver, moto tables, the real door.

`Harness` wires one source of one provider: the stub holds the provider's events; `deliver` posts one
of them to the door (`validator.process`) signed the way the provider signs; `run` reconciles through
`reconciler.reconcile` with the stub's URL as `api_base_url`.
"""

from __future__ import annotations

import datetime
import importlib
import itertools
import json
import re
import sys
from types import ModuleType
from typing import Any

import boto3
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline_tools.sandbox.provider_stubs import STUB_API_KEY, STUBS, ProviderStub, StubRequest
from tests.handlers.helpers import REGION, fresh_import
from tests.handlers.providers.signing import paddle_header, square_signature, stripe_header
from tests.handlers.providers.signing_b import gocardless_signature

SOURCE = "shop"
WEBHOOK_SECRETS = {
    "stripe": "whsec_Rk7pQ2xV9mZ4tL8nW3cY6bJ1hF5dA0",
    "paddle": "pdl_ntfset_01hv8x2bqcm3kzw6b1y4n9p0t1_Rk7pQ2xV9mZ4",
    "gocardless": "Gc7pQ2xV9mZ4tL8nW3cY6bJ1hF5d",
    "square": "Sq7pQ2xV9mZ4tL8nW3cY6bJ1hF5d",
    # Classic Mollie signs nothing: its source secret is the Mollie key the door fetches with (the stub's).
    "mollie-classic": "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
}
NOTIFICATION_URL = "https://hooks.example.test/webhook/shop"
# The event-level providers (a state-level one lists objects: tests/handlers/reconcile/test_reconciler_state.py).
PROVIDERS = tuple(provider for provider in STUBS if provider != "mollie-classic")
_RECONCILER_MODULES = ("reconciler", "reconcile_state", "provider_api", "reconcile_apis")
_counter = itertools.count()


def fresh_reconciler() -> ModuleType:
    """Import the reconciler (and the door it writes through) as a cold start would."""
    for name in list(sys.modules):
        if name in _RECONCILER_MODULES or name.startswith("reconcile_apis."):
            sys.modules.pop(name)
    fresh_import("validator")
    return importlib.import_module("reconciler")


def serve_stub(server: HTTPServer, stub: ProviderStub) -> None:
    """Every request to `server` is answered by `stub`."""

    def handle(request: Request) -> Response:
        answer = stub.answer(
            StubRequest(
                method=request.method,
                path=request.path,
                query=dict(request.args.items()),
                headers={name.lower(): value for name, value in request.headers.items()},
                body=request.get_data(),
            )
        )
        return Response(answer.body, status=answer.status, headers=dict(answer.headers))

    server.expect_request(re.compile(".*")).respond_with_handler(handle)
    stub.base_url = server.url_for("").rstrip("/")


class Harness:
    """One source `shop` of `provider`, with fresh tables (unique names: several per moto session)."""

    def __init__(
        self, provider: str, server: HTTPServer, monkeypatch: Any, *, page_size: int | None = None, enrich: bool = False
    ) -> None:
        self.provider = provider
        suffix = next(_counter)
        self.events_table = f"transaction-events-r{suffix}"
        self.state_table = f"webhook-reconciler-state-r{suffix}"
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=self.events_table,
            KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName=self.state_table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb = dynamodb
        secrets = boto3.client("secretsmanager", region_name=REGION)
        self.webhook_secret_arn = secrets.create_secret(
            Name=f"webhook-source-shop-r{suffix}",
            SecretString=json.dumps({"secrets": [WEBHOOK_SECRETS[provider]]}),
        )["ARN"]
        # Mollie's keys have their own shape (the door parses it): the stub answers that key instead.
        self.api_key = WEBHOOK_SECRETS[provider] if provider == "mollie-classic" else STUB_API_KEY
        self.api_secret_arn = secrets.create_secret(
            Name=f"webhook-source-shop-api-r{suffix}", SecretString=json.dumps({"api_key": self.api_key})
        )["ARN"]
        self.stub = STUBS[provider](api_key=self.api_key)
        server.clear()
        serve_stub(server, self.stub)
        options: dict[str, Any] = {"notification_url": NOTIFICATION_URL} if provider == "square" else {}
        if provider == "mollie-classic":
            options = {"api_base_url": self.stub.base_url}  # the door fetches from the same stub
        monkeypatch.setenv("EVENTS_TABLE_NAME", self.events_table)
        monkeypatch.setenv("RECONCILER_STATE_TABLE", self.state_table)
        if enrich:
            # What the synth writes for `"enrich": true` (modules/sources_config.py), the secret by its ARN here.
            options["enrich"] = {"api_secret": self.api_secret_arn, "api_base_url": self.stub.base_url}
        monkeypatch.setenv(
            "SOURCES",
            json.dumps({SOURCE: {"provider": provider, "secret_arn": self.webhook_secret_arn, **options}}),
        )
        monkeypatch.setenv(
            "RECONCILE_SOURCES",
            json.dumps(
                {
                    SOURCE: {
                        "provider": provider,
                        "api_secret_arn": self.api_secret_arn,
                        "api_base_url": self.stub.base_url,
                        **({"enrich": True} if enrich else {}),
                    }
                }
            ),
        )
        self.reconciler = fresh_reconciler()
        self.validator = sys.modules["validator"]
        self.api = sys.modules["reconcile_apis"].load(provider)
        if page_size is not None:
            monkeypatch.setattr(self.api, "PAGE_SIZE", page_size)
        self.settings = self.reconciler.load_settings(json.dumps(json.loads(_env("RECONCILE_SOURCES"))))[SOURCE]
        self.sleeps: list[float] = []

    # --- the provider's side -------------------------------------------------------------------

    def add_events(self, count: int, now: datetime.datetime, ages: list[datetime.timedelta] | None = None) -> list[str]:
        """`count` events, oldest first, each `ages[i]` before `now` (default: i+1 minutes from a day ago)."""
        ids = []
        for index in range(count):
            age = ages[index] if ages else datetime.timedelta(days=1) - datetime.timedelta(minutes=index + 1)
            event = self.stub.make_event(index, now - age)
            self.stub.add(event)
            ids.append(f"{SOURCE}:{self.api.event_id(event)}")
        return ids

    def deliver(self, index: int | list[int], now: datetime.datetime) -> int:
        """Post stub event `index` (for GoCardless, a list: one batch) to the door as the provider would;
        the door's status code."""
        return self.deliver_answer(index, now)["statusCode"]

    def deliver_answer(self, index: int | list[int], now: datetime.datetime) -> dict[str, Any]:
        """`deliver`, the whole answer."""
        indexes = index if isinstance(index, list) else [index]
        raw = self.stub.events[indexes[0]]
        headers: dict[str, str]
        secret = WEBHOOK_SECRETS[self.provider]
        if self.provider == "mollie-classic":
            # Unsigned: the payment's id; the door fetches what the stub holds for it now.
            body = f"id={raw['id']}".encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        elif self.provider == "gocardless":
            body = json.dumps({"events": [self.stub.events[i] for i in indexes]}).encode()
            headers = {"Webhook-Signature": gocardless_signature(body, secret)}
        else:
            body = json.dumps(raw).encode()
            if self.provider == "stripe":
                headers = {"Stripe-Signature": stripe_header([secret], body, int(now.timestamp()))}
            elif self.provider == "paddle":
                headers = {"Paddle-Signature": paddle_header([secret], body, int(now.timestamp()))}
            else:
                headers = {"X-Square-HmacSha256-Signature": square_signature(secret, NOTIFICATION_URL, body)}
        event = {
            "resource": "/webhook/{source}",
            "pathParameters": {"source": SOURCE},
            "headers": headers,
            "body": body.decode(),
            "isBase64Encoded": False,
            "requestContext": {"domainName": "hooks.example.test", "path": "/webhook/shop"},
        }
        return self.validator.process(event, now)

    # --- our side ---------------------------------------------------------------------------------

    def client(self, *, max_requests: int = 1000, timeout_seconds: float = 5.0) -> Any:
        provider_api = sys.modules["provider_api"]
        return provider_api.ApiClient(
            provider=self.provider,
            base_url=self.settings.api_base_url,
            headers=self.api.auth_headers(self.api_key),
            budget=provider_api.RateBudget(max_requests=max_requests, min_interval=0.0),
            timeout_seconds=timeout_seconds,
            sleep=self.sleeps.append,
            jitter=lambda: 1.0,
        )

    def state(self) -> Any:
        return sys.modules["reconcile_state"].ReconcileState(self.dynamodb, self.state_table, sleep=lambda _: None)

    def run(self, now: datetime.datetime, **kwargs: Any) -> Any:
        client = kwargs.pop("client", None) or self.client()
        return self.reconciler.reconcile(self.settings, client=client, state=self.state(), now=now, **kwargs)

    def items(self) -> dict[str, dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.events_table)
        return {item["event_id"]["S"]: item for page in pages for item in page["Items"]}


def _env(name: str) -> str:
    import os

    return os.environ[name]
