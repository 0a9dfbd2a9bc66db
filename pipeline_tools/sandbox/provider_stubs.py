"""Local stand-ins for the event-listing APIs of Stripe, Paddle, GoCardless and Square.

Each stub holds a list of events (the providers' own fixture objects with other ids and times) and
answers the one call the reconciler makes the way the provider documents it: the same path and
method, the same filter and paging parameters, the same page shape. tests/handlers/reconcile checks
every stub against the provider's official SDK (the SDK sends its request to the stub and must parse
the answer), so a stub cannot drift from the real API unnoticed.

Pure functions of a request (`StubRequest`) -> `StubResponse`: the tests serve them with
pytest-httpserver, the sandbox with `http.server` (`serve`). Faults can be queued (`fail_next`):
each queued answer replaces the next real one.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.server
import json
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "providers"
STUB_API_KEY = "sandbox-read-only-key"
# Mollie's stub answers a Mollie-shaped key: a mollie-classic source's door parses its secret as one
# (handlers/providers/mollie_classic.py), and the sandbox puts this key in that secret and the API secret.
MOLLIE_STUB_KEY = "test_SandboxMollieStub7Key0123456789"


@dataclasses.dataclass(frozen=True)
class StubRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""


@dataclasses.dataclass(frozen=True)
class StubResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _json(status: int, value: Any, headers: Mapping[str, str] | None = None) -> StubResponse:
    return StubResponse(status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})


def _instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso_ms(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ProviderStub:
    """One provider's event list. Subclasses define `provider`, `routes`, `make_event`, `created_of`."""

    provider = ""
    fixture = ""  # the file under tests/fixtures/providers/<provider>/ that `make_event` starts from

    def __init__(self, base_url: str = "", api_key: str = STUB_API_KEY) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.events: list[dict[str, Any]] = []
        self.requests: list[StubRequest] = []
        self._faults: list[StubResponse | Callable[[], StubResponse]] = []
        self._lock = threading.Lock()

    def fail_next(self, *answers: StubResponse | Callable[[], StubResponse]) -> None:
        self._faults.extend(answers)

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def intercept(self, request: StubRequest) -> StubResponse | None:
        """Records `request`; the next queued fault, or the provider's 401 for a wrong key; None to go on."""
        with self._lock:
            self.requests.append(request)
            if self._faults:
                fault = self._faults.pop(0)
                return fault() if callable(fault) else fault
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self.unauthorized()
        return None

    def answer(self, request: StubRequest) -> StubResponse:
        early = self.intercept(request)
        if early is not None:
            return early
        handler = self.routes().get((request.method, request.path)) or self.object_route(request)
        if handler is None:
            return _json(404, {"error": f"no route {request.method} {request.path}"})
        return handler(request)

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        raise NotImplementedError

    def object_route(self, request: StubRequest) -> Callable[[StubRequest], StubResponse] | None:
        """A route with an id in its path (`GET /payments/{id}`); None: no such route."""
        return None

    def unauthorized(self) -> StubResponse:
        return _json(401, {"error": "unauthorized"})

    def between(self, since: datetime.datetime | None, until: datetime.datetime | None) -> list[dict[str, Any]]:
        return [
            event
            for event in self.events
            if (since is None or self.created_of(event) >= since) and (until is None or self.created_of(event) < until)
        ]

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        raise NotImplementedError

    def make_event(self, index: int, created: datetime.datetime) -> dict[str, Any]:
        """The provider's fixture event with the id of `index` and the creation time `created`."""
        return self.restamp(_fixture(self.provider, self.fixture), index, created)

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        """`event` (the provider's shape) with the id of `index` and the creation time `created`."""
        raise NotImplementedError


def _fixture(provider: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / provider / name).read_text())


class StripeStub(ProviderStub):
    """`GET /v1/events`: newest first; `created[gte]`, `created[lt]`, `limit` (1..100), `starting_after`."""

    provider = "stripe"

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        return {("GET", "/v1/events"): self.list_events}

    def list_events(self, request: StubRequest) -> StubResponse:
        query = request.query
        limit = int(query.get("limit", "10"))
        if not 1 <= limit <= 100:
            return _json(400, {"error": {"type": "invalid_request_error", "param": "limit"}})
        since = query.get("created[gte]")
        until = query.get("created[lt]")
        events = self.between(
            datetime.datetime.fromtimestamp(int(since), tz=datetime.UTC) if since else None,
            datetime.datetime.fromtimestamp(int(until), tz=datetime.UTC) if until else None,
        )
        events.sort(key=lambda event: (event["created"], event["id"]), reverse=True)
        after = query.get("starting_after")
        if after:
            ids = [event["id"] for event in events]
            events = events[ids.index(after) + 1 :] if after in ids else []
        page = events[:limit]
        return _json(200, {"object": "list", "url": "/v1/events", "has_more": len(events) > limit, "data": page})

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(event["created"], tz=datetime.UTC)

    fixture = "payment_intent.succeeded.json"

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        event["id"] = f"evt_test{index:016d}"
        event["created"] = int(created.timestamp())
        if isinstance((event.get("data") or {}).get("object"), dict):
            event["data"]["object"]["id"] = f"pi_test{index:016d}"
        return event


