"""The main job, end to end, against the built-in simulator: ``bybit-leverage demo``.

It starts a simulated Bybit on loopback with the real 10/s set-leverage limit and
20 ms of latency, plans and sets leverage for a batch of symbols (some values off
the grid or above the cap, one unknown symbol, one that is not trading), shows what
snapping adjusted, then runs the same batch again: every valid symbol is already
at its target, so the second pass costs one request.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any, Final

from bybit_leverage import (
    BatchPlan,
    BatchReport,
    BybitClient,
    Category,
    Instrument,
    InstrumentStatus,
    LeverageRequest,
    Limits,
    Outcome,
    Retries,
)
from bybit_leverage import format_leverage as fmt
from bybit_leverage.cli._output import Output
from bybit_leverage.report import RESULT_COLUMNS
from bybit_leverage.simulator import BybitSimulator

__all__ = ["demo_targets", "run_demo"]

LATENCY_MS = 20
UNKNOWN_SYMBOL = "NOTAREALUSDT"


def demo_targets(
    instruments: list[Instrument], count: int, seed: int
) -> list[LeverageRequest]:
    """Pick ``count`` tradable symbols and give them a realistic mix of targets.

    Most targets are round numbers; about one in six is off the step grid and one
    in ten is above the symbol's cap. One unknown symbol and one symbol that is
    not trading are added, so the demo shows a rejection of each kind.
    """
    rng = random.Random(seed)
    tradable = sorted(
        (i for i in instruments if i.status is InstrumentStatus.TRADING),
        key=lambda i: i.symbol,
    )
    chosen = rng.sample(tradable, min(count, len(tradable)))
    requests = []
    for index, instrument in enumerate(chosen):
        cap = instrument.leverage_filter.max_leverage
        if index % 10 == 3:
            value = fmt(cap + 25)  # above the cap: snapped down to it
        elif index % 6 == 1:
            whole = int(min(cap, Decimal(20))) - 1
            value = f"{whole}.{rng.randint(101, 999)}"  # off the grid
        else:
            value = str(rng.choice((2, 3, 5, 8, 10, 15, 20)))
        requests.append(LeverageRequest(instrument.symbol, value))
    requests.append(LeverageRequest(UNKNOWN_SYMBOL, "10"))
    idle = [i for i in instruments if i.status is not InstrumentStatus.TRADING]
    if idle:
        requests.append(LeverageRequest(min(idle, key=lambda i: i.symbol).symbol, "5"))
    return requests


#: Faults injected into the first pass: each is survived, and every symbol ends
#: accounted for. (fault, how many answers it replaces)
FAULTS: Final = (
    ("http_503", 3),  # the gateway stumbles: retried
    ("reset_after_write", 2),  # the write lands, its answer is lost: read back
    ("ret_10016", 2),  # Bybit's transient server error: retried
    ("truncated", 1),  # a 200 whose body is cut off: retried
)
#: Rows of the result table the demo shows (the rest is counted).
SHOWN_ROWS: Final = 14


async def run_demo(out: Output, *, symbols: int, batch: int, seed: int) -> int:
    """Run the demo and print what happened; return the exit code."""
    async with BybitSimulator(
        symbols=symbols, seed=seed, rate_limit=True, latency_ms=LATENCY_MS
    ) as sim:
        out.line(
            f"Simulated Bybit at {sim.url}: {symbols} linear symbols, "
            f"set-leverage limited to 10/s per account, {LATENCY_MS} ms latency."
        )
        async with BybitClient(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url
        ) as client:
            requests = await _read_market(out, client, batch, seed)
            plan = await _show_plan(out, client, requests)
            first = await _first_pass(out, client, sim, plan)
            await _naive_comparison(out, sim, plan, first)
            second = await _second_pass(out, client, sim, requests)
    out.line(
        "Next, on testnet with your own keys (nothing is written without --yes "
        "or a 'y'):"
    )
    out.line(
        "  export BYBIT_API_KEY=... BYBIT_API_SECRET=...; "
        "bybit-leverage plan --testnet BTCUSDT=10 ETHUSDT=12.5"
    )
    failed = first.counts.get(Outcome.FAILED, 0) + second.counts.get(Outcome.FAILED, 0)
    return 1 if failed else 0


async def _read_market(
    out: Output, client: BybitClient, batch: int, seed: int
) -> list[LeverageRequest]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    instruments = await client.fetch_instruments(Category.LINEAR)
    out.line(
        f"Read {len(instruments)} instruments (every page, plus pre-launch) "
        f"in {loop.time() - started:.2f}s."
    )
    return demo_targets(instruments, batch, seed)


async def _show_plan(
    out: Output, client: BybitClient, requests: list[LeverageRequest]
) -> BatchPlan:
    plan = await client.plan_leverage_many(requests)
    adjusted = [p for p in plan if p.adjusted and p.action is Outcome.SET]
    out.table(
        f"Snapping adjusted {len(adjusted)} of {len(plan)} targets "
        f"({len(plan.clamped)} clamped to their maximum, the rest rounded down "
        "onto the grid)",
        ("symbol", "requested", "allowed", "becomes"),
        [
            [
                p.symbol,
                fmt(p.requested_buy) if p.requested_buy is not None else "-",
                str(p.instrument.leverage_filter) if p.instrument else "-",
                fmt(p.target_buy) if p.target_buy is not None else "-",
            ]
            for p in sorted(adjusted, key=lambda p: not p.clamped)[:SHOWN_ROWS]
        ],
    )
    for change in plan:
        if change.action is Outcome.REJECTED:
            out.line(f"rejected before sending: {change.error}")
    return plan


async def _first_pass(
    out: Output, client: BybitClient, sim: BybitSimulator, plan: BatchPlan
) -> BatchReport:
    sim.reset_stats()
    for fault, times in FAULTS:
        sim.inject("set-leverage", fault, times=times)
    to_set = len(plan.to_send)
    out.line(
        f"First pass: {to_set} writes, with "
        + ", ".join(f"{times} x {fault}" for fault, times in FAULTS)
        + " injected on the way..."
    )
    with out.progress(len(plan), "setting leverage") as progress:
        first = await client.execute(plan, on_progress=progress)
    rows = sorted(first.rows(), key=_interesting_first)
    out.table(
        f"Results ({min(len(rows), SHOWN_ROWS)} of {len(rows)} shown: rejected, "
        "failed and adjusted first)",
        RESULT_COLUMNS,
        rows[:SHOWN_ROWS],
    )
    held = sum(
        sim.account.leverage(r.symbol) == (r.applied_buy, r.applied_sell)
        for r in first
        if r.ok
    )
    # A rolling 10/s window lets 10 go at once, then 10 more each second.
    floor = max(to_set - 1, 0) // 10
    out.line(
        f"First pass: {_counts(first.counts)} in {first.elapsed:.2f}s for "
        f"{to_set} writes (the 10/s limit allows no less than {floor}s); "
        f"{first.requests_sent} requests, {_rate_limited(sim.stats())} answered "
        f"10006; {_faults_met(sim.stats())} injected faults survived; every "
        f"symbol accounted for, and all {held} that succeeded hold on the "
        "exchange what the report says."
    )
    return first


async def _naive_comparison(
    out: Output, sim: BybitSimulator, plan: BatchPlan, ours: BatchReport
) -> None:
    """The same writes as a plain gather: no pacing, no retries (on a fresh account)."""
    fresh = sim.add_account()
    sim.reset_stats()
    loop = asyncio.get_running_loop()
    async with BybitClient(
        api_key=fresh.api_key,
        api_secret=fresh.api_secret,
        base_url=sim.url,
        limits=Limits.OFF,
        retries=Retries(max_attempts=1, deadline=0.001),
    ) as naive:
        await naive.get_instruments()
        started = loop.time()
        results = await asyncio.gather(
            *(
                naive.set_leverage(c.symbol, buy=c.target_buy, sell=c.target_sell)
                for c in plan.to_send
            )
        )
        elapsed = loop.time() - started
    done = sum(r.outcome is Outcome.SET for r in results)
    out.line(
        f"A naive asyncio.gather of the same {len(results)} writes (no pacing, no "
        f"retries) on a fresh account: {done} set, "
        f"{_rate_limited(sim.stats())} answered 10006, in {elapsed:.2f}s. "
        f"bybit-leverage: {ours.counts.get(Outcome.SET, 0)} set, 0 answered "
        f"10006, in {ours.elapsed:.2f}s."
    )


async def _second_pass(
    out: Output,
    client: BybitClient,
    sim: BybitSimulator,
    requests: list[LeverageRequest],
) -> BatchReport:
    loop = asyncio.get_running_loop()
    started = loop.time()
    sim.reset_stats()
    second = await client.set_leverage_many(requests)
    writes = int(sim.stats().get("set-leverage", {}).get("requests", 0))
    out.line(
        f"Second pass: {_counts(second.counts)} "
        f"in {loop.time() - started:.2f}s: {second.requests_sent} reads "
        f"and {writes} writes; every valid symbol is already at its target."
    )
    return second


def _interesting_first(row: tuple[str, ...]) -> tuple[int, str]:
    outcome, adjusted = row[1], row[4]
    rank = {"rejected": 0, "failed": 0}.get(outcome, 1 if adjusted else 2)
    return rank, row[0]


def _faults_met(stats: dict[str, dict[str, Any]]) -> int:
    """Set-leverage answers that were not a clean one: errors, resets, cut bodies."""
    entry = stats.get("set-leverage", {})
    statuses: dict[int, int] = entry.get("http", {})
    codes: dict[int, int] = entry.get("ret_codes", {})
    http_errors = sum(n for status, n in statuses.items() if status != 200)
    unanswered = int(entry.get("requests", 0)) - sum(statuses.values())
    # A truncated body is a 200 with no readable retCode.
    cut = statuses.get(200, 0) - sum(codes.values())
    return http_errors + unanswered + cut + codes.get(10016, 0)


def _rate_limited(stats: dict[str, dict[str, Any]]) -> int:
    return sum(
        int(endpoint.get("ret_codes", {}).get(10006, 0)) for endpoint in stats.values()
    )


def _counts(counts: dict[Outcome, int]) -> str:
    return ", ".join(f"{n} {outcome.value}" for outcome, n in counts.items())
