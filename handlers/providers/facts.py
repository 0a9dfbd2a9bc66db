"""What the provider modules' money-fact tables share: one row type and the fallback object version.

A provider's mapping table (`FACTS` in its module, each row documented with the provider's link in
docs/providers/<id>.md) says, per event kind: the canonical `transaction_type`, the `outcome`
(handlers/money_facts.py), where the amount of *this* fact is, and where the ids of the object and its
parent are. Kinds that describe a fact another kind already carries are `other` with an outcome: known
(delivered to the lifecycle queue, no alarm) and never money, so each money fact reaches its queue once.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class Fact(NamedTuple):
    """One row of a provider's mapping table.

    `outcome` None means "from the object's status" (the module's status table says how). `amount`,
    `object_id` and `parent_id` are dotted paths inside the event's subject (None: the kind has none).
    """

    transaction_type: str
    outcome: str | None
    amount: str | None
    object_id: str | None
    parent_id: str | None = None


def microseconds(moment: datetime.datetime) -> int:
    """`moment` as integer microseconds since the Unix epoch (exact: no float on the way).

    The `object_version` of providers whose objects carry no version or sequence: the event's time.
    """
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
