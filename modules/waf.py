"""Optional WAFv2 web ACL: a per-IP rate limit in front of the webhook stage."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct


class WebhookFirewall(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, environment: str, stage_arn: str, rate_limit_per_5min: int
    ) -> None:
        super().__init__(scope, id_)
        name = f"webhook-api-acl-{environment}"
        self.web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[
                Wafv2WebAclRule(
                    name="rate-limit-per-ip",
                    priority=1,
                    action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                    # The provider bindings leave `statement` untyped: Terraform's own keys go here.
                    statement={"rate_based_statement": {"limit": rate_limit_per_5min, "aggregate_key_type": "IP"}},
                    visibility_config=Wafv2WebAclRuleVisibilityConfig(
                        cloudwatch_metrics_enabled=True,
                        metric_name=f"rate-limit-{environment}",
                        sampled_requests_enabled=True,
                    ),
                )
            ],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "web-acl-association", resource_arn=stage_arn, web_acl_arn=self.web_acl.arn)
