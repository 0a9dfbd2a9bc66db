"""Optional WAFv2 web ACL in front of the webhook stage: a per-IP rate limit and AWS's known-bad-inputs
rules (Log4j and similar), logged to a CMK-encrypted log group with the signature header redacted."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct


def waf_log_group_name(environment: str) -> str:
    return f"aws-waf-logs-webhook-api-{environment}"  # WAF only logs to groups with this prefix


def _visibility(metric_name: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class WebhookFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        stage_arn: str,
        rate_limit_per_5min: int,
        kms_key_arn: str,
        log_retention_days: int,
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
                    visibility_config=_visibility(f"rate-limit-{environment}"),
                ),
                Wafv2WebAclRule(
                    name="aws-known-bad-inputs",
                    priority=2,
                    override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                    statement={
                        "managed_rule_group_statement": {
                            "name": "AWSManagedRulesKnownBadInputsRuleSet",
                            "vendor_name": "AWS",
                        }
                    },
                    visibility_config=_visibility(f"known-bad-inputs-{environment}"),
                ),
            ],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "web-acl-association", resource_arn=stage_arn, web_acl_arn=self.web_acl.arn)
        log_group = CloudwatchLogGroup(
            self,
            "log-group",
            name=waf_log_group_name(environment),
            retention_in_days=log_retention_days,
            kms_key_id=kms_key_arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[log_group.arn],
            # WAF logs carry request headers (never bodies); the signature is redacted all the same.
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name="webhook-signature")
                )
            ],
        )
