"""The body of the `webhook-pipeline-<env>` CloudWatch dashboard (no CDKTF import: the handler tests read it too).

Widgets (period 60 s unless said): the validator's outcomes (Accepted, Duplicate, Conflict, Rejected,
StoreFailed, SecretUnavailable; Powertools EMF in namespace `WebhookPipeline`, dimension `service`),
rejections by reason (`Rejected_<reason>`), validator duration p50/p99 (ms), the router's stream
iterator age (ms), the depth of every queue and dead-letter queue, and the state of every alarm.

The validator metrics' dimensions are one tuple, `VALIDATOR_DIMENSIONS`: when provider sources add a
`source` dimension, append it there and pass the sources, and each metric line becomes one per source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modules.reasons import REASONS

METRICS_NAMESPACE = "WebhookPipeline"

VALIDATOR_OUTCOMES = (
    "Accepted", "Duplicate", "Conflict", "Rejected", "SignatureRejected", "StoreFailed", "SecretUnavailable",
    "SignatureVerified", "Quarantined", "QuarantineFailed", "Readmitted", "ReadmitRefused",
)  # fmt: skip
# The reasons the validator rejects with: the one registry, handlers/errors.py `REASONS` (modules/reasons.py).
REJECTION_REASONS = tuple(REASONS)
# Per-source outcomes (validator.py `_per_source_metrics`: every metric also under service and source).
SOURCE_OUTCOMES = (
    "Accepted", "Duplicate", "Conflict", "StoreFailed", "Rejected", "SignatureRejected", "SecretUnavailable",
    "SignatureVerified", "Quarantined", "QuarantineFailed",
)  # fmt: skip
# The reconciler's per-source metrics (handlers/reconciler.py `publish`).
RECONCILER_METRICS = ("ReconcileFound", "ReconciledMissing", "ReconcileRefused", "ReconcileGap", "ReconcileFailed")
WIDTH, HEIGHT = 12, 6


def _metric_line(namespace: str, name: str, dimensions: dict[str, str], **options: Any) -> list[Any]:
    line: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        line += [key, value]
    return [*line, options] if options else line


def _graph(title: str, metrics: list[list[Any]], region: str, *, stat: str = "Sum", **extra: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": 60,
            "view": "timeSeries",
            "metrics": metrics,
            **extra,
        },
    }


def dashboard_body(
    *,
    region: str,
    validator_service: str,
    validator_function: str,
    router_function: str,
    queue_names: Sequence[str],
    alarm_arns: Sequence[str],
    sources: Sequence[str] = (),
    reconciler_service: str | None = None,
    reconciling_sources: Sequence[str] = (),
) -> dict[str, Any]:
    """The dashboard JSON (CloudWatch's DashboardBody schema) as a dict; `alarm_arns` may be Terraform references."""
    service = {"service": validator_service}
    widgets = [
        _graph("Validator outcomes (count / min)",
               [_metric_line(METRICS_NAMESPACE, name, service) for name in VALIDATOR_OUTCOMES], region),
        _graph("Rejected by reason (count / min)",
               [_metric_line(METRICS_NAMESPACE, f"Rejected_{reason}", service) for reason in REJECTION_REASONS], region),
        _graph("Validator duration (ms)",
               [_metric_line("AWS/Lambda", "Duration", {"FunctionName": validator_function}, stat=stat, label=stat)
                for stat in ("p50", "p99")], region, stat="p50"),
        _graph("Router stream iterator age (ms)",
               [_metric_line("AWS/Lambda", "IteratorAge", {"FunctionName": router_function})], region, stat="Maximum"),
        _graph("Queue depth (visible messages)",
               [_metric_line("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": name}) for name in queue_names],
               region, stat="Maximum", width=24),
        *([_graph("Deliveries by provider source (count / min; POST /webhook is the rest of the outcomes above)",
                  [_metric_line(METRICS_NAMESPACE, name, {**service, "source": source}, label=f"{source} {name}")
                   for source in sources for name in SOURCE_OUTCOMES], region, width=24)] if sources else []),
        *([_graph("Reconciliation by source (count / run; ReconciledMissing = webhooks lost upstream)",
                  [_metric_line(METRICS_NAMESPACE, name, {"service": reconciler_service, "source": source},
                                label=f"{source} {name}")
                   for source in reconciling_sources for name in RECONCILER_METRICS], region, width=24, period=300)]
          if reconciler_service and reconciling_sources else []),
        {"type": "alarm", "width": 24, "height": 4,
         "properties": {"title": "Alarms", "alarms": list(alarm_arns)}},
    ]  # fmt: skip
    return {"widgets": widgets}
