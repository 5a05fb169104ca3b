"""Verified outcomes: read back what a batch left in force, and say only that.

A request whose answer was lost (a reset after the write, a 5xx, a truncated
body) may have landed. Such a symbol is read back before the report is
returned, and its result states the exchange's value: ``SET`` if the change
landed, ``FAILED`` with what the exchange holds if it did not. With
``verify=True`` every symbol that was planned is read back, and a disagreement
becomes ``FAILED`` with :class:`LeverageMismatch`; ``verify=False`` reads
nothing (unconfirmed results then show no applied value at all).
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import evolve

from bybit_leverage._http import Tally
from bybit_leverage._outcomes import read_back
from bybit_leverage._reads import LeverageReader, Reading
from bybit_leverage._slices import breathe
from bybit_leverage.errors import Interrupted
from bybit_leverage.journal import BatchJournal, JournalEntry, SymbolState
from bybit_leverage.models import Category, LeverageSource, Outcome, PositionLeverage
from bybit_leverage.report import BatchPlan, BatchReport, LeverageResult

__all__ = ["needs_read_back", "reconcile", "verify_results"]


def needs_read_back(result: LeverageResult, verify: bool | None) -> bool:
    """Whether ``result`` is read back under ``verify`` (None: the uncertain ones)."""
    if verify is False or result.outcome is Outcome.REJECTED:
        return False
    return verify is True or result.uncertain


async def verify_results(
    reader: LeverageReader,
    plan: BatchPlan,
    results: Sequence[LeverageResult],
    verify: bool | None,
    tally: Tally,
) -> tuple[LeverageResult, ...]:
    """Read back the results that need it (one read for the batch) and settle them.

    Raises:
        AuthenticationError: The key stopped working (never papered over).
    """
    wanted = [r.symbol for r in results if needs_read_back(r, verify)]
    if not wanted:
        return tuple(results)
    reading = await reader.read(plan.category, wanted, tally)
    settled = []
    for index, (change, result) in enumerate(zip(plan.changes, results, strict=True)):
        if needs_read_back(result, verify):
            current = reading.values.get(result.symbol)
            result = read_back(change, result, current, reading.source)
        settled.append(result)
        await breathe(index)
    return tuple(settled)


async def reconcile(reader: LeverageReader, journal: BatchJournal) -> BatchReport:
    """Read back every unsettled (or unconfirmed) symbol of ``journal``.

    One result per journal entry, each stating what the exchange holds where it
    was read: a request in flight that landed is ``SET``; one that did not, or
    a symbol never sent, is ``FAILED`` with :class:`Interrupted` and the value in
    force (``UNCHANGED`` if it already held the target); a settled, confirmed
    symbol keeps its recorded outcome.

    Raises:
        AuthenticationError: The key cannot read (never papered over).
    """
    tally = Tally()
    unsure = [e for e in journal if e.state is not SymbolState.SETTLED or e.uncertain]
    readings: dict[Category, Reading] = {}
    for category in dict.fromkeys(e.category for e in unsure):
        symbols = [e.symbol for e in unsure if e.category is category]
        readings[category] = await reader.read(category, symbols, tally)
    results = []
    for index, entry in enumerate(journal):
        reading = readings.get(entry.category)
        current = reading.values.get(entry.symbol) if reading else None
        results.append(_reconciled(entry, current, reading.source if reading else None))
        await breathe(index)
    return BatchReport(tuple(results), tally.sent)


def _reconciled(
    entry: JournalEntry,
    current: PositionLeverage | None,
    source: LeverageSource | None,
) -> LeverageResult:
    target = (entry.target_buy, entry.target_sell)
    settled = entry.state is SymbolState.SETTLED and not entry.uncertain
    base = LeverageResult(
        entry.symbol,
        entry.category,
        entry.outcome if settled and entry.outcome else Outcome.FAILED,
        entry.target_buy,
        entry.target_sell,
        entry.applied_buy if settled else None,
        entry.applied_sell if settled else None,
        attempts=entry.sends,
        uncertain=not settled,
    )
    if settled:
        return base
    if current is None or source is None:  # not read: still unknown, no claim
        sent = entry.state is not SymbolState.PLANNED
        return evolve(base, error=Interrupted(entry.symbol, sent))
    actual = (current.buy, current.sell)
    if actual == target:
        outcome = Outcome.SET if entry.sends else Outcome.UNCHANGED
        error = None
    else:
        outcome = Outcome.FAILED
        error = Interrupted(entry.symbol, entry.sends > 0)
    return evolve(
        base,
        outcome=outcome,
        applied_buy=current.buy,
        applied_sell=current.sell,
        error=error,
        source=source,
        uncertain=False,
    )
