"""Edges of the request core: server-time shapes, odd headers, closing mid-call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aioresponses import aioresponses

import bybit_leverage as bl
from bybit_leverage import _constants as c

pytestmark = pytest.mark.looptime

BASE = "https://api.bybit.com"
NOW = 1_700_000_000_000


@pytest.fixture
def m() -> Iterator[aioresponses]:
    with aioresponses() as mocked:
        yield mocked


def client(**kwargs: Any) -> bl.BybitClient:
    return bl.BybitClient(api_key="k", api_secret="s", now_ms=lambda: NOW, **kwargs)


@pytest.mark.parametrize(
    ("payload", "offset"),
    [
        ({"retCode": 0, "retMsg": "", "result": {"timeSecond": "1700000003"}}, 3000),
        ({"retCode": "0", "retMsg": "OK", "result": {}, "time": NOW - 2000}, -2000),
    ],
)
async def test_server_time_fallbacks(
    m: aioresponses, payload: dict[str, Any], offset: int
) -> None:
    m.get(BASE + c.PATH_SERVER_TIME, payload=payload)
    async with client() as bybit:
        assert await bybit.sync_time() == offset


@pytest.mark.parametrize("result", [{}, {"timeNano": "soon"}, {"timeSecond": None}])
async def test_server_time_must_be_there(
    m: aioresponses, result: dict[str, Any]
) -> None:
    m.get(
        BASE + c.PATH_SERVER_TIME,
        payload={"retCode": 0, "retMsg": "", "result": result},
    )
    async with client() as bybit:
        with pytest.raises(bl.ResponseDecodeError):
            await bybit.sync_time()


async def test_garbled_reset_header_falls_back(m: aioresponses) -> None:
    loop = asyncio.get_running_loop()
    m.get(
        BASE + c.PATH_SERVER_TIME,
        payload={"retCode": 0, "retMsg": "", "result": {}, "time": NOW},
    )
    m.post(
        BASE + c.PATH_SET_LEVERAGE,
        payload={
            "retCode": c.TOO_MANY_VISITS,
            "retMsg": "Too many visits!",
            "result": {},
        },
        headers={"X-Bapi-Limit": "10", "X-Bapi-Limit-Reset-Timestamp": "later"},
    )
    m.post(
        BASE + c.PATH_SET_LEVERAGE, payload={"retCode": 0, "retMsg": "OK", "result": {}}
    )
    async with client() as bybit:
        start = loop.time()
        response = await bybit._request("POST", c.PATH_SET_LEVERAGE, {}, signed=True)
        assert response.attempts == 2
        assert loop.time() - start >= 1.0


async def test_closing_while_queued_stops_the_call(m: aioresponses) -> None:
    m.get(
        BASE + c.PATH_SERVER_TIME,
        payload={"retCode": 0, "retMsg": "", "result": {}, "time": NOW},
    )
    for _ in range(10):
        m.post(
            BASE + c.PATH_SET_LEVERAGE,
            payload={"retCode": 0, "retMsg": "", "result": {}},
        )
    bybit = client()
    calls = [
        asyncio.create_task(
            bybit._request("POST", c.PATH_SET_LEVERAGE, {}, signed=True)
        )
        for _ in range(11)
    ]
    await asyncio.sleep(0.5)  # ten are done; the eleventh waits for the window
    await bybit.aclose()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(isinstance(r, bl.ClientClosed) for r in results) == 1
