"""The sandbox's injected throttling (pipeline_tools/sandbox/fault_injection.py): on while the fault
file exists, only for the named table, at the share it names; and answered as DynamoDB answers."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_tools.sandbox import fault_injection


def test_the_fault_file_switches_throttling_on_and_off(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    faults = fault_injection.FaultFile(path)
    assert not any(faults.throttles("transaction-events-x") for _ in range(50))
    fault_injection.write(path, throttle_put_item=0.5, table_prefix="transaction-events-")
    hits = sum(faults.throttles("transaction-events-x") for _ in range(1000))
    assert 400 < hits < 600
    assert not any(faults.throttles("webhook-quarantine-x") for _ in range(50))
    fault_injection.clear(path)
    assert not any(faults.throttles("transaction-events-x") for _ in range(50))
    fault_injection.write(path, throttle_put_item=0.9, table_prefix="transaction-events-", seconds=-1)
    assert not any(faults.throttles("transaction-events-x") for _ in range(50))  # expired: a killed run's file


def test_a_throttled_put_item_is_dynamodb_s_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "put_item", DynamoHandler.put_item)  # undone after the test
    monkeypatch.setattr(fault_injection, "_original_put_item", None)
    path = tmp_path / "faults.json"
    fault_injection.install(path)
    fault_injection.write(path, throttle_put_item=0.999999, table_prefix="t")
    with mock_aws():
        dynamodb = boto3.client(
            "dynamodb", region_name="us-east-1", config=boto3.session.Config(retries={"max_attempts": 0})
        )
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        with pytest.raises(ClientError) as error:
            dynamodb.put_item(TableName="t", Item={"k": {"S": "1"}})
        assert error.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        fault_injection.clear(path)
        dynamodb.put_item(TableName="t", Item={"k": {"S": "1"}})
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "1"}})["Item"]