class PaddleStub(ProviderStub):
    """`GET /events`: `from`/`to` (RFC 3339), `order_by=id[asc]`, `per_page` (1..200), `after`; the next
    page is a full URL in `meta.pagination.next`."""

    provider = "paddle"

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        return {("GET", "/events"): self.list_events}

    def list_events(self, request: StubRequest) -> StubResponse:
        query = request.query
        per_page = min(int(query.get("per_page", "50")), 200)
        since, until = query.get("from"), query.get("to")
        events = self.between(_instant(since) if since else None, _instant(until) if until else None)
        events.sort(key=lambda event: event["event_id"], reverse=query.get("order_by", "").lower() == "id[desc]")
        after = query.get("after")
        if after:
            events = [event for event in events if event["event_id"] > after]
        page = events[:per_page]
        has_more = len(events) > per_page
        following = None
        if page:
            next_query = {**query, "after": page[-1]["event_id"]}
            following = f"{self.base_url}/events?{urllib.parse.urlencode(next_query)}"
        pagination = {"per_page": per_page, "next": following, "has_more": has_more, "estimated_total": len(events)}
        return _json(200, {"data": page, "meta": {"request_id": "stub", "pagination": pagination}})

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        return _instant(event["occurred_at"])

    fixture = "transaction.completed.json"

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        # Paddle ids sort by creation (ULID-like): the index keeps that order for events made in order.
        event["event_id"] = f"evt_01test{index:020d}"
        event["occurred_at"] = created.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return event


class GoCardlessStub(ProviderStub):
    """`GET /events`: newest first; `created_at[gte]`, `created_at[lt]`, `limit` (1..500), `after`;
    `meta.cursors.after` is the last id while more remain, else null.

    `GET /payments/{id}` and `GET /refunds/{id}` (the amounts a source with `"enrich": true` fetches):
    the official SDK's fixture answers (`sdk_fixture_payment_get.json`, `sdk_fixture_refund_get.json`)
    with the id, amount and currency of each object added (`add_payment`, `add_refund`); an unknown id
    is GoCardless's documented 404 (`invalid_api_usage`, `resource_not_found`)."""

    provider = "gocardless"

    def __init__(self, base_url: str = "", api_key: str = STUB_API_KEY) -> None:
        super().__init__(base_url, api_key)
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"payments": {}, "refunds": {}}

    def add_payment(self, payment_id: str, amount: int | str, currency: str) -> None:
        self._add("payments", "sdk_fixture_payment_get.json", payment_id, amount, currency)

    def add_refund(self, refund_id: str, amount: int | str, currency: str, payment_id: str = "PM123") -> None:
        self._add("refunds", "sdk_fixture_refund_get.json", refund_id, amount, currency)
        self.objects["refunds"][refund_id]["links"]["payment"] = payment_id

    def _add(self, resource: str, fixture: str, object_id: str, amount: int | str, currency: str) -> None:
        obj = _fixture("gocardless", f"api/{fixture}")[resource]
        self.objects[resource][object_id] = {**obj, "id": object_id, "amount": amount, "currency": currency}

    def object_route(self, request: StubRequest) -> Callable[[StubRequest], StubResponse] | None:
        resource, _, object_id = request.path.strip("/").partition("/")
        if request.method != "GET" or resource not in self.objects or not object_id or "/" in object_id:
            return None
        return lambda _request: self.get_object(resource, object_id)

    def get_object(self, resource: str, object_id: str) -> StubResponse:
        obj = self.objects[resource].get(object_id)
        if obj is None:
            error = {"type": "invalid_api_usage", "code": 404, "message": "Resource not found",
                     "errors": [{"reason": "resource_not_found", "message": "Resource not found"}]}  # fmt: skip
            return _json(404, {"error": error})
        return _json(200, {resource: obj})

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        return {("GET", "/events"): self.list_events}

    def list_events(self, request: StubRequest) -> StubResponse:
        query = request.query
        limit = min(int(query.get("limit", "50")), 500)
        since, until = query.get("created_at[gte]"), query.get("created_at[lt]")
        events = self.between(_instant(since) if since else None, _instant(until) if until else None)
        events.sort(key=lambda event: (event["created_at"], event["id"]), reverse=True)
        after = query.get("after")
        if after:
            ids = [event["id"] for event in events]
            events = events[ids.index(after) + 1 :] if after in ids else []
        page = events[:limit]
        more = len(events) > limit
        meta = {"cursors": {"before": None, "after": page[-1]["id"] if more else None}, "limit": limit}
        return _json(200, {"events": page, "meta": meta})

    def unauthorized(self) -> StubResponse:
        return _json(401, {"error": {"type": "invalid_api_usage", "code": 401, "message": "Invalid token"}})

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        return _instant(event["created_at"])

    def make_event(self, index: int, created: datetime.datetime) -> dict[str, Any]:
        return self.restamp(_fixture("gocardless", "sdk_fixture_webhook_body.json")["events"][0], index, created)

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        event["id"] = f"EV{index:012d}"
        event["created_at"] = _iso_ms(created)
        return event


