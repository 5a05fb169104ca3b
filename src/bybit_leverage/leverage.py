"""Pure leverage validation: coerce, clamp and snap onto a symbol's grid.

No I/O, no clock, no asyncio: everything here is a function of its arguments.
Leverage is :class:`~decimal.Decimal` from end to end.
"""

from __future__ import annotations

import enum
import functools
from decimal import Context, Decimal, Inexact, Rounded
from typing import Final, TypeAlias

from attrs import frozen

from bybit_leverage._decimals import (
    MAX_DIGITS,
    MAX_EXPONENT,
    describe_value,
    read_leverage,
    refusal,
)
from bybit_leverage.errors import InvalidLeverage
from bybit_leverage.models import LeverageFilter, format_leverage, plain_decimal

__all__ = [
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "LeverageLike",
    "Snap",
    "SnapChange",
    "SnapPolicy",
    "describe_value",
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

    Accepted: an int; a float, read through its shortest ``repr`` (``12.3`` is
    ``Decimal('12.3')``, not the binary expansion); a finite Decimal; and text
    written in ASCII as ``[sign] digits [. digits] [e [sign] digits]``, with
    ASCII whitespace around it. Every one is taken exactly, within bounds: at
    most :data:`MAX_DIGITS` significant digits, and at least ``1e-100`` but
    below ``1e101`` (:data:`MAX_EXPONENT`). The result is in its plainest form
    (``'12.50'`` gives ``Decimal('12.5')``, ``'1e2'`` gives ``Decimal('100')``).

    Raises:
        InvalidLeverage: For a bool, anything that is not a number, text that is
            not an ASCII decimal (other digits than 0-9, ``'1_0'``, ``'NaN'``),
            NaN, an infinity, zero, a negative number, or one outside the
            bounds. The error names the value (cut short) and, when given, the
            symbol and its allowed range.
    """
    number = read_leverage(value)
    if isinstance(number, str):
        raise InvalidLeverage(describe_value(value), number, symbol, rule)
    return number


def _checked_rule(rule: LeverageFilter, symbol: str | None) -> None:
    """:func:`_check_rule`, done once per filter (filters are frozen values)."""
    if rule not in _RULES_CHECKED:
        _check_rule(rule, symbol)
        if len(_RULES_CHECKED) < 10_000:
            _RULES_CHECKED.add(rule)


_RULES_CHECKED: set[LeverageFilter] = set()


def _check_rule(rule: LeverageFilter, symbol: str | None) -> None:
    """Refuse a filter whose grid cannot be walked exactly in bounded time.

    Bybit's filters are short numbers (``1``, ``100.00``, ``0.01``); one with a
    thousand-digit step would make exact grid arithmetic unbounded.
    """
    for name, number in (
        ("min", rule.min_leverage),
        ("max", rule.max_leverage),
        ("step", rule.leverage_step),
    ):
        if refusal(number) is not None:
            raise InvalidLeverage(
                describe_value(number),
                f"the symbol's leverage {name} is outside what this package handles",
                symbol,
            )


#: Exact for every grid point of a filter within the bounds (at most 100 digits
#: each, leading digit within 10^±100): such a point has at most about 400
#: digits. ``Inexact`` is trapped, so a point is never silently rounded.
_EXACT: Final = Context(prec=1000, traps=[Inexact, Rounded])


@functools.lru_cache(maxsize=4096)
def _rule_ints(rule: LeverageFilter) -> tuple[int, int, int]:
    """The filter's minimum and step as whole numbers of ``10**exponent``."""
    exponent = min(_exponent(rule.min_leverage), _exponent(rule.leverage_step))
    return (
        exponent,
        _whole(rule.min_leverage, exponent),
        _whole(rule.leverage_step, exponent),
    )


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # noqa: S101 - finite: checked by the callers
    return exponent


def _whole(value: Decimal, exponent: int) -> int:
    """``value / 10**exponent`` as an int: exact (``_EXACT`` traps any rounding)."""
    return int(value.scaleb(-exponent, _EXACT))


def _steps(value: Decimal, rule: LeverageFilter) -> tuple[int, int, int, int]:
    """Where ``value`` lies on the grid, in whole numbers: no context rounds it.

    Returns ``(k, remainder, step, exponent)``: ``value`` is
    ``min + (k * step + remainder) * 10**exponent``, with ``0 <= remainder <
    step``. The 28-digit context would round ``10.000000000000000000000000000001``
    onto the grid; integers cannot.
    """
    exponent, low, step = _rule_ints(rule)
    own = _exponent(value)
    if own < exponent:  # the value has more decimals: bring the grid down to it
        scale = 10 ** (exponent - own)
        exponent, low, step = own, low * scale, step * scale
    k, remainder = divmod(_whole(value, exponent) - low, step)
    return k, remainder, step, exponent


def _grid_point(k: int, step: int, exponent: int, rule: LeverageFilter) -> Decimal:
    low = _whole(rule.min_leverage, exponent)
    return Decimal(low + k * step).scaleb(exponent, _EXACT)


def _to_grid(value: Decimal, rule: LeverageFilter, policy: SnapPolicy) -> Decimal:
    k, remainder, step, exponent = _steps(value, rule)
    if policy is SnapPolicy.NEAREST and 2 * remainder > step:
        k += 1  # above the midpoint; an exact tie stays down
    snapped = _grid_point(k, step, exponent, rule)
    if snapped > rule.max_leverage:  # an off-grid max rounded up past itself
        snapped = _grid_point(k - 1, step, exponent, rule)
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
    shown = describe_value(value)
    return snap_decimal(requested, rule, policy, symbol=symbol, shown=shown)


def snap_decimal(
    requested: Decimal,
    rule: LeverageFilter,
    policy: SnapPolicy = SnapPolicy.DOWN,
    *,
    symbol: str | None = None,
    shown: str | None = None,
) -> Snap:
    """Snap a leverage already read by :func:`to_leverage`.

    The arithmetic is exact whatever the decimal context: a value a hair off the
    grid is off the grid, and ``DOWN`` never rounds up.

    Args:
        requested: A positive, finite leverage within :func:`to_leverage`'s bounds.
        rule: The symbol's leverage filter.
        policy: How to treat a value that is not exactly valid.
        symbol: Named in errors, when given.
        shown: How errors show the value (:func:`describe_value` by default).

    Raises:
        InvalidLeverage: Under ``STRICT``, when ``requested`` is outside the range
            or off the grid; under any policy, when ``requested`` is not what
            :func:`to_leverage` accepts, or the filter's numbers are outside
            those bounds.
    """
    text = describe_value(requested) if shown is None else shown
    problem = refusal(requested)
    if problem is not None:
        raise InvalidLeverage(text, problem, symbol, rule)
    _checked_rule(rule, symbol)
    if policy is SnapPolicy.STRICT:
        if not rule.min_leverage <= requested <= rule.max_leverage:
            raise InvalidLeverage(text, "out of range", symbol, rule)
        if _steps(requested, rule)[1] != 0:
            raise InvalidLeverage(text, "not on the step grid", symbol, rule)
        return Snap(requested, requested, SnapChange.NONE)
    return Snap(requested, *_snapped(requested, rule, policy))


@functools.lru_cache(maxsize=4096)
def _snapped(
    requested: Decimal, rule: LeverageFilter, policy: SnapPolicy
) -> tuple[Decimal, SnapChange]:
    """The grid point and the change for a valid ``requested`` (not ``STRICT``).

    Remembered: a batch snaps a few values onto a few grids. Equal values share
    a result (``requested`` is positive: no signed zero meets its twin here).
    """
    if requested < rule.min_leverage:
        change, clamped = SnapChange.RAISED_TO_MIN, rule.min_leverage
    elif requested > rule.max_leverage:
        change, clamped = SnapChange.LOWERED_TO_MAX, rule.max_leverage
    else:
        change, clamped = SnapChange.NONE, requested
    snapped = _to_grid(clamped, rule, policy)
    if change is SnapChange.NONE and snapped != requested:
        change = SnapChange.ROUNDED
    return snapped, change


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
