from __future__ import annotations

import asyncio

import pytest

from bybit_leverage._clock import SAFETY_MARGIN_MS, ServerClock, system_now_ms

pytestmark = pytest.mark.looptime


class Server:
    def __init__(self, skew_ms: int, local: list[int]) -> None:
        self.skew_ms = skew_ms
        self.local = local
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        server_ms = self.local[0] + self.skew_ms
        await asyncio.sleep(0.01)
        self.local[0] += 40  # a 40 ms round trip
        return server_ms


async def test_offset_errs_behind_the_server() -> None:
    local = [1_000_000]
    server = Server(5_000, local)
    clock = ServerClock(server, now_ms=lambda: local[0])
    assert clock.offset_ms == 0
    assert clock.timestamp_ms() == local[0] - SAFETY_MARGIN_MS  # before sync: local
    await clock.ensure_synced()
    assert clock.synced
    assert clock.offset_ms == 5_000 - 40  # the end of the round trip: never ahead
    assert clock.server_now_ms() == local[0] + 4_960
    assert clock.timestamp_ms() == local[0] + 4_960 - SAFETY_MARGIN_MS


async def test_ensure_synced_measures_once_per_interval() -> None:
    local = [0]
    server = Server(0, local)
    clock = ServerClock(server, now_ms=lambda: local[0], resync_interval=60)
    await asyncio.gather(*(clock.ensure_synced() for _ in range(20)))
    assert server.calls == 1
    await asyncio.sleep(30)
    await clock.ensure_synced()
    assert server.calls == 1
    await asyncio.sleep(31)
    await clock.ensure_synced()
    assert server.calls == 2


async def test_concurrent_forced_resyncs_share_one_measurement() -> None:
    local = [0]
    server = Server(-10_000, local)
    clock = ServerClock(server, now_ms=lambda: local[0])
    await clock.resync()
    await asyncio.gather(*(clock.resync() for _ in range(10)))
    assert server.calls == 2


def test_system_clock_is_epoch_ms() -> None:
    assert system_now_ms() > 1_600_000_000_000
