"""A rate budget in Redis: one per account, shared by every process and host.

Bybit limits set-leverage to 10 requests per second per account (UID), however
many keys, processes and machines send them. :class:`RedisBudget` keeps each
endpoint's sliding-window log of the account in Redis, so a fleet books its
requests in one place:

- **Exact.** The log holds the start of every booked request (a sorted set); a
  request may start once the one ``limit`` places before it is a full window
  (plus a margin) old, as in the in-process limiter.
- **Atomic, on one clock.** One Lua script reads Redis's own ``TIME``, drops
  what left the window, and books the earliest allowed start: hosts never
  compare their clocks, and no two processes book the same slot.
- **One sleep.** The script answers with the microseconds until the booked
  start; the caller sleeps that long, once. Nobody polls.
- **Shared pauses.** A 10006 seen by any process stores a "blocked until" (Redis
  time) next to the log; every later booking starts after it.

If Redis cannot be reached, the budget logs one warning and books in process at
a conservative share of each limit (half by default), listening to the
exchange's headers as the in-process budget does; it tries Redis again after
``retry_after`` seconds. A request is never lost to a Redis failure: it is
booked one way or the other.

Keys look like ``bybit-leverage:{mainnet|uid:100001|/v5/position/set-leverage}:log``
(the braces are a Redis Cluster hash tag: both keys of a budget live in one
slot). They name the environment, the UID (or, where it is unknown, a digest of
the API key) and the path: never a secret.

``redis`` is an optional dependency (``pip install "bybit-leverage[redis]"``),
imported only when a budget is made.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Self, cast

from bybit_leverage._budget import Sighting
from bybit_leverage._ratelimit import InProcessBudget
from bybit_leverage._window import WINDOW_MARGIN_S

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBudget"]

logger = logging.getLogger(__name__)

#: Books the earliest start the window allows; answers the microseconds to it
#: and Redis's time then (microseconds).
#: KEYS[1]: the log, a sorted set of booked starts (score: microseconds, Redis
#: time); KEYS[2]: the time before which nothing may start (after a 10006).
#: ARGV: the limit, the window plus margin in microseconds, a unique member,
#: and the member of an earlier booking this one replaces ('' for none).
_RESERVE: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local limit = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
if ARGV[4] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[4])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local start = now
local blocked = redis.call('GET', KEYS[2])
if blocked and tonumber(blocked) > start then
  start = tonumber(blocked)
end
local booked = redis.call('ZCARD', KEYS[1])
if booked > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  start = math.max(start, tonumber(last[2]))
  if booked >= limit then
    local rank = booked - limit
    local edge = redis.call('ZRANGE', KEYS[1], rank, rank, 'WITHSCORES')
    start = math.max(start, tonumber(edge[2]) + span)
  end
end
redis.call('ZADD', KEYS[1], start, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil((start - now + span) / 1000) + 1000)
return {start - now, now}
"""

#: Moves "blocked until" to at least now + ARGV[1] microseconds (Redis time).
_BLOCK: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local pause = tonumber(ARGV[1])
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < now + pause then
  redis.call('SET', KEYS[1], now + pause, 'PX', math.ceil(pause / 1000) + 1000)
