"""Planning, as pure functions: what one symbol needs, decided from what is known.

:func:`plan_symbol` takes the request, the instrument (or the error its lookup
raised), the leverage in force (when it was read) and the policy, and returns a
:class:`PlannedChange`. No client, no I/O: the facade gathers the facts, this
module decides. Each leverage value is read into a ``Decimal`` once, here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import cast

from attrs import evolve, frozen

from bybit_leverage.errors import (
    BybitError,
    DuplicateSymbol,
    InvalidLeverage,
    OpenPosition,
    PositionModeMismatch,
    SymbolNotTradable,
    TargetError,
)
from bybit_leverage.leverage import (
    LeverageLike,
    SnapChange,
    SnapPolicy,
    describe_value,
    snap_decimal,
    to_leverage,
)
from bybit_leverage.models import (
    Category,
    ContractType,
    Instrument,
    LeverageSource,
    MarginMode,
    Outcome,
    Position,
    PositionLeverage,
)
from bybit_leverage.report import LeverageRequest, PlannedChange, Targets

__all__ = [
    "Facts",
    "checked_request",
    "normalize_targets",
    "plan_symbol",
    "refuse_duplicates",
    "request_sides",
    "target_items",
]


def normalize_targets(targets: Targets) -> list[LeverageRequest]:
    """Turn a mapping or a sequence of targets into requests, in input order.

    Raises:
        TargetError: When an item is neither a mapping entry nor a request, or a
            symbol is not a non-empty string.
        DuplicateSymbol: When a symbol appears twice (compared case-insensitively).
    """
    items, pairs = target_items(targets)
    requests = [checked_request(i, item, pair=pairs) for i, item in enumerate(items)]
    refuse_duplicates(requests)
    return requests


def target_items(targets: Targets) -> tuple[Sequence[object], bool]:
    """The items of ``targets``, and whether they are ``(symbol, leverage)`` pairs.

    A mapping gives its pairs; a sequence gives its items (requests, if the
    caller's types hold).

    Raises:
        TargetError: When ``targets`` is neither.
    """
    given: object = targets  # callers without a type checker pass anything
    if isinstance(given, Mapping):
        return list(given.items()), True
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise TargetError(
            "targets", "expected {symbol: leverage} or a list of LeverageRequest"
        )
    return list(given), False


def checked_request(index: int, item: object, *, pair: bool) -> LeverageRequest:
    """``item`` (the ``index``-th target) as a request with a usable symbol.

    Raises:
        TargetError: When it is not a request (or a pair of a mapping), or its
            symbol is not a non-empty string.
    """
    if pair:
        symbol, leverage = cast("tuple[str, LeverageLike]", item)  # (key, value)
        item = LeverageRequest(symbol, leverage)
    if not isinstance(item, LeverageRequest):
        raise TargetError(
            f"targets[{index}]",
            f"expected a LeverageRequest, got {type(item).__name__}",
        )
    name: object = item.symbol
    if not isinstance(name, str) or not name.strip():
        raise TargetError(
            f"targets[{index}]", f"symbol must be a non-empty string: {name!r}"
        )
    return item


def refuse_duplicates(requests: Sequence[LeverageRequest]) -> None:
    """Raise :class:`DuplicateSymbol` if a symbol appears twice (any case)."""
    seen = Counter(request.symbol.upper() for request in requests)
    repeated = tuple(symbol for symbol, count in seen.items() if count > 1)
    if repeated:
        raise DuplicateSymbol(repeated)


def request_sides(request: LeverageRequest) -> tuple[LeverageLike, LeverageLike]:
    """The requested ``(buy, sell)`` values as given.

    Raises:
        InvalidLeverage: When the request gives both forms, or neither, or only
            one side.
    """
    if request.leverage is not None:
        if request.buy is not None or request.sell is not None:
            raise InvalidLeverage(
                describe_value(request.leverage),
                "give either leverage or buy/sell, not both",
                request.symbol,
            )
        return request.leverage, request.leverage
    if request.buy is None or request.sell is None:
        raise InvalidLeverage(
            describe_value(request.buy if request.sell is None else request.sell),
            "give leverage, or both buy and sell",
            request.symbol,
        )
    return request.buy, request.sell


def _read(value: LeverageLike, symbol: str) -> Decimal | InvalidLeverage:
    try:
        return to_leverage(value, symbol=symbol)
    except InvalidLeverage as exc:
        return exc


@frozen
class Facts:
    """What is known of one symbol when it is planned.

    Attributes:
        instrument: The listed instrument, or the error its lookup raised (an
            unknown symbol is refused; any other failure fails the symbol).
        current: The leverage in force and position mode, when read.
        source: Where ``current`` was read.
        margin_mode: The account's margin mode, when known.
        position: The symbol's open position, if it holds one.
        positions_unread: Why open positions could not be read, if they could not.
    """

    instrument: Instrument | BybitError
    current: PositionLeverage | None = None
    source: LeverageSource | None = None
    margin_mode: MarginMode | None = None
    position: Position | None = None
    positions_unread: BybitError | None = None


def _hedge_refusal(
    instrument: Instrument,
    current: PositionLeverage | None,
    margin_mode: MarginMode | None,
) -> str | None:
    """Why buy != sell cannot be sent, or ``None`` where it may be.

    Bybit allows different sides only for a USDT perpetual in hedge mode on an
    account in isolated margin; what is not known is left to Bybit.
    """
    usdt_perpetual = (
        instrument.contract_type is ContractType.LINEAR_PERPETUAL
        and instrument.settle_coin == "USDT"
    )
    if not usdt_perpetual:
        return "hedge mode exists only for USDT perpetuals: buy and sell must be equal"
    if current is not None and not current.hedge:
        return "the symbol is in one-way mode"
    if margin_mode is not None and margin_mode is not MarginMode.ISOLATED_MARGIN:
        label = "cross" if margin_mode is MarginMode.REGULAR_MARGIN else "portfolio"
        return (
            f"the account is in {label} margin ({margin_mode.value}): buy and sell "
            "may differ only under ISOLATED_MARGIN"
        )
    return None


def _notes(position: Position | None) -> tuple[str, ...]:
    if position is None:
        return ()
    notes = []
    if position.leverage_sys_updated is not None:
        when = position.leverage_sys_updated.isoformat(timespec="seconds")
        notes.append(f"Bybit changed this leverage itself ({when})")
    if position.reduce_only:
        notes.append("the position is reduce-only (over its risk limit)")
    return tuple(notes)


def plan_symbol(
    request: LeverageRequest,
    facts: Facts,
    *,
    category: Category,
    policy: SnapPolicy,
    skip_at_target: bool,
    only_flat: bool = False,
    clamp: bool = True,
) -> PlannedChange:
    """Decide what one symbol needs.

    Args:
        request: The target as given.
        facts: What is known of the symbol.
        category: The symbol's category.
        policy: How off-grid or out-of-range values are treated.
        skip_at_target: Plan ``UNCHANGED`` when the current value equals the
            target (only when it comes from a fresh read of the batch).
        only_flat: Leave symbols that hold an open position alone.
        clamp: Bring values outside the symbol's range to it (else refuse them;
            values inside the range are still snapped onto the grid).
    """
    symbol = request.symbol
    try:
        raw_buy, raw_sell = request_sides(request)
    except InvalidLeverage as exc:
        return PlannedChange(symbol, category, Outcome.REJECTED, error=exc)
    buy = _read(raw_buy, symbol)
    sell = buy if raw_sell is raw_buy else _read(raw_sell, symbol)
    asked_buy = buy if isinstance(buy, Decimal) else None
    asked_sell = sell if isinstance(sell, Decimal) else None

    def refused(name: str, error: BybitError, outcome: Outcome) -> PlannedChange:
        return PlannedChange(
            name, category, outcome, asked_buy, asked_sell, error=error
        )

    instrument = facts.instrument
    if isinstance(instrument, BybitError):
        unknown = isinstance(instrument, LookupError)  # unknown: refused locally
        return refused(
            symbol, instrument, Outcome.REJECTED if unknown else Outcome.FAILED
        )
    symbol = instrument.symbol
    if not instrument.is_tradable:
        status = instrument.status.value
        return refused(symbol, SymbolNotTradable(symbol, status), Outcome.REJECTED)
    rule = instrument.leverage_filter
    if isinstance(buy, InvalidLeverage):  # now the error can name the allowed range
        return refused(
            symbol, evolve(buy, symbol=symbol, allowed=rule), Outcome.REJECTED
        )
    if isinstance(sell, InvalidLeverage):
        return refused(
            symbol, evolve(sell, symbol=symbol, allowed=rule), Outcome.REJECTED
        )
    try:
        snapped_buy = snap_decimal(
            buy, rule, policy, symbol=symbol, shown=describe_value(raw_buy)
        )
        snapped_sell = (
            snapped_buy
            if sell is buy
            else snap_decimal(
                sell, rule, policy, symbol=symbol, shown=describe_value(raw_sell)
            )
        )
    except InvalidLeverage as exc:
        return refused(symbol, exc, Outcome.REJECTED)
    out_of_range = {SnapChange.RAISED_TO_MIN, SnapChange.LOWERED_TO_MAX}
    clamped = {snapped_buy.change, snapped_sell.change} & out_of_range
    if clamped and not clamp:
        raw = raw_buy if snapped_buy.change in clamped else raw_sell
        shown = describe_value(raw)
        refusal = InvalidLeverage(shown, "out of range (not clamped)", symbol, rule)
        return refused(symbol, refusal, Outcome.REJECTED)
    target = (snapped_buy.value, snapped_sell.value)
    current = facts.current
    at_target = (
        skip_at_target and current is not None and (current.buy, current.sell) == target
    )
    plan = PlannedChange(
        symbol,
        category,
        Outcome.UNCHANGED if at_target else Outcome.SET,
        buy,
        sell,
        *target,
        adjusted=snapped_buy.adjusted or snapped_sell.adjusted,
        clamped=bool(clamped),
        current_buy=current.buy if current else None,
        current_sell=current.sell if current else None,
        instrument=instrument,
        current_source=facts.source if current else None,
        position=facts.position,
        notes=_notes(facts.position),
    )
    if target[0] != target[1]:
        reason = _hedge_refusal(instrument, current, facts.margin_mode)
        if reason is not None:
            mismatch = PositionModeMismatch(symbol, *target, reason)
            return evolve(plan, action=Outcome.REJECTED, error=mismatch)
    if at_target:
        return plan
    if only_flat:
        if facts.position is not None:
            flat = OpenPosition(symbol, facts.position.size)
            return evolve(plan, action=Outcome.REJECTED, error=flat)
        if facts.positions_unread is not None:
            return evolve(plan, action=Outcome.FAILED, error=facts.positions_unread)
    return plan
