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
from typing import Any

from bybit_leverage import (
    BybitClient,
    Category,
    Instrument,
    InstrumentStatus,
    LeverageRequest,
    Outcome,
)
from bybit_leverage import format_leverage as fmt
from bybit_leverage.cli._output import Output
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


async def run_demo(out: Output, *, symbols: int, batch: int, seed: int) -> int:
    """Run the demo and print what happened; return the exit code."""
    loop = asyncio.get_running_loop()
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
            started = loop.time()
            instruments = await client.fetch_instruments(Category.LINEAR)
            out.line(
                f"Read {len(instruments)} instruments (every page, plus pre-launch) "
                f"in {loop.time() - started:.2f}s."
            )
            requests = demo_targets(instruments, batch, seed)

            plan = await client.plan_leverage_many(requests)
            adjusted = [p for p in plan if p.adjusted and p.action is Outcome.SET]
            out.table(
                f"Snapping adjusted {len(adjusted)} of {len(plan)} targets",
                ("symbol", "requested", "allowed", "becomes"),
                [
                    [
                        p.symbol,
                        fmt(p.requested_buy) if p.requested_buy is not None else "-",
                        str(p.instrument.leverage_filter) if p.instrument else "-",
                        fmt(p.target_buy) if p.target_buy is not None else "-",
                    ]
                    for p in adjusted
                ],
            )
            for change in plan:
                if change.action is Outcome.REJECTED:
                    out.line(f"rejected before sending: {change.error}")

            sim.reset_stats()
            first = await client.execute(plan)
            to_set = len(plan.to_send)
            # A rolling 10/s window lets 10 go at once, then 10 more each second.
            floor = max(to_set - 1, 0) // 10
            out.line(
                f"First pass: {_counts(first.counts)} in {first.elapsed:.2f}s "
                f"for {to_set} writes (the 10/s limit allows no less than "
                f"{floor}s); {first.requests_sent} requests, "
                f"{_rate_limited(sim.stats())} answered 10006."
            )

            started = loop.time()
            sim.reset_stats()
            second = await client.set_leverage_many(requests)
            writes = int(sim.stats().get("set-leverage", {}).get("requests", 0))
            out.line(
                f"Second pass: {_counts(second.counts)} "
                f"in {loop.time() - started:.2f}s: {second.requests_sent} reads "
                f"and {writes} writes; every valid symbol is already at its target."
            )
    failed = first.counts.get(Outcome.FAILED, 0) + second.counts.get(Outcome.FAILED, 0)
    return 1 if failed else 0


def _rate_limited(stats: dict[str, dict[str, Any]]) -> int:
    return sum(
        int(endpoint.get("ret_codes", {}).get(10006, 0)) for endpoint in stats.values()
    )


def _counts(counts: dict[Outcome, int]) -> str:
    return ", ".join(f"{n} {outcome.value}" for outcome, n in counts.items())
