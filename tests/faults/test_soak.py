"""The soak: several accounts at once, random faults, every symbol accounted for.

``make soak`` runs 2,000 symbols across 4 accounts (``SOAK_SYMBOLS=2000``); the
test suite runs a short version. About 5% of answers are faulted, at random.
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from bybit_leverage import BatchJournal, BybitClient, LeverageResult
from bybit_leverage.simulator import BybitSimulator, SimAccount
from tests.faults.harness import TARGET, check, client_tasks, symbols_for

ACCOUNTS = 4
SYMBOLS = int(os.environ.get("SOAK_SYMBOLS", "200"))
FAULTS = (
    "ret_10006",
    "ret_10016",
    "http_500",
    "http_503",
    "http_429",
    "reset",
    "reset_after_write",
    "truncated",
    "hang",
)

pytestmark = [
    pytest.mark.looptime,
    pytest.mark.bybit_sim(symbols=max(400, SYMBOLS // ACCOUNTS * 2), seed=5),
]


async def test_soak(sim: BybitSimulator) -> None:
    rng = random.Random(SYMBOLS)
    accounts: list[SimAccount] = [sim.account]
    accounts += [sim.add_account() for _ in range(ACCOUNTS - 1)]
    share = SYMBOLS // ACCOUNTS
    symbols = symbols_for(sim, share)
    faulted = 0

    def meddle(result: LeverageResult, done: int, total: int) -> None:
        nonlocal faulted
        if rng.random() < 0.05:
            faulted += 1
            endpoint = rng.choice(["set-leverage"] * 4 + ["symbol-info", "*"])
            sim.inject(endpoint, rng.choice(FAULTS))

    async def one(account: SimAccount) -> None:
        before = {s: account.leverage(s) for s in symbols}
        journal = BatchJournal()
        async with BybitClient(
            api_key=account.api_key,
            api_secret=account.api_secret,
            base_url=sim.url,
            timeout=2.0,
        ) as client:
            report = await client.set_leverage_many(
                dict.fromkeys(symbols, TARGET), journal=journal, on_progress=meddle
            )
        check(report, journal, symbols, before, account)
        assert report.ok, report.failures[:3]

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.TaskGroup() as group:
        for account in accounts:
            group.create_task(one(account))
    await asyncio.sleep(0)
    assert not client_tasks()
    # Each account runs at its own 10/s: the accounts overlap, and the faults
    # cost their retries on top.
    assert loop.time() - started <= share / 10 + 60
    assert faulted > 0
    writes = int(sim.stats()["set-leverage"]["requests"])
    assert writes >= share * ACCOUNTS  # every symbol of every account was written
