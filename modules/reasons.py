"""The reason codes as the infrastructure side reads them: handlers/errors.py itself, loaded from its file.

`handlers/` is the Lambda zip's root, not a package of this project, and the dashboard body is also read by
the handler tests: loading the one file keeps a single registry without putting `handlers/` on `sys.path`.
`REASONS` (reason -> HTTP status, in the dashboard's order), `GATEWAY_REASONS` (API Gateway's own
answers) and every reason constant are the registry's objects, not copies. `reasons_markdown()` renders
docs/REASONS.md (tests/handlers/test_errors.py keeps the file equal to it).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

ERRORS_FILE = Path(__file__).resolve().parents[1] / "handlers" / "errors.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pipeline_handler_errors", ERRORS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


errors = _load()
REASONS: Mapping[str, int] = errors.REASONS
GATEWAY_REASONS: Mapping[str, int] = errors.GATEWAY_REASONS
PARKED_REASONS: Mapping[str, str] = errors.PARKED_REASONS


def reasons_markdown() -> str:
    """docs/REASONS.md: every reason code with its HTTP status and where it is answered."""
    rows = [f"| `{reason}` | {status} | validator (`Rejected_{reason}`) |" for reason, status in REASONS.items()]
    rows += [f"| `{reason}` | {status} | API Gateway (no metric) |" for reason, status in GATEWAY_REASONS.items()]
    return "\n".join([
        "# Reason codes",
        "",
        "Generated from `handlers/errors.py` (`REASONS`, `GATEWAY_REASONS`) by `modules/reasons.py`; a test keeps",
        "this file equal to it. A refusal's body is `{\"error\": <reason>, \"message\": ...}` (and `\"field\"` when",
        "one is named); the validator also counts it as the metric `Rejected_<reason>` (namespace",
        "`WebhookPipeline`). Spellings are a public contract: they never change. Order of checks for every",
        "verifier: the signature headers' shape, the signature, then the signed timestamp's freshness; the body",
        "only after the signature matched.",
        "",
        "| reason | HTTP status | answered by |",
        "| --- | --- | --- |",
        *rows,
        "",
        "## Parked reasons",
        "",
        "Not refusals: the signed event is stored (answered 2xx) and its message goes to `unrouted-events` with",
        "`unrouted_reason` (alarmed); `replay` routes it after a fix (`PARKED_REASONS` in `handlers/errors.py`).",
        "",
        "| unrouted_reason | meaning |",
        "| --- | --- |",
        *[f"| `{reason}` | {meaning} |" for reason, meaning in PARKED_REASONS.items()],
        "",
    ])  # fmt: skip
