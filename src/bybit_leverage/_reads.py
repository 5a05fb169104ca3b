"""Reading what the exchange holds now: leverage in force and open positions.

The leverage in force comes from ``/v5/position/symbol-info`` (one request per
category) wherever it is served. Where it is not (demo trading does not list it,
portfolio margin refuses it, a host answers 404 or a retCode), it is read from
``/v5/position/list?symbol=`` per symbol, paced at that endpoint's own limit:
reading is cheaper than writing. A key problem is never papered over: it raises.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Final

from attrs import frozen

from bybit_leverage._api import BybitApi
from bybit_leverage._http import Tally
from bybit_leverage._slices import fan_out
from bybit_leverage.errors import (
    APIError,
    AuthenticationError,
    BybitError,
    HTTPStatusError,
)
from bybit_leverage.models import (
    Category,
    LeverageSource,
    Position,
    PositionLeverage,
)

__all__ = ["LeverageReader", "Reading", "leverage_by_symbol"]

logger = logging.getLogger(__name__)

#: Per-symbol fallback reads waiting at once (the limiter paces them anyway).
_FALLBACK_CONCURRENCY: Final = 20


@frozen
class Reading:
    """The leverage in force by symbol, and where it was read (``None``: not read)."""

    values: Mapping[str, PositionLeverage]
    source: LeverageSource | None


def leverage_by_symbol(rows: Iterable[Position]) -> dict[str, PositionLeverage]:
    """Group position rows into each symbol's leverage and position mode."""
    sides: dict[str, dict[int, Position]] = {}
    for row in rows:
        sides.setdefault(row.symbol, {})[row.position_idx] = row
    found = {}
    for symbol, by_idx in sides.items():
        if 0 in by_idx:
            lev = by_idx[0].leverage
            found[symbol] = PositionLeverage(symbol, lev, lev, hedge=False)
        else:
            buy, sell = by_idx.get(1), by_idx.get(2)
            found[symbol] = PositionLeverage(
                symbol,
                buy.leverage if buy else None,
                sell.leverage if sell else None,
                hedge=True,
            )
    return found


class LeverageReader:
    """Reads the leverage in force, falling back to per-symbol reads where needed.

    Args:
        api: The endpoint floor.
    """

    def __init__(self, api: BybitApi) -> None:
        self._api = api
        self._no_symbol_info: set[Category] = set()

    async def read(
        self,
        category: Category,
        symbols: Collection[str],
        tally: Tally | None = None,
    ) -> Reading:
        """The leverage in force for ``symbols`` (only those).

        A read that fails for a transient reason, after its retries, returns an
        empty reading: the caller sends without skipping (110043 is harmless).

        Raises:
            AuthenticationError: The key cannot be used: never a fallback.
        """
        if not symbols:
            return Reading({}, None)
        if category not in self._no_symbol_info:
            only = next(iter(symbols)) if len(symbols) == 1 else None
            try:
                values = await self._api.fetch_leverage(
                    category, only, wanted=frozenset(symbols), tally=tally
                )
                return Reading(values, LeverageSource.SYMBOL_INFO)
            except AuthenticationError:
                raise
            except (HTTPStatusError, APIError) as exc:
                if isinstance(exc, HTTPStatusError) and exc.status != 404:
                    return _unread(exc)
                logger.info(
                    "symbol-info is not served here (%s); reading %s leverage "
                    "per symbol from position/list",
                    exc,
                    category.value,
                )
                self._no_symbol_info.add(category)
            except BybitError as exc:
                return _unread(exc)
        return Reading(
            await self._per_symbol(category, symbols, tally),
            LeverageSource.POSITION_LIST,
        )

    async def _per_symbol(
        self, category: Category, symbols: Collection[str], tally: Tally | None
    ) -> dict[str, PositionLeverage]:
        async def one(symbol: str) -> list[Position]:
            try:
                return await self._api.fetch_positions(
                    category, symbol=symbol, tally=tally
                )
            except AuthenticationError:
                raise
            except BybitError as exc:
                logger.debug("%s: leverage unread (%s)", symbol, exc)
                return []

        found = await fan_out(list(symbols), _FALLBACK_CONCURRENCY, one)
        return leverage_by_symbol(row for rows in found for row in rows)

    async def open_positions(
        self,
        category: Category,
        settle_coins: Collection[str],
        tally: Tally | None = None,
    ) -> dict[str, Position]:
        """Open positions by symbol (the largest side of a hedge-mode symbol).

        Linear positions are listed per settle coin; inverse ones in one listing.

        Raises:
            BybitError: A read failed after its retries.
        """
        rows: list[Position] = []
        if category is Category.INVERSE:
            rows = await self._api.fetch_positions(category, tally=tally)
        else:
            for coin in sorted(settle_coins):
                rows += await self._api.fetch_positions(
                    category, settle_coin=coin, tally=tally
                )
        found: dict[str, Position] = {}
        for row in rows:
            if row.size > 0 and (
                row.symbol not in found or row.size > found[row.symbol].size
            ):
                found[row.symbol] = row
        return found


def _unread(exc: BybitError) -> Reading:
    logger.warning("could not read current leverage (%s); sending every symbol", exc)
    return Reading({}, None)
