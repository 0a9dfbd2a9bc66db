"""One EMF line per invocation from a cached template: Powertools' output, without its per-event work.

Powertools' `flush_metrics` validates and serializes the metric set on every invocation (~40-60 µs of
the validator's warm CPU, docs/PERFORMANCE.md). The validator publishes a handful of metric-set shapes
(e.g. `Accepted` under `service`, or `Accepted` + `SignatureVerified` under `service` and `source`):
the first flush of a shape goes through Powertools, and its line, minus the timestamp, is kept; later
flushes of the same shape print that line with the current timestamp. The line is byte for byte what
Powertools writes (CloudWatch EMF specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.constants import MAX_METRICS

# Powertools writes the timestamp first: `{"_aws":{"Timestamp":<ms>,...`; the template is split there.
_HEAD = '{"_aws":{"Timestamp":'
_PLACEHOLDER = 1
# More shapes than this means values that vary (not counts of 1): stop caching rather than grow.
MAX_TEMPLATES = 64


def install(provider: Any) -> None:
    """Replace `provider.flush_metrics` (an `AmazonCloudWatchEMFProvider`) with the template flush, and
    `provider.add_metric` with one that validates a (name, unit, resolution) once: Powertools checks
    every call and formats a debug message with the whole metric (~10 µs each, 2-4 per event)."""
    templates: dict[tuple[Any, ...], str] = {}
    powertools_flush: Callable[..., None] = provider.flush_metrics
    powertools_add: Callable[..., None] = provider.add_metric
    checked: dict[tuple[Any, Any, Any], tuple[str, str, int]] = {}

    def add_metric(name: str, unit: Any, value: float, resolution: Any = 60) -> None:
        known = checked.get((name, unit, resolution))
        metric = provider.metric_set.get(known[0]) if known else None
        if (
            known is None
            or not isinstance(value, int | float)
            or len(provider.metric_set) >= MAX_METRICS - 1
            or (metric is not None and len(metric["Value"]) >= MAX_METRICS - 1)
        ):  # first use, an unusual value, or near Powertools' own flush at MAX_METRICS: its path
            powertools_add(name=name, unit=unit, value=value, resolution=resolution)
            stored = provider.metric_set.get(name.strip())
            if stored is not None:
                checked[(name, unit, resolution)] = (name.strip(), stored["Unit"], stored["StorageResolution"])
            return
        if metric is None:
            metric = provider.metric_set[known[0]] = defaultdict(list)
        metric["Unit"], metric["StorageResolution"] = known[1], known[2]
        metric["Value"].append(float(value))

    def flush_metrics(raise_on_empty_metrics: bool = False) -> None:
        metric_set = provider.metric_set
        if not metric_set or provider.metadata_set or provider.timestamp is not None or is_metrics_disabled():
            powertools_flush(raise_on_empty_metrics=raise_on_empty_metrics)
            return
        key = (
            provider.namespace,
            tuple((name, m["Unit"], m["StorageResolution"], tuple(m["Value"])) for name, m in metric_set.items()),
            tuple(provider.dimension_set.items()),
            tuple(tuple(dimensions.items()) for dimensions in provider.dimension_sets),
        )
        tail = templates.get(key)
        if tail is None:
            provider.timestamp = _PLACEHOLDER
            try:
                line = json.dumps(provider.serialize_metric_set(), separators=(",", ":"))
            finally:
                provider.timestamp = None
            prefix = f"{_HEAD}{_PLACEHOLDER}"
            if not line.startswith(prefix):  # another Powertools layout: never guess, use it as is
                powertools_flush(raise_on_empty_metrics=raise_on_empty_metrics)
                return
            tail = line[len(prefix) :]
            if len(templates) < MAX_TEMPLATES:
                templates[key] = tail
        print(f"{_HEAD}{int(time.time() * 1000)}{tail}")
        provider.clear_metrics()

    provider.flush_metrics = flush_metrics
    provider.add_metric = add_metric