end
return 0
"""

_MICROS: Final = 1_000_000
#: Bookings given back and made again, at most, when answers come back late.
_REBOOKS: Final = 3
#: How fast two clocks may drift apart (seconds per second): an old estimate of
#: Redis's clock is this much less sure for every second of its age.
_CLOCK_DRIFT: Final = 1e-4


class RedisBudget:
    """A :class:`RateBudget` in Redis, shared by every client that uses the same one.

    Give every process of a fleet a budget on the same Redis (and ``prefix``):
    their clients then book each account's endpoint windows together. Pass it as
    ``BybitClient(budget=...)``; the client borrows it (close it yourself, or
    use it as an async context manager), or pass the URL as ``budget=`` and
    the client makes and closes its own.

    Args:
        redis: A ``redis.asyncio.Redis`` client (borrowed: :meth:`aclose` does
            not close it).
        prefix: The first part of every key.
        margin: Seconds added to each window, for the spread in network delay
            between the fleet's hosts and Bybit.
        fallback_share: The share of each limit this process books in process
            while Redis cannot be reached.
        retry_after: Seconds to wait after a Redis failure before trying again.
        timeout: Seconds one Redis call may take before it counts as a failure.
        clock: Monotonic seconds for the retry timer; defaults to the loop's.

    Raises:
        ValueError: ``fallback_share`` not in (0, 1], or a negative setting.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "bybit-leverage",
        margin: float = WINDOW_MARGIN_S,
        fallback_share: float = 0.5,
        retry_after: float = 5.0,
        timeout: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        from redis.exceptions import RedisError

        if not 0 < fallback_share <= 1:
            raise ValueError(f"fallback_share must be in (0, 1], got {fallback_share}")
        if margin < 0 or retry_after < 0 or timeout <= 0:
            raise ValueError("margin and retry_after must be >= 0, timeout > 0")
        self._redis = redis
        self._owns_redis = False
        self._prefix = prefix
        self._margin = margin
        self._share = fallback_share
        self._retry_after = retry_after
        self._timeout = timeout
        self._clock = clock
        self._errors: tuple[type[BaseException], ...] = (
            RedisError,
            OSError,
            TimeoutError,
        )
        self._fallback = InProcessBudget(
            clock=clock, margin=margin, share=fallback_share
        )
        self._down_until: float | None = None  # set while Redis is unreachable
        self._member = itertools.count()
        self._token = os.urandom(6).hex()  # members of this process's bookings
        self._shas: dict[str, str] = {}
        # Redis's clock less ours, half the round trip it came from (its
        # error), and when it was made: seconds, our clock.
        self._offset: tuple[float, float, float] | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "bybit-leverage",
        margin: float = WINDOW_MARGIN_S,
        fallback_share: float = 0.5,
        retry_after: float = 5.0,
        timeout: float = 1.0,
    ) -> RedisBudget:
        """A budget on a new ``redis.asyncio`` client for ``url`` (its own, closed).

        Args:
            url: ``redis://[[user]:password@]host:port/db``, ``rediss://`` or
                ``unix://``.
            prefix: See :class:`RedisBudget`.
            margin: See :class:`RedisBudget`.
            fallback_share: See :class:`RedisBudget`.
            retry_after: See :class:`RedisBudget`.
            timeout: See :class:`RedisBudget`; also the client's socket timeouts.

        Raises:
            ImportError: ``redis`` is not installed.
            ValueError: The URL is not one redis-py understands.
        """
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - the dev group installs it
            raise ImportError(
                'RedisBudget needs redis: pip install "bybit-leverage[redis]"'
            ) from exc

        client = Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        budget = cls(
            client,
            prefix=prefix,
            margin=margin,
            fallback_share=fallback_share,
            retry_after=retry_after,
            timeout=timeout,
        )
        budget._owns_redis = True
        return budget

    def __repr__(self) -> str:
        state = "redis" if self._down_until is None else "in-process fallback"
        return f"<RedisBudget prefix={self._prefix!r} {state}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the Redis client if this budget made it (:meth:`from_url`)."""
        if self._owns_redis:
            self._owns_redis = False
            await self._redis.aclose()

    @property
    def in_fallback(self) -> bool:
        """Whether bookings currently go to the in-process fallback."""
        return self._down_until is not None

    def redis_keys(self, key: str) -> tuple[str, str]:
        """The Redis keys of a budget: its log and its "blocked until"."""
        base = f"{self._prefix}:{{{key}}}"
        return f"{base}:log", f"{base}:blocked"

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    def _use_redis(self) -> bool:
        return self._down_until is None or self._now() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if self._down_until is None:
            logger.warning(
                "the Redis rate budget is unreachable (%s: %s); pacing in process "
                "at %d%% of each limit, trying Redis again every %.0f s",
                type(exc).__name__,
                exc,
                round(self._share * 100),
                self._retry_after,
            )
        else:
            logger.debug("Redis rate budget still unreachable: %s", exc)
        self._down_until = self._now() + self._retry_after

    def _recovered(self) -> None:
        if self._down_until is not None:
            logger.warning("the Redis rate budget is reachable again")
            self._down_until = None

    async def _run(self, script: str, keys: list[str], args: list[str | int]) -> object:
        sha = self._shas.get(script)
        if sha is None:
            sha = self._shas[script] = str(await self._redis.script_load(script))
        from redis.exceptions import NoScriptError

        try:
            result = await self._redis.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed Redis forgot the script
            self._shas[script] = str(await self._redis.script_load(script))
            result = await self._redis.evalsha(
                self._shas[script], len(keys), *keys, *args
            )
        return result

    async def reserve(self, key: str, limit: int, window: float) -> float:
        """Book the earliest start the shared window allows; the seconds until it.

        The start is placed on this process's clock from Redis's time (see
        :meth:`_place_redis_clock`). If the slot had already passed when the
        answer was read, by more than a one-way trip plus half the margin (a
        busy event loop, a slow link to Redis), the booking is given back and
        made again (at most three times), so that no request starts long after
        its slot, in the next window's place.

        Falls back to the in-process budget (at ``fallback_share`` of ``limit``)
        while Redis cannot be reached.
        """
        if not self._use_redis():
            return await self._fallback.reserve(key, limit, window)
        span = round((window + self._margin) * _MICROS)
        replaced, rebooks = "", 0
        while True:
            member = f"{self._token}:{next(self._member)}"
            asked = self._now()
            try:
                async with asyncio.timeout(self._timeout):
                    answer = await self._run(
                        _RESERVE,
                        list(self.redis_keys(key)),
                        [limit, span, member, replaced],
                    )
            except self._errors as exc:
                self._failed(exc)
                return await self._fallback.reserve(key, limit, window)
            self._recovered()
            answered = self._now()
            micros, redis_now = (int(item) for item in cast(list[int], answer))
            ahead, trip = self._place_redis_clock(redis_now, asked, answered)
            start = (redis_now + max(micros, 0)) / _MICROS - ahead
            # Every answer reaches us some one-way trip after Redis ran the
            # script; the quickest answer's share of that is what every request
            # of the fleet pays alike. More than that, and the slot has passed
            # while the answer waited (a busy event loop, a slow link): started
            # now, the request would fall into the next window's place. Give the
            # slot back and book again.
            late = answered - start - trip
            if late <= self._margin / 2 or rebooks == _REBOOKS:
                return max(start - answered, 0.0)
            logger.debug(
                "%s: booked slot passed %.0f ms before its answer was read; "
                "booking again",
                key,
                late * 1e3,
            )
            replaced, rebooks = member, rebooks + 1

    def _place_redis_clock(
        self, redis_now: int, asked: float, answered: float
    ) -> tuple[float, float]:
        """Learn Redis's clock from one answer; its lead on ours and the trip to it.

        Both in seconds, as best known: the trip is half the round trip of the
        answer the lead was taken from. Each answer carries Redis's time when
        the script ran, somewhere between asking and reading the answer: the
        answer that came back quickest (widened by how long ago it was) places
        Redis's clock on ours best, as NTP keeps the sample with the least delay.
        """
        half = (answered - asked) / 2
        if self._offset is not None:
            ahead, trip, at = self._offset
            if half > trip + (answered - at) * _CLOCK_DRIFT:
                return ahead, trip
        ahead = redis_now / _MICROS - (asked + half)
        self._offset = (ahead, half, answered)
        return ahead, half

    async def block(self, key: str, seconds: float) -> None:
        """Start nothing on ``key`` for ``seconds``, in every process that shares it."""
        if seconds <= 0:
            return
        await self._fallback.block(key, seconds)
        if not self._use_redis():
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._run(
                    _BLOCK, [self.redis_keys(key)[1]], [round(seconds * _MICROS)]
                )
        except self._errors as exc:
            self._failed(exc)
        else:
            self._recovered()

    def observe(self, key: str, sighting: Sighting) -> None:
        """Keep the in-process fallback informed; Redis needs no headers."""
        self._fallback.observe(key, sighting)
