"""The template EMF flush (issue 20) prints, shape for shape, the line Powertools prints; only the
timestamp differs, and it is the current time."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from tests.handlers.helpers import HANDLERS_DIR

sys.path.insert(0, str(HANDLERS_DIR))
import emf_template


def provider() -> AmazonCloudWatchEMFProvider:
    return AmazonCloudWatchEMFProvider(
        namespace="Webhooks", service="webhook-validator-test", metric_set={}, dimension_set={}, metadata_set={},
        default_dimensions={},
    )  # fmt: skip


def publish(emf: AmazonCloudWatchEMFProvider, shape: int) -> None:
    emf.add_metric(name="Accepted", unit="Count", value=1)
    if shape:
        emf.add_dimensions(service="webhook-validator-test", source="shop")
        emf.add_metric(name="SignatureVerified", unit="Count", value=1)
        emf.add_metric(name="Accepted", unit="Count", value=1)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_the_template_line_is_the_powertools_line(capsys: pytest.CaptureFixture[str]) -> None:
    templated = provider()
    emf_template.install(templated)
    for shape in (0, 1, 0, 1, 1):
        plain = provider()
        publish(plain, shape)
        plain.flush_metrics()
        [expected] = lines(capsys)
        before = int(time.time() * 1000)
        publish(templated, shape)
        templated.flush_metrics()
        [line] = lines(capsys)
        assert before <= line["_aws"].pop("Timestamp") <= int(time.time() * 1000)
        expected["_aws"].pop("Timestamp")
        assert line == expected
        assert not templated.metric_set  # cleared, as Powertools clears


def test_metadata_and_fixed_timestamps_go_through_powertools(capsys: pytest.CaptureFixture[str]) -> None:
    templated = provider()
    emf_template.install(templated)
    publish(templated, 0)
    templated.add_metadata(key="request", value="r-1")
    templated.flush_metrics()
    [line] = lines(capsys)
    assert line["request"] == "r-1"


def test_repeated_metrics_aggregate_as_powertools_aggregates(capsys: pytest.CaptureFixture[str]) -> None:
    plain, templated = provider(), provider()
    emf_template.install(templated)
    for emf in (plain, templated):
        for _ in range(3):
            publish(emf, 1)
        emf.add_metric(name="Latency", unit="Milliseconds", value=2.5)
        emf.flush_metrics()
    expected, line = lines(capsys)
    for document in (expected, line):
        document["_aws"].pop("Timestamp")
    assert line == expected
    assert line["Accepted"] == [1.0] * 6 and line["Latency"] == [2.5]


def test_an_invalid_metric_is_refused_as_powertools_refuses() -> None:
    from aws_lambda_powertools.metrics.exceptions import MetricUnitError

    templated = provider()
    emf_template.install(templated)
    publish(templated, 0)
    with pytest.raises(MetricUnitError):
        templated.add_metric(name="Accepted", unit="Parsecs", value=1)


@pytest.mark.parametrize("shape", [0, 1])
def test_the_metrics_line_survives_lambda_json_log_format_at_info(
    capsys: pytest.CaptureFixture[str], shape: int
) -> None:
    """The functions run with Lambda's JSON log format and application lines at INFO (modules/function.py
    QUIET_PLATFORM_LOGS). Lambda passes print()ed lines through as they are, and files a JSON line
    without a `level` as INFO (docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html):
    so the metrics line must be one line, one JSON object, with no `level` above INFO, and still a valid
    EMF document (the `_aws` directive naming metrics that are members of the line)."""
    from modules.function import QUIET_PLATFORM_LOGS

    assert QUIET_PLATFORM_LOGS.application_log_level in ("DEBUG", "INFO")  # WARN or above would drop this line
    templated = provider()
    emf_template.install(templated)
    publish(templated, shape)
    templated.flush_metrics()
    text = capsys.readouterr().out
    assert text.count("\n") == 1 and text.endswith("\n")
    line = json.loads(text)
    assert "level" not in line and "Level" not in line
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert isinstance(line["_aws"]["Timestamp"], int)
    for metric in directive["Metrics"]:
        assert metric["Name"] in line
    for dimensions in directive["Dimensions"]:
        assert all(isinstance(line[name], str) for name in dimensions)
