from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bybit_leverage import BybitClient
from bybit_leverage.simulator import BybitSimulator


@pytest.fixture
async def fast_client(sim: BybitSimulator) -> AsyncIterator[BybitClient]:
    """A client with a short timeout, so hangs cost seconds, not minutes."""
    async with BybitClient(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url, timeout=2.0
    ) as client:
        yield client
