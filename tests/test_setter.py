"""The setter over a double of the one endpoint it needs (no client, no socket)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bybit_leverage import (
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
    Outcome,
    PlannedChange,
)
from bybit_leverage._http import Tally
from bybit_leverage._setter import send_one

D = Decimal


class _Endpoint:
    """Answers every set-leverage with ``ret_code`` after ``sends`` sends."""

    def __init__(self, ret_code: int, sends: int) -> None:
        self.ret_code, self.sends = ret_code, sends

    async def set_leverage(
        self, *args: Any, tally: Tally | None = None, **kwargs: Any
    ) -> bool:
        assert tally is not None
        tally.sent += self.sends
        return self.ret_code == 0


def _plan(current: Decimal | None) -> PlannedChange:
    instrument = Instrument(
        "BTCUSDT",
        Category.LINEAR,
        InstrumentStatus.TRADING,
        ContractType.LINEAR_PERPETUAL,
        "BTC",
        "USDT",
        "USDT",
        datetime(2020, 1, 1, tzinfo=UTC),
        LeverageFilter(D(1), D(100), D("0.01")),
    )
    return PlannedChange(
        "BTCUSDT",
        Category.LINEAR,
        Outcome.SET,
        D(12),
        D(12),
        D(12),
        D(12),
        current_buy=current,
        current_sell=current,
        instrument=instrument,
    )


@pytest.mark.parametrize(
    ("ret_code", "sends", "current", "outcome"),
    [
        (0, 1, D(10), Outcome.SET),
        (110043, 1, None, Outcome.UNCHANGED),
        (110043, 1, D(10), Outcome.UNCHANGED),  # someone else set it meanwhile
        (110043, 3, D(10), Outcome.SET),  # our lost first attempt had landed
        (110043, 3, None, Outcome.UNCHANGED),  # never read: cannot tell
        (110043, 3, D(12), Outcome.UNCHANGED),
    ],
)
async def test_not_modified_after_a_retry_is_read_against_the_current_value(
    ret_code: int, sends: int, current: Decimal | None, outcome: Outcome
) -> None:
    result = await send_one(_Endpoint(ret_code, sends), _plan(current))
    assert result.outcome is outcome
    assert result.attempts == sends
