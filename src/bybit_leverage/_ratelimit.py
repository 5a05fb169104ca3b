"""Request pacing: per-account endpoint budgets, the IP guard, and what headers say.

:class:`RateLimits` is what one client holds. For a private request it names the
endpoint's budget (environment, account, path: ``_budget.budget_key``), asks the
budget for a start, and afterwards tells it what the answer's ``X-Bapi-Limit*``
headers said; it learns each endpoint's limit from ``X-Bapi-Limit``; and it
keeps every request, public or private, under the client's own per-IP budget.

Where the bookkeeping lives is the budget's business (``_budget.RateBudget``):
:class:`InProcessBudget` here (the default: a ``_window.SlidingWindowLimiter``
per key), or ``_redis_budget.RedisBudget``, which a fleet of processes shares.

``X-Bapi-Limit-Status`` counts what the whole account has left. :class:`RateLimits`
remembers the requests it sent, so it can tell how many of the counted ones were
not its own: the ``others`` of each :class:`~bybit_leverage._budget.Sighting`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final

from attrs import define, frozen

from bybit_leverage import _constants as c
from bybit_leverage._budget import RateBudget, Sighting, account_label, budget_key
from bybit_leverage._window import WINDOW_MARGIN_S, SlidingWindowLimiter

__all__ = ["IP_BUDGET", "InProcessBudget", "RateLimits", "Ticket"]

logger = logging.getLogger(__name__)

#: Per-endpoint limit for private endpoints whose limit is not known yet.
DEFAULT_PRIVATE_LIMIT: Final = 10
#: Known per-account limits (requests per second), until headers say otherwise.
STATIC_LIMITS: Final[Mapping[str, int]] = {
    c.PATH_SET_LEVERAGE: c.SET_LEVERAGE_LIMIT_PER_S,
    c.PATH_POSITION_LIST: c.POSITION_LIST_LIMIT_PER_S,
    c.PATH_ACCOUNT_INFO: c.ACCOUNT_INFO_LIMIT_PER_S,
}
#: The window Bybit counts an endpoint's per-account limit in (seconds).
ENDPOINT_WINDOW_S: Final = 1.0
#: The client's own per-IP budget: well under Bybit's 600 per 5 s, whose penalty
#: is a ten-minute ban.
IP_BUDGET: Final = 500
#: Requests sent this close together may reach the exchange in either order.
_SAME_TIME_S: Final = 0.02
#: How long the client remembers which requests it sent (seconds): answers that
#: take longer tell nothing about the current window.
_SENT_MEMORY_S: Final = 5.0


class InProcessBudget:
    """The default budget: one :class:`SlidingWindowLimiter` per key, in memory.

    It serves every task of one event loop, and every client of the process it is
    given to (``BybitClient(budget=...)``): two clients with keys of one UID then
    share their account's windows. It knows nothing of other processes beyond
    what the exchange's headers tell (see :meth:`observe`).

    Args:
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        margin: Extra seconds added to each window (at most, with ``learn``).
        learn: Learn the margin from the spread of round trips (see
            :class:`SlidingWindowLimiter`).
        listen: Follow the exchange's counts of what others used (see
            :class:`SlidingWindowLimiter`).
        rand: Random source for the spread of retries after a 10006.
        share: The part of each limit this budget uses itself, at most (a
            fallback's conservative share while the shared budget is away).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        margin: float = WINDOW_MARGIN_S,
        learn: bool = True,
        listen: bool = True,
        rand: Callable[[], float] = random.random,
        share: float = 1.0,
    ) -> None:
        self._clock = clock
        self._share = share
        self._margin = margin
        self._learn = learn
        self._listen = listen
        self._rand = rand
        self._limiters: dict[str, SlidingWindowLimiter] = {}

    def limiter(self, key: str, limit: int, window: float) -> SlidingWindowLimiter:
        """The limiter of ``key``, made on first use, with ``limit`` applied."""
        found = self._limiters.get(key)
        if found is None:
            found = SlidingWindowLimiter(
                limit,
                window,
                clock=self._clock,
                margin=self._margin,
                learn=self._learn,
                listen=self._listen,
                rand=self._rand,
                share=self._share,
            )
            self._limiters[key] = found
        else:
            found.set_limit(limit)
        return found

    async def reserve(self, key: str, limit: int, window: float) -> float:
        """Wait for ``key``'s window to let a request start; nothing is left to wait."""
        await self.limiter(key, limit, window).take()
        return 0.0

    async def block(self, key: str, seconds: float) -> None:
        """Start nothing on ``key`` for ``seconds``."""
        found = self._limiters.get(key)
        if found is not None:
            found.block_for(seconds)

    def observe(self, key: str, sighting: Sighting) -> None:
        """Tell ``key``'s limiter what an answer said (see its ``heard``)."""
        found = self._limiters.get(key)
        if found is not None:
            found.heard(sighting)


