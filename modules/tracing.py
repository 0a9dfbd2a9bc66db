"""The X-Ray sampling rule of the webhook stage: what fraction of deliveries is traced.

API Gateway makes the sampling decision for a request and the validator's segment joins that trace
(Lambda follows an upstream decision), so this one rule sets how many deliveries are traced end to end.
X-Ray's default rule traces the first request each second and 5 % of the rest; at 100 M events a month
that is ~7.5 M traces, ~$37. The default here: 1 % of deliveries and no reservoir, enough to see every
kind of failure and the latency distribution (10,000 traces a month at 1 M events) while costing ~$5 a
month at 100 M (docs/PERFORMANCE.md). A 1/s reservoir alone would trace 2.6 M deliveries a month
whatever the volume: at 1 M a month, every delivery, $5 of a ~$38 bill.
Sampling rules: https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html;
API Gateway and X-Ray: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-configuring-xray-sampling-rules.html
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.xray_sampling_rule import XraySamplingRule
from constructs import Construct

RESERVOIR_PER_SECOND = 0
FIXED_RATE = 0.01
# Evaluated before the default rule (10000); lower numbers first.
PRIORITY = 1000


def sampling_rule_name(environment: str) -> str:
    return f"webhook-api-{environment}"  # at most 32 characters: the suffix is at most 20


class StageSampling(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, api_name: str, stage_name: str) -> None:
        super().__init__(scope, id_)
        self.rule = XraySamplingRule(
            self,
            "sampling-rule",
            rule_name=sampling_rule_name(environment),
            priority=PRIORITY,
            version=1,
            reservoir_size=RESERVOIR_PER_SECOND,
            fixed_rate=FIXED_RATE,
            # API Gateway's service name for a stage is "<api name>/<stage>".
            service_name=f"{api_name}/{stage_name}",
            service_type="AWS::ApiGateway::Stage",
            host="*",
            http_method="*",
            url_path="*",
            resource_arn="*",
        )
