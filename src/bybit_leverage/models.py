"""Frozen domain types. Wire names and formats live in ``_wire``, never here.

This module is the ground floor: it imports no other module of the package.
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs
from attrs import field, frozen

__all__ = [
    "AccountProfile",
    "Category",
    "ContractType",
    "Instrument",
    "InstrumentStatus",
    "LeverageFilter",
    "LeverageSource",
    "MarginMode",
    "Outcome",
    "Position",
    "PositionLeverage",
    "format_leverage",
]


class Category(enum.StrEnum):
    """Product category of a derivatives contract (set-leverage supports these two)."""

    LINEAR = "linear"
    INVERSE = "inverse"


class InstrumentStatus(enum.StrEnum):
    """Listing status of an instrument."""

    PRE_LAUNCH = "PreLaunch"
    TRADING = "Trading"
    DELIVERING = "Delivering"
    CLOSED = "Closed"


class ContractType(enum.StrEnum):
    """Kind of derivatives contract."""

    LINEAR_PERPETUAL = "LinearPerpetual"
    LINEAR_FUTURES = "LinearFutures"
    INVERSE_PERPETUAL = "InversePerpetual"
    INVERSE_FUTURES = "InverseFutures"


def _positive(_: Any, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(
            f"{attribute.name} must be a Decimal, got {type(value).__name__}"
        )
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number, got {value}")


#: Zeros a plain form may spell out. Every leverage ``to_leverage`` accepts needs
#: far fewer; a number that would need more (say, ``1E+999999999999999999`` sent
#: by a broken server) keeps its exponent instead of filling the memory.
_MAX_PLAIN_ZEROS: Final = 1000


def _trimmed(value: Decimal) -> tuple[int, str, int] | None:
    """``(sign, digits, exponent)`` without trailing zeros; ``None`` if not finite.

    Read from ``as_tuple()``: no arithmetic, so no context can round or overflow.
    Zero is ``(sign, "0", 0)``.
    """
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN, sNaN, infinity
        return None
    text = "".join(map(str, digits)).lstrip("0")
    kept = text.rstrip("0")
    if not kept:
        return sign, "0", 0
    return sign, kept, exponent + len(text) - len(kept)


def plain_decimal(value: Decimal) -> Decimal:
    """The same number in its plainest form: ``12.50`` is ``12.5``, ``1E+2`` is ``100``.

    Reprs and logs then read as people write leverage. Exact whatever the decimal
    context (``normalize()`` would round to its precision, and overflow past its
    exponent limit). A number that would need more than a thousand zeros keeps
    its exponent (``1E+5000``); a NaN or an infinity comes back as it is.
    """
    if not value.is_finite() or not value:  # the cache would merge -0 and 0
        return _plain(value)
    return _plain_cached(value)


def _plain(value: Decimal) -> Decimal:
    trimmed = _trimmed(value)
    if trimmed is None:
        return value
    sign, digits, exponent = trimmed
    if 0 < exponent <= _MAX_PLAIN_ZEROS:
        digits, exponent = digits + "0" * exponent, 0
    return Decimal((sign, tuple(map(int, digits)), exponent))


#: Equal non-zero Decimals share their plain form and their wire text, and a batch
#: repeats a handful of values: the cache spares most of the digit work.
_plain_cached: Final = functools.lru_cache(maxsize=4096)(_plain)


def format_leverage(value: Decimal) -> str:
    """Format leverage for the wire: plain digits, no exponent, no trailing zeros.

    Exact and independent of the decimal context. Never raises: a NaN or an
    infinity is written by name, and a number whose plain form would need more
    than a thousand zeros (never a leverage ``to_leverage`` accepts) is written
    with an exponent rather than spelled out.

    >>> format_leverage(Decimal("100.00")), format_leverage(Decimal("1E+1"))
    ('100', '10')
    >>> format_leverage(Decimal("1E+999999999999999999"))
    '1E+999999999999999999'
    """
    if not value.is_finite() or not value:
        return _format(value)
    return _format_cached(value)


def _format(value: Decimal) -> str:
    trimmed = _trimmed(value)
    if trimmed is None:
        return str(value)  # "NaN", "-Infinity": no context is involved
    sign, digits, exponent = trimmed
    minus = "-" if sign else ""
    point = len(digits) + exponent  # digits before the decimal point
    if exponent > _MAX_PLAIN_ZEROS or point < -_MAX_PLAIN_ZEROS:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}E{point - 1:+d}"
    if exponent >= 0:
        return minus + digits + "0" * exponent
    if point > 0:
        return f"{minus}{digits[:point]}.{digits[point:]}"
    return f"{minus}0.{'0' * -point}{digits}"


_format_cached: Final = functools.lru_cache(maxsize=4096)(_format)


@frozen
class LeverageFilter:
    """A symbol's leverage rule: ``min <= leverage <= max`` on a grid of ``step``.

    The grid is anchored at ``min_leverage``: valid values are
    ``min_leverage + k * leverage_step`` for whole ``k``, up to ``max_leverage``.
    """

    min_leverage: Decimal = field(validator=_positive)
    max_leverage: Decimal = field(validator=_positive)
    leverage_step: Decimal = field(validator=_positive)

    @max_leverage.validator
    def _check_order(self, _: attrs.Attribute[Decimal], value: Decimal) -> None:
        if value < self.min_leverage:
            raise ValueError(f"max_leverage {value} < min_leverage {self.min_leverage}")

    def __str__(self) -> str:
        low, high = (
            format_leverage(self.min_leverage),
            format_leverage(self.max_leverage),
        )
        return f"[{low}, {high}] in steps of {format_leverage(self.leverage_step)}"


@frozen
class Instrument:
    """One listed derivatives contract, as far as leverage is concerned."""

    symbol: str
    category: Category
    status: InstrumentStatus
    contract_type: ContractType
    base_coin: str
    quote_coin: str
    settle_coin: str
    launch_time: datetime
    leverage_filter: LeverageFilter
    delivery_time: datetime | None = None

    @property
    def is_tradable(self) -> bool:
        """Whether leverage can be set now (status ``Trading``)."""
        return self.status is InstrumentStatus.TRADING


@frozen
class PositionLeverage:
    """A symbol's leverage now in force, and its position mode.

    Read from ``/v5/position/symbol-info``: one row (``positionIdx`` 0) in one-way
    mode, two rows (1 buy, 2 sell) in hedge mode.

    Attributes:
        symbol: The symbol.
        buy: Buy-side leverage (``None`` where Bybit gives none, e.g. portfolio margin).
        sell: Sell-side leverage (equal to ``buy`` in one-way mode).
        hedge: Whether the symbol is in hedge mode (buy and sell may differ).
    """

    symbol: str
    buy: Decimal | None
    sell: Decimal | None
    hedge: bool = False


class Outcome(enum.StrEnum):
    """What happened to one symbol's leverage request."""

    SET = "set"
    """Changed on the exchange."""
    UNCHANGED = "unchanged"
    """Already at the target (110043, or skipped after reading the current value)."""
    REJECTED = "rejected"
    """Refused before sending: unknown symbol, invalid value, policy or mode."""
    FAILED = "failed"
    """The exchange or the network said no, after the safe retries."""


