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

from bybit_leverage._http import Tally
from bybit_leverage._outcomes import read_back
from bybit_leverage._reads import LeverageReader
from bybit_leverage.models import Outcome
from bybit_leverage.report import BatchPlan, LeverageResult

__all__ = ["needs_read_back", "verify_results"]


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
    for change, result in zip(plan.changes, results, strict=True):
        if needs_read_back(result, verify):
            current = reading.values.get(result.symbol)
            result = read_back(change, result, current, reading.source)
        settled.append(result)
    return tuple(settled)
