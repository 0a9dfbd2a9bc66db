"""The money-fact vocabulary (the pipeline's handlers/money_facts.py, copied so this package stands alone;
a test in the pipeline's repository keeps the two equal).

`Outcome` is what happened to the money in one fact. `MONEY_OUTCOMES` says which outcomes of a type move
money (only those reach the money queues). `LEDGER_SIGN` is how a fact changes what the merchant holds
(+1 gains its amount, -1 loses it, 0 nothing); `STATE_EFFECT` is the sum of those signs along an object's
life up to a state, which is what an object in that state has moved in all: a ledger that keeps, per
object, the effect of its latest state needs nothing but that state, whatever order facts arrive in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Outcome(enum.StrEnum):
    """The `outcome` member. `UNKNOWN` stands for a value a newer pipeline added (kept in `outcome_text`)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CANCELED = "canceled"
    REVERSED = "reversed"
    OPENED = "opened"
    WON = "won"
    LOST = "lost"
    UNKNOWN = "unknown"


MONEY_OUTCOMES: Mapping[str, frozenset[Outcome]] = {
    "payment": frozenset({Outcome.SUCCEEDED, Outcome.REVERSED}),
    "refund": frozenset({Outcome.SUCCEEDED, Outcome.REVERSED}),
    "dispute": frozenset({Outcome.OPENED, Outcome.WON, Outcome.LOST, Outcome.REVERSED}),
}

LEDGER_SIGN: Mapping[tuple[str, Outcome], int] = {
    ("payment", Outcome.SUCCEEDED): 1,
    ("payment", Outcome.REVERSED): -1,
    ("refund", Outcome.SUCCEEDED): -1,
    ("refund", Outcome.REVERSED): 1,
    ("dispute", Outcome.OPENED): -1,
    ("dispute", Outcome.WON): 1,
    ("dispute", Outcome.REVERSED): 1,
    ("dispute", Outcome.LOST): 0,
}

# (type, latest outcome) -> what the object has moved in all, as a multiple of its amount. A dispute
# decided (won, lost, reversed) was opened first; a payment or refund reversed had succeeded first.
STATE_EFFECT: Mapping[tuple[str, Outcome], int] = {
    ("payment", Outcome.SUCCEEDED): 1,
    ("payment", Outcome.REVERSED): 0,
    ("refund", Outcome.SUCCEEDED): -1,
    ("refund", Outcome.REVERSED): 0,
    ("dispute", Outcome.OPENED): -1,
    ("dispute", Outcome.WON): 0,
    ("dispute", Outcome.REVERSED): 0,
    ("dispute", Outcome.LOST): -1,
}


def is_money_fact(transaction_type: str, outcome: Outcome | None) -> bool:
    """True when this (type, outcome) changes what is owed."""
    return outcome is not None and outcome in MONEY_OUTCOMES.get(transaction_type, frozenset())
