"""A loopback HTTP front end that behaves like the deployed API Gateway stage.

`POST /<stage>/webhook`: the body is validated with the model read back from the emulator, a violation
answered with the deployed BAD_REQUEST_BODY template. `POST /<stage>/webhook/<name>`, one route per
configured source as read back from the emulator: no body model; the method's required request headers
(the provider's signature header) are enforced, a missing one answered with the deployed
BAD_REQUEST_PARAMETERS response (401). Any other path or method: 403 `Missing Authentication Token`,
as API Gateway answers. Each route builds the AWS_PROXY event API Gateway would (`resource`, `path`,
`requestContext.domainName`/`path`/`stage`) and passes the validator's response through.
Invocations are serialized, like one Lambda container.

The URL the validator reconstructs for Square (`https://<domainName><requestContext.path>`) is the
URL the client posted to with `https` for its scheme: `domainName` is the request's `Host` header, as
on API Gateway, and `requestContext.path` includes the stage (`/v1/webhook/square`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import fastjsonschema

from pipeline_tools.sandbox.function_logs import capture

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# (status, response body, the validator's log lines, request path): the live log and the log group.
ResponseObserver = Callable[[int, bytes, list[dict[str, Any]], str], None]
_ESCAPED_MESSAGE = '$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\\'","\'")'


def render_bad_request(template: str, message: str, request_id: str) -> str:
    """Render the two expressions the deployed template uses, as API Gateway's VTL would."""
    escaped = json.dumps(message)[1:-1]
    return (
        template.replace(_ESCAPED_MESSAGE, escaped)
        .replace("$context.error.validationErrorString", escaped)
        .replace("$context.requestId", request_id)
    )


@dataclasses.dataclass(frozen=True)
class SourceRoute:
    """`POST /webhook/<name>` as deployed: the request headers its method requires (validated)."""

    resource_path: str
    required_headers: Sequence[str] = ()


@dataclasses.dataclass(frozen=True)
class GatewayResponse:
    """A gateway response as deployed (status code and application/json template)."""

    status: int
    template: str


MISSING_PARAMETERS_FALLBACK = GatewayResponse(400, '{"message":"$context.error.validationErrorString"}')


class _Server(ThreadingHTTPServer):
    # A provider's burst opens many connections at once: socketserver's default backlog of 5 resets
    # the rest before a thread can accept them (a load run's bursts of 50 did), which API Gateway never does.
    request_queue_size = 256


