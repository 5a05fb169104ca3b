"""Throughput of the simulator's set-leverage path.

The simulator runs in its own process pinned to one core (no latency, rate limits
off); this process drives it with a plain aiohttp client sending signed
set-leverage requests, and reports requests per second.

    .venv/bin/python benchmarks/bench_simulator.py [--seconds 5] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import time
from collections import Counter
from multiprocessing.connection import Connection

import aiohttp

from bybit_leverage._signing import Credentials, auth_headers
from bybit_leverage._wire import encode_body


def _serve(conn: Connection, symbols: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core for the server

    async def main() -> None:
        from bybit_leverage.simulator import BybitSimulator

        async with BybitSimulator(symbols, rate_limit=False, log_size=1000) as sim:
            conn.send((sim.url, sim.api_key, sim.api_secret))
            stop = asyncio.Event()
            asyncio.get_running_loop().add_reader(conn.fileno(), stop.set)
            await stop.wait()

    asyncio.run(main())


async def _drive(
    url: str, creds: Credentials, seconds: float, concurrency: int
) -> tuple[int, Counter[int], float]:
    codes: Counter[int] = Counter()
    symbols = ["BTCUSDT", "ETHUSDT"]
    deadline = time.perf_counter() + seconds

    async def worker(n: int, session: aiohttp.ClientSession) -> None:
        i = n
        while time.perf_counter() < deadline:
            symbol = symbols[i % 2]
            lev = str(2 + i % 40)
            body = encode_body(
                {"category": "linear", "symbol": symbol,
                 "buyLeverage": lev, "sellLeverage": lev}
            )  # fmt: skip
            headers = auth_headers(
                creds,
                timestamp_ms=int(time.time() * 1000),
                recv_window_ms=5000,
                payload=body,
            )
            headers["Content-Type"] = "application/json"
            async with session.post(
                f"{url}/v5/position/set-leverage", data=body, headers=headers
            ) as response:
                codes[(await response.json())["retCode"]] += 1
            i += concurrency

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(n, session) for n in range(concurrency)))
        elapsed = time.perf_counter() - start
    return sum(codes.values()), codes, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--symbols", type=int, default=600)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.symbols), daemon=True)
    server.start()
    try:
        url, key, secret = parent.recv()
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))
        creds = Credentials.hmac(key, secret)
        total, codes, elapsed = asyncio.run(
            _drive(url, creds, args.seconds, args.concurrency)
        )
    finally:
        parent.send("stop")
        server.join(timeout=10)
    assert set(codes) <= {0, 110043}, codes
    print(f"set-leverage: {total} requests in {elapsed:.2f} s "
          f"= {total / elapsed:,.0f} requests/s "
          f"(concurrency {args.concurrency}, retCodes {dict(codes)})")  # fmt: skip


if __name__ == "__main__":
    main()
