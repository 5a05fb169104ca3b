"""Batch wall time against Bybit's 10/s set-leverage limit, on the simulator.

The simulator runs in its own process with Bybit's rate limits on and 20 ms of
latency; this process drives it with one ``BybitClient``. For each batch size N
it measures ``set_leverage_many`` on N tradable USDT perpetuals (max leverage
>= 25, target 7x, so every symbol needs a change from the simulator's default
10x):

- the first pass: wall time, its ratio to the theoretical minimum under a
  rolling 10/s window, ``(N - 10) / 10`` s (the first 10 go at once), and the
  10006 answers the simulator counted (for N not a multiple of 10 the minimum
  is ``(N - 1) // 10`` s, see ``theoretical_min``);
- the second pass with the same targets: ``requests_sent`` (expected 1: the
  read of the leverage in force) and wall time.

A baseline in the same run, on N=50 other symbols: the naive approach, a plain
loop of awaited ``client.set_leverage`` calls, twice (first pass and the
same targets again). Every phase uses symbols no earlier phase touched.

    .venv/bin/python benchmarks/bench_batch.py [--sizes 50,200]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

import bybit_leverage as bl

TARGET = "7"
LATENCY_MS = 20
SIM_SYMBOLS = 600
BASELINE_N = 50
LIMIT_PER_S = 10
#: Pause between phases, so that one phase's rolling window never spills into
#: the next (the window is one second).
SETTLE_S = 1.2


def _serve(conn: Connection, symbols: int) -> None:
    async def main() -> None:
        from bybit_leverage.simulator import BybitSimulator

        async with BybitSimulator(
            symbols=symbols, rate_limit=True, latency_ms=LATENCY_MS
        ) as sim:
            conn.send((sim.url, sim.api_key, sim.api_secret))
            stop = asyncio.Event()
            asyncio.get_running_loop().add_reader(conn.fileno(), stop.set)
            await stop.wait()

    asyncio.run(main())


def theoretical_min(n: int) -> float:
    """Seconds the rolling 10/s window needs before the n-th request may start.

    Requests k and k + 10 must start a full second apart, so with bursts of 10 the
    last one starts at ``(n - 1) // 10`` s: ``(n - 10) / 10`` when n is a multiple
    of 10 (the first 10 go at once), and a little more otherwise.
    """
    return float((n - 1) // LIMIT_PER_S) if n > 0 else 0.0


class Admin:
    """The simulator's ``/__sim/`` admin routes, over HTTP (another process)."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url

    async def reset(self) -> None:
        async with self._session.post(f"{self._url}/__sim/reset-stats") as resp:
            resp.raise_for_status()

    async def stats(self) -> dict[str, Any]:
        async with self._session.get(f"{self._url}/__sim/stats") as resp:
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
            return data

    async def count(self, endpoint: str, ret_code: int | None = None) -> int:
        entry = (await self.stats()).get(endpoint, {})
        if ret_code is None:
            return int(entry.get("requests", 0))
        # JSON object keys are strings: {"0": 40, "10006": 0}
        return int(entry.get("ret_codes", {}).get(str(ret_code), 0))

    async def rate_limited(self) -> int:
        stats = await self.stats()
        return sum(int(e.get("ret_codes", {}).get("10006", 0)) for e in stats.values())


async def pick_symbols(client: bl.BybitClient, count: int) -> list[str]:
    """Tradable USDT perpetuals with max >= 25 on which 7x is exactly valid."""
    instruments = await client.get_instruments(bl.Category.LINEAR)
    chosen = []
    for symbol in sorted(instruments):
        ins = instruments[symbol]
        rule = ins.leverage_filter
        if (
            ins.is_tradable
            and ins.contract_type is bl.ContractType.LINEAR_PERPETUAL
            and ins.settle_coin == "USDT"
            and rule.max_leverage >= 25
            and not bl.snap(TARGET, rule, bl.SnapPolicy.STRICT).adjusted
        ):
            chosen.append(symbol)
    if len(chosen) < count:
        sys.exit(f"the simulator lists only {len(chosen)} usable symbols, need {count}")
    return chosen[:count]


