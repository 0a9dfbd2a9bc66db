"""botocore settings shared by the handlers' hot-path clients, and the retry budget they imply.

The budget is a contract with the function timeout (README, "Capacity"): under DynamoDB throttling a
call must give up, and the validator answer its designed 503 with `Retry-After`, well before Lambda
kills the invocation (a timeout is a gateway 5xx without `Retry-After`, and the stuck invocation holds
a reserved-concurrency slot for the whole timeout). botocore's default for DynamoDB is the legacy
policy with 10 attempts (~25.6 s of backoff) and 60 s connect and read timeouts.

Sources: botocore retries guide
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html, legacy mode: DynamoDB
base delay 50 ms, growth factor 2) and `botocore/data/_retry.json`.
"""

from __future__ import annotations

from botocore.config import Config

# Legacy mode on purpose: its backoff is deterministic (50 ms x 2^(n-1) for DynamoDB) and it ignores
# `x-amz-retry-after`; standard mode backs throttling off by up to 1 s x 2^n plus up to 5 s more from
# that header, which a 10 s function cannot afford twice. The sender retries the whole delivery anyway.
RETRY_MODE = "legacy"
TOTAL_MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 1.5
# Legacy backoff for DynamoDB (botocore `_retry.json`: base 0.05, growth factor 2, not randomized).
LEGACY_DYNAMODB_BASE_DELAY_SECONDS = 0.05
# What an invocation keeps for itself after the last call gives up: answer, flush metrics, log.
ANSWER_MARGIN_SECONDS = 1.0

# Client-side parameter validation re-checks requests this code builds and the service validates
# anyway: a bad request fails the same way (an error, answered 5xx, nothing stored), one round
# trip later. Skipping it takes a quarter off the warm validator's CPU per event (docs/PERFORMANCE.md).
SDK_CONFIG = Config(
    parameter_validation=False,
    retries={"mode": RETRY_MODE, "total_max_attempts": TOTAL_MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
)


def worst_case_call_seconds(config: Config = SDK_CONFIG) -> float:
    """Upper bound (seconds) of one API call made with `config` that never succeeds: every attempt
    waits its full connect and read timeouts, plus the legacy backoff between attempts.

    Raises ValueError for a configuration whose worst case this bound does not cover (another retry mode).
    """
    retries = config.retries or {}
    if retries.get("mode") != "legacy":
        raise ValueError(f"retry mode {retries.get('mode')!r}: only the legacy policy's backoff is bounded here")
    attempts = int(retries["total_max_attempts"])
    per_attempt = float(config.connect_timeout) + float(config.read_timeout)
    backoff = sum(LEGACY_DYNAMODB_BASE_DELAY_SECONDS * 2 ** (n - 1) for n in range(1, attempts))
    return attempts * per_attempt + backoff


def time_left_for_another_call(remaining_seconds: float, config: Config = SDK_CONFIG) -> bool:
    """Whether an invocation with `remaining_seconds` left can make one more call and still answer."""
    return remaining_seconds >= worst_case_call_seconds(config) + ANSWER_MARGIN_SECONDS
