"""A small loopback Bybit for the client's tests: pages, time, set-leverage, faults.

It enforces what the client must get right: HMAC signatures over the exact bytes
received, the timestamp window against a (possibly skewed) server clock, and a
rolling one-second rate limit per endpoint measured on the loop clock (so
looptime can fast-forward it).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bybit_leverage import _constants as c
from bybit_leverage._signing import sign_hmac, signature_payload

API_KEY = "CFEJUGQEQPPHGOHGHM"
API_SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"


def instrument_item(
    symbol: str, *, status: str = "Trading", max_leverage: str = "100.00"
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": "LinearPerpetual",
        "status": status,
        "baseCoin": symbol.removesuffix("USDT"),
        "quoteCoin": "USDT",
        "settleCoin": "USDT",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "priceScale": "2",
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": max_leverage,
            "leverageStep": "0.01",
        },
        "someNewField": {"ignored": True},
    }


class FakeBybit:
    """Knobs: ``skew_ms``, ``page_size``, ``rate_limit``, ``faults``, listings."""

    def __init__(self) -> None:
        self.trading: list[dict[str, Any]] = [
            instrument_item(s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")
        ]
        self.prelaunch: list[dict[str, Any]] = []
        self.page_size = 1000
        #: Send a cursor even on the last page (then an empty page ends the list).
        self.cursor_on_last_page = False
        self.skew_ms = 0
        self.rate_limit: int | None = c.SET_LEVERAGE_LIMIT_PER_S
        self.send_reset_header = True
        #: path -> queue of faults, consumed one per request: "http_503",
        #: "html_403", "timeout", "not_json", "reset", or a retCode as an int.
        self.faults: dict[str, deque[str | int]] = {}
        self.requests: Counter[str] = Counter()
        self.ret_codes: Counter[int] = Counter()
        self.cursors_received: list[str] = []
        self.leverage: dict[str, str] = {}
        self._window: dict[str, deque[float]] = {}
        self.url = ""

    def server_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.skew_ms

    def inject(self, path: str, *faults: str | int) -> None:
        self.faults.setdefault(path, deque()).extend(faults)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(c.PATH_SERVER_TIME, self._time)
        app.router.add_get(c.PATH_INSTRUMENTS, self._instruments)
        app.router.add_post(c.PATH_SET_LEVERAGE, self._set_leverage)
        app.router.add_get(c.PATH_SYMBOL_INFO, self._symbol_info)
        return app

    def _envelope(self, code: int = 0, result: Any = None, msg: str = "OK") -> Any:
        self.ret_codes[code] += 1
        return {
            "retCode": code,
            "retMsg": msg,
            "result": {} if result is None else result,
            "retExtInfo": {},
            "time": self.server_ms(),
        }

    async def _fault(self, request: web.Request) -> web.StreamResponse | None:
        self.requests[request.path] += 1
        queue = self.faults.get(request.path)
        if not queue:
            return None
        fault = queue.popleft()
        if isinstance(fault, int):
            return web.json_response(self._envelope(fault, msg=f"fault {fault}"))
        if fault == "http_503":
            return web.Response(status=503, text="upstream unavailable")
        if fault == "html_403":
            return web.Response(
                status=403,
                text="<html>access too frequent</html>",
                content_type="text/html",
            )
        if fault == "not_json":
            return web.Response(status=200, text="<html>maintenance</html>")
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        raise AssertionError(f"unknown fault {fault!r}")

    async def _time(self, request: web.Request) -> web.StreamResponse:
        if (fault := await self._fault(request)) is not None:
            return fault
        now = self.server_ms()
        return web.json_response(
            self._envelope(
                result={"timeSecond": str(now // 1000), "timeNano": str(now * 10**6)}
            )
        )

    async def _instruments(self, request: web.Request) -> web.StreamResponse:
        if (fault := await self._fault(request)) is not None:
            return fault
        raw = request.rel_url.raw_query_string
        params = dict(p.split("=", 1) for p in raw.split("&") if p)
        listing = (
            self.prelaunch if params.get("status") == "PreLaunch" else self.trading
        )
        start = 0
        if "cursor" in params:
            self.cursors_received.append(params["cursor"])
            # The cursor is sent URL-encoded ("page%3D2") and must come back as is.
            assert params["cursor"].startswith("page%3D"), params["cursor"]
            start = int(params["cursor"].removeprefix("page%3D")) * self.page_size
        chunk = listing[start : start + self.page_size]
        page = start // self.page_size + 1
        more = start + self.page_size < len(listing)
        cursor = f"page%3D{page}" if more or self.cursor_on_last_page else ""
        return web.json_response(
            self._envelope(
                result={"category": "linear", "list": chunk, "nextPageCursor": cursor}
            )
        )

    def _check_auth(self, request: web.Request, payload: str) -> Any | None:
        headers = request.headers
        try:
            ts = int(headers["X-BAPI-TIMESTAMP"])
            window = int(headers["X-BAPI-RECV-WINDOW"])
            key = headers["X-BAPI-API-KEY"]
            sign = headers["X-BAPI-SIGN"]
        except (KeyError, ValueError):
            return self._envelope(10003, msg="auth headers missing")
        if key != API_KEY:
            return self._envelope(10003, msg="invalid key")
        server = self.server_ms()
        if not (server - window <= ts < server + 1000):
            return self._envelope(
                10002, msg="invalid request, check your server timestamp"
            )
        if sign != sign_hmac(API_SECRET, signature_payload(ts, key, window, payload)):
            return self._envelope(10004, msg="error sign!")
        return None

    def _limit_headers(self, path: str) -> tuple[bool, dict[str, str]]:
        """Apply the rolling one-second window; return (allowed, headers)."""
        if self.rate_limit is None:
            return True, {}
        now = asyncio.get_running_loop().time()
        window = self._window.setdefault(path, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        allowed = len(window) < self.rate_limit
        if allowed:
            window.append(now)
        reset_ms = self.server_ms() + int(
            ((window[0] + 1.0 - now) if window else 0) * 1000
        )
        headers = {
            "X-Bapi-Limit": str(self.rate_limit),
            "X-Bapi-Limit-Status": str(self.rate_limit - len(window)),
        }
        if self.send_reset_header:
            headers["X-Bapi-Limit-Reset-Timestamp"] = str(reset_ms)
        return allowed, headers

    async def _set_leverage(self, request: web.Request) -> web.StreamResponse:
        if (fault := await self._fault(request)) is not None:
            return fault
        body = await request.text()
        if (denied := self._check_auth(request, body)) is not None:
            return web.json_response(denied)
        allowed, headers = self._limit_headers(request.path)
        if not allowed:
            return web.json_response(
                self._envelope(10006, msg="Too many visits!"), headers=headers
            )
        assert request.headers["Content-Type"] == "application/json"
        params = json.loads(body)
        symbol = params["symbol"]
        if self.leverage.get(symbol) == params["buyLeverage"]:
            answer = self._envelope(110043, msg="leverage not modified")
        else:
            self.leverage[symbol] = params["buyLeverage"]
            answer = self._envelope()
        return web.json_response(answer, headers=headers)

    async def _symbol_info(self, request: web.Request) -> web.StreamResponse:
        if (fault := await self._fault(request)) is not None:
            return fault
        if (
            denied := self._check_auth(request, request.rel_url.raw_query_string)
        ) is not None:
            return web.json_response(denied)
        return web.json_response(self._envelope(result={"list": []}))


@asynccontextmanager
async def serve(fake: FakeBybit) -> AsyncIterator[FakeBybit]:
    runner = web.AppRunner(fake.app(), handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        fake.url = f"http://127.0.0.1:{port}"
        yield fake
    finally:
        await runner.cleanup()
