"""One harness for every figure users choose an SDK by, measured in the same run.

The simulator always runs in its own process (``bybit_leverage.simulator.spawn``),
so only the client's work is counted; every figure is a ratio or a count against
a baseline measured in the same run:

- CPU per set-leverage (N=300, the simulator's limits off): the public
  ``set_leverage_many`` with the limits off and with the default limits, a
  hand-signed raw aiohttp floor, ccxt's async client (without and with its own
  limiter) and pybit, in paired rounds (median);
- N=50 and N=200 at Bybit's 10/s (the simulator's limits on, 20 ms latency): wall
  time against the least the rolling window allows, 10006 answers, CPU per call
  while waiting; the second pass; ccxt with its limiter and pybit beside it;
- the instruments' cold load for 600 and 2,000 symbols (requests, time) and warm
  lookups per second; snapping throughput;
- the longest event-loop stall while a 2,000-symbol batch plans, sends and reports.

    .venv/bin/python benchmarks/harness.py [--rounds 3] [--quick]

It prints a markdown table and writes it with the raw figures (JSON) to
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import logging
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

import bybit_leverage as bl
from bybit_leverage.simulator import Banner, spawn

RESULTS = Path(__file__).parent / "results"
LATENCY_MS = 20


# -- the simulator's admin routes --------------------------------------------------


async def stats(url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/__sim/stats") as resp,
    ):
        data: dict[str, Any] = await resp.json()
        return data


async def reset(url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/__sim/reset-stats") as resp,
    ):
        resp.raise_for_status()


def count(data: dict[str, Any], endpoint: str, code: int | None = None) -> int:
    entry = data.get(endpoint, {})
    if code is None:
        return int(entry.get("requests", 0))
    return int(entry.get("ret_codes", {}).get(str(code), 0))


def rate_limited(data: dict[str, Any]) -> int:
    return sum(int(e.get("ret_codes", {}).get("10006", 0)) for e in data.values())


def client(banner: Banner, **options: Any) -> bl.BybitClient:
    return bl.BybitClient(
        api_key=banner.api_key,
        api_secret=banner.api_secret,
        base_url=banner.url,
        **options,
    )


async def usable(banner: Banner, n: int) -> list[str]:
    """``n`` tradable linear symbols on which both 7x and 8x are exact."""
    async with bl.BybitClient(base_url=banner.url) as reader:
        listed = await reader.get_instruments()
    found = [
        symbol
        for symbol, item in sorted(listed.items())
        if item.is_tradable and item.leverage_filter.max_leverage >= 10
    ]
    assert len(found) >= n, f"{len(found)} usable symbols, {n} needed"
    return found[:n]


def cpu(run: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[float]]:
    async def timed() -> float:
        started = time.process_time()
        await run()
        return time.process_time() - started

    return timed


# -- contenders ---------------------------------------------------------------------


async def raw_floor(
    banner: Banner,
    symbols: Sequence[str],
    value: str,
    *,
    session: aiohttp.ClientSession | None = None,
    paced: bool = False,
) -> None:
    """The least any correct client does: sign, send, decode, check the retCode."""
    url = URL(banner.url + "/v5/position/set-leverage", encoded=True)
    gate = asyncio.Semaphore(20)
    async with contextlib.AsyncExitStack() as stack:
        if session is None:
            session = aiohttp.ClientSession()
            stack.push_async_callback(session.close)
        http = session

        async def one(symbol: str) -> None:
            body = json.dumps(
                {
                    "category": "linear",
                    "symbol": symbol,
                    "buyLeverage": value,
                    "sellLeverage": value,
                },
                separators=(",", ":"),
            )
            stamp = str(time.time_ns() // 1_000_000)
            message = f"{stamp}{banner.api_key}5000{body}"
            sign = hmac.new(
                banner.api_secret.encode(), message.encode(), hashlib.sha256
            )
            headers = {
                "Content-Type": "application/json",
                "X-BAPI-API-KEY": banner.api_key,
                "X-BAPI-TIMESTAMP": stamp,
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": sign.hexdigest(),
                "X-BAPI-SIGN-TYPE": "2",
            }
            async with gate, http.post(url, data=body, headers=headers) as resp:
                answer = json.loads(await resp.read())
            # The paced floor keeps no log and retries nothing: a refusal there
            # (the machine was late by more than its 10 ms) is counted in its
            # row from the simulator's statistics, not retried.
            allowed = (0, 110043, 10006) if paced else (0, 110043)
            assert answer["retCode"] in allowed, answer

        await asyncio.gather(*(one(symbol) for symbol in symbols))


async def raw_paced(banner: Banner, symbols: Sequence[str], value: str) -> None:
    """The raw floor at Bybit's 10/s: bursts of ten, one window plus 10 ms apart.

    The least CPU any client spends per request while it waits between windows
    (its loop wakes for each burst); a schedule fixed in advance, as only a
    client that knows it is alone on the account may use.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()

    async def at(index: int, symbol: str) -> None:
        await asyncio.sleep(max(0.0, began + (index // 10) * 1.01 - loop.time()))
        await raw_floor(banner, [symbol], value, session=session, paced=True)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(at(i, s) for i, s in enumerate(symbols)))


async def ours(
    sdk: bl.BybitClient, symbols: Sequence[str], value: str
) -> bl.BatchReport:
    report = await sdk.set_leverage_many(dict.fromkeys(symbols, value))
    assert report.counts == {bl.Outcome.SET: len(symbols)}, report.counts
    return report


def ccxt_exchange(banner: Banner, *, limiter: bool) -> Any | None:
    try:
        import ccxt.async_support as ccxt_async
    except ImportError:
        return None
    exchange = ccxt_async.bybit(
        {
            "apiKey": banner.api_key,
            "secret": banner.api_secret,
            "enableRateLimit": limiter,
        }
    )
    exchange.timeout_on_exit = 0
    exchange.urls["api"] = dict.fromkeys(exchange.urls["api"], banner.url)
    return exchange


async def ccxt_batch(exchange: Any, symbols: Sequence[str], value: str) -> int:
    """ccxt's set_leverage on every symbol at once; returns the failures."""
    gate = asyncio.Semaphore(20)
    names = {m["id"]: m["symbol"] for m in exchange.markets.values() if m["linear"]}

    async def one(symbol: str) -> bool:
        async with gate:
            try:
                await exchange.set_leverage(int(value), names[symbol])
            except Exception:  # what a caller of ccxt must catch: any error
                return False
            return True

    results = await asyncio.gather(*(one(symbol) for symbol in symbols))
    return results.count(False)


def pybit_session(banner: Banner) -> Any | None:
    try:
        from pybit.unified_trading import HTTP
    except ImportError:
        return None
    session = HTTP(api_key=banner.api_key, api_secret=banner.api_secret)
    session.endpoint = banner.url
    return session


def pybit_batch(session: Any, symbols: Sequence[str], value: str) -> int:
    """pybit's set_leverage, one symbol after the other; returns the failures."""
    failures = 0
    for symbol in symbols:
        try:
            session.set_leverage(
                category="linear", symbol=symbol, buyLeverage=value, sellLeverage=value
            )
        except Exception:  # what a caller of pybit must catch: any error
            failures += 1
    return failures


# -- sections -----------------------------------------------------------------------


async def cpu_section(rounds: int, n: int) -> dict[str, Any]:
    """CPU per set-leverage against the raw floor, the simulator's limits off."""
    figures: dict[str, list[float]] = {}
    with spawn(symbols=max(600, 2 * n), rate_limit=False) as banner:
        symbols = await usable(banner, n)
        async with (
            client(banner, limits=bl.Limits.OFF) as off,
            client(banner) as paced,
        ):
            for sdk in (off, paced):
                await sdk.get_instruments()
                await sdk.get_account()
            for index in range(rounds):
                value = "7" if index % 2 == 0 else "8"
                other = "8" if value == "7" else "7"
                runs: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                    ("floor", partial(raw_floor, banner, symbols, value)),
                    ("ours, limits off", partial(ours, off, symbols, other)),
                    ("floor again", partial(raw_floor, banner, symbols, value)),
                    ("ours, default limits", partial(ours, paced, symbols, other)),
                ]
                for name, run in runs:
                    figures.setdefault(name, []).append(await cpu(run)() / n)
        for limiter in (False, True):
            exchange = ccxt_exchange(banner, limiter=limiter)
            if exchange is None:
                break
            try:
                await exchange.load_markets()
                label = "ccxt + its limiter" if limiter else "ccxt"
                for index in range(rounds if not limiter else 1):
                    value = "6" if index % 2 == 0 else "5"
                    started = time.process_time()
                    await ccxt_batch(exchange, symbols, value)
                    spent = (time.process_time() - started) / n
                    figures.setdefault(label, []).append(spent)
            finally:
                await exchange.close()
        session = pybit_session(banner)
        if session is not None:
            for index in range(rounds):
                value = "4" if index % 2 == 0 else "3"
                started = time.process_time()
                await asyncio.to_thread(pybit_batch, session, symbols, value)
                figures.setdefault("pybit", []).append(
                    (time.process_time() - started) / n
                )
    medians = {name: statistics.median(values) for name, values in figures.items()}
    floors = figures["floor"] + figures["floor again"]
    medians["floor"] = statistics.median(floors)
    del medians["floor again"]
    return {"n": n, "rounds": rounds, "cpu_s_per_call": medians}


def minimum(n: int) -> float:
    """The least a rolling 10/s window allows: bursts of 10, one second apart."""
    return float((n - 1) // 10) if n > 0 else 0.0


async def paced_section(sizes: Sequence[int]) -> dict[str, Any]:
    """Batches at Bybit's 10/s, with the simulator's limits on."""
    rows: dict[str, Any] = {}
    with spawn(symbols=600, rate_limit=True, latency_ms=LATENCY_MS) as banner:
        symbols = await usable(banner, sum(sizes) + 150)
        async with client(banner) as sdk:
            await sdk.get_instruments()
            await sdk.get_account()
            start = 0
            for n in sizes:
                batch = symbols[start : start + n]
                start += n
                await asyncio.sleep(1.2)  # the previous window empties
                await reset(banner.url)
                loop = asyncio.get_running_loop()
                began, spent = loop.time(), time.process_time()
                await ours(sdk, batch, "7")
                wall = loop.time() - began
                cpu_per_call = (time.process_time() - spent) / n
                first = await stats(banner.url)
                await reset(banner.url)
                began = loop.time()
                again = await sdk.set_leverage_many(dict.fromkeys(batch, "7"))
                second_wall = loop.time() - began
                second = await stats(banner.url)
                rows[f"ours N={n}"] = {
                    "wall_s": wall,
                    "minimum_s": minimum(n),
                    "over_minimum_s": wall - minimum(n),
                    "10006": rate_limited(first),
                    "cpu_s_per_call": cpu_per_call,
                    "second_pass_requests": again.requests_sent,
                    "second_pass_writes": count(second, "set-leverage"),
                    "second_pass_s": second_wall,
                }
            peers = symbols[start : start + 50]
            floor = symbols[start + 50 : start + 100]
        await asyncio.sleep(1.2)
        await reset(banner.url)
        began, spent = time.monotonic(), time.process_time()
        await raw_paced(banner, floor, "7")
        rows["raw aiohttp floor, paced N=50"] = {
            "wall_s": time.monotonic() - began,
            "minimum_s": minimum(50),
            "10006": rate_limited(await stats(banner.url)),
            "cpu_s_per_call": (time.process_time() - spent) / 50,
        }
        exchange = ccxt_exchange(banner, limiter=True)
        if exchange is not None:
            try:
                await exchange.load_markets()
                await asyncio.sleep(1.2)
                await reset(banner.url)
                began, spent = time.monotonic(), time.process_time()
                failed = await ccxt_batch(exchange, peers, "7")
                rows["ccxt + its limiter N=50"] = {
                    "wall_s": time.monotonic() - began,
                    "minimum_s": minimum(50),
                    "10006": rate_limited(await stats(banner.url)),
                    "failed": failed,
                    "cpu_s_per_call": (time.process_time() - spent) / 50,
                }
            finally:
                await exchange.close()
        session = pybit_session(banner)
        if session is not None:
            await asyncio.sleep(1.2)
            await reset(banner.url)
            began, spent = time.monotonic(), time.process_time()
            failed = await asyncio.to_thread(pybit_batch, session, peers, "8")
            rows["pybit N=50"] = {
                "wall_s": time.monotonic() - began,
                "minimum_s": minimum(50),
                "10006": rate_limited(await stats(banner.url)),
                "failed": failed,
                "cpu_s_per_call": (time.process_time() - spent) / 50,
            }
    return rows


async def instruments_section() -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for listed in (600, 2000):
        with spawn(symbols=listed, rate_limit=False) as banner:
            async with bl.BybitClient(base_url=banner.url) as reader:
                began = time.perf_counter()
                instruments = await reader.get_instruments()
                cold = time.perf_counter() - began
                requests = count(await stats(banner.url), "instruments-info")
                names = list(instruments)
                rng = random.Random(listed)
                lookups = [rng.choice(names) for _ in range(20_000)]
                began = time.perf_counter()
                for name in lookups:
                    await reader.get_leverage_filter(name)
                warm = len(lookups) / (time.perf_counter() - began)
        rows[f"{listed} symbols"] = {
            "instruments": len(instruments),
            "cold_s": cold,
            "cold_requests": requests,
            "warm_lookups_per_s": warm,
        }
    return rows


def snapping_section() -> dict[str, Any]:
    rule = bl.LeverageFilter(Decimal(1), Decimal(100), Decimal("0.01"))
    rng = random.Random(7)
    values = [f"{rng.uniform(0.5, 150):.4f}" for _ in range(50_000)]
    began = time.perf_counter()
    for value in values:
        bl.snap(value, rule)
    return {"snaps_per_s": len(values) / (time.perf_counter() - began)}


class Collections:
    """CPython's full (generation 2) collections and how long each took."""

    def __init__(self) -> None:
        self.full: list[float] = []
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.full.append(time.perf_counter() - self._began)

    def __enter__(self) -> Collections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


async def stall_section(n: int, rounds: int) -> dict[str, Any]:
    """The longest the event loop waits while a batch plans, sends and reports.

    A watchdog sleeps 1 ms at a time and records how late it wakes; each phase
    runs ``rounds`` times and the median of the rounds' longest waits is the
    figure (the simulator shares the machine's two cores, and the scheduler
    sometimes makes the loop wait for it), with the longest of all beside it.
    CPython's full collections are counted too: one walks the whole process's
    heap (this harness holds ccxt and pybit too), whoever allocates when it
    falls due. The batch then runs again after ``gc.freeze()``, which is what
    an engine can do once it has started (docs/benchmarks.md).
    """
    lags: list[float] = []

    async def watchdog() -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(0.001)
            lags.append(loop.time() - began - 0.001)

    async def measure(run: Callable[[int], Awaitable[object]]) -> dict[str, Any]:
        longest: list[float] = []
        collections: list[float] = []
        for index in range(rounds):
            await asyncio.sleep(0.05)  # the watchdog's lag over what came before
            lags.clear()
            with Collections() as seen:
                await run(index)
            longest.append(max(lags))
            collections += seen.full
        return {
            "median_s": statistics.median(longest),
            "max_s": max(longest),
            "full_collections_s": collections,
        }

    async def listing(_: int) -> None:
        sdk.instruments.invalidate()
        await sdk.get_instruments()

    batches = 0

    async def batch(_: int) -> None:
        nonlocal batches
        batches += 1
        await ours(sdk, symbols, "7" if batches % 2 else "8")  # a change each time

    with spawn(symbols=int(n * 1.3) + 100, rate_limit=False) as banner:
        symbols = await usable(banner, n)
        async with client(banner, limits=bl.Limits.OFF) as sdk:
            dog = asyncio.create_task(watchdog())
            await sdk.get_account()
            phases = {
                "listing (cold)": await measure(listing),
                "plan, send, report": await measure(batch),
            }
            gc.collect()
            gc.freeze()
            try:
                phases["plan, send, report after gc.freeze()"] = await measure(batch)
            finally:
                gc.unfreeze()
            dog.cancel()
    return {"n": n, "rounds": rounds, "phases": phases}


# -- the table ----------------------------------------------------------------------


PACED_TARGET = "minimum + 0.3 s, 0 x 10006, <= 0.3 ms"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def table(results: dict[str, Any]) -> str:
    lines = ["| figure | measured | target |", "|---|---|---|"]
    c = results["cpu"]["cpu_s_per_call"]
    floor = c["floor"]
    lines.append(
        f"| CPU ms per set-leverage, N={results['cpu']['n']}, no exchange limit: raw "
        f"aiohttp floor | {ms(floor)} | |"
    )
    for name, target in (
        ("ours, limits off", "<= 1.15x floor"),
        ("ours, default limits", "<= 1.3x floor"),
        ("ccxt", ""),
        ("ccxt + its limiter", ""),
        ("pybit", ""),
    ):
        if name in c:
            lines.append(
                f"| same, {name} | {ms(c[name])} ({c[name] / floor:.2f}x floor) | "
                f"{target} |"
            )
    for name, row in results["paced"].items():
        extra = ""
        if "second_pass_requests" in row:
            extra = (
                f"; second pass {row['second_pass_requests']} reads, "
                f"{row['second_pass_writes']} writes, {row['second_pass_s']:.2f} s"
            )
        lines.append(
            f"| {name} at 10/s: wall s (minimum) / 10006 / CPU ms per call | "
            f"{row['wall_s']:.2f} ({row['minimum_s']:.0f}) / {row['10006']} / "
            f"{ms(row['cpu_s_per_call'])}{extra} | "
            + (
                "minimum + 0.3 s, 0 x 10006, <= 0.3 ms"
                if name.startswith("ours")
                else ""
            )
            + " |"
        )
    for name, row in results["instruments"].items():
        lines.append(
            f"| instruments, {name}: cold load (requests) / warm lookups per s | "
            f"{row['cold_s']:.3f} s ({row['cold_requests']}) / "
            f"{row['warm_lookups_per_s']:,.0f} | |"
        )
    lines.append(
        f"| snapping: snaps per s | {results['snapping']['snaps_per_s']:,.0f} | |"
    )
    stall = results["stall"]
    for phase, row in stall["phases"].items():
        collections = row["full_collections_s"]
        during = (
            f"; {len(collections)} full collection(s), longest "
            f"{ms(max(collections))} ms"
            if collections
            else "; no full collection"
        )
        lines.append(
            f"| longest event-loop stall, {stall['n']}-symbol batch, {phase}: median "
            f"(max) of {stall['rounds']} rounds | {ms(row['median_s'])} "
            f"({ms(row['max_s'])}) ms{during} | <= 5 ms |"
        )
    return "\n".join(lines)


async def run(rounds: int, quick: bool) -> dict[str, Any]:
    return {
        "cpu": await cpu_section(rounds, 100 if quick else 300),
        "paced": await paced_section([50] if quick else [50, 200]),
        "instruments": await instruments_section(),
        "snapping": snapping_section(),
        "stall": await stall_section(500 if quick else 2000, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (3)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller N, to try the harness"
    )
    args = parser.parse_args()
    logging.getLogger("pybit").setLevel(logging.CRITICAL)  # it logs every 10006
    results = asyncio.run(run(args.rounds, args.quick))
    command = " ".join([".venv/bin/python", "benchmarks/harness.py", *sys.argv[1:]])
    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}, "
        f"{platform.machine()}; `{command}`"
    )
    text = f"{header}\n\n{table(results)}\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = "quick" if args.quick else "latest"
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"when": header, **results}, indent=2, default=str) + "\n"
    )


if __name__ == "__main__":
    main()
