"""Server-time offset: signed timestamps follow Bybit's clock, not ours.

Bybit accepts a signed request only when
``server_time - recv_window <= timestamp < server_time + 1000``. A local clock
that runs a second or more ahead fails every request, so the client measures
the offset from ``GET /v5/market/time`` before its first private request,
refreshes it periodically and again whenever the server answers 10002.

The offset is taken from the *end* of the round trip (the latest local instant
the server can have read its clock at), so the estimate errs behind the server,
never ahead; a small safety margin pushes it a little further behind. Behind is
cheap (the receive window is seconds wide), ahead by a second is fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

__all__ = ["ServerClock", "system_now_ms"]

logger = logging.getLogger(__name__)

#: How far behind the estimated server time timestamps are aimed (ms).
SAFETY_MARGIN_MS: Final = 100
#: How often the offset is measured again (seconds of loop time).
RESYNC_INTERVAL_S: Final = 900.0


def system_now_ms() -> int:
    """The local wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class ServerClock:
    """Estimates Bybit's clock from the local one plus a measured offset.

    Args:
        fetch_server_ms: Coroutine function returning the server's time (epoch
            ms), e.g. from ``GET /v5/market/time``.
        now_ms: The local wall clock in epoch ms (inject a fake in tests).
        resync_interval: Seconds (loop time) after which the offset is stale.
        safety_margin_ms: How far behind the server timestamps are aimed.
    """

    def __init__(
        self,
        fetch_server_ms: Callable[[], Awaitable[int]],
        *,
        now_ms: Callable[[], int] = system_now_ms,
        resync_interval: float = RESYNC_INTERVAL_S,
        safety_margin_ms: int = SAFETY_MARGIN_MS,
    ) -> None:
        self._fetch = fetch_server_ms
        self._now_ms = now_ms
        self._interval = resync_interval
        self._margin = safety_margin_ms
        self._offset_ms = 0
        self._synced_at: float | None = None
        self._measurements = 0  # tells waiters that someone measured meanwhile
        self._lock: asyncio.Lock | None = None  # made lazily, inside the loop

    @property
    def offset_ms(self) -> int:
        """Server minus local time in ms, as last measured (0 before any sync)."""
        return self._offset_ms

    @property
    def synced(self) -> bool:
        """Whether the offset has been measured at least once."""
        return self._synced_at is not None

    def server_now_ms(self) -> int:
        """The best estimate of the server's clock now (epoch ms)."""
        return self._now_ms() + self._offset_ms

    def timestamp_ms(self) -> int:
        """A request timestamp: the server's time, aimed slightly behind."""
        return self._now_ms() + self._offset_ms - self._margin

    def _fresh(self) -> bool:
        return (
            self._synced_at is not None
            and asyncio.get_running_loop().time() - self._synced_at < self._interval
        )

    async def ensure_synced(self) -> None:
        """Measure the offset if it never was, or if it is older than the interval."""
        if not self._fresh():
            await self.resync(force=False)

    async def resync(self, *, force: bool = True) -> None:
        """Measure the offset now; concurrent callers share one measurement.

        Args:
            force: Measure even if another caller just did (after a 10002).
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        seen = self._measurements
        async with self._lock:
            # Whoever held the lock may have measured while we waited for it.
            if self._measurements != seen:
                return
            if not force and self._fresh():
                return
            await self._measure()

    async def _measure(self) -> None:
        server_ms = await self._fetch()
        received_ms = self._now_ms()
        self._offset_ms = server_ms - received_ms
        self._synced_at = asyncio.get_running_loop().time()
        self._measurements += 1
        logger.debug("server clock offset measured: %+d ms", self._offset_ms)
