"""The simulator counts per UID, as the fleet tests and benchmark rely on.

Keys made through the admin route (as bench_fleet makes them, from another
process) share their account's window, every answer's ``X-Bapi-Limit-Status``
is the UID-wide count, and a refusal names when the UID's window frees a slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
from bybit_leverage.simulator import BybitSimulator
from tests.simulator.helpers import Api

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(seed=7)]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_keys_made_over_http_share_the_uid_window(
    sim: BybitSimulator, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{sim.url}/__sim/keys", data="{}") as answer:
        made = await answer.json()
    assert made["uid"] == sim.account.uid
    callers = [
        Api(session, sim.url, Credentials.hmac(sim.api_key, sim.api_secret)),
        Api(session, sim.url, Credentials.hmac(made["api_key"], made["api_secret"])),
    ]
    loop = asyncio.get_running_loop()
    remaining = []
    for n in range(10):
        reply = await callers[n % 2].set_leverage("BTCUSDT", str(n + 2))
        assert reply.ret_code == 0
        remaining.append(int(reply.headers["X-Bapi-Limit-Status"]))
    assert remaining == list(range(9, -1, -1))  # one count for both keys
    await asyncio.sleep(0.4)
    refused = await callers[1].set_leverage("BTCUSDT", "30")
    assert refused.ret_code == 10006
    assert refused.headers["X-Bapi-Limit-Status"] == "0"
    # The window frees its oldest slot a second after it was taken: 0.6 s on.
    reset = int(refused.headers["X-Bapi-Limit-Reset-Timestamp"])
    assert reset - sim.server_time_ms() == pytest.approx(600, abs=20)
    await asyncio.sleep(1.0 - loop.time())
    assert (await callers[1].set_leverage("BTCUSDT", "30")).ret_code == 0
