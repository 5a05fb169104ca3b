from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
from bybit_leverage.simulator import BybitSimulator

from .helpers import Api

# Wall time the simulator is pinned to in tests that check the timestamp window.
PINNED_MS = 1_700_000_000_000


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def api(sim: BybitSimulator, session: aiohttp.ClientSession) -> Api:
    return Api(session, sim.url, Credentials.hmac(sim.api_key, sim.api_secret))
