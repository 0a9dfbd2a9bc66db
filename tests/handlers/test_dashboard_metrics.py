"""The dashboard shows the metrics the validator really emits: same namespace, name and dimensions.

Each request path runs through the real handler; its EMF documents are read from stdout and every
metric must be on the dashboard (`modules/dashboard_body.py`), and every reason the handlers can
reject with must have its `Rejected_<reason>` line.
"""

from __future__ import annotations

import json
import time
from types import ModuleType

import pytest

from modules.dashboard_body import METRICS_NAMESPACE, REJECTION_REASONS, SOURCE_OUTCOMES, dashboard_body
from tests.handlers.helpers import FakeContext, fresh_import, make_event, payment

SERVICE = "webhook-validator-test"


@pytest.fixture
def emitting_validator(events_table: str, signing_secret: object, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    return fresh_import("validator")


def dashboard_metrics() -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    body = dashboard_body(region="us-east-1", validator_service=SERVICE, validator_function="v", router_function="r",
                          queue_names=["q"], alarm_arns=[])  # fmt: skip
    found = set()
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            plain = [part for part in line if isinstance(part, str)]
            found.add(
                (plain[0], plain[1], tuple(sorted(zip(plain[2::2], plain[3::2], strict=True))))
            )  # order is not part of a metric's identity
    return found


def emitted(output: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    metrics = set()
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((name, document[name]) for name in dimension_set))
                metrics |= {(directive["Namespace"], metric["Name"], dimensions) for metric in directive["Metrics"]}
    return metrics


def test_every_metric_the_validator_emits_is_on_the_dashboard(
    emitting_validator: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = [
        make_event(payment("evt_d1")),
        make_event(payment("evt_d1")),  # duplicate
        make_event(payment("evt_d1", amount=5)),  # conflict
        make_event(payment("evt_d2"), secret="whsec_" + "B" * 43 + "="),  # invalid_signature
        make_event(payment("evt_d3"), omit=("webhook-signature",)),  # missing_signature_headers
        make_event(payment("evt_d4"), timestamp=int(time.time()) - 3600),  # timestamp_too_old
        make_event("{not json"),  # malformed_json
        make_event({"event_id": "evt_d5"}),  # schema_violation
    ]
    for event in requests:
        emitting_validator.handler(event, FakeContext())
    metrics = emitted(capsys.readouterr().out)
    names = {name for _, name, _ in metrics}
    assert {"Accepted", "Duplicate", "Conflict", "Rejected", "Rejected_invalid_signature"} <= names
    # POST /webhook publishes under (service) only: every such metric is on the dashboard. Provider sources
    # add (service, source) (tests/handlers/test_sources.py); the dashboard graphs their outcomes.
    assert not any(dict(m[2]).get("source") for m in metrics), "the standard route carries no source dimension"
    assert metrics - dashboard_metrics() == set()


def test_the_per_source_widget_graphs_every_source_outcome() -> None:
    body = dashboard_body(region="us-east-1", validator_service=SERVICE, validator_function="v", router_function="r",
                          queue_names=["q"], alarm_arns=[], sources=["shop"])  # fmt: skip
    lines = {
        (line[1], line[5]) for w in body["widgets"] for line in w["properties"].get("metrics", []) if "source" in line
    }
    assert lines == {(name, "shop") for name in SOURCE_OUTCOMES}


def test_every_registered_reason_has_a_dashboard_line_in_the_registrys_order() -> None:
    """The dashboard reads the one registry (handlers/errors.py through modules/reasons.py); that the
    handlers raise only registered names is tests/handlers/test_errors.py's."""
    errors = fresh_import("errors")
    assert tuple(errors.REASONS) == REJECTION_REASONS
    body = dashboard_body(region="us-east-1", validator_service=SERVICE, validator_function="v", router_function="r",
                          queue_names=["q"], alarm_arns=[])  # fmt: skip
    lines = [
        line[1]
        for w in body["widgets"]
        for line in w["properties"].get("metrics", [])
        if line[1].startswith("Rejected_")
    ]
    assert lines == [f"Rejected_{reason}" for reason in errors.REASONS]
