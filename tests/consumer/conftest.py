"""The consumer package (consumer/) is tested from its source tree: `consumer/src` and the example on
sys.path, as an installed package and the Lambda zip would have them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

CONSUMER_DIR = Path(__file__).resolve().parents[2] / "consumer"
for folder in (CONSUMER_DIR / "src", CONSUMER_DIR / "example"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

TABLE = "example-ledger-test"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")  # fmt: skip
        yield dynamodb
