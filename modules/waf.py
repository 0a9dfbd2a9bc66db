"""Optional WAFv2 web ACL in front of the webhook stage, logged to a CMK-encrypted log group with the
signature header redacted.

Rules, in order: requests that carry a signature (one of the sources' signature headers, or a route
whose provider signs inside the body) are labelled `webhook:signed`; requests without that label are
rate-limited per IP at `unsigned_rate_limit_per_5min` (a flood of unsigned requests costs an attacker
nothing and is blocked); every request is rate-limited per IP at `signed_rate_limit_per_5min`, sized by
modules/capacity.py so a provider's burst from `provider_sending_ips` IPs is never refused (a forged
signature passes the WAF and is refused by the validator with 401, without any AWS call); AWS's
known-bad-inputs rules (Log4j and similar).
Rate rules count over WAF's trailing 300 s window
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html); labels:
https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-label-match.html.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleActionCount,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleRuleLabel,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationLoggingFilter,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilter,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition,
    Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct


def waf_log_group_name(environment: str) -> str:
    return f"aws-waf-logs-webhook-api-{environment}"  # WAF only logs to groups with this prefix


SIGNED_LABEL = "webhook:signed"


def signed_statement(signature_headers: list[str], body_signed_paths: list[str]) -> dict:
    """Matches a request that carries a non-empty signature header, or is posted to a route whose
    provider signs inside the body (its `SPEC.signed_in_body`:
    modules/sources_config.py `BODY_SIGNED_PROVIDERS`). Terraform's keys, as `statement` takes them."""
    statements: list[dict] = [
        {
            "size_constraint_statement": {
                "comparison_operator": "GT",
                "size": 0,
                "field_to_match": {"single_header": {"name": header.lower()}},
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        }
        for header in signature_headers
    ]
    statements += [
        {
            "byte_match_statement": {
                "positional_constraint": "ENDS_WITH",
                "search_string": path,
                "field_to_match": {"uri_path": {}},
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        }
        for path in body_signed_paths
    ]
    return statements[0] if len(statements) == 1 else {"or_statement": {"statement": statements}}


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
        unsigned_rate_limit_per_5min: int,
        signed_rate_limit_per_5min: int,
        signature_headers: list[str],
        body_signed_paths: list[str],
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
                    name="label-signed",
                    priority=0,
                    action=Wafv2WebAclRuleAction(count=Wafv2WebAclRuleActionCount()),
                    rule_label=[Wafv2WebAclRuleRuleLabel(name=SIGNED_LABEL)],
                    # The provider bindings leave `statement` untyped: Terraform's own keys go here.
                    statement=signed_statement(signature_headers, body_signed_paths),
                    visibility_config=_visibility(f"signed-{environment}"),
                ),
                Wafv2WebAclRule(
                    name="rate-limit-unsigned-per-ip",
                    priority=1,
                    action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                    statement={
                        "rate_based_statement": {
                            "limit": unsigned_rate_limit_per_5min,
                            "aggregate_key_type": "IP",
                            "scope_down_statement": {
                                "not_statement": {
                                    "statement": [{"label_match_statement": {"scope": "LABEL", "key": SIGNED_LABEL}}]
                                }
                            },
                        }
                    },
                    visibility_config=_visibility(f"rate-limit-unsigned-{environment}"),
                ),
                Wafv2WebAclRule(
                    name="rate-limit-per-ip",
                    priority=2,
                    action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                    statement={
                        "rate_based_statement": {"limit": signed_rate_limit_per_5min, "aggregate_key_type": "IP"}
                    },
                    visibility_config=_visibility(f"rate-limit-{environment}"),
                ),
                Wafv2WebAclRule(
                    name="aws-known-bad-inputs",
                    priority=3,
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
            # Only blocked requests: an allowed one is in the stage's access log already, and a WAF log
            # record (~1.5 KB with headers) per delivery would cost more than the WAF's own inspection.
            logging_filter=Wafv2WebAclLoggingConfigurationLoggingFilter(
                default_behavior="DROP",
                filter=[
                    Wafv2WebAclLoggingConfigurationLoggingFilterFilter(
                        behavior="KEEP",
                        requirement="MEETS_ANY",
                        condition=[
                            Wafv2WebAclLoggingConfigurationLoggingFilterFilterCondition(
                                action_condition=Wafv2WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition(
                                    action="BLOCK"
                                )
                            )
                        ],
                    )
                ],
            ),
            # WAF logs carry request headers (never bodies); the signature is redacted all the same.
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name="webhook-signature")
                )
            ],
        )
