"""A loopback HTTP front end that behaves like the deployed API Gateway stage for `POST /webhook`.

It validates the body with the model read back from the emulator, answers a violation with the
deployed BAD_REQUEST_BODY template, builds the AWS_PROXY event and passes the validator's response
through. Invocations are serialized, like one Lambda container.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
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
    ) -> None:
        self.handler = handler
        self.on_response = on_response
        self.context = context
        self.validate = fastjsonschema.compile(model_schema)
        self.bad_request_template = bad_request_template
        self.stage = stage
        self.resource_path = resource_path
        self.invoke_lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._request_handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="sandbox-gateway", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/{self.stage}{self.resource_path}"

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
        if path != f"/{self.stage}{self.resource_path}" or method != "POST":
            return 403, json_headers, b'{"message":"Missing Authentication Token"}'
        problem = self._model_problem(body)
        if problem is not None:
            return 400, json_headers, render_bad_request(self.bad_request_template, problem, request_id).encode()
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        event = {
            "resource": self.resource_path,
            "path": self.resource_path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "requestId": request_id,
                "stage": self.stage,
                "resourcePath": self.resource_path,
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
