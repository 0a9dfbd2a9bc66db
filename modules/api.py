"""REST API `webhook-api-<env>`: `POST /webhook`, body checked against the shared schema, proxied to the validator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from modules.access_log import access_log_format
from modules.reasons import errors

EVENT_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "handlers" / "event_schema.json"
STAGE_NAME = "v1"
WEBHOOK_PATH = "webhook"
# No request or response bodies here: access logs must never carry payment data (modules/access_log.py:
# each field and what it is for).
ACCESS_LOG_FORMAT = access_log_format()
# The validation message can hold double quotes; escapeJavaScript escapes them and the replace undoes
# its escaping of single quotes, which JSON does not allow.
BAD_REQUEST_TEMPLATE = (
    f'{{"error":"{errors.INVALID_BODY}","message":"'
    '$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\\'","\'")'
    '","request_id":"$context.requestId"}'
)

MISSING_SIGNATURE_TEMPLATE = (
    f'{{"error":"{errors.MISSING_SIGNATURE_HEADER}","message":"$context.error.validationErrorString",'
    '"request_id":"$context.requestId"}'
)


def api_log_group_name(api_name: str) -> str:
    return f"/aws/apigateway/{api_name}"


def access_log_group(
    scope: Construct, api_name: str, *, retention_in_days: int, kms_key_arn: str
) -> CloudwatchLogGroup:
    """The front door's access-log group (REST or HTTP API), encrypted with the pipeline's CMK; construct id
    `access-log-group` under `scope`."""
    return CloudwatchLogGroup(
        scope,
        "access-log-group",
        name=api_log_group_name(api_name),
        retention_in_days=retention_in_days,
        kms_key_id=kms_key_arn,
    )


def validator_invoke_permissions(
    scope: Construct, *, function_name: str, execution_arn: str, with_sources: bool
) -> None:
    """Lets API Gateway invoke the validator for `POST /webhook` and, `with_sources`, `POST /webhook/<source>`:
    this API's routes only (source ARN `<execution ARN>/<stage>/<method>/<path>`, any of its stages)."""
    LambdaPermission(
        scope,
        "invoke-permission",
        statement_id="AllowApiGatewayPostWebhook",
        action="lambda:InvokeFunction",
        function_name=function_name,
        principal="apigateway.amazonaws.com",
        source_arn=f"{execution_arn}/*/POST/{WEBHOOK_PATH}",
    )
    if with_sources:
        LambdaPermission(
            scope,
            "invoke-permission-sources",
            statement_id="AllowApiGatewayPostWebhookSources",
            action="lambda:InvokeFunction",
            function_name=function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{execution_arn}/*/POST/{WEBHOOK_PATH}/*",
        )


class WebhookApi(Construct):
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
        execution_logging_level: str,
        source_signature_headers: Mapping[str, str | None] | None = None,
    ) -> None:
        """`source_signature_headers`: source name -> the header its provider signs with (required on the
        route by API Gateway), or None when the signature is in the body or under alternative names."""
        super().__init__(scope, id_)
        self.name = f"webhook-api-{environment}"
        self.api = ApiGatewayRestApi(
            self,
            "rest-api",
            name=self.name,
            description="Signed payment-provider webhooks",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            # A replacement must not leave providers without an endpoint in between.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        resource = ApiGatewayResource(
            self,
            "webhook-resource",
            rest_api_id=self.api.id,
            parent_id=self.api.root_resource_id,
            path_part=WEBHOOK_PATH,
        )
        self.model = ApiGatewayModel(
            self,
            "event-model",
            rest_api_id=self.api.id,
            name="WebhookEvent",
            content_type="application/json",
            # Compact with sorted keys: the form the provider normalizes to, so plans show no whitespace diff.
            schema=json.dumps(
                json.loads(EVENT_SCHEMA_PATH.read_text(encoding="utf-8")), sort_keys=True, separators=(",", ":")
            ),
        )
        validator = ApiGatewayRequestValidator(
            self, "body-validator", rest_api_id=self.api.id, name="body-only", validate_request_body=True
        )
        method = ApiGatewayMethod(
            self,
            "post-method",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method="POST",
            # Authentication is the Standard Webhooks signature, checked on the raw body by the validator.
            authorization="NONE",
            request_validator_id=validator.id,
            request_models={"application/json": self.model.name},
        )
        integration = ApiGatewayIntegration(
            self,
            "validator-integration",
            rest_api_id=self.api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=validator_invoke_arn,
        )
        source_routes = self._source_routes(resource, validator_invoke_arn, source_signature_headers or {})
        bad_request = ApiGatewayGatewayResponse(
            self,
            "bad-request-body-response",
            rest_api_id=self.api.id,
            response_type="BAD_REQUEST_BODY",
            status_code="400",
            response_templates={"application/json": BAD_REQUEST_TEMPLATE},
        )
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.api.id,
            # Redeploy exactly when the definition changes; a timestamp would redeploy on every apply.
            triggers={
                "definition": Fn.sha1(
                    Fn.jsonencode(
                        [
                            resource.id,
                            method.id,
                            method.request_validator_id,
                            integration.id,
                            integration.uri,
                            self.model.schema,
                            bad_request.response_templates,
                            *source_routes,
                        ]
                    )
                )
            },
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[method, integration, bad_request, *self._source_constructs],
        )
        self.log_group = access_log_group(
            self, self.name, retention_in_days=log_retention_days, kms_key_arn=kms_key_arn
        )
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.api.id,
            deployment_id=deployment.id,
            stage_name=STAGE_NAME,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.log_group.arn, format=ACCESS_LOG_FORMAT
            ),
        )
        ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level=execution_logging_level,
                # Data trace would copy request bodies, i.e. payment data, into the execution logs.
                data_trace_enabled=False,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
            ),
        )
        validator_invoke_permissions(
            self,
            function_name=validator_function_name,
            execution_arn=self.api.execution_arn,
            with_sources=bool(source_signature_headers),
        )
        self.endpoint = f"{self.stage.invoke_url}/{WEBHOOK_PATH}"
        self.source_endpoints = {name: f"{self.endpoint}/{name}" for name in sorted(source_signature_headers or {})}

    def _source_routes(
        self, webhook: ApiGatewayResource, invoke_arn: str, signature_headers: Mapping[str, str | None]
    ) -> list[str]:
        """`POST /webhook/<name>` per source, proxied to the validator; no body model (the body is the
        provider's), the signature header required where the provider has one. Returns the ids and
        attributes that must redeploy the stage when they change."""
        self._source_constructs: list[Construct] = []
        if not signature_headers:
            return []
        parameters_validator = ApiGatewayRequestValidator(
            self, "signature-header-validator", rest_api_id=self.api.id, name="signature-header",
            validate_request_parameters=True,
        )  # fmt: skip
        triggers: list[str] = []
        for name in sorted(signature_headers):
            header = signature_headers[name]
            resource = ApiGatewayResource(
                self, f"source-{name}-resource", rest_api_id=self.api.id, parent_id=webhook.id, path_part=name
            )
            method = ApiGatewayMethod(
                self,
                f"source-{name}-post-method",
                rest_api_id=self.api.id,
                resource_id=resource.id,
                http_method="POST",
                # Authentication is the provider's signature, checked on the raw body by the validator.
                authorization="NONE",
                request_validator_id=parameters_validator.id if header else None,
                request_parameters={f"method.request.header.{header}": True} if header else None,
            )
            integration = ApiGatewayIntegration(
                self,
                f"source-{name}-integration",
                rest_api_id=self.api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=invoke_arn,
            )
            self._source_constructs += [method, integration]
            triggers += [resource.id, method.id, integration.id, header or ""]
        # A provider route without its signature header is an unsigned request: 401, as the validator
        # would answer, not API Gateway's default 400.
        missing_header = ApiGatewayGatewayResponse(
            self,
            "missing-signature-header-response",
            rest_api_id=self.api.id,
            response_type="BAD_REQUEST_PARAMETERS",
            status_code="401",
            response_templates={"application/json": MISSING_SIGNATURE_TEMPLATE},
        )
        self._source_constructs.append(missing_header)
        return [*triggers, missing_header.status_code]