class SquareStub(ProviderStub):
    """`POST /v2/events` SearchEvents (`query.filter.created_at`, `query.sort`, `limit` <= 100, `cursor`),
    and `PUT /v2/events/enable`: nothing is searchable before it."""

    provider = "square"

    def __init__(self, base_url: str = "", api_key: str = STUB_API_KEY) -> None:
        super().__init__(base_url, api_key)
        self.enabled = False

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        return {("POST", "/v2/events"): self.search_events, ("PUT", "/v2/events/enable"): self.enable}

    def enable(self, request: StubRequest) -> StubResponse:
        self.enabled = True
        return _json(200, {})

    def search_events(self, request: StubRequest) -> StubResponse:
        body = json.loads(request.body or b"{}")
        limit = min(int(body.get("limit") or 100), 100)
        query = body.get("query") or {}
        window = (query.get("filter") or {}).get("created_at") or {}
        since, until = window.get("start_at"), window.get("end_at")
        events = self.between(_instant(since) if since else None, _instant(until) if until else None)
        if not self.enabled:
            events = []
        descending = (query.get("sort") or {}).get("order", "DESC") == "DESC"
        events.sort(key=lambda event: (event["created_at"], event["event_id"]), reverse=descending)
        start = int(body.get("cursor") or 0)
        page = events[start : start + limit]
        answer: dict[str, Any] = {"events": page, "metadata": [{"event_id": e["event_id"]} for e in page]}
        if start + limit < len(events):
            answer["cursor"] = str(start + limit)
        return _json(200, answer)

    def unauthorized(self) -> StubResponse:
        return _json(401, {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]})

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        return _instant(event["created_at"])

    fixture = "payment.created.json"

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        event["event_id"] = f"00000000-0000-4000-8000-{index:012d}"
        event["created_at"] = _iso_ms(created)
        return event


_MOLLIE_DOCS = {"href": "https://docs.mollie.com/reference/v2/payments-api/get-payment", "type": "text/html"}


def _mollie_error(status: int, title: str, detail: str) -> StubResponse:
    """Mollie's error body (https://docs.mollie.com/overview/handling-errors): status, title, detail, links."""
    body = {"status": status, "title": title, "detail": detail, "_links": {"documentation": _MOLLIE_DOCS}}
    return StubResponse(status, json.dumps(body).encode(), {"Content-Type": "application/hal+json"})


