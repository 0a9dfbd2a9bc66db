"""Names of the money queues, standard or FIFO (no CDKTF import: the configuration checks them too)."""

from __future__ import annotations

# FIFO queue names must end in `.fifo` and be at most 80 characters (SQS Developer Guide, "Amazon SQS FIFO
# queues" and CreateQueue's QueueName). Money queues keep their `<kind>-queue-<env>` name and add the suffix.
FIFO_SUFFIX = ".fifo"
MAX_QUEUE_NAME_LENGTH = 80


def money_queue_names(kind: str, environment: str, *, fifo: bool) -> tuple[str, str]:
    """(`<kind>-queue-<env>`, `<kind>-dlq-<env>`), each ending in `.fifo` when `fifo`."""
    suffix = FIFO_SUFFIX if fifo else ""
    return f"{kind}-queue-{environment}{suffix}", f"{kind}-dlq-{environment}{suffix}"
