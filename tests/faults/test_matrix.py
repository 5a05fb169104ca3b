"""The fault matrix: a 200-symbol batch through the simulator under each fault.

Each case injects its faults into the simulator, runs the batch, and checks the
promises of ``harness.check``. Set ``FAULT_TABLE=path.md`` to write the table of
outcome counts, requests and loop time (``make faults`` does).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bybit_leverage import BybitClient, Outcome
from bybit_leverage.simulator import BybitSimulator
from tests.faults.harness import CaseRun, run_batch, symbols_for

N = 200
#: (endpoint, fault, times): what each case injects before its batch.
CASES: dict[str, tuple[list[tuple[str, str, int]], float]] = {
    "no fault": ([], 25),
    "10006 storm, with reset headers": ([("set-leverage", "ret_10006", 30)], 30),
    "10006 storm, no reset header": ([("set-leverage", "ret_10006_no_reset", 30)], 60),
    "10006, reset 60 s away": ([("set-leverage", "ret_10006_far_reset", 3)], 60),
    "10016": ([("set-leverage", "ret_10016", 30)], 30),
    "HTTP 500": ([("set-leverage", "http_500", 20)], 30),
    "HTTP 502": ([("set-leverage", "http_502", 20)], 30),
    "HTTP 503": ([("set-leverage", "http_503", 20)], 30),
    "HTTP 429": ([("set-leverage", "http_429", 20)], 30),
    "HTTP 403 (HTML)": ([("set-leverage", "http_403", 5)], 25),
    "reset before the write": ([("set-leverage", "reset", 20)], 30),
    "reset after the write": ([("set-leverage", "reset_after_write", 20)], 30),
    "hang past the timeout": ([("set-leverage", "hang", 5)], 40),
    "truncated JSON, every endpoint": ([("*", "truncated", 12)], 40),
    "malformed JSON, every endpoint": ([("*", "malformed_json", 12)], 40),
}
ROWS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    yield
    target = os.environ.get("FAULT_TABLE")
    if target and ROWS:
        header = "| fault | set | unchanged | rejected | failed | requests | loop s |"
        lines = [header, "|---|---|---|---|---|---|---|", *ROWS]
        Path(target).write_text("\n".join(lines) + "\n")


def row(name: str, run: CaseRun) -> None:
    counts = run.report.counts
    cells = [counts.get(o, 0) for o in Outcome]
    ROWS.append(
        f"| {name} | {' | '.join(map(str, cells))} | "
        f"{run.report.requests_sent} | {run.elapsed:.1f} |"
    )


pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=400, seed=11)]


@pytest.mark.parametrize("name", list(CASES))
async def test_one_fault_class(
    fast_client: BybitClient, sim: BybitSimulator, name: str
) -> None:
    injections, within = CASES[name]
    symbols = symbols_for(sim, N)
    await fast_client.get_instruments()  # listed before the faults start
    for endpoint, fault, times in injections:
        sim.inject(endpoint, fault, times=times)
    run = await run_batch(fast_client, sim, symbols, within=within)
    row(name, run)
    if name == "HTTP 403 (HTML)":  # never retried: those symbols fail for sure
        assert run.report.counts.get(Outcome.FAILED, 0) == 5
    else:
        assert run.report.counts == {Outcome.SET: N}


@pytest.mark.parametrize("jump_ms", [8_000, -8_000])
async def test_a_clock_jump_mid_batch(
    fast_client: BybitClient, sim: BybitSimulator, jump_ms: int
) -> None:
    symbols = symbols_for(sim, N)

    def jump(result: object, done: int, total: int) -> None:
        if done == 50:
            sim.set_clock_skew(jump_ms)

    run = await run_batch(fast_client, sim, symbols, on_progress=jump, within=30)
    row(f"clock jump {jump_ms:+d} ms", run)
    assert run.report.counts == {Outcome.SET: N}


async def test_a_failing_instruments_refresh(sim: BybitSimulator) -> None:
    symbols = symbols_for(sim, N)
    async with BybitClient(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url, cache_ttl=60
    ) as client:
        await client.get_instruments()
        await asyncio.sleep(61)  # the listing expires
        sim.inject("instruments-info", "http_503", times=50)
        run = await run_batch(client, sim, symbols, within=40)
    row("failing instruments refresh (stale listing served)", run)
    assert run.report.counts == {Outcome.SET: N}


async def test_a_symbol_delisted_between_plan_and_send(
    fast_client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = symbols_for(sim, N)
    plan = await fast_client.plan_leverage_many(dict.fromkeys(symbols, 5))
    gone = symbols[7]
    sim.set_status(gone, "Closed")
    report = await fast_client.execute(plan)
    assert report[gone].outcome is Outcome.FAILED
    assert report[gone].error is not None
    assert report[gone].applied == sim.account.leverage(gone)[0]
    assert report.counts == {Outcome.SET: N - 1, Outcome.FAILED: 1}


async def test_the_deadline_bounds_a_storm(sim: BybitSimulator) -> None:
    symbols = symbols_for(sim, N)
    sim.inject("set-leverage", "http_503", times=10_000)
    async with BybitClient(
        api_key=sim.api_key,
        api_secret=sim.api_secret,
        base_url=sim.url,
        retry_deadline=1.0,
        max_attempts=50,
    ) as client:
        # Time queued behind the 10/s limit is not charged to the deadline: each
        # symbol gets about four sends in its second, 800 sends at 10/s.
        run = await run_batch(client, sim, symbols, within=4 * N / 10 + 10)
    row("deadline expiring in a 503 storm", run)
    assert run.report.counts == {Outcome.FAILED: N}
    # 503s never landed: every result was read back and states the old value.
    assert all(not r.uncertain and r.applied is not None for r in run.report)


async def test_mixed_faults(fast_client: BybitClient, sim: BybitSimulator) -> None:
    rng = random.Random(2026)
    symbols = symbols_for(sim, N)
    faults = ["ret_10006", "ret_10016", "http_503", "http_429", "reset"]
    faults += ["reset_after_write", "truncated", "hang"]

    def meddle(result: object, done: int, total: int) -> None:
        if rng.random() < 0.1:
            endpoint = rng.choice(["set-leverage", "set-leverage", "symbol-info"])
            sim.inject(endpoint, rng.choice(faults))

    for fault in rng.sample(faults, 4):
        sim.inject("set-leverage", fault)
    run = await run_batch(fast_client, sim, symbols, on_progress=meddle, within=60)
    row("mixed (10% of answers faulted)", run)
    assert run.report.counts == {Outcome.SET: N}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_cancellation_at_a_random_instant(
    fast_client: BybitClient, sim: BybitSimulator, seed: int
) -> None:
    rng = random.Random(seed)
    symbols = symbols_for(sim, N)
    before = {s: sim.account.leverage(s) for s in symbols}
    sim.set_latency(rng.uniform(5, 300))
    from bybit_leverage import BatchJournal

    journal = BatchJournal()
    batch = asyncio.create_task(
        fast_client.set_leverage_many(dict.fromkeys(symbols, 5), journal=journal)
    )
    await asyncio.sleep(rng.uniform(0.01, 15))
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    await asyncio.sleep(2)
    changed = {s for s in symbols if sim.account.leverage(s) != before[s]}
    assert changed <= set(journal.may_have_changed)
    sim.set_latency(0)
    report = await fast_client.reconcile(journal)
    for result in report:
        assert (result.applied_buy, result.applied_sell) == sim.account.leverage(
            result.symbol
        )
