"""The consumer's side in the stack: FIFO money queues (`fifo_money_queues`) and the example consumer
(`example_consumer`), synthesized once for the sandbox environment with FIFO on."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from modules.config import ConfigError, load_settings
from pipeline_tools.cost_consumer import EXAMPLE_CONSUMER_BATCH_SIZE, EXAMPLE_CONSUMER_MEMORY_MB
from tests.infrastructure.synth import SynthesizedApp, synthesize

pytestmark = pytest.mark.synth
STACK = "webhook-pipeline-sandbox"


@pytest.fixture(scope="session")
def consumer_app(tmp_path_factory: pytest.TempPathFactory, build_dir: Path) -> SynthesizedApp:
    return synthesize("sandbox", tmp_path_factory.mktemp("synth-consumer"), build_dir, fifo_money_queues=True)


@pytest.fixture(scope="session")
def stack(consumer_app: SynthesizedApp) -> dict[str, Any]:
    return consumer_app.config(STACK)


def queues(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in config["resource"]["aws_sqs_queue"].values()}


def test_money_queues_and_their_dlqs_are_fifo_with_the_env_suffix_before_dot_fifo(stack: dict[str, Any]) -> None:
    by_name = queues(stack)
    for kind in ("payments", "refunds", "disputes"):
        for name in (f"{kind}-queue-sandbox.fifo", f"{kind}-dlq-sandbox.fifo"):
            queue = by_name[name]
            assert queue["fifo_queue"] is True and queue["content_based_deduplication"] is False
            assert (queue["deduplication_scope"], queue["fifo_throughput_limit"]) == (
                "messageGroup",
                "perMessageGroupId",
            )
            assert queue["kms_master_key_id"]
    for name in ("unrouted-events-sandbox", "event-router-dlq-sandbox"):
        assert "fifo_queue" not in by_name[name]
    router = next(
        f for f in stack["resource"]["aws_lambda_function"].values() if f["function_name"] == "event-router-sandbox"
    )
    assert router["environment"]["variables"]["PAYMENTS_QUEUE_URL"].startswith("${aws_sqs_queue.")


def test_the_default_environment_keeps_standard_queues_and_no_example_consumer(pipeline: dict[str, Any]) -> None:
    assert all(not name.endswith(".fifo") for name in queues(pipeline))
    assert not any("example" in f["function_name"] for f in pipeline["resource"]["aws_lambda_function"].values())


def test_the_example_consumer_has_its_table_function_and_three_mappings(stack: dict[str, Any]) -> None:
    [table] = [t for t in stack["resource"]["aws_dynamodb_table"].values() if t["name"] == "example-ledger-sandbox"]
    assert table["hash_key"] == "pk" and table["server_side_encryption"]["enabled"] is True
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
    assert table["point_in_time_recovery"]["enabled"] is True
    [function] = [f for f in stack["resource"]["aws_lambda_function"].values()
                  if f["function_name"] == "example-ledger-consumer-sandbox"]  # fmt: skip
    assert function["handler"] == "ledger_consumer.handler" and function["runtime"] == "python3.11"
    assert function["kms_key_arn"].startswith("${aws_kms_key.")
    mappings = [m for m in stack["resource"]["aws_lambda_event_source_mapping"].values()
                if "example" in m["function_name"]]  # fmt: skip
    assert len(mappings) == 3
    assert all(m["function_response_types"] == ["ReportBatchItemFailures"] for m in mappings)
    # the cost model prices what is deployed (pipeline_tools/cost_consumer.py)
    assert function["memory_size"] == EXAMPLE_CONSUMER_MEMORY_MB
    assert {m["batch_size"] for m in mappings} == {EXAMPLE_CONSUMER_BATCH_SIZE}
    assert {m["event_source_arn"] for m in mappings} == {
        q for q in {m["event_source_arn"] for m in mappings} if q.startswith("${aws_sqs_queue.")
    }


def test_the_example_consumers_role_is_least_privilege(stack: dict[str, Any]) -> None:
    documents = stack["data"]["aws_iam_policy_document"]
    [document] = [d for key, d in documents.items() if "example" in key and "role-policy" in key]
    statements = {s["sid"]: s for s in document["statement"]}
    assert statements["LedgerReadWrite"]["actions"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    [table] = statements["LedgerReadWrite"]["resources"]
    assert table.startswith("${aws_dynamodb_table.") and "ledger-table" in table
    assert len(statements["ReceiveMoneyQueues"]["resources"]) == 3
    assert all(r != "*" for sid, s in statements.items() if sid != "WriteTraces" for r in s["resources"])
    assert statements["DecryptThroughSqsAndDynamodb"]["condition"][0]["variable"] == "kms:ViaService"


def test_the_example_consumers_zip_holds_only_the_package_and_the_example(consumer_app: SynthesizedApp,
                                                                          stack: dict[str, Any]) -> None:  # fmt: skip
    [function] = [f for f in stack["resource"]["aws_lambda_function"].values()
                  if f["function_name"] == "example-ledger-consumer-sandbox"]  # fmt: skip
    path = consumer_app.stack_file(STACK).parent / function["filename"]
    with zipfile.ZipFile(path) as archive:
        sources = sorted(n for n in archive.namelist() if n.endswith((".py", ".json")))
    assert sources == sorted(["ledger_consumer.py", *(f"webhook_consumer/{n}" for n in (
        "__init__.py", "batch.py", "dynamodb_store.py", "errors.py", "guard.py", "models.py",
        "routed-message.schema.json", "schema_rules.py", "vocabulary.py"))])  # fmt: skip


def test_the_consumer_log_group_is_in_the_keys_logs_condition(stack: dict[str, Any]) -> None:
    text = json.dumps(stack["data"]["aws_iam_policy_document"])
    assert "log-group:/aws/lambda/example-ledger-consumer-sandbox" in text


def test_fifo_names_that_would_pass_80_characters_are_refused(tmp_path: Path) -> None:
    (tmp_path / "default.json").write_text((Path("terraform-state-config") / "default.json").read_text())
    environment = "e" * 61
    (tmp_path / f"{environment}.json").write_text(json.dumps({"fifo_money_queues": True}))
    with pytest.raises(ConfigError, match="at most 80 characters"):
        load_settings(environment, tmp_path)
    (tmp_path / f"{environment}.json").write_text(json.dumps({"fifo_money_queues": "yes"}))
    with pytest.raises(ConfigError, match="'fifo_money_queues' must be bool"):
        load_settings(environment, tmp_path)
