"""Planning, as pure functions: what one symbol needs, decided from what is known.

:func:`plan_symbol` takes the request, the instrument (or the error its lookup
raised), the leverage in force (when it was read) and the policy, and returns a
:class:`PlannedChange`. No client, no I/O: the facade gathers the facts, this
module decides. Each leverage value is read into a ``Decimal`` once, here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

from attrs import evolve

from bybit_leverage.errors import (
    BybitError,
    DuplicateSymbol,
    InvalidLeverage,
    PositionModeMismatch,
    SymbolNotTradable,
    TargetError,
)
from bybit_leverage.leverage import LeverageLike, SnapPolicy, snap_decimal, to_leverage
from bybit_leverage.models import Category, Instrument, Outcome, PositionLeverage
from bybit_leverage.report import LeverageRequest, PlannedChange, Targets

__all__ = ["normalize_targets", "plan_symbol", "request_sides"]


def normalize_targets(targets: Targets) -> list[LeverageRequest]:
    """Turn a mapping or a sequence of targets into requests, in input order.

    Raises:
        TargetError: When an item is neither a mapping entry nor a request, or a
            symbol is not a non-empty string.
        DuplicateSymbol: When a symbol appears twice (compared case-insensitively).
    """
    given: object = targets  # callers without a type checker pass anything
    if isinstance(given, Mapping):
        items: list[object] = [LeverageRequest(s, v) for s, v in given.items()]
    elif isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise TargetError(
            "targets", "expected {symbol: leverage} or a list of LeverageRequest"
        )
    else:
        items = list(given)
    requests: list[LeverageRequest] = []
    for index, item in enumerate(items):
        if not isinstance(item, LeverageRequest):
            raise TargetError(
                f"targets[{index}]",
                f"expected a LeverageRequest, got {type(item).__name__}",
            )
        symbol: object = item.symbol
        if not isinstance(symbol, str) or not symbol.strip():
            raise TargetError(
                f"targets[{index}]", f"symbol must be a non-empty string: {symbol!r}"
            )
        requests.append(item)
    seen = Counter(request.symbol.upper() for request in requests)
    repeated = tuple(symbol for symbol, count in seen.items() if count > 1)
    if repeated:
        raise DuplicateSymbol(repeated)
    return requests


def request_sides(request: LeverageRequest) -> tuple[LeverageLike, LeverageLike]:
    """The requested ``(buy, sell)`` values as given.

    Raises:
        InvalidLeverage: When the request gives both forms, or neither, or only
            one side.
    """
    if request.leverage is not None:
        if request.buy is not None or request.sell is not None:
            raise InvalidLeverage(
                repr(request.leverage),
                "give either leverage or buy/sell, not both",
                request.symbol,
            )
        return request.leverage, request.leverage
    if request.buy is None or request.sell is None:
        raise InvalidLeverage(
            repr(request.buy if request.sell is None else request.sell),
            "give leverage, or both buy and sell",
            request.symbol,
        )
    return request.buy, request.sell


def _read(value: LeverageLike, symbol: str) -> Decimal | InvalidLeverage:
    try:
        return to_leverage(value, symbol=symbol)
    except InvalidLeverage as exc:
        return exc


def plan_symbol(
    request: LeverageRequest,
    instrument: Instrument | BybitError,
    current: PositionLeverage | None,
    *,
    category: Category,
    policy: SnapPolicy,
    skip_at_target: bool,
) -> PlannedChange:
    """Decide what one symbol needs.

    Args:
        request: The target as given.
        instrument: The listed instrument, or the error its lookup raised (an
            unknown symbol is refused; any other failure fails the symbol).
        current: The leverage in force and position mode, when read.
        category: The symbol's category.
        policy: How off-grid or out-of-range values are treated.
        skip_at_target: Plan ``UNCHANGED`` when ``current`` equals the target
            (only when ``current`` comes from a fresh read of the batch).
    """
    symbol = request.symbol
    try:
        raw_buy, raw_sell = request_sides(request)
    except InvalidLeverage as exc:
        return PlannedChange(symbol, category, Outcome.REJECTED, error=exc)
    buy, sell = _read(raw_buy, symbol), _read(raw_sell, symbol)
    asked_buy = buy if isinstance(buy, Decimal) else None
    asked_sell = sell if isinstance(sell, Decimal) else None

    def refused(name: str, error: BybitError, outcome: Outcome) -> PlannedChange:
        return PlannedChange(
            name, category, outcome, asked_buy, asked_sell, error=error
        )

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
            buy, rule, policy, symbol=symbol, shown=repr(raw_buy)
        )
        snapped_sell = snap_decimal(
            sell, rule, policy, symbol=symbol, shown=repr(raw_sell)
        )
    except InvalidLeverage as exc:
        return refused(symbol, exc, Outcome.REJECTED)
    plan = PlannedChange(
        symbol,
        category,
        Outcome.SET,
        buy,
        sell,
        snapped_buy.value,
        snapped_sell.value,
        adjusted=snapped_buy.adjusted or snapped_sell.adjusted,
        instrument=instrument,
    )
    if current is None:
        return plan
    plan = evolve(plan, current_buy=current.buy, current_sell=current.sell)
    if snapped_buy.value != snapped_sell.value and not current.hedge:
        mismatch = PositionModeMismatch(
            symbol,
            snapped_buy.value,
            snapped_sell.value,
            "the symbol is in one-way mode",
        )
        return evolve(plan, action=Outcome.REJECTED, error=mismatch)
    at_target = (current.buy, current.sell) == (snapped_buy.value, snapped_sell.value)
    if skip_at_target and at_target:
        return evolve(plan, action=Outcome.UNCHANGED)
    return plan
