"""Pure leverage validation: coerce, clamp and snap onto a symbol's grid.

No I/O, no clock, no asyncio: everything here is a function of its arguments.
Leverage is :class:`~decimal.Decimal` from end to end.
"""

from __future__ import annotations

import enum
import math
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from fractions import Fraction
from typing import Final, TypeAlias

from attrs import frozen

from bybit_leverage.errors import InvalidLeverage
from bybit_leverage.models import LeverageFilter, format_leverage, plain_decimal

__all__ = [
    "LeverageLike",
    "Snap",
    "SnapChange",
    "SnapPolicy",
    "format_leverage",
    "snap",
    "snap_decimal",
    "snap_leverage",
    "to_leverage",
]

#: What callers may pass as a leverage value.
LeverageLike: TypeAlias = Decimal | int | float | str


class SnapPolicy(enum.StrEnum):
    """How a requested leverage that is not exactly valid is treated."""

    DOWN = "down"
    """Clamp into [min, max], then round down onto the grid: never more than asked."""
    NEAREST = "nearest"
    """Clamp into [min, max], then round to the nearest grid point (ties go down)."""
    STRICT = "strict"
    """Refuse anything that is not exactly a valid value."""


class SnapChange(enum.StrEnum):
    """What snapping did to a requested value."""

    NONE = "none"
    """The value was already valid."""
    RAISED_TO_MIN = "raised_to_min"
    """Below the minimum: raised to it."""
    LOWERED_TO_MAX = "lowered_to_max"
    """Above the maximum: lowered to it (then onto the grid)."""
    ROUNDED = "rounded"
    """Inside the range but off the grid: moved onto it."""


@frozen
class Snap:
    """The result of snapping: what was asked, what is valid, and what changed."""

    requested: Decimal
    value: Decimal
    change: SnapChange

    @property
    def adjusted(self) -> bool:
        """Whether the valid value differs from the requested one."""
        return self.change is not SnapChange.NONE


def to_leverage(
    value: LeverageLike,
    *,
    symbol: str | None = None,
    rule: LeverageFilter | None = None,
) -> Decimal:
    """Turn a caller's leverage into a positive, finite :class:`Decimal`.

    Ints, decimal strings and Decimals are taken exactly; a float is taken through
    its shortest ``repr`` (``12.3`` becomes ``Decimal('12.3')``, not the binary
    expansion).

    Raises:
        InvalidLeverage: For a bool, a non-numeric string, NaN, an infinity, zero
            or a negative number. The error names the value and, when given, the
            symbol and its allowed range.
    """

    def refuse(reason: str) -> InvalidLeverage:
        return InvalidLeverage(repr(value), reason, symbol, rule)

    if isinstance(value, bool):  # bool is an int; True is never meant as 1x
        raise refuse("a bool is not a leverage")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise refuse(f"expected a number, got {type(value).__name__}")
    except InvalidOperation:
        raise refuse("not a number") from None
    if not number.is_finite():
        raise refuse("must be finite")
    if number <= 0:
        raise refuse("must be positive")
    return number


#: Exact for every grid point of a filter with Bybit's short numbers (a point
#: has the digits of min, step and k together: tens, not a thousand).
#: ``Inexact`` is trapped, so a point is never silently rounded.
_EXACT: Final = Context(prec=1000, traps=[Inexact, Rounded])


def _steps(value: Decimal, rule: LeverageFilter) -> Fraction:
    """How many steps ``value`` lies above the minimum, exactly.

    A Fraction, not a Decimal quotient: the context's 28 digits would round
    ``10.000000000000000000000000000001`` onto the grid.
    """
    return (Fraction(value) - Fraction(rule.min_leverage)) / Fraction(
        rule.leverage_step
    )


def _grid_point(k: int, rule: LeverageFilter) -> Decimal:
    return _EXACT.fma(Decimal(k), rule.leverage_step, rule.min_leverage)


def _to_grid(value: Decimal, rule: LeverageFilter, policy: SnapPolicy) -> Decimal:
    steps = _steps(value, rule)
    k = math.floor(steps)
    if policy is SnapPolicy.NEAREST and steps - k > Fraction(1, 2):
        k += 1  # above the midpoint; an exact tie stays down
    snapped = _grid_point(k, rule)
    if snapped > rule.max_leverage:  # an off-grid max rounded up past itself
        snapped = _grid_point(k - 1, rule)
    return plain_decimal(snapped)  # grid arithmetic can yield 12.50


def snap(
    value: LeverageLike,
    rule: LeverageFilter,
    policy: SnapPolicy = SnapPolicy.DOWN,
    *,
    symbol: str | None = None,
) -> Snap:
    """Snap a requested leverage onto ``rule``'s grid and report what changed.

    Args:
        value: The requested leverage.
        rule: The symbol's leverage filter.
        policy: How to treat a value that is not exactly valid.
        symbol: Named in errors, when given.

    Returns:
        The requested and the valid value, and which change (if any) was made.

    Raises:
        InvalidLeverage: When ``value`` is not a positive number, or under
            ``STRICT`` when it is outside the range or off the grid.
    """
    requested = to_leverage(value, symbol=symbol, rule=rule)
    return snap_decimal(requested, rule, policy, symbol=symbol, shown=repr(value))


def snap_decimal(
    requested: Decimal,
    rule: LeverageFilter,
    policy: SnapPolicy = SnapPolicy.DOWN,
    *,
    symbol: str | None = None,
    shown: str | None = None,
) -> Snap:
    """Snap a leverage already read by :func:`to_leverage` (it is not read again).

    The arithmetic is exact whatever the decimal context: a value a hair off the
    grid is off the grid, and ``DOWN`` never rounds up.

    Args:
        requested: A positive, finite leverage.
        rule: The symbol's leverage filter.
        policy: How to treat a value that is not exactly valid.
        symbol: Named in errors, when given.
        shown: How errors show the value (its ``repr`` by default).

    Raises:
        InvalidLeverage: Under ``STRICT``, when ``requested`` is outside the range
            or off the grid.
    """
    text = repr(requested) if shown is None else shown
    if requested < rule.min_leverage:
        change, clamped = SnapChange.RAISED_TO_MIN, rule.min_leverage
    elif requested > rule.max_leverage:
        change, clamped = SnapChange.LOWERED_TO_MAX, rule.max_leverage
    else:
        change, clamped = SnapChange.NONE, requested
    if policy is SnapPolicy.STRICT:
        if change is not SnapChange.NONE:
            raise InvalidLeverage(text, "out of range", symbol, rule)
        if _steps(requested, rule).denominator != 1:
            raise InvalidLeverage(text, "not on the step grid", symbol, rule)
        return Snap(requested, requested, SnapChange.NONE)
    snapped = _to_grid(clamped, rule, policy)
    if change is SnapChange.NONE and snapped != requested:
        change = SnapChange.ROUNDED
    return Snap(requested, snapped, change)


def snap_leverage(
    value: LeverageLike,
    rule: LeverageFilter,
    policy: SnapPolicy = SnapPolicy.DOWN,
    *,
    symbol: str | None = None,
) -> Decimal:
    """Return the valid leverage for ``value`` under ``rule`` and ``policy``.

    The short form of :func:`snap` for callers that only need the number.

    Raises:
        InvalidLeverage: As for :func:`snap`.
    """
    return snap(value, rule, policy, symbol=symbol).value
