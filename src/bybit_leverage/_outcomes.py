"""What an answer means for one symbol: results from plans, answers and read-backs.

Pure functions of a :class:`PlannedChange` and what came back. The rule they
keep: a result never states a leverage the exchange does not hold. A definite
refusal leaves the value read before; an answer that was lost claims nothing
until the exchange is read back, and then states what it holds.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import evolve

from bybit_leverage.errors import BybitError, LeverageMismatch
from bybit_leverage.models import LeverageSource, Outcome, PositionLeverage
from bybit_leverage.report import LeverageResult, PlannedChange

__all__ = ["answered", "failed", "read_back", "unsent"]


def unsent(plan: PlannedChange, *, elapsed: float = 0.0) -> LeverageResult:
    """The result of a plan for which nothing is sent."""
    at_target = plan.action is Outcome.UNCHANGED
    return LeverageResult(
        plan.symbol,
        plan.category,
        plan.action,
        plan.requested_buy,
        plan.requested_sell,
        plan.target_buy if at_target else None,
        plan.target_sell if at_target else None,
        adjusted=plan.adjusted,
        error=plan.error,
        elapsed=elapsed,
        source=plan.current_source if at_target else None,
    )


def answered(
    plan: PlannedChange,
    *,
    modified: bool,
    buy: Decimal,
    sell: Decimal,
    adjusted: bool,
    attempts: int,
    sends: int,
    elapsed: float,
) -> LeverageResult:
    """The result once Bybit accepted ``(buy, sell)`` (``modified``, or 110043).

    A 110043 ("not modified") that came after a retry, where the leverage read
    before sending was different, means an earlier attempt landed and only its
    answer was lost: that is ``SET``.
    """
    outcome = Outcome.SET if modified else Outcome.UNCHANGED
    read = (plan.current_buy, plan.current_sell)
    if not modified and sends > 1 and read != (None, None) and read != (buy, sell):
        outcome = Outcome.SET
    return LeverageResult(
        plan.symbol,
        plan.category,
        outcome,
        plan.requested_buy,
        plan.requested_sell,
        buy,
        sell,
        adjusted=adjusted,
        attempts=attempts,
        elapsed=elapsed,
    )


def failed(
    plan: PlannedChange,
    error: BybitError,
    *,
    attempts: int,
    elapsed: float,
    uncertain: bool = False,
) -> LeverageResult:
    """The result when sending failed.

    A definite refusal leaves the leverage read before in force; when a
    request's fate is unknown (``uncertain``) nothing is claimed.
    """
    known = not uncertain and plan.current_source is not None
    return LeverageResult(
        plan.symbol,
        plan.category,
        Outcome.FAILED,
        plan.requested_buy,
        plan.requested_sell,
        plan.current_buy if known else None,
        plan.current_sell if known else None,
        adjusted=plan.adjusted,
        error=error,
        attempts=attempts,
        elapsed=elapsed,
        source=plan.current_source if known else None,
        uncertain=uncertain,
    )


def read_back(
    plan: PlannedChange,
    result: LeverageResult,
    current: PositionLeverage | None,
    source: LeverageSource | None,
) -> LeverageResult:
    """What ``result`` becomes once the exchange's value ``current`` is known."""
    if current is None or source is None:
        return result  # unread: an uncertain result stays uncertain
    actual = (current.buy, current.sell)
    if result.outcome in (Outcome.SET, Outcome.UNCHANGED):
        expected = (result.applied_buy, result.applied_sell)
        if actual == expected:
            return evolve(result, source=source)
        mismatch = LeverageMismatch(result.symbol, expected, actual)
        return evolve(
            result,
            outcome=Outcome.FAILED,
            applied_buy=current.buy,
            applied_sell=current.sell,
            error=mismatch,
            source=source,
        )
    landed = result.uncertain and actual == (plan.target_buy, plan.target_sell)
    return evolve(
        result,
        outcome=Outcome.SET if landed else Outcome.FAILED,
        applied_buy=current.buy,
        applied_sell=current.sell,
        error=None if landed else result.error,
        source=source,
        uncertain=False,
    )
