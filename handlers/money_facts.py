"""The money-fact vocabulary of the canonical event: what happened to the money, and which facts move it.

Every canonical event says, besides its `transaction_type` (`payment`, `refund`, `dispute`, `other`),
an `outcome`: what happened to the money in *this* fact. The vocabulary is small on purpose; each
provider's mapping table (docs/providers/<id>.md) says which of its event kinds gives which outcome.

- `succeeded`  the money moved as asked: a payment captured or settled (never a mere authorization),
               a refund paid out.
- `failed`     the attempt ended and no money moved (a declined payment, a refund that failed).
- `pending`    the attempt exists and may still move money later (created, processing).
- `authorized` a payment's funds are held but not captured: no money moved yet.
- `canceled`   the attempt was withdrawn before it moved money (a voided authorization).
- `reversed`   money that had moved came back to the payer outside a refund (a payment returned by
               the bank, a refund reversed), or a dispute reversed in the merchant's favour.
- `opened`     a dispute was opened and its amount withdrawn from the merchant.
- `won`        a dispute was decided for the merchant: the disputed amount is reinstated.
- `lost`       a dispute was decided for the payer: nothing more moves (it was withdrawn at `opened`).

Only money facts reach the money queues (`MONEY_OUTCOMES`); every other known fact is delivered to the
lifecycle queue, and unknown provider event kinds to `unrouted-events` as before. `LEDGER_SIGN` is how
each money fact changes what the merchant holds; the lifecycle properties and the consumer package's
example ledger use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

OUTCOMES: tuple[str, ...] = (
    "succeeded",
    "failed",
    "pending",
    "authorized",
    "canceled",
    "reversed",
    "opened",
    "won",
    "lost",
)

# transaction_type -> the outcomes that are money facts for it (routed to that type's queue).
MONEY_OUTCOMES: Mapping[str, frozenset[str]] = {
    "payment": frozenset({"succeeded", "reversed"}),
    "refund": frozenset({"succeeded", "reversed"}),
    "dispute": frozenset({"opened", "won", "lost", "reversed"}),
}

# (transaction_type, outcome) -> +1 the merchant gains the amount, -1 loses it, 0 nothing moves.
LEDGER_SIGN: Mapping[tuple[str, str], int] = {
    ("payment", "succeeded"): 1,
    ("payment", "reversed"): -1,
    ("refund", "succeeded"): -1,
    ("refund", "reversed"): 1,
    ("dispute", "opened"): -1,
    ("dispute", "won"): 1,
    ("dispute", "reversed"): 1,
    ("dispute", "lost"): 0,
}


def is_money_fact(transaction_type: str, outcome: str | None) -> bool:
    """True when this (type, outcome) changes what is owed and belongs on the type's money queue."""
    return outcome is not None and outcome in MONEY_OUTCOMES.get(transaction_type, frozenset())


def moves_money(transaction_type: str, outcome: str | None, amount: Any = None) -> bool:
    """A money fact whose amount is not zero (an absent amount, GoCardless's, counts as moving money).

    A zero amount (a 100%-discounted invoice paid, a zero-value capture) is a known fact that changes no
    balance: it goes to the lifecycle queue, never to a money queue (README, "The money contract").
    """
    if not is_money_fact(transaction_type, outcome):
        return False
    return amount is None or Decimal(amount) != 0
