"""Reading back: a result states the exchange's value, never a guess (pure part)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bybit_leverage import (
    Category,
    ConnectionFailed,
    LeverageMismatch,
    LeverageResult,
    LeverageSource,
    Outcome,
    PlannedChange,
    PositionLeverage,
)
from bybit_leverage._outcomes import failed as failed_result
from bybit_leverage._outcomes import read_back
from bybit_leverage._verify import needs_read_back

D = Decimal
SRC = LeverageSource.SYMBOL_INFO
PLAN = PlannedChange(
    "ETHUSDT", Category.LINEAR, Outcome.SET, D(7), D(7), D(7), D(7), current_buy=D(3),
    current_sell=D(3), current_source=SRC,
)  # fmt: skip
LOST = ConnectionFailed("/v5/position/set-leverage", "reset")


def held(value: int) -> PositionLeverage:
    return PositionLeverage("ETHUSDT", D(value), D(value))


def test_a_failure_whose_fate_is_unknown_claims_no_leverage() -> None:
    failed = failed_result(PLAN, LOST, attempts=2, elapsed=0.1, uncertain=True)
    assert (failed.applied_buy, failed.applied_sell) == (None, None)
    assert failed.uncertain
    definite = failed_result(PLAN, LOST, attempts=1, elapsed=0.1)
    assert definite.applied == D(3)  # refused for sure: the old value holds


def test_a_lost_answer_that_landed_reads_back_as_set() -> None:
    failed = failed_result(PLAN, LOST, attempts=2, elapsed=0.1, uncertain=True)
    landed = read_back(PLAN, failed, held(7), SRC)
    assert landed.outcome is Outcome.SET
    assert (landed.applied, landed.error, landed.uncertain) == (D(7), None, False)
    assert landed.source is SRC
    missed = read_back(PLAN, failed, held(3), SRC)
    assert missed.outcome is Outcome.FAILED
    assert missed.applied == D(3)  # what the exchange holds
    assert missed.error is LOST
    unread = read_back(PLAN, failed, None, None)
    assert unread == failed  # still uncertain, still no value


def test_verify_turns_a_disagreement_into_a_mismatch() -> None:
    done = LeverageResult(
        "ETHUSDT", Category.LINEAR, Outcome.SET, D(7), D(7), D(7), D(7)
    )
    assert read_back(PLAN, done, held(7), SRC).outcome is Outcome.SET
    moved = read_back(PLAN, done, held(5), SRC)
    assert moved.outcome is Outcome.FAILED
    assert moved.applied == D(5)
    assert isinstance(moved.error, LeverageMismatch)
    assert str(moved.error) == "ETHUSDT: read back 5, expected 7"


@pytest.mark.parametrize(
    ("outcome", "uncertain", "verify", "read"),
    [
        (Outcome.FAILED, True, None, True),
        (Outcome.FAILED, False, None, False),
        (Outcome.SET, False, None, False),
        (Outcome.SET, False, True, True),
        (Outcome.UNCHANGED, False, True, True),
        (Outcome.REJECTED, False, True, False),
        (Outcome.FAILED, True, False, False),
    ],
)
def test_what_is_read_back(
    outcome: Outcome, uncertain: bool, verify: bool | None, read: bool
) -> None:
    result = LeverageResult(
        "ETHUSDT", Category.LINEAR, outcome, D(7), D(7), uncertain=uncertain
    )
    assert needs_read_back(result, verify) is read
