"""Instrument cache: a TTL per category, one fetch per miss, stale on failure.

Concurrent misses share one fetch task (single-flight), and a caller that is
cancelled while waiting does not cancel the fetch the others wait on. A failed
fetch stores nothing; if an older entry exists it keeps being served (with a
warning) and the next refresh is tried after a short pause instead of on every
call.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final

from attrs import frozen

from bybit_leverage.errors import BybitError, UnknownSymbol
from bybit_leverage.models import Category, Instrument

__all__ = ["InstrumentCache"]

logger = logging.getLogger(__name__)

#: Default lifetime of a category's listing (seconds).
DEFAULT_TTL: Final = 3600.0
#: After a failed refresh, serve the stale entry this long before trying again.
DEFAULT_RETRY_AFTER: Final = 30.0


@frozen
class _Entry:
    instruments: Mapping[str, Instrument]
    by_upper: Mapping[str, str]  # upper-cased symbol -> listed symbol
    expires_at: float


def _index(
    instruments: Iterable[Instrument],
) -> tuple[Mapping[str, Instrument], dict[str, str]]:
    by_symbol = {i.symbol: i for i in instruments}
    return MappingProxyType(by_symbol), {s.upper(): s for s in by_symbol}


class InstrumentCache:
    """Instruments per category, refreshed at most once per TTL.

    Args:
        fetch: Coroutine function returning every instrument of a category.
        ttl: Seconds an entry is fresh.
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        retry_after: Seconds a stale entry is served after a failed refresh
            before the next refresh is tried.
    """

    def __init__(
        self,
        fetch: Callable[[Category], Awaitable[Iterable[Instrument]]],
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl}")
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._retry_after = retry_after
        self._entries: dict[Category, _Entry] = {}
        self._inflight: dict[Category, asyncio.Task[_Entry]] = {}

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    async def get(
        self, category: Category = Category.LINEAR
    ) -> Mapping[str, Instrument]:
        """Every instrument of ``category`` by symbol, fetched if missing or expired.

        Raises:
            BybitError: The fetch failed and there is no earlier entry to serve.
        """
        return (await self._entry(category)).instruments

    async def lookup(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> Instrument:
        """The instrument listed as ``symbol`` (case-insensitive).

        Raises:
            UnknownSymbol: Not listed in ``category``; carries close matches.
        """
        await self._entry(category)
        found = self.find(symbol, category)
        if isinstance(found, UnknownSymbol):
            raise found
        return found

    def find(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> Instrument | UnknownSymbol:
        """The instrument listed as ``symbol``, from what is cached, without waiting.

        For a caller that has just awaited :meth:`get`: returns (not raises) an
        :class:`UnknownSymbol` for a symbol that is not listed.

        Raises:
            KeyError: Nothing of ``category`` is cached.
        """
        entry = self._entries[category]
        found = entry.instruments.get(symbol)
        if found is not None:
            return found
        listed = entry.by_upper.get(symbol.upper())
        if listed is not None:
            return entry.instruments[listed]
        close = difflib.get_close_matches(symbol.upper(), entry.by_upper, n=3)
        return UnknownSymbol(
            symbol, category.value, tuple(entry.by_upper[u] for u in close)
        )

    def invalidate(self, category: Category | None = None) -> None:
        """Forget one category's entry, or all of them; the next read refetches."""
        if category is None:
            self._entries.clear()
        else:
            self._entries.pop(category, None)

    async def _entry(self, category: Category) -> _Entry:
        entry = self._entries.get(category)
        if entry is not None and self._now() < entry.expires_at:
            return entry
        task = self._inflight.get(category)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._refresh(category))
            self._inflight[category] = task
            task.add_done_callback(lambda t: self._done(category, t))
        # shield: one caller's cancellation must not cancel the fetch others await.
        return await asyncio.shield(task)

    def _done(self, category: Category, task: asyncio.Task[_Entry]) -> None:
        if self._inflight.get(category) is task:
            del self._inflight[category]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not reported

    async def _refresh(self, category: Category) -> _Entry:
        try:
            instruments = await self._fetch(category)
        except BybitError as exc:
            stale = self._entries.get(category)
            if stale is None:
                raise
            logger.warning(
                "refreshing %s instruments failed (%s); serving the entry cached "
                "earlier, next try in %.0fs",
                category.value,
                exc,
                self._retry_after,
            )
            stale = _Entry(
                stale.instruments, stale.by_upper, self._now() + self._retry_after
            )
            self._entries[category] = stale
            return stale
        by_symbol, by_upper = _index(instruments)
        entry = _Entry(by_symbol, MappingProxyType(by_upper), self._now() + self._ttl)
        self._entries[category] = entry
        return entry
