"""Planning is pure: one symbol's decision from what is known, with no client."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bybit_leverage import (
    Category,
    ConnectionFailed,
    ContractType,
    DuplicateSymbol,
    Instrument,
    InstrumentStatus,
    InvalidLeverage,
    LeverageFilter,
    LeverageRequest,
    Outcome,
    PlannedChange,
    PositionLeverage,
    PositionModeMismatch,
    SnapPolicy,
    SymbolNotTradable,
    TargetError,
    UnknownSymbol,
)
from bybit_leverage._plan import normalize_targets, plan_symbol

D = Decimal
RULE = LeverageFilter(D(1), D(25), D("0.01"))


def listed(status: InstrumentStatus = InstrumentStatus.TRADING) -> Instrument:
    return Instrument(
        "ETHUSDT",
        Category.LINEAR,
        status,
        ContractType.LINEAR_PERPETUAL,
        "ETH",
        "USDT",
        "USDT",
        datetime(2020, 1, 1, tzinfo=UTC),
        RULE,
    )


def plan(
    request: LeverageRequest,
    instrument: Instrument | Exception | None = None,
    current: PositionLeverage | None = None,
    *,
    policy: SnapPolicy = SnapPolicy.DOWN,
    skip: bool = True,
) -> PlannedChange:
    return plan_symbol(
        request,
        listed() if instrument is None else instrument,  # type: ignore[arg-type]
        current,
        category=Category.LINEAR,
        policy=policy,
        skip_at_target=skip,
    )


def test_a_valid_target_is_set_with_its_snapped_value() -> None:
    change = plan(LeverageRequest("ethusdt", "12.345"))
    assert change.symbol == "ETHUSDT"  # the listed spelling
    assert change.action is Outcome.SET
    assert (change.requested_buy, change.target_buy) == (D("12.345"), D("12.34"))
    assert change.adjusted


def test_at_target_is_unchanged_only_when_skipping() -> None:
    current = PositionLeverage("ETHUSDT", D(10), D(10))
    assert plan(LeverageRequest("ETHUSDT", 10), current=current).action is (
        Outcome.UNCHANGED
    )
    again = plan(LeverageRequest("ETHUSDT", 10), current=current, skip=False)
    assert again.action is Outcome.SET
    assert again.current_buy == D(10)


def test_a_bad_value_is_refused_with_the_symbols_range() -> None:
    change = plan(LeverageRequest("ETHUSDT", "abc"))
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, InvalidLeverage)
    assert change.error.allowed == RULE
    assert "ETHUSDT: leverage 'abc' refused" in str(change.error)
    assert "[1, 25]" in str(change.error)


def test_strict_refuses_off_grid() -> None:
    change = plan(LeverageRequest("ETHUSDT", "12.345"), policy=SnapPolicy.STRICT)
    assert change.action is Outcome.REJECTED
    assert change.requested_buy == D("12.345")


@pytest.mark.parametrize(
    ("instrument", "outcome", "error"),
    [
        (UnknownSymbol("ETHUSDT", "linear"), Outcome.REJECTED, UnknownSymbol),
        (ConnectionFailed("/x", "down"), Outcome.FAILED, ConnectionFailed),
        (listed(InstrumentStatus.CLOSED), Outcome.REJECTED, SymbolNotTradable),
    ],
)
def test_lookup_problems(
    instrument: Instrument | Exception, outcome: Outcome, error: type[Exception]
) -> None:
    change = plan(LeverageRequest("ETHUSDT", "7"), instrument)
    assert change.action is outcome
    assert isinstance(change.error, error)
    assert change.requested_buy == D(7)  # read once, kept for the report


def test_hedge_targets_need_a_hedge_mode_symbol() -> None:
    request = LeverageRequest("ETHUSDT", buy=10, sell=5)
    one_way = PositionLeverage("ETHUSDT", D(3), D(3), hedge=False)
    change = plan(request, current=one_way)
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, PositionModeMismatch)
    hedge = PositionLeverage("ETHUSDT", D(3), D(3), hedge=True)
    assert plan(request, current=hedge).action is Outcome.SET
    assert plan(request).action is Outcome.SET  # mode unknown: Bybit decides


@pytest.mark.parametrize(
    "request_",
    [
        LeverageRequest("ETHUSDT"),
        LeverageRequest("ETHUSDT", 5, buy=5),
        LeverageRequest("ETHUSDT", buy=5),
    ],
)
def test_malformed_requests_are_refused(request_: LeverageRequest) -> None:
    change = plan(request_)
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, InvalidLeverage)


def test_targets_keep_their_order_and_refuse_duplicates() -> None:
    requests = normalize_targets({"B": 1, "A": 2})
    assert [r.symbol for r in requests] == ["B", "A"]
    with pytest.raises(DuplicateSymbol):
        normalize_targets({"btcusdt": 1, "BTCUSDT": 2})


@pytest.mark.parametrize(
    "targets",
    ["BTCUSDT=10", 42, [LeverageRequest("A", 1), ("B", 2)], {7: 3}, {"  ": 3}],
)
def test_targets_of_the_wrong_shape_are_a_typed_error(targets: object) -> None:
    with pytest.raises(TargetError):
        normalize_targets(targets)  # type: ignore[arg-type]
