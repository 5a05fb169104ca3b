"""A plain aiohttp client that signs by hand, for driving the simulator in tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from attrs import define, field, frozen
from yarl import URL

from bybit_leverage._signing import Credentials, auth_headers
from bybit_leverage._wire import encode_body


def wall_ms() -> int:
    return int(time.time() * 1000)


@frozen
class Reply:
    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def ret_code(self) -> int:
        code = self.json["retCode"]
        assert isinstance(code, int)
        return code

    @property
    def ret_msg(self) -> str:
        msg = self.json["retMsg"]
        assert isinstance(msg, str)
        return msg

    @property
    def result(self) -> Any:
        return self.json["result"]


@define
class Api:
    session: aiohttp.ClientSession
    url: str
    creds: Credentials
    recv_window: int = 5000
    now_ms: Callable[[], int] = field(default=wall_ms)

    async def _send(
        self,
        method: str,
        path: str,
        query: str,
        body: str | None,
        headers: dict[str, str],
    ) -> Reply:
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        # encoded=True: the query goes on the wire exactly as written and signed
        async with self.session.request(
            method, URL(url, encoded=True), data=body, headers=headers
        ) as response:
            return Reply(response.status, dict(response.headers), await response.text())

    def sign(self, payload: str, *, timestamp: int | None = None) -> dict[str, str]:
        return auth_headers(
            self.creds,
            timestamp_ms=self.now_ms() if timestamp is None else timestamp,
            recv_window_ms=self.recv_window,
            payload=payload,
        )

    async def public(self, path: str, query: str = "") -> Reply:
        return await self._send("GET", path, query, None, {})

    async def get(
        self, path: str, query: str, headers: dict[str, str] | None = None
    ) -> Reply:
        signed = self.sign(query) if headers is None else headers
        return await self._send("GET", path, query, None, signed)

    async def post(
        self,
        path: str,
        body: str | Mapping[str, Any],
        headers: dict[str, str] | None = None,
    ) -> Reply:
        text = body if isinstance(body, str) else json.dumps(body)
        signed = self.sign(text) if headers is None else headers
        signed = {**signed, "Content-Type": "application/json"}
        return await self._send("POST", path, "", text, signed)

    async def set_leverage(
        self,
        symbol: str,
        buy: str,
        sell: str | None = None,
        *,
        category: str = "linear",
    ) -> Reply:
        body = encode_body(
            {
                "category": category,
                "symbol": symbol,
                "buyLeverage": buy,
                "sellLeverage": buy if sell is None else sell,
            }
        )
        return await self.post("/v5/position/set-leverage", body)
