from __future__ import annotations

import asyncio

import pytest

from bybit_leverage import _constants as c
from bybit_leverage._ratelimit import (
    DEFAULT_PRIVATE_LIMIT,
    InProcessBudget,
    RateLimits,
)
from bybit_leverage._window import MAX_BLOCK_S, SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_limit_passes_then_the_window_must_roll() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 1.0, clock=clock, margin=0.0)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    # Not 1/rate later (a token bucket's answer) but a full window after the first.
    assert [limiter.reserve() for _ in range(4)] == [1.0, 1.0, 1.0, 2.0]


def test_in_any_window_at_most_limit_starts() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, 1.0, clock=clock)
    starts = []
    for i in range(95):
        clock.now = 100.0 + i * 0.013  # callers trickle in faster than the limit
        starts.append(clock.now + limiter.reserve())
    for first in starts:
        assert sum(first <= s < first + 1.0 for s in starts) <= 10
    assert starts == sorted(starts)


def test_set_limit_keeps_history_and_ignores_nonsense() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1.0, clock=clock, margin=0.0)
    limiter.reserve()
    limiter.reserve()
    limiter.set_limit(0)
    assert limiter.limit == 2
    limiter.set_limit(3)
    assert limiter.limit == 3
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 1.0


def test_block_for_delays_every_later_start() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 1.0, clock=clock)
    limiter.block_for(0.7)
    limiter.block_for(0.2)  # a shorter block never shortens a longer one
    limiter.block_for(-1.0)
    assert limiter.reserve() == pytest.approx(0.7)


def test_limiter_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(0, 1.0)


def test_static_and_default_limits() -> None:
    limits = RateLimits(clock=FakeClock())
    assert limits.limit(c.PATH_SET_LEVERAGE) == 10
    assert limits.limit(c.PATH_POSITION_LIST) == 50
    assert limits.limit("/v5/unknown") == DEFAULT_PRIVATE_LIMIT


async def test_learn_from_headers() -> None:
    clock = FakeClock()
    budget = InProcessBudget(clock=clock)
    limits = RateLimits(clock=clock, budget=budget, ip_limit=None)
    path = "/v5/position/symbol-info"

    def limiter() -> SlidingWindowLimiter:
        return budget.limiter(limits.key(path), limits.limit(path), 1.0)

    limits.learn(path, {}, 0)  # no headers: nothing learned
    assert limits.limit(path) == DEFAULT_PRIVATE_LIMIT
    limits.learn(path, {"x-bapi-limit": "20", "x-bapi-limit-status": "19"}, 0)
    assert limits.limit(path) == 20
    assert (await limits.acquire(path, private=True)).waited == 0.0
    assert limiter().limit == 20
    limits.learn(
        path,
        {
            "x-bapi-limit": "20",
            "x-bapi-limit-status": "0",
            "x-bapi-limit-reset-timestamp": "5400",
        },
        5_000,
    )
    assert limiter().reserve() == pytest.approx(0.4)
    limits.learn(
        path,
        {
            "x-bapi-limit": "20",
            "x-bapi-limit-status": "0",
            "x-bapi-limit-reset-timestamp": "99999999",
        },
        0,
    )
    assert limiter().reserve() == pytest.approx(MAX_BLOCK_S)
    limits.learn(path, {"x-bapi-limit": "lots"}, 0)  # garbled: ignored
    assert limits.limit(path) == 20


@pytest.mark.looptime
async def test_ip_guard_paces_all_endpoints_together() -> None:
    loop = asyncio.get_running_loop()
    limits = RateLimits(ip_limit=4, ip_window=5.0)
    start = loop.time()
    tickets = await asyncio.gather(
        *(limits.acquire(f"/public/{i}", private=False) for i in range(9))
    )
    waits = [t.waited for t in tickets]
    assert sorted(waits) == [0.0] * 4 + [5.0] * 4 + [10.0]
    assert loop.time() - start == pytest.approx(10.0)


@pytest.mark.looptime
async def test_acquire_waits_for_endpoint_then_ip() -> None:
    limits = RateLimits(ip_limit=None, listen=False)
    waits = [
        (await limits.acquire(c.PATH_SET_LEVERAGE, private=True)).waited
        for _ in range(11)
    ]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(1.05)


@pytest.mark.looptime
async def test_endpoint_pacing_can_be_turned_off_for_simulators() -> None:
    limits = RateLimits(ip_limit=3, pace_endpoints=False)
    waits = [
        (await limits.acquire(c.PATH_SET_LEVERAGE, private=True)).waited
        for _ in range(4)
    ]
    assert waits[:3] == [0.0] * 3  # 3 > 10/s would be fine anyway: the IP guard
    assert waits[3] == pytest.approx(5.0)  # still applies, endpoint budgets do not
    paced = RateLimits(ip_limit=None)
    unpaced = RateLimits(ip_limit=None, pace_endpoints=False)
    for _ in range(20):
        await paced.acquire(c.PATH_SET_LEVERAGE, private=True)
        ticket = await unpaced.acquire(c.PATH_SET_LEVERAGE, private=True)
        assert ticket.waited == 0.0


@pytest.mark.looptime
async def test_a_window_full_of_our_own_requests_does_not_block_until_its_reset() -> (
    None
):
    # The reset Bybit names is when it saw our oldest request arrive, a one-way
    # trip after we sent it: our own log knows when the window rolls.
    loop = asyncio.get_running_loop()
    path = c.PATH_SET_LEVERAGE

    def headers(remaining: int) -> dict[str, str]:
        return {
            "x-bapi-limit": "10",
            "x-bapi-limit-status": str(remaining),
            "x-bapi-limit-reset-timestamp": "1030",  # 1.03 s after the first
        }

    async def eleventh(limits: RateLimits, ours: int) -> float:
        first = await limits.acquire(path, private=True)
        limits.learn(path, headers(9), 0, first)  # the first went alone: answered
        tickets = [await limits.acquire(path, private=True) for _ in range(ours - 1)]
        await asyncio.sleep(0.02)
        limits.learn(path, headers(0), 20, (tickets or [first])[-1])
        await limits.acquire(path, private=True)
        return loop.time()

    began = loop.time()
    alone = await eleventh(RateLimits(ip_limit=None), 10)
    # Our own window rolls 1 s + the learned margin (round trips 0 and 20 ms
    # apart: 20 ms + 5 ms) after the first start, before the named reset (1.03).
    assert alone - began == pytest.approx(1.025)
    began = loop.time() + 5  # a fresh account, with others in its window
    await asyncio.sleep(5)
    shared = await eleventh(RateLimits(ip_limit=None), 1)
    assert shared - began >= 1.03 - 0.02
