"""Opt-in: the account-wide CloudWatch Logs role of API Gateway (one per account and region).

Execution logging needs it, but it is shared by every API in the region, so only one stack may own it:
`manage_api_gateway_account: true` in exactly one environment's settings.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.aws_context import AwsContext
from modules.iam import service_trust_policy


class ApiGatewayAccountLogging(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, aws: AwsContext) -> None:
        super().__init__(scope, id_)
        assume = service_trust_policy(
            self, "apigateway-assume-document", service="apigateway.amazonaws.com", account_id=aws.account_id
        )
        role = IamRole(
            self, "apigateway-logs-role", name=f"apigateway-cloudwatch-{environment}", assume_role_policy=assume.json
        )
        IamRolePolicyAttachment(
            self,
            "apigateway-logs-policy",
            role=role.name,
            policy_arn=f"arn:{aws.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
        ApiGatewayAccount(self, "apigateway-account", cloudwatch_role_arn=role.arn)
