"""One batch through the simulator under a fault, checked against the exchange.

Every case of the matrix (and the soak) asserts the same promises:
- exactly one result per symbol, in input order;
- every SET or UNCHANGED result states what the simulator holds;
- no FAILED result for a symbol whose change landed (unless it was read back
  as such: a FAILED result always states the exchange's value, or none);
- the journal names every symbol whose leverage changed;
- no task of the client is left behind;
- the batch ends within a stated time (loop time, fast-forwarded by looptime).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from attrs import frozen

from bybit_leverage import (
    BatchJournal,
    BatchReport,
    BybitClient,
    Category,
    InstrumentStatus,
    LeverageResult,
    Outcome,
)
from bybit_leverage.simulator import BybitSimulator, SimAccount

TARGET = Decimal(5)


def symbols_for(sim: BybitSimulator, count: int) -> list[str]:
    """``count`` tradable linear symbols whose grid holds ``TARGET``."""
    found = [
        item.symbol
        for item in sim.universe.by_category[Category.LINEAR]
        if item.instrument.status is InstrumentStatus.TRADING
        and item.instrument.leverage_filter.max_leverage > TARGET  # not there yet
    ]
    assert len(found) >= count, f"the universe lists only {len(found)}"
    return found[:count]


def client_tasks() -> set[asyncio.Task[object]]:
    """Tasks that run the client's code (the simulator's own are not counted)."""
    found = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        module = code.co_filename if code is not None else ""
        if "bybit_leverage" in module and "simulator" not in module:
            found.add(task)
    return found


@frozen
class CaseRun:
    """What a case produced, for its table row."""

    report: BatchReport
    journal: BatchJournal
    elapsed: float


def check(
    report: BatchReport,
    journal: BatchJournal,
    symbols: Sequence[str],
    before: Mapping[str, tuple[Decimal, Decimal]],
    account: SimAccount,
) -> None:
    """The promises every case keeps (see the module docstring)."""
    assert [r.symbol for r in report] == list(symbols), "one result per symbol"
    changed = set()
    for result in report:
        held = account.leverage(result.symbol)
        if held != before[result.symbol]:
            changed.add(result.symbol)
        _check_result(result, held, before[result.symbol])
    assert changed <= set(journal.may_have_changed), "the journal names changes"


def _check_result(
    result: LeverageResult,
    held: tuple[Decimal, Decimal],
    before: tuple[Decimal, Decimal],
) -> None:
    applied = (result.applied_buy, result.applied_sell)
    if result.outcome in (Outcome.SET, Outcome.UNCHANGED):
        assert applied == held, f"{result.symbol}: states {applied}, holds {held}"
        return
    if result.outcome is Outcome.FAILED:
        if result.uncertain:
            assert applied == (None, None), f"{result.symbol}: guessed {applied}"
        else:
            assert applied in ((None, None), held), f"{result.symbol}: {applied}"
        if held != before and not result.uncertain:
            assert applied == held, f"{result.symbol}: landed but reported FAILED"


async def run_batch(
    client: BybitClient,
    sim: BybitSimulator,
    symbols: Sequence[str],
    *,
    on_progress: Callable[[LeverageResult, int, int], object] | None = None,
    within: float,
    **options: object,
) -> CaseRun:
    """Set ``TARGET`` on ``symbols``, check every promise, and return the outcome."""
    before = {symbol: sim.account.leverage(symbol) for symbol in symbols}
    journal = BatchJournal()
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = await client.set_leverage_many(
        dict.fromkeys(symbols, TARGET),
        journal=journal,
        on_progress=on_progress,
        **options,  # type: ignore[arg-type]
    )
    elapsed = loop.time() - started
    await asyncio.sleep(0)
    assert not client_tasks(), "no client task is left behind"
    check(report, journal, symbols, before, sim.account)
    assert elapsed <= within, f"took {elapsed:.1f}s, bound {within}s"
    return CaseRun(report, journal, elapsed)
