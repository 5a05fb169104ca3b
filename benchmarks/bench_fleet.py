"""A fleet on one account: K processes x M symbols against Bybit's 10/s per UID.

The simulator runs in its own process (``spawn``: rate limits on, 20 ms latency).
K worker processes each hold one ``BybitClient`` with an API key of their own,
all keys of the same UID (made through the simulator's ``POST /__sim/keys``),
and set leverage on M symbols of their own. Every worker warms up (instruments,
account, server time), then all start their batch at the same wall-clock
instant; the wall time is from that instant to the last worker's end.

Three budgets, each on the same scenarios:

- ``in-process``: a budget per process, not listening to the headers (how
  every process paced before fleets were supported);
- ``headers``: a budget per process that reads ``X-Bapi-Limit-Status`` to see
  what the others used (the default without Redis);
- ``redis``: one ``RedisBudget`` for the fleet (a redis-server this script
  starts on a free port, or ``--redis URL``).

The minimum under a rolling 10/s window is ``(K*M - 10) / 10`` s; 10006 counts
the simulator's "too many visits" answers (``GET /__sim/stats``), which the
clients wait out and retry.

    .venv/bin/python benchmarks/bench_fleet.py [--scenarios 2x100,4x50] [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import bybit_leverage as bl
from bybit_leverage.simulator import spawn

LATENCY_MS = 20
SIM_SYMBOLS = 600
LIMIT_PER_S = 10
BUDGETS = ("in-process", "headers", "redis")
#: Targets cycle so that every run changes every symbol it touches.
TARGETS = ("5", "6", "7", "8", "9", "11", "12", "13")
#: Pause between runs: one run's rolling window never spills into the next.
SETTLE_S = 1.5
#: Workers start this long after the last one is ready (wall clock).
START_DELAY_S = 0.5


def _worker(
    conn: Connection,
    url: str,
    key: str,
    secret: str,
    symbols: list[str],
    target: str,
    budget: str,
    redis_url: str | None,
) -> None:
    async def main() -> None:
        options: dict[str, Any] = {}
        if budget == "in-process":
            options["limits"] = bl.Limits(listen=False)
        elif budget == "redis":
            options["budget"] = redis_url
        async with bl.BybitClient(
            api_key=key, api_secret=secret, base_url=url, **options
        ) as client:
            await client.get_instruments()
            await client.get_account()
            await client.sync_time()
            conn.send("ready")
            start_at: float = conn.recv()
            await asyncio.sleep(max(0.0, start_at - time.time()))
            report = await client.set_leverage_many(dict.fromkeys(symbols, target))
            ended = time.time()
        conn.send((ended, {o.value: n for o, n in report.counts.items()}))

    asyncio.run(main())


def _admin(url: str, route: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    request = urllib.request.Request(url + route, data=data, method=method)  # noqa: S310 - loopback simulator
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.load(answer)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free port; ``None`` if none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "redis.log"
        argv = [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", directory, "--logfile", str(log),
        ]  # fmt: skip
        process = subprocess.Popen(argv)  # noqa: S603 - the installed redis-server
        try:
            deadline = time.monotonic() + 10
            while "Ready to accept connections" not in (
                log.read_text() if log.exists() else ""
            ):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def pick_symbols(url: str, count: int) -> list[str]:
    """Tradable USDT perpetuals on whose grid every target is exactly valid."""

    async def main() -> list[str]:
        async with bl.BybitClient(base_url=url) as client:
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
                and not any(
                    bl.snap(t, rule, bl.SnapPolicy.STRICT).adjusted for t in TARGETS
                )
            ):
                chosen.append(symbol)
        return chosen[:count]

    chosen = asyncio.run(main())
    if len(chosen) < count:
        sys.exit(f"the simulator lists only {len(chosen)} usable symbols, need {count}")
    return chosen


def run_one(
    url: str,
    keys: list[tuple[str, str]],
    symbols: list[str],
    per_worker: int,
    target: str,
    budget: str,
    redis_url: str | None,
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    pipes, workers = [], []
    for index, (key, secret) in enumerate(keys):
        mine = symbols[index * per_worker : (index + 1) * per_worker]
        parent, child = ctx.Pipe()
        worker = ctx.Process(
            target=_worker,
            args=(child, url, key, secret, mine, target, budget, redis_url),
        )
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    for pipe in pipes:
        if pipe.recv() != "ready":
            raise RuntimeError("a worker did not warm up")
    _admin(url, "/__sim/reset-stats", {})
    start_at = time.time() + START_DELAY_S
    for pipe in pipes:
        pipe.send(start_at)
    results = [pipe.recv() for pipe in pipes]
    for worker in workers:
        worker.join(30)
    counts: dict[str, int] = {}
    for _, worker_counts in results:
        for outcome, n in worker_counts.items():
            counts[outcome] = counts.get(outcome, 0) + n
    if counts != {"set": len(keys) * per_worker}:
        raise RuntimeError(f"not every symbol was set: {counts}")
    codes = _admin(url, "/__sim/stats").get("set-leverage", {}).get("ret_codes", {})
    return {
        "wall": max(ended for ended, _ in results) - start_at,
        "answers": sum(int(n) for n in codes.values()),
        "refused": int(codes.get("10006", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios",
        default="2x100,4x50",
        help="comma-separated KxM: K processes, M symbols each (default 2x100,4x50)",
    )
    parser.add_argument("--redis", help="use this Redis instead of starting one")
    args = parser.parse_args()
    try:
        scenarios = [
            tuple(int(n) for n in part.lower().split("x"))
            for part in args.scenarios.split(",")
        ]
        assert all(len(s) == 2 and min(s) >= 1 for s in scenarios)
    except (ValueError, AssertionError):
        parser.error("--scenarios needs KxM pairs, e.g. 2x100,4x50")
    rows: list[tuple[int, int, str, dict[str, Any] | None]] = []
    with (
        spawn(symbols=SIM_SYMBOLS, latency_ms=LATENCY_MS) as sim,
        redis_server() as started,
    ):
        redis_url = args.redis or started
        total = max(k * m for k, m in scenarios)
        symbols = pick_symbols(sim.url, total)
        runs = 0
        for k, m in scenarios:
            keys = [(sim.api_key, sim.api_secret)]
            for _ in range(k - 1):  # more keys of the same UID
                made = _admin(sim.url, "/__sim/keys", {})
                keys.append((made["api_key"], made["api_secret"]))
            for budget in BUDGETS:
                if budget == "redis" and redis_url is None:
                    rows.append((k, m, budget, None))
                    continue
                time.sleep(SETTLE_S)
                target = TARGETS[runs % len(TARGETS)]
                runs += 1
                found = run_one(sim.url, keys, symbols, m, target, budget, redis_url)
                rows.append((k, m, budget, found))

    command = " ".join([".venv/bin/python", "benchmarks/bench_fleet.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"simulator: {SIM_SYMBOLS} symbols, set-leverage 10/s per UID, {LATENCY_MS} ms"
        " latency, separate process; one API key per worker process, one UID"
    )
    print()
    print(
        "| processes x symbols | budget | wall (s) | minimum (s) | over (s) "
        "| answers | 10006 | 10006 share |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for k, m, budget, row in rows:
        minimum = (k * m - LIMIT_PER_S) / LIMIT_PER_S
        if row is None:
            print(f"| {k} x {m} | {budget} | no redis-server installed |||||")
            continue
        print(
            f"| {k} x {m} | {budget} | {row['wall']:.2f} | {minimum:.1f} "
            f"| {row['wall'] - minimum:+.2f} | {row['answers']} "
            f"| {row['refused']} | {row['refused'] / row['answers']:.1%} |"
        )
    print()
    print(
        "wall = from the common start to the last worker's end (warm-up excluded); "
        "minimum = (K*M - 10) / 10 s; answers = set-leverage answers the simulator "
        "gave, retries included; 10006 = those that were 'too many visits'"
    )


if __name__ == "__main__":
    main()
