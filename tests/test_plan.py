"""Planning is pure: one symbol's decision from what is known, with no client."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bybit_leverage import (
    BybitError,
    Category,
    ConnectionFailed,
    ContractType,
    DuplicateSymbol,
    Instrument,
    InstrumentStatus,
    InvalidLeverage,
    LeverageFilter,
    LeverageRequest,
    LeverageSource,
    MarginMode,
    OpenPosition,
    Outcome,
    PlannedChange,
    Position,
    PositionLeverage,
    PositionModeMismatch,
    SnapPolicy,
    SymbolNotTradable,
    TargetError,
    UnknownSymbol,
)
from bybit_leverage._plan import Facts, normalize_targets, plan_symbol

D = Decimal
RULE = LeverageFilter(D(1), D(25), D("0.01"))


def listed(
    status: InstrumentStatus = InstrumentStatus.TRADING,
    kind: ContractType = ContractType.LINEAR_PERPETUAL,
    settle: str = "USDT",
) -> Instrument:
    return Instrument(
        "ETHUSDT",
        Category.LINEAR,
        status,
        kind,
        "ETH",
        "USDT",
        settle,
        datetime(2020, 1, 1, tzinfo=UTC),
        RULE,
    )


def plan(
    request: LeverageRequest,
    instrument: Instrument | BybitError | None = None,
    current: PositionLeverage | None = None,
    *,
    policy: SnapPolicy = SnapPolicy.DOWN,
    skip: bool = True,
    **facts: Any,
) -> PlannedChange:
    only_flat = facts.pop("only_flat", False)
    return plan_symbol(
        request,
        Facts(
            listed() if instrument is None else instrument,
            current,
            LeverageSource.SYMBOL_INFO if current else None,
            **facts,
        ),
        category=Category.LINEAR,
        policy=policy,
        skip_at_target=skip,
        only_flat=only_flat,
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
    instrument: Instrument | BybitError, outcome: Outcome, error: type[Exception]
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
    ("instrument", "mode", "reason"),
    [
        (listed(kind=ContractType.LINEAR_FUTURES), None, "only for USDT perpetuals"),
        (listed(settle="USDC"), None, "only for USDT perpetuals"),
        (listed(), MarginMode.REGULAR_MARGIN, "cross margin (REGULAR_MARGIN)"),
        (listed(), MarginMode.PORTFOLIO_MARGIN, "portfolio margin"),
    ],
)
def test_hedge_targets_need_a_usdt_perpetual_and_isolated_margin(
    instrument: Instrument, mode: MarginMode | None, reason: str
) -> None:
    hedge = PositionLeverage("ETHUSDT", D(3), D(3), hedge=True)
    change = plan(
        LeverageRequest("ETHUSDT", buy=10, sell=5), instrument, hedge, margin_mode=mode
    )
    assert change.action is Outcome.REJECTED
    assert isinstance(change.error, PositionModeMismatch)
    assert reason in str(change.error)
    isolated = plan(
        LeverageRequest("ETHUSDT", buy=10, sell=5),
        current=hedge,
        margin_mode=MarginMode.ISOLATED_MARGIN,
    )
    assert isolated.action is Outcome.SET


def test_only_flat_leaves_open_positions_alone_and_the_plan_shows_them() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    open_ = Position("ETHUSDT", D(2), "Buy", 0, D(10), when, reduce_only=True)
    shown = plan(LeverageRequest("ETHUSDT", 12), position=open_)
    assert shown.action is Outcome.SET
    assert shown.position == open_
    assert shown.notes == (
        "Bybit changed this leverage itself (2026-11-01T00:00:00+00:00)",
        "the position is reduce-only (over its risk limit)",
    )
    flat = plan(LeverageRequest("ETHUSDT", 12), position=open_, only_flat=True)
    assert flat.action is Outcome.REJECTED
    assert isinstance(flat.error, OpenPosition)
    unread = plan(
        LeverageRequest("ETHUSDT", 12),
        positions_unread=ConnectionFailed("/v5/position/list", "down"),
        only_flat=True,
    )
    assert unread.action is Outcome.FAILED  # unknown: never sent blind
    assert plan(LeverageRequest("ETHUSDT", 12), only_flat=True).action is Outcome.SET


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
