"""Sending planned changes: bounded, structured fan-out, one result per plan.

This module does I/O only. It takes the narrow endpoint it needs (a Protocol
that ``_api.BybitApi`` satisfies), never the client, so every arrow points down
and it is tested with a double of one method. What an answer means is decided by
``_outcomes`` (pure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Literal, Protocol, TypeAlias

from bybit_leverage._http import Tally
from bybit_leverage._outcomes import answered, failed, unsent
from bybit_leverage._slices import breathe, fan_out
from bybit_leverage.errors import BybitError, InvalidLeverage, RiskLimitExceeded
from bybit_leverage.journal import BatchJournal
from bybit_leverage.leverage import snap_leverage
from bybit_leverage.models import Category, Instrument, Outcome
from bybit_leverage.report import LeverageResult, PlannedChange

__all__ = [
    "LeverageEndpoint",
    "OnRiskLimit",
    "ProgressCallback",
    "send_all",
    "send_one",
]

logger = logging.getLogger(__name__)

#: What to do when Bybit answers 110013 (above the risk tier's maximum).
OnRiskLimit: TypeAlias = Literal["fail", "clamp"]
#: Called after each symbol finishes: ``(result, done, total)``.
ProgressCallback: TypeAlias = Callable[[LeverageResult, int, int], object]


class LeverageEndpoint(Protocol):
    """The one endpoint the setter needs."""

    async def set_leverage(
        self,
        category: Category,
        symbol: str,
        buy: Decimal,
        sell: Decimal,
        *,
        tally: Tally | None = None,
    ) -> bool:
        """Send set-leverage; True if it changed, False on 110043."""
        ...


async def send_one(
    api: LeverageEndpoint,
    plan: PlannedChange,
    *,
    on_risk_limit: OnRiskLimit = "fail",
    journal: BatchJournal | None = None,
) -> LeverageResult:
    """Send ``set-leverage`` for a planned change and report what happened.

    With ``on_risk_limit="clamp"``, a 110013 answer is retried once at the tier's
    maximum (snapped down onto the grid) and reported with ``adjusted=True``.
    Exchange and transport errors become a ``FAILED`` result; nothing is raised
    for them.
    """
    if plan.action is not Outcome.SET:
        return unsent(plan)
    instrument, buy, sell = plan.instrument, plan.target_buy, plan.target_sell
    if instrument is None or buy is None or sell is None:
        raise ValueError(f"{plan.symbol}: a SET plan needs its instrument and targets")
    loop = asyncio.get_running_loop()
    started = loop.time()
    adjusted, attempts, clamped_once, uncertain = plan.adjusted, 0, False, False
    while True:
        tally = Tally(on_send=partial(journal.sent, plan.symbol) if journal else None)
        try:
            modified = await api.set_leverage(
                plan.category, plan.symbol, buy, sell, tally=tally
            )
        except RiskLimitExceeded as exc:
            attempts += tally.sent
            uncertain |= tally.uncertain
            limit = None if clamped_once else _clamp(exc, instrument, on_risk_limit)
            if limit is None:
                return failed(
                    plan,
                    exc,
                    attempts=attempts,
                    elapsed=loop.time() - started,
                    uncertain=uncertain,
                )
            buy, sell = min(buy, limit), min(sell, limit)
            adjusted, clamped_once = True, True
            logger.info(
                "%s: risk limit allows %s; retrying at %s",
                plan.symbol,
                exc.allowed_max,
                limit,
            )
            continue
        except BybitError as exc:
            attempts += tally.sent
            return failed(
                plan,
                exc,
                attempts=attempts,
                elapsed=loop.time() - started,
                uncertain=uncertain or tally.uncertain,
            )
        attempts += tally.sent
        return answered(
            plan,
            modified=modified,
            buy=buy,
            sell=sell,
            adjusted=adjusted,
            attempts=attempts,
            sends=tally.sent,
            elapsed=loop.time() - started,
        )


def _clamp(
    exc: RiskLimitExceeded, instrument: Instrument, on_risk_limit: OnRiskLimit
) -> Decimal | None:
    """The leverage to retry at after a 110013, or ``None`` to fail."""
    if on_risk_limit != "clamp" or exc.allowed_max is None:
        return None
    try:
        return snap_leverage(exc.allowed_max, instrument.leverage_filter)
    except InvalidLeverage:
        return None


async def send_all(
    api: LeverageEndpoint,
    plans: Sequence[PlannedChange],
    *,
    concurrency: int = 20,
    on_risk_limit: OnRiskLimit = "fail",
    on_progress: ProgressCallback | None = None,
    journal: BatchJournal | None = None,
) -> tuple[LeverageResult, ...]:
    """Send set-leverage for every plan that needs it, concurrently.

    Every plan gets exactly one result, in input order, whatever fails; one
    symbol's failure never cancels another's request. The request core's pacing
    keeps the batch under Bybit's per-account limit, so ``concurrency`` only
    bounds how many requests wait at once. ``journal`` records each symbol as it
    is planned, goes on the wire and settles; an exception raised by
    ``on_progress`` is logged once and the batch goes on.

    Cancelling cancels the requests not yet answered and logs, from the journal,
    which symbols changed and which were in flight (they may have landed).
    """
    journal = journal if journal is not None else BatchJournal()
    results: dict[int, LeverageResult] = {}
    progress = _Progress(on_progress)

    def finish(index: int, result: LeverageResult) -> None:
        results[index] = result
        progress(result, len(results), len(plans))

    async def send(index: int) -> None:
        result = await send_one(
            api, plans[index], on_risk_limit=on_risk_limit, journal=journal
        )
        journal.settled(result)
        finish(index, result)

    try:
        to_send = []
        for index, plan in enumerate(plans):
            if plan.action is Outcome.SET:
                journal.planned(plan)
                to_send.append(index)
            else:
                finish(index, unsent(plan))
            await breathe(index)
        await fan_out(to_send, concurrency, send)
    except asyncio.CancelledError:
        logger.warning(
            "batch cancelled after %d of %d symbols; changed: %s; in flight (may "
            "have changed): %s",
            len(results),
            len(plans),
            ", ".join(journal.changed) or "none",
            ", ".join(journal.in_flight) or "none",
        )
        raise
    return tuple(results[index] for index in range(len(plans)))


class _Progress:
    """Calls the caller's ``on_progress``; a raising callback is logged once."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._failed = False

    def __call__(self, result: LeverageResult, done: int, total: int) -> None:
        if self._callback is None:
            return
        try:
            self._callback(result, done, total)
        except Exception:  # the caller's bug must not cost anyone a result
            if not self._failed:
                self._failed = True
                logger.exception(
                    "on_progress raised (reported once; the batch goes on)"
                )
