"""ccxt's async bybit client against ``python -m bybit_leverage.simulator``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from bybit_leverage.simulator import Banner

from .sim_admin import leverage_of, linear_symbols, set_leverage_codes

SYMBOL = "BTC/USDT:USDT"  # ccxt's name for the BTCUSDT perpetual


@pytest.fixture
async def exchange(spawned: Banner) -> AsyncIterator[Any]:
    exchange = ccxt_async.bybit(
        {
            "apiKey": spawned.api_key,
            "secret": spawned.api_secret,
            # ccxt's own throttle spaces calls 20 ms a cost unit: about 1.5 s of
            # waiting in load_markets alone. The simulator applies Bybit's limits
            # itself (it would answer 10006), so the test keeps that and drops this.
            "enableRateLimit": False,
            "enableLastJsonResponse": True,  # to read the retCode behind an error
        }
    )
    # close() sleeps this long (250 ms) to let TLS connections shut down; the
    # simulator speaks plain HTTP, so nothing is left to wait for.
    exchange.timeout_on_exit = 0
    # Every API host ccxt knows (spot, futures, v2, public, private) goes to the
    # simulator: none of these requests may leave the machine.
    exchange.urls["api"] = dict.fromkeys(exchange.urls["api"], spawned.url)
    try:
        yield exchange
    finally:
        await exchange.close()  # its aiohttp session; unclosed, the run fails


# ccxt asks for 1000 instruments a page: 1100 symbols make it follow a cursor.
@pytest.mark.parametrize("spawned", [60, 1100], indirect=True)
async def test_load_markets_reads_instruments_and_coins(
    exchange: Any, spawned: Banner
) -> None:
    markets = await exchange.load_markets()
    linear = {m["id"] for m in markets.values() if m["linear"]}
    # ccxt lists what trades and, in a second request, what is about to (PreLaunch).
    trading = await asyncio.to_thread(linear_symbols, spawned.url)
    prelaunch = await asyncio.to_thread(linear_symbols, spawned.url, "PreLaunch")
    assert prelaunch
    assert linear == {*trading, *prelaunch}
    assert markets[SYMBOL]["swap"]
    # From BTCUSDT's leverageFilter: [1, 100] (simulator.md, Knobs).
    assert markets[SYMBOL]["limits"]["leverage"] == {"min": 1, "max": 100}
    assert markets["BTC/USDT"]["spot"]  # the simulator's spot listing
    # Networks come only from /v5/asset/coin/query-info (a key is set).
    assert {"BTC", "ETH", "USDC", "USDT", "XRP"} <= set(exchange.currencies)
    assert exchange.currencies["USDT"]["networks"]


async def test_set_and_fetch_leverage(exchange: Any, spawned: Banner) -> None:
    before = await exchange.fetch_leverage(SYMBOL)
    assert (before["longLeverage"], before["shortLeverage"]) == (10, 10)

    answer = await exchange.set_leverage(25, SYMBOL)
    assert int(answer["retCode"]) == 0
    assert await asyncio.to_thread(leverage_of, spawned.url, "BTCUSDT") == ("25", "25")
    after = await exchange.fetch_leverage(SYMBOL)
    assert (after["longLeverage"], after["shortLeverage"]) == (25, 25)

    # The same value again: Bybit's 110043, which ccxt raises as BadRequest.
    with pytest.raises(ccxt_async.BadRequest):
        await exchange.set_leverage(25, SYMBOL)
    assert int(exchange.last_json_response["retCode"]) == 110043  # ccxt: "110043"
    codes = await asyncio.to_thread(set_leverage_codes, spawned.url)
    assert codes == {"0": 1, "110043": 1}
