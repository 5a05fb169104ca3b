"""The read half of :class:`BybitClient`: instruments, positions, the account.

``BybitClient`` derives from :class:`ClientReads` (as redis-py's client composes
its command groups): the reads live here, the writes and the wiring in
``client``. The attributes used here are set by ``BybitClient.__init__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bybit_leverage._account import AccountCache
from bybit_leverage._api import BybitApi
from bybit_leverage._http import RequestCore
from bybit_leverage._planner import Planner
from bybit_leverage.cache import InstrumentCache
from bybit_leverage.errors import MissingCredentials
from bybit_leverage.models import (
    AccountProfile,
    Category,
    Instrument,
    LeverageFilter,
    PositionLeverage,
)

__all__ = ["ClientReads"]

_NO_KEYS: Final = (
    "setting leverage needs keys: pass api_key and api_secret "
    "(or private_key) to BybitClient"
)


class ClientReads:
    """Reads: the instruments and their rules, the leverage in force, the account."""

    _base_url: str
    _core: RequestCore
    _api: BybitApi
    _account: AccountCache
    _planner: Planner
    instruments: InstrumentCache

    @property
    def base_url(self) -> str:
        """The host requests go to."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._core.closed

    @property
    def has_credentials(self) -> bool:
        """Whether the client holds keys for private endpoints."""
        return self._core.has_credentials

    def require_credentials(self) -> None:
        """Fail early, before any request, when the client has no keys.

        Raises:
            MissingCredentials: The client was built without keys.
        """
        if not self.has_credentials:
            raise MissingCredentials(_NO_KEYS)

    @property
    def server_time_offset_ms(self) -> int:
        """Server minus local clock (ms) as last measured; 0 before any sync."""
        return self._core.clock.offset_ms

    async def aclose(self) -> None:
        """Close the client; its own session is closed once, a borrowed one never."""
        await self._core.aclose()

    async def sync_time(self) -> int:
        """Measure the server-time offset now and return it (ms, server - local)."""
        await self._core.clock.resync()
        return self._core.clock.offset_ms

    # -- instruments -------------------------------------------------------------

    async def fetch_instruments(
        self, category: Category = Category.LINEAR
    ) -> list[Instrument]:
        """Read every listed instrument of ``category`` (all pages, plus PreLaunch).

        Bypasses the cache.

        Raises:
            BybitError: A request failed after its retries.
        """
        return await self._api.fetch_instruments(category)

    async def get_instruments(
        self, category: Category = Category.LINEAR
    ) -> Mapping[str, Instrument]:
        """Every instrument of ``category`` by symbol, from the cache.

        Raises:
            BybitError: The cache was empty or expired and the fetch failed.
        """
        return await self.instruments.get(category)

    async def get_instrument(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> Instrument:
        """One instrument by symbol (case-insensitive), from the cache.

        Raises:
            UnknownSymbol: Not listed; the error suggests close matches.
        """
        return await self.instruments.lookup(symbol, category)

    async def get_leverage_filter(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> LeverageFilter:
        """A symbol's leverage rule (min, max, step), from the cache.

        Raises:
            UnknownSymbol: Not listed; the error suggests close matches.
        """
        return (await self.instruments.lookup(symbol, category)).leverage_filter

    # -- positions ---------------------------------------------------------------

    async def fetch_position_leverage(
        self, category: Category = Category.LINEAR, symbol: str | None = None
    ) -> dict[str, PositionLeverage]:
        """Read the leverage in force and the position mode, for one or every symbol.

        One ``/v5/position/symbol-info`` request covers the whole category.

        Raises:
            MissingCredentials: The client has no keys.
            BybitError: The request failed after its retries.
        """
        return await self._api.fetch_leverage(category, symbol)

    async def get_position_leverage(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> PositionLeverage | None:
        """A symbol's leverage and position mode, read at most every few minutes.

        Read from ``/v5/position/symbol-info``, or ``/v5/position/list`` where
        the host does not serve it. ``None`` when Bybit lists no row.

        Raises:
            AuthenticationError: The key cannot be used.
        """
        self.require_credentials()
        return await self._planner.position_mode(symbol, category)

    async def get_account(self, *, refresh: bool = False) -> AccountProfile:
        """The account behind the key: UID, margin mode, UTA status, key rights.

        Two requests (``/v5/account/info``, ``/v5/user/query-api``), then kept
        for five minutes; ``refresh`` reads again.

        Raises:
            MissingCredentials: The client has no keys.
            AuthenticationError: The key cannot be used on this host.
            BybitError: A read failed after its retries.
        """
        self.require_credentials()
        return await self._account.get(refresh=refresh)
