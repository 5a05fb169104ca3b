from __future__ import annotations

import asyncio
import gc
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bybit_leverage.cache import InstrumentCache
from bybit_leverage.errors import ConnectionFailed, UnknownSymbol
from bybit_leverage.models import (
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
)

pytestmark = pytest.mark.looptime


def instrument(symbol: str, category: Category = Category.LINEAR) -> Instrument:
    return Instrument(
        symbol=symbol,
        category=category,
        status=InstrumentStatus.TRADING,
        contract_type=ContractType.LINEAR_PERPETUAL,
        base_coin=symbol[:3],
        quote_coin="USDT",
        settle_coin="USDT",
        launch_time=datetime(2020, 1, 1, tzinfo=UTC),
        leverage_filter=LeverageFilter(Decimal(1), Decimal(100), Decimal("0.01")),
    )


class Fetcher:
    def __init__(self, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")) -> None:
        self.symbols = symbols
        self.calls = 0
        self.fail = False
        self.delay = 0.5

    async def __call__(self, category: Category) -> list[Instrument]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionFailed("/v5/market/instruments-info", "down")
        return [instrument(s, category) for s in self.symbols]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_entries_live_for_the_ttl() -> None:
    fetch, clock = Fetcher(), Clock()
    cache = InstrumentCache(fetch, ttl=60, clock=clock)
    assert set(await cache.get()) == {"BTCUSDT", "ETHUSDT"}
    clock.now = 59.9
    await cache.get()
    assert fetch.calls == 1
    clock.now = 61
    await cache.get()
    assert fetch.calls == 2
    await cache.get(Category.INVERSE)
    assert fetch.calls == 3


async def test_concurrent_misses_share_one_fetch() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch)
    results = await asyncio.gather(*(cache.get() for _ in range(100)))
    assert fetch.calls == 1
    assert all(r is results[0] for r in results)


async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch)
    first = asyncio.create_task(cache.get())
    second = asyncio.create_task(cache.get())
    await asyncio.sleep(0.1)
    first.cancel()
    assert "BTCUSDT" in await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert fetch.calls == 1


async def test_a_fetch_finishing_after_all_callers_left_is_still_stored() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch)
    caller = asyncio.create_task(cache.get())
    await asyncio.sleep(0.1)
    caller.cancel()
    await asyncio.sleep(1)
    await cache.get()
    assert fetch.calls == 1


async def test_a_failure_is_not_cached() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch)
    fetch.fail = True
    with pytest.raises(ConnectionFailed):
        await cache.get()
    fetch.fail = False
    assert "BTCUSDT" in await cache.get()
    assert fetch.calls == 2


async def test_an_unawaited_failure_is_not_reported() -> None:
    reported: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    fetch = Fetcher()
    fetch.fail = True
    cache = InstrumentCache(fetch)
    caller = asyncio.create_task(cache.get())
    await asyncio.sleep(0.1)
    caller.cancel()
    await asyncio.sleep(1)  # the fetch fails with nobody waiting for it
    del caller
    gc.collect()  # an unretrieved task exception is reported when collected
    loop.set_exception_handler(None)
    assert fetch.calls == 1
    assert reported == []


async def test_stale_entry_is_served_when_a_refresh_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch, clock = Fetcher(), Clock()
    cache = InstrumentCache(fetch, ttl=60, clock=clock, retry_after=10)
    first = await cache.get()
    clock.now = 100
    fetch.fail = True
    with caplog.at_level(logging.WARNING, logger="bybit_leverage.cache"):
        assert await cache.get() is first
    assert "refreshing linear instruments failed" in caplog.text
    clock.now = 105  # within retry_after: no new attempt
    await cache.get()
    assert fetch.calls == 2
    clock.now = 111
    fetch.fail = False
    await cache.get()
    assert fetch.calls == 3


async def test_lookup_is_case_insensitive_and_suggests() -> None:
    cache = InstrumentCache(Fetcher(("BTCUSDT", "ETHUSDT", "1000PEPEUSDT")))
    assert (await cache.lookup("BTCUSDT")).symbol == "BTCUSDT"
    assert (await cache.lookup("1000pepeusdt")).symbol == "1000PEPEUSDT"
    with pytest.raises(UnknownSymbol) as info:
        await cache.lookup("ETHUSD")
    assert info.value.suggestions[0] == "ETHUSDT"
    assert "did you mean ETHUSDT" in str(info.value)
    with pytest.raises(UnknownSymbol) as info:
        await cache.lookup("ZZZ")
    assert info.value.suggestions == ()


async def test_invalidate() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch)
    await cache.get(Category.LINEAR)
    await cache.get(Category.INVERSE)
    cache.invalidate(Category.LINEAR)
    await cache.get(Category.INVERSE)
    assert fetch.calls == 2
    await cache.get(Category.LINEAR)
    assert fetch.calls == 3
    cache.invalidate()
    await cache.get(Category.LINEAR)
    await cache.get(Category.INVERSE)
    assert fetch.calls == 5


async def test_default_clock_is_the_loop() -> None:
    fetch = Fetcher()
    cache = InstrumentCache(fetch, ttl=10)
    await cache.get()
    await asyncio.sleep(11)
    await cache.get()
    assert fetch.calls == 2


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        InstrumentCache(Fetcher(), ttl=0)
