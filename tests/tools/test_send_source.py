"""`send --source` (errors before any network call, the curl line) and the sandbox gateway's source routes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from pipeline_tools import operations
from pipeline_tools.__main__ import main
from pipeline_tools.sandbox.gateway import GatewayResponse, SourceRoute, WebhookGateway

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
OUTPUTS = {
    "api_endpoint": "http://127.0.0.1:1/v1/webhook",
    "dynamodb_table_name": "transaction-events-x",
    "payments_queue_url": "p",
    "refunds_queue_url": "r",
    "disputes_queue_url": "d",
    "source_endpoints": {"stripe": "http://127.0.0.1:1/v1/webhook/stripe", "bt": "http://127.0.0.1:1/v1/webhook/bt"},
    "source_secrets": {
        "stripe": {"provider": "stripe", "secret": "whsec_abc"},
        "bt": {"provider": "braintree", "secret": "private", "public_key": "pk"},
        "sq": {"provider": "square", "secret": "key"},
    },
}


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    return path


def run(outputs_file: Path, *args: str) -> int:
    return main(["send", "--outputs", str(outputs_file), *args])


def test_unknown_source_is_a_clear_error_exit_2(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(outputs_file, "--source", "nope", "--file", str(FIXTURES / "stripe/payment_intent.succeeded.json")) == 2
    err = capsys.readouterr().err
    assert "\nerror: no source named 'nope'" in err and "bt, sq, stripe" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "stripe"], "--source needs --file"),
        (["--source", "stripe", "--file", "x.json", "--amount", "1"], "--amount do not apply"),
        (["--source", "stripe", "--event-id", "e", "--file", str(FIXTURES / "stripe/payment_intent.succeeded.json")],
         "carries its event id in the body"),
        (["--provider", "stripe"], "go with --source"),
    ],
)  # fmt: skip
def test_bad_source_arguments_exit_2(
    outputs_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(outputs_file, *args) == 2
    assert message in capsys.readouterr().err


def test_print_curl_signs_for_the_source(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = FIXTURES / "braintree/transaction_settled.json"
    assert run(outputs_file, "--source", "bt", "--file", str(fixture), "--print-curl") == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:1/v1/webhook/bt"]
    assert "Content-Type: application/x-www-form-urlencoded" in words
    assert words[-1].startswith("bt_signature=pk%7C")


def test_square_signs_the_url_the_validator_reconstructs() -> None:
    target = operations.source_target(OUTPUTS, "sq")
    assert operations.square_notification_url(target) == "https://127.0.0.1:1/v1/webhook/sq"
    configured = operations.SourceTarget("sq", "square", target.url, "key", notification_url="https://hooks.example/sq")
    assert operations.square_notification_url(configured) == "https://hooks.example/sq"


def test_a_deployment_without_source_secrets_needs_provider_and_secret() -> None:
    deployed = {key: value for key, value in OUTPUTS.items() if key != "source_secrets"}
    with pytest.raises(operations.OperationError, match="pass --provider"):
        operations.source_target(deployed, "stripe")
    with pytest.raises(operations.OperationError, match="pass --secret"):
        operations.source_target(deployed, "stripe", provider="stripe")
    target = operations.source_target(deployed, "stripe", provider="stripe", secret="whsec_x")
    assert target.url == "http://127.0.0.1:1/v1/webhook/stripe"


class Context:
    def with_request_id(self, request_id: str) -> Context:
        return self


def gateway(seen: list[dict[str, Any]]) -> WebhookGateway:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 202, "body": "{}"}

    return WebhookGateway(
        handler=handler, context=Context(), model_schema={"type": "object", "required": ["event_id"]},
        bad_request_template='{"message":"$context.error.validationErrorString"}', stage="v1",
        resource_path="/webhook", source_routes=[SourceRoute("/webhook/stripe", ("Stripe-Signature",)),
                                                 SourceRoute("/webhook/adyen")],
        bad_parameters_response=GatewayResponse(401, '{"error":"missing_signature_header","message":"$context.error.validationErrorString"}'),
    )  # fmt: skip


def test_gateway_source_routes_enforce_the_header_and_build_the_proxy_event() -> None:
    seen: list[dict[str, Any]] = []
    front = gateway(seen)
    try:
        status, _, body = front.handle("POST", "/v1/webhook/stripe", {"Host": "127.0.0.1:9"}, b"not json", "1.2.3.4")
        assert status == 401 and json.loads(body) == {
            "error": "missing_signature_header", "message": "Missing required request parameters: [Stripe-Signature]"}  # fmt: skip
        assert not seen
        headers = {"Host": "127.0.0.1:9", "stripe-signature": "t=1,v1=00"}
        assert front.handle("POST", "/v1/webhook/stripe?x=1", headers, b"not json", "1.2.3.4")[0] == 202
        [event] = seen
        assert (event["resource"], event["path"]) == ("/webhook/stripe", "/webhook/stripe")
        context = event["requestContext"]
        assert (context["domainName"], context["path"], context["stage"]) == ("127.0.0.1:9", "/v1/webhook/stripe", "v1")
        assert front.handle("POST", "/v1/webhook/adyen", {}, b"[]", "1.2.3.4")[0] == 202  # no body model
        assert front.handle("POST", "/v1/webhook/nope", headers, b"{}", "1.2.3.4")[0] == 403
        assert front.handle("GET", "/v1/webhook/stripe", headers, b"", "1.2.3.4")[0] == 403
        assert front.handle("POST", "/v1/webhook", {}, b"{}", "1.2.3.4")[0] == 400  # the standard route's model
    finally:
        front.server.server_close()


def test_gateway_serves_lambda_invoke_for_the_validator_only() -> None:
    """`quarantine readmit` invokes the validator; in the sandbox the gateway runs it (127.0.0.1 only)."""
    seen: list[dict[str, Any]] = []
    front = gateway(seen)
    front.context.function_name = "webhook-validator-sandbox"
    try:
        arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Awebhook-validator-sandbox"
        status, _, body = front.handle("POST", f"/2015-03-31/functions/{arn}/invocations", {}, b'{"a": 1}', "127.0.0.1")
        assert status == 200 and seen == [{"a": 1}] and json.loads(body) == {"statusCode": 202, "body": "{}"}
        other = "/2015-03-31/functions/event-router-sandbox/invocations"
        assert front.handle("POST", other, {}, b"{}", "127.0.0.1")[0] == 403
    finally:
        front.server.server_close()
