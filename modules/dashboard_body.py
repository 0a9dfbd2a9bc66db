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

METRICS_NAMESPACE = "WebhookPipeline"
VALIDATOR_OUTCOMES = (
    "Accepted", "Duplicate", "Conflict", "Rejected", "SignatureRejected", "StoreFailed", "SecretUnavailable",
)  # fmt: skip
# The reasons the validator rejects with today (handlers/webhook_signature.py, webhook_event.py, validator.py);
# tests/infrastructure/test_dashboard.py fails when the handlers emit one that is not here.
REJECTION_REASONS = (
    # signatures (handlers/webhook_signature.py, handlers/providers/)
    "missing_signature_headers", "missing_signature_header", "missing_signature", "malformed_signature",
    "malformed_signature_header", "malformed_signature_headers", "oversized_signature_header", "no_signature",
    "malformed_webhook_id", "malformed_timestamp", "timestamp_too_old", "timestamp_in_future", "invalid_signature",
    "unknown_public_key", "not_configured", "malformed_notification", "malformed_form",
    # decoding and admission (strict_json.py, webhook_event.py, routed_message.py, canonical_event.py)
    "malformed_body", "invalid_utf8", "byte_order_mark", "malformed_json", "duplicate_key", "lone_surrogate",
    "too_deep", "number_out_of_range", "schema_violation", "payload_too_large", "message_too_large",
    "item_too_large", "invalid_attribute",
    # provider bodies (handlers/providers/)
    "not_provider_shape", "not_an_object", "no_events", "invalid_event_id", "invalid_event_type",
    "invalid_timestamp", "invalid_amount", "invalid_currency", "missing_currency", "invalid_field",
    "malformed_payload", "xml_doctype",
    # routing of the request (validator.py)
    "unknown_source",
)  # fmt: skip
# Per-source outcomes (validator.py `_per_source_metrics`: every metric also under service and source).
SOURCE_OUTCOMES = (
    "Accepted", "Duplicate", "Conflict", "StoreFailed", "Rejected", "SignatureRejected", "SecretUnavailable",
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
