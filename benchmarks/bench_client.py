"""Client CPU per request against a raw aiohttp floor, same server, same run.

The floor hand-signs each set-leverage POST and sends it with the same session
settings the client uses (one ClientSession, the same ClientTimeout, the same
headers), then decodes the JSON and checks retCode: the least any correct client
must do. Both contenders run in this process against the package's simulator
(``bybit-leverage simulate --no-rate-limit``) in another process, in alternating
rounds; only this process's CPU time is counted.

    .venv/bin/python benchmarks/bench_client.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from yarl import URL

import bybit_leverage as bl
from bybit_leverage import _constants as c
from bybit_leverage.simulator import spawn

PARAMS = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "buyLeverage": "10",
    "sellLeverage": "10",
}


# The simulator's account keys, read from its start-up lines.
KEYS: dict[str, str] = {}


async def floor_requests(base: str, n: int, concurrency: int) -> None:
    key, secret = KEYS["BYBIT_API_KEY"], KEYS["BYBIT_API_SECRET"]
    timeout = aiohttp.ClientTimeout(total=10.0)
    url = URL(base + c.PATH_SET_LEVERAGE, encoded=True)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def one() -> None:
            body = json.dumps(PARAMS, separators=(",", ":"))
            ts = str(time.time_ns() // 1_000_000)
            message = f"{ts}{key}5000{body}"
            sign = hmac.new(secret.encode(), message.encode(), hashlib.sha256)
            headers = {
                "Content-Type": "application/json",
                "X-BAPI-API-KEY": key,
                "X-BAPI-TIMESTAMP": ts,
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": sign.hexdigest(),
                "X-BAPI-SIGN-TYPE": "2",
            }
            async with session.post(
                url, data=body, headers=headers, timeout=timeout
            ) as resp:
                payload = json.loads(await resp.read())
            assert resp.status == 200
            assert payload["retCode"] in (0, c.LEVERAGE_NOT_MODIFIED)

        await run_workers(one, n, concurrency)


async def client_requests(base: str, n: int, concurrency: int) -> None:
    async with bl.BybitClient(
        api_key=KEYS["BYBIT_API_KEY"],
        api_secret=KEYS["BYBIT_API_SECRET"],
        base_url=base,
        limits=bl.Limits.OFF,  # the simulator's limits are off: CPU, not waits
    ) as client:
        await client.sync_time()  # once per client lifetime, not per request

        await client.get_instruments()  # the listing is cached, as in real use

        async def one() -> None:
            result = await client.set_leverage("BTCUSDT", 10)
            assert result.ok, result

        await run_workers(one, n, concurrency)


async def run_workers(
    one: Callable[[], Awaitable[None]], n: int, concurrency: int
) -> None:
    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    share, extra = divmod(n, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))


def cpu_per_request(
    run: Callable[[str, int, int], Coroutine[Any, Any, None]],
    base: str,
    n: int,
    conc: int,
) -> float:
    started = time.process_time()
    asyncio.run(run(base, n, conc))
    return (time.process_time() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with spawn(symbols=50, rate_limit=False) as banner:
        base = banner.url
        KEYS.update(BYBIT_API_KEY=banner.api_key, BYBIT_API_SECRET=banner.api_secret)
        n, conc = args.requests, args.concurrency
        cpu_per_request(floor_requests, base, 200, conc)  # warm-up, both paths
        cpu_per_request(client_requests, base, 200, conc)
        floor, client = [], []
        for _ in range(args.rounds):
            floor.append(cpu_per_request(floor_requests, base, n, conc))
            client.append(cpu_per_request(client_requests, base, n, conc))
    f, k = statistics.median(floor), statistics.median(client)
    print(f"requests per round: {n}, rounds: {args.rounds}, concurrency: {conc}")
    print(f"floor  (raw aiohttp): {f * 1e6:8.1f} us CPU/request (median)")
    print(f"client (BybitClient): {k * 1e6:8.1f} us CPU/request (median)")
    print(f"ratio client/floor:   {k / f:8.3f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