class MollieStub(ProviderStub):
    """Mollie's Payments API as a classic webhook's fetch and a state-level listing read it.

    `GET /v2/payments/{id}` (`embed=refunds,chargebacks`: their objects under `_embedded`, as the Get payment
    reference documents) and the lists `GET /v2/payments`, `GET /v2/refunds`, `GET /v2/chargebacks` (newest
    first, `from` = the id to start at, `limit` 1..250, `_links.next.href` while more remain). Each held payment is Mollie's documented Get payment example
    (tests/fixtures/provider_apis/mollie/) with another id, status and times; refunds and chargebacks
    are kept under `_embedded` and only shown when embedded. Errors are Mollie's JSON error shape.
    """

    provider = "mollie-classic"
    # An API answer, not a webhook: kept apart from the webhook samples of tests/fixtures/providers/.
    fixture_path = FIXTURES.parent / "provider_apis" / "mollie" / "get_payment_paid.json"
    PAYMENT_PATH = "/v2/payments"

    def __init__(self, base_url: str = "", api_key: str = MOLLIE_STUB_KEY) -> None:
        super().__init__(base_url, api_key)

    def make_event(self, index: int, created: datetime.datetime) -> dict[str, Any]:
        """Mollie's documented Get payment example (paid 10.00 EUR) with the id of `index`, created `created`."""
        return self.restamp(json.loads(self.fixture_path.read_text()), index, created)

    def answer(self, request: StubRequest) -> StubResponse:
        early = self.intercept(request)
        if early is not None:
            return early
        if request.method == "GET" and request.path == self.PAYMENT_PATH:
            return self.list_payments(request)
        for key in ("refunds", "chargebacks"):
            if request.method == "GET" and request.path == f"/v2/{key}":
                if key == "chargebacks" and self.api_key.startswith("access_") and not request.query.get("profileId"):
                    # List chargebacks: `profileId` "required for access tokens"
                    # (https://docs.mollie.com/reference/v2/chargebacks-api/list-chargebacks).
                    return _mollie_error(422, "Unprocessable Entity", "The profile id is invalid")
                return self._list(request, key, self.held(key, request.query.get("profileId")))
        prefix = self.PAYMENT_PATH + "/"
        if request.method == "GET" and request.path.startswith(prefix) and "/" not in request.path[len(prefix) :]:
            return self.get_payment(request, request.path[len(prefix) :])
        return _mollie_error(404, "Not Found", f"no route {request.method} {request.path}")

    def routes(self) -> dict[tuple[str, str], Callable[[StubRequest], StubResponse]]:
        return {}

    def unauthorized(self) -> StubResponse:
        return _mollie_error(401, "Unauthorized Request", "Missing authentication, or failed to authenticate")

    def payment(self, identifier: str) -> dict[str, Any] | None:
        return next((payment for payment in self.events if payment["id"] == identifier), None)

    def shown(self, payment: dict[str, Any], embed: str) -> dict[str, Any]:
        """The payment as the API shows it: `_embedded` only with the asked-for lists."""
        wanted = {name for name in embed.split(",") if name}
        held = payment.get("_embedded", {})
        shown = {key: value for key, value in payment.items() if key != "_embedded"}
        embedded = {name: held.get(name, []) for name in sorted(wanted & {"refunds", "chargebacks", "captures"})}
        if embedded:
            shown["_embedded"] = embedded
        return json.loads(json.dumps(shown))

    def get_payment(self, request: StubRequest, identifier: str) -> StubResponse:
        payment = self.payment(identifier)
        if payment is None:
            return _mollie_error(404, "Not Found", f"No payment exists with token {identifier}.")
        return StubResponse(200, json.dumps(self.shown(payment, request.query.get("embed", ""))).encode(),
                            {"Content-Type": "application/hal+json"})  # fmt: skip

    def list_payments(self, request: StubRequest) -> StubResponse:
        """List payments: with `profileId`, that profile's only; without, every held payment (with an access
        token Mollie "will return all payments across all profiles":
        https://docs.mollie.com/reference/v2/payments-api/list-payments)."""
        embed = request.query.get("embed", "")
        profile = request.query.get("profileId")
        payments = [p for p in self.events if not profile or p.get("profileId") == profile]
        return self._list(request, "payments", [self.shown(payment, embed) for payment in payments])

    def held(self, key: str, profile: str | None = None) -> list[dict[str, Any]]:
        """Every refund or chargeback of every held payment (what `GET /v2/refunds`, `/v2/chargebacks` list),
        of the payments of `profile` only when it is given."""
        payments = [p for p in self.events if not profile or p.get("profileId") == profile]
        return [json.loads(json.dumps(item)) for p in payments for item in p.get("_embedded", {}).get(key, [])]

    def _list(self, request: StubRequest, key: str, objects: list[dict[str, Any]]) -> StubResponse:
        """Mollie's list shape: newest first, `from` (the id to start at), `limit` 1..250 (default 50)."""
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 250:
            return _mollie_error(400, "Bad Request", "The limit must be between 1 and 250.")
        ordered = sorted(objects, key=lambda item: (item["createdAt"], item["id"]), reverse=True)
        start = request.query.get("from")
        if start:
            ids = [item["id"] for item in ordered]
            ordered = ordered[ids.index(start) :] if start in ids else []
        page, rest = ordered[:limit], ordered[limit:]
        link = f"{self.base_url}{request.path}"
        profile = f"&profileId={request.query['profileId']}" if request.query.get("profileId") else ""
        next_link = (
            {"href": f"{link}?from={rest[0]['id']}&limit={limit}{profile}", "type": "application/hal+json"}
            if rest
            else None
        )
        body = {
            "count": len(page),
            "_embedded": {key: page},
            "_links": {"self": {"href": link, "type": "application/hal+json"}, "previous": None, "next": next_link,
                       "documentation": _MOLLIE_DOCS},
        }  # fmt: skip
        return StubResponse(200, json.dumps(body).encode(), {"Content-Type": "application/hal+json"})

    def created_of(self, event: dict[str, Any]) -> datetime.datetime:
        return _instant(event["createdAt"])

    def restamp(self, event: dict[str, Any], index: int, created: datetime.datetime) -> dict[str, Any]:
        identifier = f"tr_{index:010d}"
        event["id"] = identifier
        event["createdAt"] = event["paidAt"] = _iso_ms(created)
        event["_links"]["self"]["href"] = f"https://api.mollie.com/v2/payments/{identifier}"
        return event

    def set_state(self, identifier: str, status: str, at: datetime.datetime, **fields: Any) -> dict[str, Any]:
        """Move a held payment to `status` at `at` (its `<status>At` time), as Mollie would."""
        payment = self.payment(identifier)
        assert payment is not None, identifier
        payment["status"] = status
        payment.update(fields)
        if status != "open" and status != "pending":
            payment[f"{status}At"] = _iso_ms(at)
        return payment

    def add_refund(self, identifier: str, refund_id: str, value: str, status: str, at: datetime.datetime) -> None:
        payment = self.payment(identifier)
        assert payment is not None, identifier
        refunds = payment.setdefault("_embedded", {}).setdefault("refunds", [])
        refunds[:] = [refund for refund in refunds if refund["id"] != refund_id]
        refunds.append({
            "resource": "refund", "id": refund_id, "amount": {"value": value, "currency": payment["amount"]["currency"]},
            "status": status, "createdAt": _iso_ms(at), "description": "Refund", "paymentId": identifier,
            "settlementAmount": {"value": f"-{value}", "currency": payment["amount"]["currency"]},
        })  # fmt: skip
        # Mollie keeps the payment's running totals up to date without a status change (Get payment:
        # `amountRefunded`, `amountRemaining`): what a stored projection must leave out.
        refunded = sum(
            (Decimal(r["amount"]["value"]) for r in refunds if r["status"] not in ("failed", "canceled")), Decimal(0)
        )
        currency = payment["amount"]["currency"]
        payment["amountRefunded"] = {"value": f"{refunded:.2f}", "currency": currency}
        payment["amountRemaining"] = {
            "value": f"{Decimal(payment['amount']['value']) - refunded:.2f}",
            "currency": currency,
        }

    def add_chargeback(
        self, identifier: str, chargeback_id: str, value: str, at: datetime.datetime,
        reversed_at: datetime.datetime | None = None,
    ) -> None:  # fmt: skip
        payment = self.payment(identifier)
        assert payment is not None, identifier
        chargebacks = payment.setdefault("_embedded", {}).setdefault("chargebacks", [])
        chargebacks[:] = [chargeback for chargeback in chargebacks if chargeback["id"] != chargeback_id]
        chargebacks.append({
            "resource": "chargeback", "id": chargeback_id,
            "amount": {"value": value, "currency": payment["amount"]["currency"]},
            "settlementAmount": {"value": f"-{value}", "currency": payment["amount"]["currency"]},
            "createdAt": _iso_ms(at), "reversedAt": _iso_ms(reversed_at) if reversed_at else None,
            "paymentId": identifier,
        })  # fmt: skip
        charged_back = sum((Decimal(c["amount"]["value"]) for c in chargebacks if not c["reversedAt"]), Decimal(0))
        payment["amountChargedBack"] = {"value": f"{charged_back:.2f}", "currency": payment["amount"]["currency"]}


STUBS: Mapping[str, type[ProviderStub]] = {
    "stripe": StripeStub,
    "paddle": PaddleStub,
    "gocardless": GoCardlessStub,
    "square": SquareStub,
    "mollie-classic": MollieStub,
}


def serve(stub: ProviderStub, host: str = "127.0.0.1", port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve `stub` over HTTP in a daemon thread (the sandbox's provider API); returns the server
    (`server.server_address` has the port; `server.shutdown()` stops it)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = StubRequest(
                method=self.command,
                path=parsed.path,
                query=dict(urllib.parse.parse_qsl(parsed.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            response = stub.answer(request)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    stub.base_url = f"http://{host}:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
