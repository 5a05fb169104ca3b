"""A fleet on one account with the Redis budget: the simulator, real time.

Four clients with a key each of one UID and a Redis connection each stand for
four processes (the benchmark runs real ones). These are the slow tests of the
suite: twenty seconds of Bybit's 10/s, which no clock can fast-forward here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest

from bybit_leverage import BybitClient, Outcome, RedisBudget
from bybit_leverage.report import BatchReport
from bybit_leverage.simulator import BybitSimulator, SimKey
from tests.helpers import tradable

from .conftest import RedisServer, redis_names

TARGET = Decimal(7)


@pytest.fixture
async def sim() -> AsyncIterator[BybitSimulator]:
    async with BybitSimulator(symbols=600, seed=3, latency_ms=20) as simulator:
        yield simulator


def keys(sim: BybitSimulator, count: int) -> list[SimKey]:
    return [sim.account.key] + [sim.add_key() for _ in range(count - 1)]


async def run_fleet(
    sim: BybitSimulator,
    budgets: list[RedisBudget | str],
    per_client: int,
    *,
    during: Callable[[], Awaitable[None]] | None = None,
    concurrency: int = 20,
) -> tuple[float, list[BatchReport]]:
    """Warm every client up, start their batches together; the batches' seconds."""
    symbols = tradable(sim, per_client * len(budgets))
    loop = asyncio.get_running_loop()
    go = asyncio.Event()
    ready: list[None] = []
    reports: list[BatchReport] = []

    async def one(index: int, key: SimKey, budget: RedisBudget | str) -> None:
        assert key.api_secret is not None
        async with BybitClient(
            api_key=key.api_key,
            api_secret=key.api_secret,
            base_url=sim.url,
            budget=budget,
        ) as client:
            await client.get_instruments()
            await client.get_account()
            await client.sync_time()
            ready.append(None)
            if len(ready) == len(budgets):
                go.set()
            await go.wait()
            mine = symbols[index * per_client : (index + 1) * per_client]
            targets = dict.fromkeys(mine, TARGET)
            reports.append(
                await client.set_leverage_many(targets, concurrency=concurrency)
            )
            done.append(loop.time())

    done: list[float] = []
    async with asyncio.TaskGroup() as tg:
        for index, (key, budget) in enumerate(
            zip(keys(sim, len(budgets)), budgets, strict=True)
        ):
            tg.create_task(one(index, key, budget))
        await go.wait()
        started = loop.time()
        sim.reset_stats()
        if during is not None:
            await during()
    return max(done) - started, reports


async def test_four_processes_share_one_window(
    sim: BybitSimulator, redis_server: RedisServer
) -> None:
    # Each client makes (and closes) its own budget from the URL: four
    # connections, as four processes would have.
    took, reports = await run_fleet(sim, [redis_server.url] * 4, 50)
    assert [r.counts for r in reports] == [{Outcome.SET: 50}] * 4
    codes = sim.stats()["set-leverage"]["ret_codes"]
    assert codes[0] == 200
    # The bookings are exact, but here one event loop runs the simulator and all
    # four clients, under coverage after a thousand tests: a pause of that loop
    # (a full collection of its heap) delays whatever is in flight, the
    # simulator's counting included, and can push one burst into the next
    # window. At most one window's worth; four budgets of their own see hundreds
    # (bench_fleet.py, each in its own process, gives none with Redis).
    assert codes.get(10006, 0) <= 10
    # Not a speed figure (bench_fleet.py measures that, in real processes): a
    # budget that let the four go faster than the window allows, or throttled
    # them to a crawl, would land far outside.
    minimum = (200 - 10) / 10
    assert minimum <= took < 1.5 * minimum
    # Every key of the UID booked in one log: the UID's, named without secrets.
    names = await redis_names(redis_server.url)
    assert any("|uid:100001|/v5/position/set-leverage}" in name for name in names)
    for key in keys(sim, 1):
        assert key.api_secret is not None
        assert not any(key.api_key in n or key.api_secret in n for n in names)


async def test_redis_dies_mid_batch_and_every_symbol_still_settles(
    sim: BybitSimulator,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fleet = [RedisBudget.from_url(redis_server.url, timeout=0.5) for _ in range(2)]

    async def kill() -> None:
        await asyncio.sleep(1.0)  # mid-batch: each client has 15 symbols to go
        redis_server.stop()

    with caplog.at_level(logging.WARNING, logger="bybit_leverage._redis_budget"):
        # Four requests in flight per client: each still books as it goes.
        took, reports = await run_fleet(
            sim, list(fleet), 20, during=kill, concurrency=4
        )
    for budget in fleet:
        assert budget.in_fallback
        await budget.aclose()
    for report in reports:  # one result per symbol, and it is the exchange's truth
        assert report.counts == {Outcome.SET: 20}
        for result in report.results:
            assert sim.account.leverage(result.symbol) == (TARGET, TARGET)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # once per process
    assert all("unreachable" in w for w in warnings)
    assert took < (40 - 10) / 10 * 2.5  # on half the budget for most of it
