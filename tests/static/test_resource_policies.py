"""Resource policies of the synthesized stacks: only the router (and the operator role) feeds the routed
queues, only the validator writes the table, the key's CloudWatch grant names this stack's alarms, and
state is written only under the state key. Each planted regression (the behaviour before) is caught."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENVIRONMENT, PIPELINE
from tests.infrastructure.synth import SynthesizedApp, synthesize
from tests.static.guards import _document_of, resource_policy_violations, state_encryption_violations

pytestmark = pytest.mark.static

OPERATOR = "arn:aws:iam::123456789012:role/webhook-operator"


@pytest.fixture
def pipeline(app: SynthesizedApp) -> dict[str, Any]:
    return copy.deepcopy(app.config(PIPELINE))


@pytest.fixture(scope="module")
def with_operator(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> dict[str, Any]:
    app = synthesize(ENVIRONMENT, tmp_path_factory.mktemp("synth-operator"), build_dir, operator_role_arn=OPERATOR)
    return app.config(PIPELINE)


def test_the_pipeline_policies_admit_only_their_roles(app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    assert resource_policy_violations(app.config(PIPELINE), ENVIRONMENT) == []
    assert resource_policy_violations(prod_app.config("webhook-pipeline-prod"), "prod") == []


def test_a_configured_operator_role_may_send_too(with_operator: dict[str, Any]) -> None:
    assert resource_policy_violations(with_operator, ENVIRONMENT, OPERATOR) == []
    assert resource_policy_violations(with_operator, ENVIRONMENT) != []  # the list is exact


def _documents_named(config: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [d for name, d in config["data"]["aws_iam_policy_document"].items() if name.startswith(prefix)]


def test_a_queue_policy_that_only_denies_plain_http_is_caught(pipeline: dict[str, Any]) -> None:
    """The policy before: any principal with SQS and KMS rights could post to the routed queues."""
    [document] = _documents_named(pipeline, "refunds-queues_source_tls-only")
    document["statement"] = [s for s in document["statement"] if s.get("sid") == "DenyInsecureTransport"]
    assert resource_policy_violations(pipeline, ENVIRONMENT) == [
        f"refunds-queue-{ENVIRONMENT}: OnlyTheseRolesSend no such statement"
    ]


def test_another_sender_or_a_missing_service_exemption_is_caught(pipeline: dict[str, Any]) -> None:
    [document] = _documents_named(pipeline, "payments-queues_source_tls-only")
    [deny] = [s for s in document["statement"] if s.get("sid") == "OnlyTheseRolesSend"]
    deny["condition"][0]["values"].append("arn:aws:iam::123456789012:role/someone-else")
    [unrouted] = _documents_named(pipeline, "unrouted-events_tls-only")
    [deny] = [s for s in unrouted["statement"] if s.get("sid") == "OnlyTheseRolesSend"]
    deny["condition"] = deny["condition"][:1]
    violations = resource_policy_violations(pipeline, ENVIRONMENT)
    assert [v.split(":")[0] for v in violations] == [f"payments-queue-{ENVIRONMENT}", f"unrouted-events-{ENVIRONMENT}"]


def test_a_table_without_its_resource_policy_is_caught(pipeline: dict[str, Any]) -> None:
    del pipeline["resource"]["aws_dynamodb_resource_policy"]
    assert resource_policy_violations(pipeline, ENVIRONMENT) == [
        f"transaction-events-{ENVIRONMENT}: no resource policy limits writers",
        f"webhook-quarantine-{ENVIRONMENT}: no resource policy limits writers",
    ]


def test_a_table_policy_that_lets_the_router_write_is_caught(pipeline: dict[str, Any]) -> None:
    [block] = [b for name, b in pipeline["resource"]["aws_dynamodb_resource_policy"].items() if "events" in name]
    document = _document_of(pipeline, block["policy"])
    document["statement"][0]["condition"][0]["values"].append("arn:aws:iam::1:role/event-router-role-test")
    violation = resource_policy_violations(pipeline, ENVIRONMENT)[0]
    assert f"transaction-events-{ENVIRONMENT}: OnlyTheValidatorWrites excepts" in violation


def test_a_cloudwatch_grant_scoped_by_account_only_is_caught(pipeline: dict[str, Any]) -> None:
    [key_policy] = _documents_named(pipeline, "encryption_key-policy-document")
    [grant] = [s for s in key_policy["statement"] if s["sid"] == "CloudWatchAlarmsPublishToTheEncryptedTopic"]
    grant["condition"] = [c for c in grant["condition"] if c["variable"] == "aws:SourceAccount"]
    assert resource_policy_violations(pipeline, ENVIRONMENT) == [
        "key policy: the CloudWatch grant is not bound to this stack's alarms ([])"
    ]


def test_state_is_written_only_under_the_state_key(app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    assert state_encryption_violations(app.config("state-bootstrap"), app.config(PIPELINE), ENVIRONMENT) == []
    prod = prod_app.config
    assert state_encryption_violations(prod("state-bootstrap"), prod("webhook-pipeline-prod"), "prod") == []


def test_a_backend_without_the_key_and_a_bucket_that_takes_aes256_are_caught(app: SynthesizedApp) -> None:
    """The configuration before: `encrypt = true` without `kms_key_id` (Terraform sends AES256), and a
    bucket policy that only denied plain HTTP."""
    pipeline, bootstrap = copy.deepcopy(app.config(PIPELINE)), copy.deepcopy(app.config("state-bootstrap"))
    del pipeline["terraform"]["backend"]["s3"]["kms_key_id"]
    [(_, policy)] = bootstrap["resource"]["aws_s3_bucket_policy"].items()
    document = _document_of(bootstrap, policy["policy"])
    document["statement"] = [s for s in document["statement"] if s.get("sid") == "DenyInsecureTransport"]
    assert state_encryption_violations(bootstrap, pipeline, ENVIRONMENT) == [
        f"backend kms_key_id is None, not the state key alias/webhook-pipeline-state-{ENVIRONMENT}",
        "state bucket policy: DenyStateNotEncryptedWithKms missing or wrong",
        "state bucket policy: DenyStateNotEncryptedWithTheStateKey missing or wrong",
    ]
