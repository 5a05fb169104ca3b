"""RedisBudget against a real redis-server: exact, atomic, on Redis's clock, shared.

These run in real time (Redis's clock cannot be fast-forwarded), so they are
short: windows of a fifth of a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from bybit_leverage import RateBudget, RedisBudget
from bybit_leverage._budget import Sighting

from .conftest import RedisServer

KEY = "test|uid:1|/v5/position/set-leverage"
LIMIT, WINDOW, MARGIN = 5, 0.2, 0.05


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def budgets(
    url: str, count: int, *, retry_after: float = 5.0, call_timeout: float = 1.0
) -> list[RedisBudget]:
    """Budgets with a connection each, as separate processes would have."""
    return [
        RedisBudget.from_url(
            url, margin=MARGIN, retry_after=retry_after, timeout=call_timeout
        )
        for _ in range(count)
    ]


async def booked(redis: Redis, log: str) -> list[float]:
    """The starts in a budget's log (microseconds of Redis time), in order."""
    found = await redis.zrange(log, 0, -1, withscores=True)
    entries = cast(list[tuple[bytes, float]], found)
    return sorted(score for _, score in entries)


def in_fallback(budget: RedisBudget) -> bool:
    return budget.in_fallback


async def test_bookings_from_many_clients_never_overfill_a_window(
    redis_server: RedisServer, redis: Redis
) -> None:
    fleet = await budgets(redis_server.url, 3)
    assert all(isinstance(b, RateBudget) for b in fleet)
    try:
        delays = await asyncio.gather(
            *(b.reserve(KEY, LIMIT, WINDOW) for b in fleet for _ in range(8))
        )
    finally:
        for budget in fleet:
            await budget.aclose()
    log, _ = fleet[0].redis_keys(KEY)
    starts = await booked(redis, log)
    assert len(starts) == 24
    span = (WINDOW + MARGIN) * 1_000_000
    # Exact: the booking `LIMIT` places earlier is a full span older, every time.
    assert all(b - a >= span for a, b in zip(starts, starts[LIMIT:], strict=False))
    # Tight: a burst of LIMIT, then one more every span (a few ms of Redis work).
    assert starts[-1] - starts[0] == pytest.approx(4 * span, abs=20_000)
    # One booking is one script call and one sleep: nobody polled.
    assert sorted(delays)[:LIMIT] == pytest.approx([0.0] * LIMIT, abs=0.02)
    assert max(delays) == pytest.approx(4 * (WINDOW + MARGIN), abs=0.05)
    stats = await redis.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 24


async def test_the_log_is_on_redis_time_and_expires(
    redis_server: RedisServer, redis: Redis
) -> None:
    (budget,) = await budgets(redis_server.url, 1)
    async with budget:
        await budget.reserve(KEY, LIMIT, WINDOW)
    seconds, micros = await redis.time()
    log, blocked = budget.redis_keys(KEY)
    assert log == "bybit-leverage:{" + KEY + "}:log"
    assert blocked.endswith("}:blocked")
    (start,) = await booked(redis, log)
    assert abs(seconds * 1_000_000 + micros - start) < 100_000  # Redis's clock
    assert 0 < await redis.pttl(log) <= 1_000 + (WINDOW + MARGIN) * 1_000


async def test_a_pause_one_client_sets_holds_for_all(
    redis_server: RedisServer, redis: Redis
) -> None:
    first, second = await budgets(redis_server.url, 2)
    async with first, second:
        await first.block(KEY, 0.5)
        await first.block(KEY, 0.1)  # a shorter pause never shortens a longer one
        await first.block(KEY, 0.0)
        delay = await second.reserve(KEY, LIMIT, WINDOW)
    assert 0.4 < delay <= 0.5
    assert 0 < await redis.pttl(first.redis_keys(KEY)[1]) <= 1_500


async def test_a_redis_that_forgot_the_script_is_taught_again(
    redis_server: RedisServer, redis: Redis
) -> None:
    (budget,) = await budgets(redis_server.url, 1)
    async with budget:
        assert await budget.reserve(KEY, LIMIT, WINDOW) == 0.0
        await redis.script_flush()
        assert await budget.reserve(KEY, LIMIT, WINDOW) == 0.0
        assert not budget.in_fallback


