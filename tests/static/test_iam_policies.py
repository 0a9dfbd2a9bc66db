"""Every policy document of every synthesized stack passes cloudsplaining and the stack's own IAM rules;
planted mistakes show the checks can fail."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pipeline_tools.review.iam_review import inline_policies, policy_documents, review
from tests.conftest import PIPELINE, SOURCES_ENVIRONMENT
from tests.infrastructure.synth import SynthesizedApp

pytestmark = pytest.mark.static

STACKS = [
    ("app", PIPELINE),
    ("app", "state-bootstrap"),
    ("prod_app", "webhook-pipeline-prod"),
    ("sources_app", f"webhook-pipeline-{SOURCES_ENVIRONMENT}"),
]


@pytest.fixture(params=STACKS, ids=[stack for _, stack in STACKS])
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    fixture, stack = request.param
    synthesized: SynthesizedApp = request.getfixturevalue(fixture)
    return synthesized.config(stack)


@pytest.fixture
def pipeline(app: SynthesizedApp) -> dict[str, Any]:
    return copy.deepcopy(app.config(PIPELINE))


def test_no_iam_findings(config: dict[str, Any]) -> None:
    findings = review(config)
    assert not findings, "\n".join(map(str, findings))


def test_every_policy_is_a_policy_document_data_source_in_use(config: dict[str, Any]) -> None:
    assert inline_policies(config) == []
    assert all(document.kind != "unused" for document in policy_documents(config))


def test_the_pipeline_has_every_kind_of_policy(pipeline: dict[str, Any]) -> None:
    kinds = [document.kind for document in policy_documents(pipeline)]
    assert kinds.count("identity") == 2 and kinds.count("trust") == 2 and kinds.count("key") == 1
    assert kinds.count("resource") == 14  # 10 queues, the secret, the alarm topic, the events and quarantine tables


def _plant(config: dict[str, Any], document_prefix: str, statement: dict[str, Any]) -> str:
    documents = config["data"]["aws_iam_policy_document"]
    [name] = [name for name in documents if name.startswith(document_prefix)]
    documents[name]["statement"].append(statement)
    return name


def _rules(findings: list[Any], document: str) -> set[str]:
    return {finding.rule for finding in findings if finding.document == document}


def test_a_planted_wildcard_policy_fails(pipeline: dict[str, Any]) -> None:
    planted = _plant(
        pipeline, "validator_role-policy-document", {"effect": "Allow", "actions": ["s3:*"], "resources": ["*"]}
    )
    rules = _rules(review(pipeline), planted)
    assert {"wildcard-action", "star-resource", "cloudsplaining:ServiceWildcard"} <= rules
    assert "cloudsplaining:DataExfiltration" in rules  # s3:GetObject on every bucket


def test_a_planted_pass_role_fails(pipeline: dict[str, Any]) -> None:
    statement = {"effect": "Allow", "actions": ["iam:PassRole"], "resources": ["arn:aws:iam::123456789012:role/x"]}
    planted = _plant(pipeline, "router_role-policy-document", statement)
    assert "privilege-escalation" in _rules(review(pipeline), planted)


def test_a_misspelt_action_fails(pipeline: dict[str, Any]) -> None:
    statement = {"effect": "Allow", "actions": ["sqs:SendMesage"], "resources": ["${aws_sqs_queue.q.arn}"]}
    planted = _plant(pipeline, "router_role-policy-document", statement)
    unknown = [f for f in review(pipeline) if f.rule == "unknown-action"]
    assert [(f.document, f.detail) for f in unknown] == [(planted, "sqs:SendMesage")]


def test_open_principals_and_unconditioned_services_fail(pipeline: dict[str, Any]) -> None:
    anyone = {"effect": "Allow", "actions": ["sqs:SendMessage"], "resources": ["${aws_sqs_queue.q.arn}"],
              "principals": [{"type": "AWS", "identifiers": ["*"]}]}  # fmt: skip
    queue_policy = _plant(pipeline, "payments-queues_source_tls-only", anyone)
    service = {"effect": "Allow", "actions": ["sns:Publish"], "resources": ["${aws_sns_topic.t.arn}"],
               "principals": [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]}  # fmt: skip
    topic_policy = _plant(pipeline, "alarms_alarm-topic-policy-document", service)
    findings = review(pipeline)
    assert "unrestricted-principal" in _rules(findings, queue_policy)
    assert "service-principal-without-condition" in _rules(findings, topic_policy)


def test_an_inline_json_policy_is_reported(pipeline: dict[str, Any]) -> None:
    [role_policy] = [name for name in pipeline["resource"]["aws_iam_role_policy"] if name.startswith("router")]
    pipeline["resource"]["aws_iam_role_policy"][role_policy]["policy"] = json.dumps({"Statement": []})
    assert inline_policies(pipeline) == [f"aws_iam_role_policy.{role_policy}.policy"]


def test_an_unconditional_deny_is_reported(pipeline: dict[str, Any]) -> None:
    """Denies are guards (TLS only, only these roles, only the state key); one without a condition
    would lock every principal out, the validator and router included."""
    everyone = {"effect": "Deny", "actions": ["sqs:SendMessage"], "resources": ["${aws_sqs_queue.q.arn}"],
                "principals": [{"type": "*", "identifiers": ["*"]}]}  # fmt: skip
    planted = _plant(pipeline, "payments-queues_source_tls-only", everyone)
    assert _rules(review(pipeline), planted) == {"unexpected-deny"}
