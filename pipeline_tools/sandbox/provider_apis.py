"""The sandbox's stand-in for the providers' own APIs: one stub per reconciling source, on one loopback port.

`sandbox.json` points each reconciling source's `api_base_url` at `http://127.0.0.1:<port>/<source>`;
this server answers `/<source>/...` with that source's `ProviderStub` (provider_stubs.py: the same
stubs the handler tests check against the providers' official SDKs), so the deployed reconciler code
talks to it exactly as it would talk to the provider. If the configured port is taken (another sandbox
serves it), a free port is used instead and the caller points the in-process reconciler (and the
outputs file's `provider_api_stubs`, which `pipeline_tools reconcile` reads) at it.

Besides the provider's own routes, one sandbox-only route plays the provider creating an event whose
webhook never reaches the door (a "dropped webhook"):

    POST /_sandbox/<source>/events   {"count": N} or {"event": {...the provider's event shape...}}
        -> 201 {"events": [...]}: N fixture events (or the given one) with fresh ids, created now
    GET  /_sandbox/<source>/events   -> 200 {"events": [...]}: everything the stub holds

and, for a GoCardless source, the objects its `"enrich": true` fetches amounts from:

    POST /_sandbox/<source>/objects  {"payments": {"id": "PM…", "amount": 1234, "currency": "GBP"}}
                                     or {"refunds": {"id": "RF…", "amount": 500, "currency": "GBP", "payment": "PM…"}}
        -> 201 {"<resource>": {...}}: what `GET /payments/{id}` (`/refunds/{id}`) answers from now on

Both need the stub's key (`Authorization: Bearer <STUB_API_KEY>`), like the provider routes.
"""

from __future__ import annotations

import datetime
import http.server
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pipeline_tools.sandbox.provider_stubs import (
    STUB_API_KEY,
    STUBS,
    GoCardlessStub,
    ProviderStub,
    StubRequest,
    StubResponse,
)

ADMIN_PREFIX = "/_sandbox/"
MAX_EVENTS_PER_DROP = 500


