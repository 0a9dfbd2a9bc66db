"""A digest of what a plan changes, so an approval given to one plan can be checked against a later one.

The deploy workflow plans, asks for an approval when the review is dangerous, then plans again with
the lock and applies that second plan (the plan file never leaves its job). The plan *file* differs
between the two runs (timestamps, a fresh lineage of the binary), so the approval is bound to the
changes instead: every managed change's address, action, masked before/after values and unknown
paths, sorted, as canonical JSON, SHA-256. Equal digests mean the second plan does exactly what the
reviewer approved; anything else fails the deploy before `terraform apply`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from pipeline_tools.review.plan_review import parse_changes


def changes_digest(plan: dict[str, Any]) -> str:
    """sha256 hex of the plan's managed changes (sensitive values masked as the review shows them)."""
    changes = sorted((dataclasses.asdict(change) for change in parse_changes(plan)), key=lambda c: c["address"])
    canonical = json.dumps(changes, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
