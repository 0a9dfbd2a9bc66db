"""The environment the handlers read, as their functions are configured, for the benchmarks that import them."""

from __future__ import annotations

HANDLER_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench", "EVENTS_TABLE_NAME": "transaction-events-bench",
    "SIGNING_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-AbCdEf",
    "SIGNATURE_TOLERANCE_SECONDS": "300", "EVENT_TTL_DAYS": "30",
    **{f"{name}_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/123456789012/{name.lower()}"
       for name in ("PAYMENTS", "REFUNDS", "DISPUTES", "UNROUTED", "LIFECYCLE")},
}  # fmt: skip
