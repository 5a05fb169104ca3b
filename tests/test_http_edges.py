"""Edges of the request core over a MockTransport: time shapes, odd headers, closing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import bybit_leverage as bl
from bybit_leverage import _constants as c
from bybit_leverage.transport import HTTPRequest, HTTPResponse, MockTransport
from tests.fakebybit import instrument_item

pytestmark = pytest.mark.looptime

NOW = 1_700_000_000_000


def client(transport: MockTransport, **kwargs: Any) -> bl.BybitClient:
    return bl.BybitClient(
        api_key="k", api_secret="s", now_ms=lambda: NOW, transport=transport, **kwargs
    )


def listing(request: HTTPRequest) -> HTTPResponse | None:
    if request.path == c.PATH_INSTRUMENTS:
        listed = [] if "PreLaunch" in request.url else [instrument_item("BTCUSDT")]
        return HTTPResponse.envelope({"list": listed, "nextPageCursor": ""})
    if request.path == c.PATH_SERVER_TIME:
        return HTTPResponse.envelope(time_ms=NOW)
    if request.path == c.PATH_ACCOUNT_INFO:
        return HTTPResponse.envelope({"marginMode": "REGULAR_MARGIN"})
    if request.path == c.PATH_KEY_INFO:
        return HTTPResponse.envelope({"userID": 1, "readOnly": 0})
    if request.path == c.PATH_POSITION_LIST:
        return HTTPResponse.envelope({"list": [], "nextPageCursor": ""})
    return None


@pytest.mark.parametrize(
    ("payload", "offset"),
    [
        (b'{"retCode":0,"retMsg":"","result":{"timeSecond":"1700000003"}}', 3000),
        (b'{"retCode":"0","retMsg":"OK","result":{},"time":%d}' % (NOW - 2000), -2000),
    ],
)
async def test_server_time_fallbacks(payload: bytes, offset: int) -> None:
    wire = MockTransport(lambda request: HTTPResponse(200, payload))
    async with client(wire) as bybit:
        assert await bybit.sync_time() == offset


@pytest.mark.parametrize("result", [{}, {"timeNano": "soon"}, {"timeSecond": None}])
async def test_server_time_must_be_there(result: dict[str, Any]) -> None:
    wire = MockTransport(lambda request: HTTPResponse.envelope(result))
    async with client(wire) as bybit:
        with pytest.raises(bl.ResponseDecodeError):
            await bybit.sync_time()


async def test_garbled_reset_header_falls_back() -> None:
    loop = asyncio.get_running_loop()
    answers = iter(
        [
            HTTPResponse.envelope(
                ret_code=c.TOO_MANY_VISITS,
                ret_msg="Too many visits!",
                headers={"X-Bapi-Limit": "10", "X-Bapi-Limit-Reset-Timestamp": "later"},
            ),
            HTTPResponse.envelope(),
        ]
    )

    def handler(request: HTTPRequest) -> HTTPResponse:
        return listing(request) or next(answers)

    async with client(MockTransport(handler)) as bybit:
        await bybit.get_instruments()
        start = loop.time()
        result = await bybit.set_leverage("BTCUSDT", 10)
        assert result.attempts == 2
        assert loop.time() - start >= 1.0


async def test_closing_while_queued_stops_the_call() -> None:
    def handler(request: HTTPRequest) -> HTTPResponse:
        return listing(request) or HTTPResponse.envelope()

    symbols = [f"S{i}USDT" for i in range(11)]

    def many(request: HTTPRequest) -> HTTPResponse:
        if request.path == c.PATH_INSTRUMENTS and "PreLaunch" not in request.url:
            items = [instrument_item(s) for s in symbols]
            return HTTPResponse.envelope({"list": items, "nextPageCursor": ""})
        return handler(request)

    bybit = client(MockTransport(many))
    await bybit.get_instruments()
    calls = [
        asyncio.create_task(bybit.set_leverage(symbol, 5, raise_on_failure=True))
        for symbol in symbols
    ]
    await asyncio.sleep(0.5)  # ten are done; the eleventh waits for the window
    await bybit.aclose()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(isinstance(r, bl.ClientClosed) for r in results) == 1