class WebhookGateway:
    def __init__(
        self,
        *,
        handler: Handler,
        context: Any,
        model_schema: dict[str, Any],
        bad_request_template: str,
        stage: str,
        resource_path: str,
        port: int = 0,
        on_response: ResponseObserver | None = None,
        source_routes: Sequence[SourceRoute] = (),
        bad_parameters_response: GatewayResponse | None = None,
    ) -> None:
        self.handler = handler
        self.source_routes: Mapping[str, SourceRoute] = {
            f"/{stage}{route.resource_path}": route for route in source_routes
        }
        self.bad_parameters_response = bad_parameters_response or MISSING_PARAMETERS_FALLBACK
        self.on_response = on_response
        self.context = context
        self.validate = fastjsonschema.compile(model_schema)
        self.bad_request_template = bad_request_template
        self.stage = stage
        self.resource_path = resource_path
        self.invoke_lock = threading.Lock()
        # Other in-process functions Lambda's Invoke API reaches here (the reconciler), by function name.
        self.invocable: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.server = _Server(("127.0.0.1", port), self._request_handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="sandbox-gateway", daemon=True)

    @property
    def host(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/{self.stage}{self.resource_path}"

    def source_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def start(self) -> WebhookGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        with capture() as logs:
            status, response_headers, payload = self._handle(method, path, headers, body, source_ip)
        if self.on_response is not None:
            self.on_response(status, payload, logs, path)
        return status, response_headers, payload

    def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        json_headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
        url = urllib.parse.urlsplit(path)
        invoked = self._invoked_function(url.path) if method == "POST" else None
        if invoked is not None and invoked == getattr(self.context, "function_name", None):
            return self._invoke(body, request_id)
        if invoked is not None and invoked in self.invocable:
            return self._invoke(body, request_id, self.invocable[invoked])
        source_route = self.source_routes.get(url.path)
        if method != "POST" or (url.path != f"/{self.stage}{self.resource_path}" and source_route is None):
            return 403, json_headers, b'{"message":"Missing Authentication Token"}'
        if source_route is None:
            resource_path = self.resource_path
            problem = self._model_problem(body)
            if problem is not None:
                return 400, json_headers, render_bad_request(self.bad_request_template, problem, request_id).encode()
        else:
            resource_path = source_route.resource_path
            present = {name.lower() for name in headers}
            missing = [name for name in source_route.required_headers if name.lower() not in present]
            if missing:
                response = self.bad_parameters_response
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                return (
                    response.status,
                    json_headers,
                    render_bad_request(response.template, message, request_id).encode(),
                )
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        host = next((value for name, value in headers.items() if name.lower() == "host"), None) or self.host
        event = {
            "resource": resource_path,
            "path": resource_path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "requestId": request_id,
                "stage": self.stage,
                "resourcePath": resource_path,
                "path": f"/{self.stage}{resource_path}",
                "domainName": host,
                "httpMethod": method,
                "identity": {"sourceIp": source_ip},
            },
            "body": text,
            "isBase64Encoded": is_base64,
        }
        with self.invoke_lock:
            response = self.handler(event, self.context.with_request_id(request_id))
        response_headers = {**json_headers, **response.get("headers", {})}
        response_body = response.get("body", "")
        raw = base64.b64decode(response_body) if response.get("isBase64Encoded") else response_body.encode()
        return int(response["statusCode"]), response_headers, raw

    @staticmethod
    def _invoked_function(path: str) -> str | None:
        """The function an Invoke API path names (`/2015-03-31/functions/<name or ARN>/invocations`)."""
        prefix, suffix = "/2015-03-31/functions/", "/invocations"
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return None
        named = urllib.parse.unquote(path[len(prefix) : -len(suffix)])
        return named.split(":")[6] if named.startswith("arn:") and named.count(":") >= 6 else named

    def _invoke(
        self, body: bytes, request_id: str, function: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Lambda's Invoke API for the validator, as AWS answers it (200, the handler's return value as
        JSON): `pipeline_tools quarantine readmit` invokes the validator directly, and in the sandbox the
        validator runs in this process. Served on 127.0.0.1 only, like everything here."""
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return 400, {"Content-Type": "application/json"}, b'{"message":"payload is not JSON"}'
        if function is not None:
            try:
                result = function(event)
            except Exception as error:  # Lambda's answer to a function error: 200 with X-Amz-Function-Error
                failed = {"errorMessage": str(error), "errorType": type(error).__name__}
                return (
                    200,
                    {"Content-Type": "application/json", "X-Amz-Function-Error": "Unhandled"},
                    json.dumps(failed).encode(),
                )
        else:
            with self.invoke_lock:
                result = self.handler(event, self.context.with_request_id(request_id))
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "X-Amz-Executed-Version": "$LATEST",
        }
        return 200, headers, json.dumps(result).encode()

    def _model_problem(self, body: bytes) -> str | None:
        try:
            document = json.loads(body)
        except ValueError:
            return "Invalid request body"
        try:
            self.validate(document)
        except fastjsonschema.JsonSchemaValueException as error:
            return f"[{error.message}]"
        return None

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name: value for name, value in self.headers.items()}
                status, response_headers, payload = gateway.handle(
                    self.command, self.path, headers, body, self.client_address[0]
                )
                self.send_response(status)
                for name, value in response_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return RequestHandler
