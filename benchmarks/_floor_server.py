"""A tiny loopback Bybit for benchmarks: set-leverage always answers OK.

No signature check and no rate limiting, so the server costs the same for both
contenders; it sends the ``X-Bapi-Limit*`` headers a real answer carries. Runs in
its own process (the benchmark measures only its own process's CPU) and prints
its port on stdout. The simulator will replace it.
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

LIMIT = "1000000"  # generous: the benchmark measures CPU, not pacing


def envelope(result: object) -> bytes:
    return json.dumps(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": time.time_ns() // 1_000_000,
        }
    ).encode()


async def server_time(_: web.Request) -> web.Response:
    now = time.time_ns()
    return web.Response(
        body=envelope({"timeSecond": str(now // 10**9), "timeNano": str(now)}),
        content_type="application/json",
    )


async def set_leverage(request: web.Request) -> web.Response:
    await request.read()
    now_ms = time.time_ns() // 1_000_000
    return web.Response(
        body=envelope({}),
        content_type="application/json",
        headers={
            "X-Bapi-Limit": LIMIT,
            "X-Bapi-Limit-Status": str(int(LIMIT) - 1),
            "X-Bapi-Limit-Reset-Timestamp": str(now_ms),
        },
    )


async def main() -> None:
    app = web.Application()
    app.router.add_get("/v5/market/time", server_time)
    app.router.add_post("/v5/position/set-leverage", set_leverage)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