async def test_while_redis_is_away_it_paces_in_process_at_half_then_returns(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    (budget,) = await budgets(redis_server.url, 1, retry_after=0.3, call_timeout=0.5)
    async with budget:
        assert await budget.reserve(KEY, LIMIT, WINDOW) == 0.0
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="bybit_leverage"):
            started = loop.time()
            for _ in range(4):  # half of 5 is 2 a window: the third waits one
                await asyncio.sleep(await budget.reserve(KEY, LIMIT, WINDOW))
                budget.observe(KEY, Sighting(loop.time(), 0))  # listened to
            assert loop.time() - started == pytest.approx(WINDOW + MARGIN, abs=0.05)
            assert in_fallback(budget)
            assert "fallback" in repr(budget)
            await budget.block(KEY, 0.01)  # also in process only
            redis_server.start()
            await asyncio.sleep(0.3)  # retry_after
            await budget.reserve(KEY, LIMIT, WINDOW)
            assert not in_fallback(budget)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings  # one when it went, one when it came back
    assert "unreachable" in warnings[0]
    assert "50%" in warnings[0]
    assert "reachable again" in warnings[1]
    assert redis_server.url not in " ".join(warnings)


def busy_after_answer(
    budget: RedisBudget,
    monkeypatch: pytest.MonkeyPatch,
    seconds: float,
    *,
    every: bool = False,
) -> None:
    """Keep the event loop busy right after Redis answered a booking (once)."""
    client = budget._redis  # the real redis-py client; only its timing is changed
    evalsha = client.evalsha
    calls = [0]

    async def late(*args: Any) -> object:
        answer = await evalsha(*args)
        calls[0] += 1
        if every or calls[0] == 1:
            time.sleep(seconds)  # noqa: ASYNC251 - other work holds the loop
        return answer

    monkeypatch.setattr(client, "evalsha", late)


async def test_a_slot_passed_before_its_answer_was_read_is_booked_again(
    redis_server: RedisServer,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (budget,) = await budgets(redis_server.url, 1)
    async with budget:
        await budget.reserve(KEY, LIMIT, WINDOW)  # the script is loaded
        await redis.config_resetstat()
        busy_after_answer(budget, monkeypatch, 0.08)
        with caplog.at_level(logging.DEBUG, logger="bybit_leverage"):
            assert await budget.reserve(KEY, LIMIT, WINDOW) == 0.0
    stats = await redis.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 2  # the late one booked twice
    # The first of those two was given back: two bookings in the log, not three.
    assert len(await booked(redis, budget.redis_keys(KEY)[0])) == 2
    assert any("booking again" in r.getMessage() for r in caplog.records)


async def test_a_redis_whose_answers_all_take_long_books_once_each(
    redis_server: RedisServer, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every answer 60 ms late, as from a Redis far away: every request of the
    # fleet starts that late alike, which moves no request into another's window.
    (budget,) = await budgets(redis_server.url, 1)
    busy_after_answer(budget, monkeypatch, 0.06, every=True)
    async with budget:
        await budget.reserve(KEY, LIMIT, WINDOW)  # the script is loaded
        await redis.config_resetstat()
        delays = [await budget.reserve(KEY, LIMIT, WINDOW) for _ in range(LIMIT)]
    stats = await redis.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == LIMIT
    assert delays[: LIMIT - 1] == [0.0] * (LIMIT - 1)  # none pushed back


async def test_a_late_answer_for_a_later_slot_keeps_it_and_waits_less(
    redis_server: RedisServer, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    (budget,) = await budgets(redis_server.url, 1)
    async with budget:
        for _ in range(LIMIT):  # the window is full: the next slot is a span on
            await budget.reserve(KEY, LIMIT, WINDOW)
        await redis.config_resetstat()
        busy_after_answer(budget, monkeypatch, 0.08)
        delay = await budget.reserve(KEY, LIMIT, WINDOW)
    stats = await redis.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 1  # the slot is still ahead: kept
    # Redis's clock, placed on ours by the quick answers: the 80 ms are not slept
    # again on top of the slot.
    assert delay == pytest.approx(WINDOW + MARGIN - 0.08, abs=0.02)


async def test_a_borrowed_redis_client_is_not_closed(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url)
    async with RedisBudget(client) as budget:
        await budget.reserve(KEY, LIMIT, WINDOW)
    assert await client.ping()  # still open
    await client.aclose()


def test_settings_are_checked() -> None:
    client = Redis()
    with pytest.raises(ValueError, match="fallback_share"):
        RedisBudget(client, fallback_share=0)
    with pytest.raises(ValueError, match="timeout"):
        RedisBudget(client, timeout=0)
