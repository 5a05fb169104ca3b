"""The endpoint floor: one method per Bybit endpoint this package uses.

Each method builds its parameters, sends them through the request core and
parses the answer with ``_wire``. Nothing above this floor names a path or a
camelCase field; nothing here decides what a batch should do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Final

from bybit_leverage import _constants as c
from bybit_leverage._http import RequestCore, Tally
from bybit_leverage._slices import SLICE
from bybit_leverage._wire import (
    Sides,
    collect_sides,
    group_sides,
    parse_instruments_page,
    result_list,
    set_leverage_body,
)
from bybit_leverage._wire_account import (
    parse_account_info,
    parse_key_info,
    parse_positions,
)
from bybit_leverage.models import (
    AccountProfile,
    Category,
    Instrument,
    InstrumentStatus,
    Position,
    PositionLeverage,
)

__all__ = ["BybitApi"]

logger = logging.getLogger(__name__)

#: Instruments parsed between two yields to the loop (about 30 us each): a page
#: of 500 never stalls an engine that shares the loop for long.
PARSE_SLICE: Final = SLICE
#: Leverage rows read, and symbols grouped, between two yields (a few us each).
_ROW_SLICE: Final = 5 * SLICE
#: A listing longer than this many pages means the cursor is looping.
_MAX_PAGES: Final = 100
_NOT_MODIFIED: Final = frozenset({c.LEVERAGE_NOT_MODIFIED})


class BybitApi:
    """Bybit V5 endpoints over a request core.

    Args:
        core: Sends paced, signed, retried requests.
    """

    def __init__(self, core: RequestCore) -> None:
        self._core = core

    async def fetch_instruments(self, category: Category) -> list[Instrument]:
        """Every listed instrument of ``category``: the Trading listing, then PreLaunch.

        Pages are followed with ``nextPageCursor`` sent back verbatim; the two
        listings are merged without duplicates.

        Raises:
            BybitError: A request failed after its retries.
        """
        merged: dict[str, Instrument] = {}
        for status in (None, InstrumentStatus.PRE_LAUNCH):
            for instrument in await self._listing(category, status):
                merged.setdefault(instrument.symbol, instrument)
        return list(merged.values())

    async def _listing(
        self, category: Category, status: InstrumentStatus | None
    ) -> list[Instrument]:
        found: list[Instrument] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params = {
                "category": category.value,
                "limit": str(c.INSTRUMENTS_PAGE_LIMIT),
            }
            if status is not None:
                params["status"] = status.value
            if cursor is not None:
                params["cursor"] = cursor  # already URL-encoded; encode_query keeps it
            envelope = await self._core.request(
                "GET", c.PATH_INSTRUMENTS, params, signed=False
            )
            items = result_list(envelope.result, c.PATH_INSTRUMENTS)
            following: str | None = None
            for start in range(0, max(len(items), 1), PARSE_SLICE):
                page = parse_instruments_page(
                    envelope.result,
                    category,
                    c.PATH_INSTRUMENTS,
                    start,
                    start + PARSE_SLICE,
                )
                found.extend(page.instruments)
                following = page.next_cursor
                await asyncio.sleep(0)  # a long page never holds the loop for long
            if not items or following is None:
                return found
            if following in seen:
                logger.warning("instruments cursor %r repeated; stopping", following)
                return found
            seen.add(following)
            cursor = following
        logger.warning("instruments listing stopped after %d pages", _MAX_PAGES)
        return found

    async def fetch_leverage(
        self,
        category: Category,
        symbol: str | None = None,
        *,
        wanted: AbstractSet[str] | None = None,
        tally: Tally | None = None,
    ) -> dict[str, PositionLeverage]:
        """The leverage in force and position mode, from ``/v5/position/symbol-info``.

        Without ``symbol``, one request covers the whole category; ``wanted``
        then keeps only those symbols (the rest are not parsed).

        Raises:
            BybitError: The request failed after its retries.
        """
        params = {"category": category.value}
        if symbol is not None:
            params["symbol"] = symbol
        envelope = await self._core.request(
            "GET", c.PATH_SYMBOL_INFO, params, signed=True, tally=tally
        )
        rows = result_list(envelope.result, c.PATH_SYMBOL_INFO)
        sides: Sides = {}
        for start in range(0, len(rows), _ROW_SLICE):
            collect_sides(
                rows,
                c.PATH_SYMBOL_INFO,
                sides,
                start,
                start + _ROW_SLICE,
                wanted=wanted,
            )
            await asyncio.sleep(0)
        found: dict[str, PositionLeverage] = {}
        grouped = list(sides.items())
        for start in range(0, len(grouped), _ROW_SLICE):
            group_sides(grouped[start : start + _ROW_SLICE], found)
            await asyncio.sleep(0)
        return found

    async def set_leverage(
        self,
        category: Category,
        symbol: str,
        buy: Decimal,
        sell: Decimal,
        *,
        tally: Tally | None = None,
    ) -> bool:
        """Send ``/v5/position/set-leverage``.

        Returns:
            True when the leverage changed, False on 110043 ("not modified": it
            already had this value).

        Raises:
            BybitError: The exchange refused or the request failed after retries.
        """
        envelope = await self._core.request(
            "POST",
            c.PATH_SET_LEVERAGE,
            set_leverage_body(category, symbol, buy, sell),
            signed=True,
            accept=_NOT_MODIFIED,
            tally=tally,
        )
        return envelope.ok

    async def fetch_account(self, *, tally: Tally | None = None) -> AccountProfile:
        """The account's margin mode and UTA status (``GET /v5/account/info``).

        Raises:
            BybitError: The request failed after its retries.
        """
        envelope = await self._core.request(
            "GET", c.PATH_ACCOUNT_INFO, {}, signed=True, tally=tally
        )
        return parse_account_info(envelope.result, c.PATH_ACCOUNT_INFO)

    async def fetch_key(
        self, account: AccountProfile, *, tally: Tally | None = None
    ) -> AccountProfile:
        """``account`` completed with the key's facts (``GET /v5/user/query-api``).

        Raises:
            BybitError: The request failed after its retries.
        """
        envelope = await self._core.request(
            "GET", c.PATH_KEY_INFO, {}, signed=True, tally=tally
        )
        return parse_key_info(envelope.result, c.PATH_KEY_INFO, account)

    async def fetch_positions(
        self,
        category: Category,
        *,
        symbol: str | None = None,
        settle_coin: str | None = None,
        tally: Tally | None = None,
    ) -> list[Position]:
        """Position rows from ``GET /v5/position/list``, every page.

        With ``symbol``: that symbol's rows (its leverage, open or not). With
        ``settle_coin``: the open positions settled in that coin.

        Raises:
            BybitError: A request failed after its retries.
        """
        found: list[Position] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params = {"category": category.value}
            if symbol is not None:
                params["symbol"] = symbol
            if settle_coin is not None:
                params["settleCoin"] = settle_coin
            params["limit"] = str(c.POSITIONS_PAGE_LIMIT)
            if cursor is not None:
                params["cursor"] = cursor
            envelope = await self._core.request(
                "GET", c.PATH_POSITION_LIST, params, signed=True, tally=tally
            )
            rows, cursor = parse_positions(envelope.result, c.PATH_POSITION_LIST)
            found.extend(rows)
            if cursor is None or not rows:
                return found
        logger.warning("position listing stopped after %d pages", _MAX_PAGES)
        return found