class ProviderApiServer:
    """Serves `{source: provider}` on `host:port` (0 or a taken port: a free one). `base_urls` maps each
    source to the URL its stub answers at; `stubs` holds the stubs (tests add events directly)."""

    def __init__(self, sources: Mapping[str, str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.stubs: dict[str, ProviderStub] = {name: STUBS[provider]() for name, provider in sources.items()}
        # Ids unique across sandbox restarts (a --persist sandbox keeps the table): milliseconds since the epoch.
        self._ids = itertools.count(int(time.time() * 1000) % 10**12)
        self._ids_lock = threading.Lock()
        handler = self._handler_class()
        try:
            self.server = http.server.ThreadingHTTPServer((host, port), handler)
        except OSError:
            self.server = http.server.ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.host = host
        for name, stub in self.stubs.items():
            stub.base_url = f"http://{host}:{self.port}/{name}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="sandbox-provider-apis", daemon=True)

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: stub.base_url for name, stub in sorted(self.stubs.items())}

    def start(self) -> ProviderApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def drop(self, source: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Add events to `source`'s stub as the provider would create them (fresh ids, created now).
        Raises ValueError for a body that is neither `{"count": N}` nor `{"event": {...}}`."""
        stub = self.stubs[source]
        now = datetime.datetime.now(tz=datetime.UTC)
        count, given = body.get("count"), body.get("event")
        if isinstance(given, dict):
            with self._ids_lock:
                events = [stub.restamp(json.loads(json.dumps(given)), next(self._ids), now)]
        elif isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_EVENTS_PER_DROP:
            with self._ids_lock:
                events = [stub.make_event(next(self._ids), now) for _ in range(count)]
        else:
            raise ValueError(f'body must be {{"count": 1..{MAX_EVENTS_PER_DROP}}} or {{"event": {{...}}}}')
        for event in events:
            stub.add(event)
        return events

    def answer(self, request: StubRequest) -> StubResponse:
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return self._admin(request, path[len(ADMIN_PREFIX) :])
        name, _, rest = path.lstrip("/").partition("/")
        stub = self.stubs.get(name)
        if stub is None:
            return _json(404, {"error": f"no provider API stub for source {name!r}; stubs: {', '.join(self.stubs)}"})
        return stub.answer(StubRequest(request.method, "/" + rest, request.query, request.headers, request.body))

    def _admin(self, request: StubRequest, rest: str) -> StubResponse:
        name, _, tail = rest.partition("/")
        stub = self.stubs.get(name)
        if stub is None or tail not in ("events", "objects"):
            return _json(404, {"error": f"no route {request.method} {request.path}"})
        # The stub's own key, or the sandbox's usual one (`send --drop` sends that for every provider).
        if request.headers.get("authorization") not in (f"Bearer {stub.api_key}", f"Bearer {STUB_API_KEY}"):
            return _json(401, {"error": "unauthorized"})
        if tail == "objects":
            return self._add_object(stub, request)
        if request.method == "GET":
            return _json(200, {"events": list(stub.events)})
        if request.method != "POST":
            return _json(405, {"error": "GET or POST"})
        try:
            body = json.loads(request.body or b"{}")
            events = self.drop(name, body if isinstance(body, dict) else {})
        except ValueError as error:
            return _json(400, {"error": str(error)})
        return _json(201, {"events": events})

    def _add_object(self, stub: ProviderStub, request: StubRequest) -> StubResponse:
        """A payment or refund the GoCardless stub answers from now on (its amount is what enrichment reads)."""
        if not isinstance(stub, GoCardlessStub) or request.method != "POST":
            return _json(404, {"error": f"no route {request.method} {request.path}: POST, GoCardless sources only"})
        try:
            body = json.loads(request.body or b"{}")
            (resource, fields), *more = body.items() if isinstance(body, dict) else [(None, None)]
            if more or resource not in ("payments", "refunds") or not isinstance(fields, dict):
                raise ValueError
            object_id, amount, currency = fields["id"], fields["amount"], fields["currency"]
            if not (isinstance(object_id, str) and isinstance(amount, int | str) and isinstance(currency, str)):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": 'body must be {"payments"|"refunds": {"id", "amount", "currency"}}'})
        if resource == "payments":
            stub.add_payment(object_id, amount, currency)
        else:
            stub.add_refund(object_id, amount, currency, payment_id=str(fields.get("payment") or "PM123"))
        return _json(201, {resource: stub.objects[resource][object_id]})

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                response = server.answer(
                    StubRequest(
                        method=self.command,
                        path=parsed.path,
                        query=dict(urllib.parse.parse_qsl(parsed.query)),
                        headers={name.lower(): value for name, value in self.headers.items()},
                        body=self.rfile.read(length) if length else b"",
                    )
                )
                self.send_response(response.status)
                for header, value in response.headers.items():
                    self.send_header(header, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _json(status: int, value: Any) -> StubResponse:
    return StubResponse(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


def configured_port(base_urls: Mapping[str, str]) -> int:
    """The loopback port the deployed `api_base_url`s name (0 when they name none, or several)."""
    ports = {urllib.parse.urlsplit(url).port for url in base_urls.values()}
    ports.discard(None)
    return int(ports.pop()) if len(ports) == 1 else 0


def drop_events(api_base_url: str, body: Mapping[str, Any], api_key: str = STUB_API_KEY) -> list[dict[str, Any]]:
    """Ask a sandbox stub (`api_base_url` = `http://127.0.0.1:<port>/<source>`) to hold new events the
    door never received; returns them as the provider lists them. Raises RuntimeError on refusal."""
    import urllib.request

    parsed = urllib.parse.urlsplit(api_base_url)
    source = parsed.path.strip("/")
    url = f"{parsed.scheme}://{parsed.netloc}{ADMIN_PREFIX}{source}/events"
    request = urllib.request.Request(  # noqa: S310 - a loopback sandbox URL from the outputs file
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["events"]
    except OSError as error:
        raise RuntimeError(f"the provider API stub at {url} refused or is not answering: {error}") from None
