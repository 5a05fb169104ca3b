"""Carrying out a plan: check the key once, send, then read back what is uncertain.

The order is the promise: nothing is written before the key is known to be able
to write; every planned symbol gets exactly one result; and before the report
is returned, any symbol whose request may have landed unseen is read back, so
no result states a leverage the exchange does not hold.
"""

from __future__ import annotations

import asyncio

from bybit_leverage._account import AccountCache
from bybit_leverage._api import BybitApi
from bybit_leverage._config import check_positive
from bybit_leverage._http import Tally
from bybit_leverage._reads import LeverageReader
from bybit_leverage._setter import OnRiskLimit, ProgressCallback, send_all
from bybit_leverage._slices import breathe
from bybit_leverage._verify import reconcile, verify_results
from bybit_leverage.journal import BatchJournal
from bybit_leverage.report import BatchPlan, BatchReport

__all__ = ["Executor"]


class Executor:
    """Sends plans and verifies their outcomes.

    Args:
        api: The endpoint floor (set-leverage).
        account: Checks the key before the first write.
        reader: Reads back uncertain (or, with ``verify=True``, all) outcomes.
    """

    def __init__(
        self, api: BybitApi, account: AccountCache, reader: LeverageReader
    ) -> None:
        self._api = api
        self._account = account
        self._reader = reader

    async def execute(
        self,
        plan: BatchPlan,
        *,
        concurrency: int,
        on_risk_limit: OnRiskLimit,
        on_progress: ProgressCallback | None,
        verify: bool | None,
        journal: BatchJournal | None = None,
    ) -> BatchReport:
        """Send what ``plan`` sets and report every symbol, verified.

        Raises:
            ConfigurationError: ``concurrency`` is not a positive whole number.
            AuthenticationError: The key cannot write (nothing is sent).
        """
        check_positive("concurrency", concurrency, integer=True)
        loop = asyncio.get_running_loop()
        started = loop.time()
        if plan.to_send:
            await self._account.check_can_write()
        results = await send_all(
            self._api,
            plan.changes,
            concurrency=concurrency,
            on_risk_limit=on_risk_limit,
            on_progress=on_progress,
            journal=journal,
        )
        reads = Tally()
        answered = results
        results = await verify_results(self._reader, plan, answered, verify, reads)
        if journal is not None:  # the read-back settled what was uncertain
            for index, (before, after) in enumerate(
                zip(answered, results, strict=True)
            ):
                if after is not before:
                    journal.settled(after)
                await breathe(index)
        await asyncio.sleep(0)  # the report of 2,000 symbols is a step of its own
        sent = plan.requests_sent + reads.sent + sum(r.attempts for r in results)
        return BatchReport(results, sent, plan.elapsed + loop.time() - started)

    async def reconcile(self, journal: BatchJournal) -> BatchReport:
        """Read back what ``journal`` says may have changed (see ``_verify``)."""
        return await reconcile(self._reader, journal)
