"""HTTP API `webhook-api-<env>` (`front_door: "http_api"`, docs/FRONT-DOOR.md): the REST API's routes on an
API Gateway HTTP API, proxied to the validator with payload format 1.0 so the validator sees the event
shape it sees behind the REST API (`headers`, `multiValueHeaders`, `resource`, `path`, `isBase64Encoded`,
`requestContext.domainName`/`path`).

What the REST API does at the gateway and this one cannot: no request model (the validator checks the
body against the same schema after the signature), no required signature header on a provider route
(the validator answers 401 itself), no WAF (AWS WAF does not protect HTTP APIs), no execution logs and
no X-Ray segment for the stage (HTTP APIs have neither; the validator's own active tracing samples).
Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(payload 1.0 and 2.0; "all header names are lowercase"),
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html (route throttling),
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html (access logs),
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html (5xx by ApiId, Stage).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktf_cdktf_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktf_cdktf_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktf_cdktf_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
    Apigatewayv2StageDefaultRouteSettings,
)
from constructs import Construct

from modules.api import WEBHOOK_PATH, access_log_group, validator_invoke_permissions

# The stage served at the API's root URL (no `/v1` in the path); auto-deploy publishes every route change.
STAGE_NAME = "$default"
# 1.0 keeps `multiValueHeaders` (repeated signature headers while a provider rotates its secret) and the
# REST proxy event's field names the validator reads; 2.0 joins repeated headers with commas.
PAYLOAD_FORMAT_VERSION = "1.0"
# No request or response bodies here: access logs must never carry payment data. HTTP API context
# variables (no xrayTraceId, no validation error: neither exists on an HTTP API).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "sourceIp": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatency": "$context.integrationLatency",
        "errorMessage": "$context.error.message",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)


def route_keys(source_names: list[str] | tuple[str, ...]) -> list[str]:
    """`POST /webhook` and `POST /webhook/<name>` per source: the paths the REST API serves. One route
    per source (not `/webhook/{source}`), so a request to an unknown source is answered 404 by API
    Gateway without invoking (and paying for) the validator, and `resource` names the source as behind
    the REST API."""
    return [f"POST /{WEBHOOK_PATH}", *(f"POST /{WEBHOOK_PATH}/{name}" for name in sorted(source_names))]


class WebhookHttpApi(Construct):
    """The same outputs as `modules.api.WebhookApi` (`name`, `stage`, `log_group`, `endpoint`,
    `source_endpoints`), plus `api_id` for the HTTP API's metrics."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        validator_function_name: str,
        validator_invoke_arn: str,
        kms_key_arn: str,
        log_retention_days: int,
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        source_signature_headers: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.name = f"webhook-api-{environment}"
        sources = sorted(source_signature_headers or {})
        self.api = Apigatewayv2Api(
            self,
            "http-api",
            name=self.name,
            description="Signed payment-provider webhooks",
            protocol_type="HTTP",
            # A replacement must not leave providers without an endpoint in between.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.api_id = self.api.id
        integration = Apigatewayv2Integration(
            self,
            "validator-integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=validator_invoke_arn,
            payload_format_version=PAYLOAD_FORMAT_VERSION,
            # API Gateway's own ceiling for HTTP APIs is 30 s; the validator's timeout is at most 29 s.
            timeout_milliseconds=29_000,
        )
        for key in route_keys(sources):
            Apigatewayv2Route(
                self,
                f"route-{key.split(' ')[1].strip('/').replace('/', '-')}",
                api_id=self.api.id,
                route_key=key,
                # Authentication is the provider's signature, checked on the raw body by the validator.
                authorization_type="NONE",
                target=f"integrations/{integration.id}",
            )
        self.log_group = access_log_group(
            self, self.name, retention_in_days=log_retention_days, kms_key_arn=kms_key_arn
        )
        self.stage = Apigatewayv2Stage(
            self,
            "stage",
            api_id=self.api.id,
            name=STAGE_NAME,
            auto_deploy=True,
            access_log_settings=Apigatewayv2StageAccessLogSettings(
                destination_arn=self.log_group.arn, format=ACCESS_LOG_FORMAT
            ),
            # Applies to every route; sized from the capacity contract like the REST stage's (modules/capacity.py).
            default_route_settings=Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
                # Per-route metrics are custom metrics at CloudWatch's price; ApiId + Stage is enough to alarm.
                detailed_metrics_enabled=False,
            ),
        )
        validator_invoke_permissions(
            self,
            function_name=validator_function_name,
            execution_arn=self.api.execution_arn,
            with_sources=bool(sources),
        )
        # The $default stage is served at the API's root: no stage name in the URL.
        self.endpoint = f"{self.api.api_endpoint}/{WEBHOOK_PATH}"
        self.source_endpoints = {name: f"{self.endpoint}/{name}" for name in sources}
