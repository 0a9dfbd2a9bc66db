"""A payment's lifecycle as provider facts (payment, partial refunds, a dispute), and its net amount."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from tests.consumer.messages import Fact

SIGN = {("payment", "succeeded"): 1, ("payment", "reversed"): -1, ("refund", "succeeded"): -1,
        ("refund", "reversed"): 1, ("dispute", "opened"): -1, ("dispute", "won"): 1, ("dispute", "reversed"): 1,
        ("dispute", "lost"): 0}  # fmt: skip


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


@st.composite
def lifecycles(draw: st.DrawFn, name: str = "1") -> list[Fact]:
    """The facts of one payment in the order the provider produced them (versions increase per object).

    Money facts (payment succeeded, refunds succeeded and maybe reversed, dispute opened then won/lost)
    and lifecycle facts (payment pending, authorized) that move nothing.
    """
    total = draw(st.integers(100, 10**7))
    facts = [Fact(f"psp:evt_{name}_p1", "payment", "pending", f"py_{name}", 1, cents(total))]
    if draw(st.booleans()):
        facts.append(Fact(f"psp:evt_{name}_p2", "payment", "authorized", f"py_{name}", 2, cents(total)))
    facts.append(Fact(f"psp:evt_{name}_p3", "payment", "succeeded", f"py_{name}", 3, cents(total)))
    left = total
    for index in range(draw(st.integers(0, 3))):
        amount = draw(st.integers(1, max(1, left // 2)))
        left -= amount
        refund = f"re_{name}_{index}"
        facts.append(
            Fact(
                f"psp:evt_{name}_r{index}",
                "refund",
                "succeeded",
                refund,
                1,
                cents(amount),
                parent_object_id=f"py_{name}",
            )
        )
        if draw(st.integers(0, 4)) == 0:
            facts.append(
                Fact(
                    f"psp:evt_{name}_r{index}x",
                    "refund",
                    "reversed",
                    refund,
                    2,
                    cents(amount),
                    parent_object_id=f"py_{name}",
                )
            )
    decision = draw(st.sampled_from([None, "opened", "won", "lost"]))
    if decision is not None:
        disputed = cents(draw(st.integers(1, total)))
        facts.append(
            Fact(f"psp:evt_{name}_d1", "dispute", "opened", f"dp_{name}", 1, disputed, parent_object_id=f"py_{name}")
        )
        if decision != "opened":
            facts.append(
                Fact(
                    f"psp:evt_{name}_d2", "dispute", decision, f"dp_{name}", 2, disputed, parent_object_id=f"py_{name}"
                )
            )
    return facts


def net(facts: list[Fact]) -> Decimal:
    """What the provider says the merchant holds after all the facts: each money fact's signed amount."""
    return sum((SIGN.get((f.transaction_type, f.outcome), 0) * f.amount for f in facts), Decimal(0))


@st.composite
def deliveries(draw: st.DrawFn, facts: list[Fact]) -> list[Fact]:
    """Every fact delivered at least once and up to three times, in any order."""
    copies = [fact for fact in facts for _ in range(draw(st.integers(1, 3)))]
    return draw(st.permutations(copies))