async def naive(
    client: bl.BybitClient, admin: Admin, symbols: Sequence[str]
) -> dict[str, Any]:
    """A plain loop of awaited set_leverage calls, twice."""
    row: dict[str, Any] = {"n": len(symbols)}
    for label in ("first", "second"):
        await asyncio.sleep(SETTLE_S)
        await admin.reset()
        started = time.perf_counter()
        outcomes = [(await client.set_leverage(s, TARGET)).outcome for s in symbols]
        row[f"{label}_s"] = time.perf_counter() - started
        row[f"{label}_requests"] = await admin.count("set-leverage")
        row[f"{label}_10006"] = await admin.rate_limited()
        expected = bl.Outcome.SET if label == "first" else bl.Outcome.UNCHANGED
        assert all(o is expected for o in outcomes), outcomes
    return row


async def batch(
    client: bl.BybitClient, admin: Admin, symbols: Sequence[str]
) -> dict[str, Any]:
    """set_leverage_many on the symbols, then the same targets again."""
    targets = dict.fromkeys(symbols, TARGET)
    row: dict[str, Any] = {"n": len(symbols)}
    for label in ("first", "second"):
        await asyncio.sleep(SETTLE_S)
        await admin.reset()
        started = time.perf_counter()
        report = await client.set_leverage_many(targets)
        row[f"{label}_s"] = time.perf_counter() - started
        row[f"{label}_requests"] = report.requests_sent
        row[f"{label}_10006"] = await admin.rate_limited()
        expected = bl.Outcome.SET if label == "first" else bl.Outcome.UNCHANGED
        assert report.counts == {expected: len(symbols)}, report.counts
    return row


async def run(url: str, key: str, secret: str, sizes: Sequence[int]) -> list[Any]:
    async with (
        aiohttp.ClientSession() as session,
        bl.BybitClient(api_key=key, api_secret=secret, base_url=url) as client,
    ):
        admin = Admin(session, url)
        # Warm up outside the timings: instruments cached, server time synced.
        symbols = await pick_symbols(client, BASELINE_N + sum(sizes))
        await client.sync_time()
        base, rest = symbols[:BASELINE_N], symbols[BASELINE_N:]
        baseline = await naive(client, admin, base)
        rows = []
        for n in sizes:
            rows.append(await batch(client, admin, rest[:n]))
            rest = rest[n:]
        return [baseline, rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="50,200", help="comma-separated batch sizes (default 50,200)"
    )
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs positive integers, e.g. 50,200")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, SIM_SYMBOLS), daemon=True)
    server.start()
    try:
        url, key, secret = parent.recv()
        baseline, rows = asyncio.run(run(url, key, secret, sizes))
    finally:
        parent.send("stop")
        server.join(timeout=10)

    command = " ".join([".venv/bin/python", "benchmarks/bench_batch.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"simulator: {SIM_SYMBOLS} symbols, rate limits on (set-leverage 10/s per "
        f"account), {LATENCY_MS} ms latency, separate process; target {TARGET}x"
    )
    print()
    header = (
        f"{'contender':<24}{'N':>5}{'pass 1 s':>10}{'min s':>8}{'ratio':>8}"
        f"{'req':>6}{'10006':>7}{'pass 2 req':>12}{'pass 2 s':>10}"
    )
    print(header)
    print("-" * len(header))

    def line(name: str, row: dict[str, Any]) -> None:
        floor = theoretical_min(row["n"])
        ratio = f"{row['first_s'] / floor:.3f}" if floor else "-"
        print(
            f"{name:<24}{row['n']:>5}{row['first_s']:>10.2f}{floor:>8.1f}{ratio:>8}"
            f"{row['first_requests']:>6}{row['first_10006']:>7}{row['second_requests']:>12}"
            f"{row['second_s']:>10.2f}"
        )

    line("naive set_leverage loop", baseline)
    for row in rows:
        line("set_leverage_many", row)
    print()
    same = next((row for row in rows if row["n"] == baseline["n"]), None)
    if same is not None:
        print(
            f"N={baseline['n']}, batch vs naive loop: first pass "
            f"{baseline['first_s'] / same['first_s']:.2f}x faster, second pass "
            f"{baseline['second_s'] / same['second_s']:.1f}x faster "
            f"({same['second_requests']} request instead of "
            f"{baseline['second_requests']})"
        )
    print(
        "ratio = pass 1 wall time / ((N - 10) / 10 s); req = requests sent in "
        "pass 1; 10006 = rate-limit answers counted by the simulator "
        "(GET /__sim/stats) in pass 1"
    )


if __name__ == "__main__":
    main()