@frozen
class Ticket:
    """One admitted request, as :meth:`RateLimits.acquire` let it go.

    Attributes:
        waited: Seconds spent waiting for the budgets.
        started_at: Loop time at which it was let go.
        seq: Its place among this client's requests to the endpoint.
    """

    waited: float
    started_at: float
    seq: int = 0


@define
class _Sent:
    at: float
    seq: int
    counted: bool = True  # False once the exchange refused it (10006): no slot used


class RateLimits:
    """The pacing one client applies: per-endpoint budgets and the IP guard.

    Args:
        ip_limit: Requests per ``ip_window`` across all endpoints; ``None`` turns
            the IP guard off (for loopback simulators only).
        ip_window: The IP window in seconds.
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        pace_endpoints: ``False`` starts private requests without waiting for
            their endpoint's budget (for simulators with their limits off only).
        budget: Where endpoint budgets are booked (a new
            :class:`InProcessBudget` by default).
        listen: Whether to count the requests others made on the account, from
            ``X-Bapi-Limit-Status``, and leave their slots to them.
        environment: Names the exchange environment in budget keys.
        api_key: Names the account in budget keys until its UID is known.
    """

    __slots__ = (
        "_account",
        "_api_key",
        "_budget",
        "_clock",
        "_environment",
        "_ip",
        "_limits",
        "_listen",
        "_pace",
        "_sent",
    )

    def __init__(
        self,
        *,
        ip_limit: int | None = IP_BUDGET,
        ip_window: float = c.IP_WINDOW_S,
        clock: Callable[[], float] | None = None,
        pace_endpoints: bool = True,
        budget: RateBudget | None = None,
        listen: bool = True,
        environment: str = "",
        api_key: str | None = None,
    ) -> None:
        self._clock = clock
        self._pace = pace_endpoints
        self._listen = listen
        self._budget: RateBudget = budget or InProcessBudget(clock=clock, listen=listen)
        self._ip = (
            None
            if ip_limit is None
            else SlidingWindowLimiter(ip_limit, ip_window, clock=clock, margin=0.0)
        )
        self._limits: dict[str, int] = {}
        self._sent: dict[str, deque[_Sent]] = {}
        self._environment = environment
        self._api_key = api_key
        self._account = account_label(None, api_key)

    @property
    def budget(self) -> RateBudget:
        """Where this client books its endpoint budgets."""
        return self._budget

    def set_account(self, uid: int | None) -> None:
        """Name the account by its UID from now on (``None``: keep the key's name)."""
        if uid is not None:
            self._account = account_label(uid, self._api_key)

    def key(self, path: str) -> str:
        """The budget key of a private endpoint on this client's account."""
        return budget_key(self._environment, self._account, path)

    def limit(self, path: str) -> int:
        """A private endpoint's per-account limit: learned, static or the default."""
        return self._limits.get(path, STATIC_LIMITS.get(path, DEFAULT_PRIVATE_LIMIT))

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    async def acquire(self, path: str, *, private: bool) -> Ticket:
        """Wait for the endpoint's budget (private only), then the IP's.

        Returns:
            The ticket of the admitted request (the seconds it waited included).
        """
        begun = self._now()
        if private and self._pace:
            delay = await self._budget.reserve(
                self.key(path), self.limit(path), ENDPOINT_WINDOW_S
            )
            if delay > 0:
                await asyncio.sleep(delay)
        if self._ip is not None:
            await self._ip.acquire()
        now = self._now()
        waited = now - begun
        if not private:
            return Ticket(waited, now)
        sent = self._sent.setdefault(path, deque())
        while sent and sent[0].at < now - _SENT_MEMORY_S:
            sent.popleft()
        seq = sent[-1].seq + 1 if sent else 1
        sent.append(_Sent(now, seq))
        return Ticket(waited, now, seq)

    def answered(self, path: str, ticket: Ticket) -> None:
        """The request of ``ticket`` is over (answered, failed or cancelled)."""
        if self._pace:
            self._budget.observe(self.key(path), Sighting(ticket.started_at, None))

    async def block(self, path: str, seconds: float) -> None:
        """Start nothing on the endpoint for ``seconds`` (after a 10006)."""
        if self._pace:
            await self._budget.block(self.key(path), seconds)

    def _own(self, path: str, ticket: Ticket, *, refused: bool) -> int:
        """This client's requests the exchange may have counted when ``ticket`` arrived.

        Requests sent at about the same time may arrive in either order: they
        count as ours, so that a client alone never mistakes itself for another.
        """
        since = ticket.started_at - ENDPOINT_WINDOW_S
        until = ticket.started_at + _SAME_TIME_S
        own = 0
        for sent in self._sent.get(path, ()):
            if sent.seq == ticket.seq and refused:
                sent.counted = False
            if since < sent.at <= until and sent.counted:
                own += 1
        return own

    def learn(
        self,
        path: str,
        headers: Mapping[str, str],
        server_now_ms: int,
        ticket: Ticket | None = None,
        *,
        refused: bool = False,
    ) -> None:
        """Update a private endpoint's budget from Bybit's ``X-Bapi-Limit*`` headers.

        ``headers`` is looked up by lower-case name (as a transport returns them).

        ``X-Bapi-Limit`` replaces the static limit. ``X-Bapi-Limit-Status`` (what
        the account has left) less what this client sent in the window is what
        others used: with ``listen`` on, the budget leaves that much to them.
        When nothing is left, the endpoint starts nothing until
        ``X-Bapi-Limit-Reset-Timestamp``.

        Args:
            path: The endpoint.
            headers: The answer's headers, by lower-case name.
            server_now_ms: The server's time now, as the client estimates it.
            ticket: The answered request's ticket.
            refused: Whether the answer was 10006 (the request used no slot).
        """
        raw_limit = headers.get("x-bapi-limit")
        if raw_limit is None:
            return
        try:
            limit = int(raw_limit)
            remaining = int(headers.get("x-bapi-limit-status", "1"))
            reset = headers.get("x-bapi-limit-reset-timestamp")
            reset_in = (
                (int(reset) - server_now_ms) / 1000
                if remaining <= 0 and reset is not None
                else None
            )
        except ValueError:  # a garbled header must not fail a request that succeeded
            logger.debug("ignoring malformed rate limit headers on %s", path)
            return
        if limit >= 1:
            self._limits[path] = limit
        if not self._pace:
            return
        others = 0
        at = self._now() if ticket is None else ticket.started_at
        if self._listen and ticket is not None:
            used = limit - max(remaining, 0)
            others = max(0, used - self._own(path, ticket, refused=refused))
            if others:
                logger.debug("%s: %d of %d used by others", path, others, limit)
            elif not refused:
                # A window full of our own requests is what our log already
                # keeps; its reset (when the exchange saw our oldest arrive, a
                # one-way trip after we sent it) would cost that trip again.
                reset_in = None
        self._budget.observe(
            self.key(path), Sighting(at, others, reset_in, refused=refused)
        )
