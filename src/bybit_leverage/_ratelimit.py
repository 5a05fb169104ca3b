"""Request pacing: rolling-window limiters per endpoint and per IP.

Bybit counts requests in a *rolling* window (one second per endpoint and account,
five seconds per IP). A token bucket refills continuously, so after a burst it
lets a request through every ``1/rate`` seconds and the rolling window overflows
(11 requests inside one second at 10/s). A sliding-window log cannot overflow: a
request may start only once the request ``limit`` places before it is a full
window old.

Waiting is a reservation, not a poll: each caller is given the earliest start
time the window allows, records it, and sleeps once until then. Reservations are
handed out in call order, so callers are served first come, first served, and
the limiter is shared safely by every task of the client (one event loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final

from bybit_leverage import _constants as c

__all__ = ["RateLimits", "SlidingWindowLimiter"]

logger = logging.getLogger(__name__)

#: Extra spacing added to every window: network jitter can bring two requests
#: closer together on arrival than they were when sent.
WINDOW_MARGIN_S: Final = 0.05
#: Per-endpoint limit for private endpoints whose limit is not known yet.
DEFAULT_PRIVATE_LIMIT: Final = 10
#: Known per-account limits (requests per second), until headers say otherwise.
STATIC_LIMITS: Final[Mapping[str, int]] = {
    c.PATH_SET_LEVERAGE: c.SET_LEVERAGE_LIMIT_PER_S,
    c.PATH_POSITION_LIST: c.POSITION_LIST_LIMIT_PER_S,
    c.PATH_ACCOUNT_INFO: c.ACCOUNT_INFO_LIMIT_PER_S,
}
#: The client's own per-IP budget: well under Bybit's 600 per 5 s, whose penalty
#: is a ten-minute ban.
IP_BUDGET: Final = 500
#: Never park an endpoint longer than this on the word of one header.
MAX_BLOCK_S: Final = 10.0


class SlidingWindowLimiter:
    """At most ``limit`` starts in any ``window`` seconds, first come first served.

    Args:
        limit: Requests allowed per window.
        window: The window in seconds (the margin is added on top).
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        margin: Extra seconds added to each window.
    """

    __slots__ = ("_blocked_until", "_clock", "_limit", "_slots", "_span")

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] | None = None,
        margin: float = WINDOW_MARGIN_S,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got {limit}/{window}")
        self._limit = limit
        self._span = window + margin
        self._clock = clock
        # Start times of the last `limit` reservations, oldest first (non-decreasing).
        self._slots: deque[float] = deque(maxlen=limit)
        self._blocked_until = 0.0

    @property
    def limit(self) -> int:
        """Requests allowed per window."""
        return self._limit

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    def set_limit(self, limit: int) -> None:
        """Change the limit (as learned from ``X-Bapi-Limit``), keeping history."""
        if limit < 1 or limit == self._limit:
            return
        logger.debug("rate limit changed from %d to %d", self._limit, limit)
        self._limit = limit
        self._slots = deque(self._slots, maxlen=limit)

    def block_for(self, seconds: float) -> None:
        """Start nothing for ``seconds`` (the server said the window is spent)."""
        if seconds > 0:
            self._blocked_until = max(self._blocked_until, self._now() + seconds)

    def reserve(self) -> float:
        """Reserve the earliest allowed start and return the seconds until it."""
        now = self._now()
        start = now if now > self._blocked_until else self._blocked_until
        slots = self._slots
        if len(slots) == self._limit:
            earliest = slots[0] + self._span
            if earliest > start:
                start = earliest
        slots.append(start)
        return start - now

    async def acquire(self) -> float:
        """Wait until a request may start; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
            return delay
        return 0.0


class RateLimits:
    """The limiters one client shares: one per private endpoint, one per IP.

    Args:
        ip_limit: Requests per ``ip_window`` across all endpoints; ``None`` turns
            the IP guard off (for loopback simulators only).
        ip_window: The IP window in seconds.
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        pace_endpoints: ``False`` starts private requests without waiting for
            their endpoint's budget (for simulators with their limits off only).
    """

    __slots__ = ("_clock", "_endpoints", "_ip", "_pace")

    def __init__(
        self,
        *,
        ip_limit: int | None = IP_BUDGET,
        ip_window: float = c.IP_WINDOW_S,
        clock: Callable[[], float] | None = None,
        pace_endpoints: bool = True,
    ) -> None:
        self._clock = clock
        self._pace = pace_endpoints
        self._ip = (
            None
            if ip_limit is None
            else SlidingWindowLimiter(ip_limit, ip_window, clock=clock, margin=0.0)
        )
        self._endpoints: dict[str, SlidingWindowLimiter] = {}

    def endpoint(self, path: str) -> SlidingWindowLimiter:
        """The per-account limiter of a private endpoint (created on first use)."""
        limiter = self._endpoints.get(path)
        if limiter is None:
            limit = STATIC_LIMITS.get(path, DEFAULT_PRIVATE_LIMIT)
            limiter = SlidingWindowLimiter(limit, 1.0, clock=self._clock)
            self._endpoints[path] = limiter
        return limiter

    async def acquire(self, path: str, *, private: bool) -> float:
        """Wait for the endpoint's budget (private only), then the IP's.

        Returns:
            The seconds spent waiting.
        """
        waited = 0.0
        if private and self._pace:
            waited += await self.endpoint(path).acquire()
        if self._ip is not None:
            waited += await self._ip.acquire()
        return waited

    def learn(
        self,
        path: str,
        headers: Mapping[str, str],
        server_now_ms: int,
    ) -> None:
        """Update a private endpoint's budget from Bybit's ``X-Bapi-Limit*`` headers.

        ``headers`` is looked up by lower-case name (as a transport returns them).

        ``X-Bapi-Limit`` replaces the static limit. When ``X-Bapi-Limit-Status``
        says nothing is left (another program may share the key), the endpoint
        starts nothing until ``X-Bapi-Limit-Reset-Timestamp``.
        """
        raw_limit = headers.get("x-bapi-limit")
        if raw_limit is None:
            return
        limiter = self.endpoint(path)
        try:
            limiter.set_limit(int(raw_limit))
            if int(headers.get("x-bapi-limit-status", "1")) > 0:
                return
            reset = headers.get("x-bapi-limit-reset-timestamp")
            if reset is not None:
                wait = (int(reset) - server_now_ms) / 1000
                limiter.block_for(min(wait, MAX_BLOCK_S))
        except ValueError:  # a garbled header must not fail a request that succeeded
            logger.debug("ignoring malformed rate limit headers on %s", path)
