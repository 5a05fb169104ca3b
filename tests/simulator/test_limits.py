from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
from bybit_leverage.simulator import BybitSimulator
from bybit_leverage.simulator._limits import RollingWindow

from .conftest import PINNED_MS
from .helpers import Api

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(seed=7)]


async def test_rolling_window_edges() -> None:
    window = RollingWindow(3, 1.0)
    assert [window.acquire(0.0).remaining for _ in range(3)] == [2, 1, 0]
    full = window.acquire(0.5)
    assert (full.allowed, full.remaining, full.reset_at) == (False, 0, 1.0)
    assert not window.acquire(0.999).allowed
    assert window.acquire(0.999).reset_at == 1.0  # refusals do not push it back
    assert window.peek(1.0).remaining == 3  # all three expire at exactly 1.0
    assert window.acquire(1.0).allowed


@pytest.fixture
async def pinned(
    session: aiohttp.ClientSession,
) -> AsyncIterator[tuple[BybitSimulator, Api]]:
    async with BybitSimulator(symbols=10, wall_clock=lambda: PINNED_MS / 1000) as sim:
        creds = Credentials.hmac(sim.api_key, sim.api_secret)
        yield sim, Api(session, sim.url, creds, now_ms=lambda: PINNED_MS)


async def test_set_leverage_10_per_second_with_headers(
    pinned: tuple[BybitSimulator, Api],
) -> None:
    sim, api = pinned
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(10):
        reply = await api.set_leverage("BTCUSDT", str(n + 1))
        assert reply.ret_code == 0
        assert reply.headers["X-Bapi-Limit"] == "10"
        assert reply.headers["X-Bapi-Limit-Status"] == str(9 - n)
    elapsed_ms = round((loop.time() - start) * 1000)
    refused = await api.set_leverage("BTCUSDT", "20")
    assert (refused.status, refused.ret_code) == (200, 10006)
    assert refused.ret_msg == "Too many visits!"
    assert refused.headers["X-Bapi-Limit-Status"] == "0"
    reset = int(refused.headers["X-Bapi-Limit-Reset-Timestamp"])
    assert PINNED_MS + 1000 - elapsed_ms - 5 <= reset <= PINNED_MS + 1000
    for _ in range(5):  # refusals consume nothing
        assert (await api.set_leverage("BTCUSDT", "20")).ret_code == 10006
    await asyncio.sleep(start + 1.0 - loop.time())
    again = await api.set_leverage("BTCUSDT", "20")
    assert again.ret_code == 0
    assert int(again.headers["X-Bapi-Limit-Reset-Timestamp"]) == PINNED_MS
    assert sim.stats()["set-leverage"]["ret_codes"] == {0: 11, 10006: 6}


@pytest.mark.parametrize(
    ("path", "query", "limit"),
    [
        ("/v5/position/list", "category=linear&symbol=BTCUSDT", 50),
        ("/v5/position/symbol-info", "category=linear&symbol=BTCUSDT", 10),
    ],
)
async def test_read_endpoint_limits(
    api: Api, path: str, query: str, limit: int
) -> None:
    for n in range(limit):
        reply = await api.get(path, query)
        assert reply.ret_code == 0
        assert reply.headers["X-Bapi-Limit"] == str(limit)
        assert reply.headers["X-Bapi-Limit-Status"] == str(limit - n - 1)
    assert (await api.get(path, query)).ret_code == 10006
    # per endpoint: set-leverage still has its own budget
    assert (await api.set_leverage("BTCUSDT", "3")).ret_code == 0


async def test_limits_are_per_uid(api: Api, sim: BybitSimulator) -> None:
    for n in range(10):
        assert (await api.set_leverage("BTCUSDT", str(n + 1))).ret_code == 0
    assert (await api.set_leverage("BTCUSDT", "50")).ret_code == 10006
    other = sim.add_account()
    assert other.api_secret is not None
    second = Api(
        api.session, api.url, Credentials.hmac(other.api_key, other.api_secret)
    )
    assert (await second.set_leverage("BTCUSDT", "50")).ret_code == 0


async def test_ip_limit_is_403_html(api: Api, sim: BybitSimulator) -> None:
    for _ in range(600):
        assert (await api.public("/v5/market/time")).status == 200
    banned = await api.public("/v5/market/time")
    assert banned.status == 403
    assert banned.headers["Content-Type"].startswith("text/html")
    assert "<html>" in banned.text
    assert sim.stats()["time"]["http"] == {200: 600, 403: 1}
    await asyncio.sleep(5)
    assert (await api.public("/v5/market/time")).status == 200


async def test_rate_limit_off(api: Api, sim: BybitSimulator) -> None:
    sim.rate_limit = False
    assert not sim.rate_limit
    for n in range(30):
        reply = await api.set_leverage("BTCUSDT", str(n + 1))
        assert reply.ret_code == 0
        assert "X-Bapi-Limit" not in reply.headers


async def test_latency_and_jitter_use_the_loop_clock(
    api: Api, sim: BybitSimulator
) -> None:
    loop = asyncio.get_running_loop()
    sim.set_latency(250, jitter_ms=100)
    start = loop.time()
    assert (await api.public("/v5/market/time")).status == 200
    assert 0.25 <= loop.time() - start <= 0.36
    with pytest.raises(ValueError, match=">= 0"):
        sim.set_latency(-1)
