from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from bybit_leverage import (
    Category,
    LeverageFilter,
    LeverageResult,
    Outcome,
    RiskLimitExceeded,
)

D = Decimal


@pytest.mark.parametrize(
    ("low", "high", "step", "message"),
    [
        ("0", "100", "0.01", "min_leverage must be a positive number"),
        ("-1", "100", "0.01", "min_leverage must be a positive number"),
        ("1", "100", "0", "leverage_step must be a positive number"),
        ("1", "NaN", "0.01", "max_leverage must be a positive number"),
        ("10", "5", "0.01", "max_leverage 5 < min_leverage 10"),
    ],
)
def test_leverage_filter_owns_its_invariants(
    low: str, high: str, step: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LeverageFilter(D(low), D(high), D(step))


def test_leverage_filter_refuses_floats() -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        LeverageFilter(1.0, D("100"), D("0.01"))  # type: ignore[arg-type]


def test_leverage_filter_is_frozen_and_reads_well() -> None:
    rule = LeverageFilter(D("1"), D("100.00"), D("0.01"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rule.min_leverage = D("2")  # type: ignore[misc]
    assert str(rule) == "[1, 100] in steps of 0.01"
    assert rule == LeverageFilter(D("1"), D("100"), D("0.01"))  # Decimal equality


def test_result_reads_its_one_way_values_and_knows_success() -> None:
    result = LeverageResult(
        "BTCUSDT",
        Category.LINEAR,
        Outcome.SET,
        D("12.345"),
        D("12.345"),
        D("12.34"),
        D("12.34"),
        adjusted=True,
        attempts=1,
    )
    assert (result.requested, result.applied) == (D("12.345"), D("12.34"))
    assert result.ok
    failed = attrs.evolve(
        result,
        outcome=Outcome.FAILED,
        error=RiskLimitExceeded(110013, "x", "/p", D("20")),
    )
    assert not failed.ok
    assert not attrs.evolve(result, outcome=Outcome.REJECTED).ok
    assert attrs.evolve(result, outcome=Outcome.UNCHANGED).ok