class MarginMode(enum.StrEnum):
    """An account's margin mode, with Bybit's names (UTA 2.0: one per account)."""

    ISOLATED_MARGIN = "ISOLATED_MARGIN"
    REGULAR_MARGIN = "REGULAR_MARGIN"
    """Cross margin."""
    PORTFOLIO_MARGIN = "PORTFOLIO_MARGIN"


class LeverageSource(enum.StrEnum):
    """Where a leverage value was read."""

    SYMBOL_INFO = "symbol-info"
    """``GET /v5/position/symbol-info``: one request per category."""
    POSITION_LIST = "position-list"
    """``GET /v5/position/list?symbol=``: one request per symbol (the fallback)."""


@frozen
class AccountProfile:
    """Who the key is and what the account allows, as far as leverage is concerned.

    Read from ``GET /v5/account/info`` (margin mode, UTA status) and
    ``GET /v5/user/query-api`` (the key). A field is ``None`` where the host did
    not say: demo trading, for one, does not serve ``query-api``.

    Attributes:
        margin_mode: The account's margin mode (``None`` if Bybit sent another).
        unified_margin_status: 1 classic, 3/4 UTA 1.0 (pro), 5/6 UTA 2.0 (pro).
        uid: The account (user) id: two keys of one UID share its rate limits.
        read_only: Whether the key is read-only.
        can_set_leverage: Whether the key may write positions (``Position`` in
            ``permissions.ContractTrade``, and not read-only).
        expires_at: When the key expires (keys without an IP binding do).
        ips: The IP addresses the key is bound to (``("*",)``: any).
        is_master: Whether the account is a main account.
        parent_uid: The main account of a sub-account.
    """

    margin_mode: MarginMode | None
    unified_margin_status: int | None
    uid: int | None = None
    read_only: bool | None = None
    can_set_leverage: bool | None = None
    expires_at: datetime | None = None
    ips: tuple[str, ...] = ()
    is_master: bool | None = None
    parent_uid: int | None = None

    @property
    def is_unified(self) -> bool:
        """Whether the account is a unified trading account (UTA 1.0 or 2.0)."""
        return self.unified_margin_status in (3, 4, 5, 6)

    def __str__(self) -> str:
        who = f"UID {self.uid}" if self.uid is not None else "account"
        mode = self.margin_mode.value if self.margin_mode else "margin mode unknown"
        return f"{who}, {mode}"


@frozen
class Position:
    """One open position, as far as leverage is concerned.

    Attributes:
        symbol: The symbol.
        size: Its size (positive).
        side: ``"Buy"`` or ``"Sell"``.
        position_idx: 0 one-way, 1 hedge buy side, 2 hedge sell side.
        leverage: Its leverage (``None`` under portfolio margin).
        leverage_sys_updated: When Bybit's risk system changed (or will change)
            the leverage itself, if it did.
        reduce_only: Whether the position may only be reduced (Bybit lowered
            the risk limit and the position is over it).
    """

    symbol: str
    size: Decimal
    side: str
    position_idx: int = 0
    leverage: Decimal | None = None
    leverage_sys_updated: datetime | None = None
    reduce_only: bool = False
