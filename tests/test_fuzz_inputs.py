"""Hostile leverage values: typed outcomes only, and every outcome renders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bybit_leverage import (
    BatchPlan,
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    InvalidLeverage,
    LeverageFilter,
    LeverageRequest,
    Outcome,
    PlannedChange,
    SnapPolicy,
)
from bybit_leverage._plan import Facts, plan_symbol

D = Decimal
ETH = Instrument(
    "ETHUSDT",
    Category.LINEAR,
    InstrumentStatus.TRADING,
    ContractType.LINEAR_PERPETUAL,
    "ETH",
    "USDT",
    "USDT",
    datetime(2020, 1, 1, tzinfo=UTC),
    LeverageFilter(D(1), D(25), D("0.01")),
)


def plan(request: LeverageRequest, policy: SnapPolicy) -> PlannedChange:
    return plan_symbol(
        request,
        Facts(ETH),
        category=Category.LINEAR,
        policy=policy,
        skip_at_target=False,
    )


def rendered(change: PlannedChange) -> str:
    batch = BatchPlan((change,))
    return batch.to_json() + batch.table() + str(change.error)


@pytest.mark.parametrize(
    ("request_", "policy", "shown", "reason"),
    [
        # repr() of this int raised ValueError (Python's int-to-str digit
        # limit), so the whole batch raised instead of rejecting one symbol.
        (
            LeverageRequest("ETHUSDT", -(10**5000)),
            SnapPolicy.DOWN,
            "<int of 16610 bits>",
            "must be positive",
        ),
        # Accepted (trailing zeros), then off the grid: the STRICT error showed
        # all 5,000 characters.
        (
            LeverageRequest("ETHUSDT", "10.001" + "0" * 5000),
            SnapPolicy.STRICT,
            f"'10.001{'0' * 34}'…",
            "not on the step grid",
        ),
        (
            LeverageRequest("ETHUSDT", "1" * 5000, buy=1, sell=1),
            SnapPolicy.DOWN,
            f"'{'1' * 40}'…",
            "give either leverage or buy/sell",
        ),
        (
            LeverageRequest("ETHUSDT", buy=10**5000),
            SnapPolicy.DOWN,
            "<int of 16610 bits>",
            "give leverage, or both buy and sell",
        ),
    ],
)
def test_a_hostile_value_rejects_its_symbol_and_is_shown_cut_short(
    request_: LeverageRequest, policy: SnapPolicy, shown: str, reason: str
) -> None:
    change = plan(request_, policy)
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, InvalidLeverage)
    assert change.error.value == shown
    assert reason in change.error.reason
    assert len(rendered(change)) < 1000
