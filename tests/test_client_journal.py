"""Stopping a batch loses nothing: the journal names what may have changed."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from bybit_leverage import (
    BatchJournal,
    BybitClient,
    Interrupted,
    LeverageResult,
    Outcome,
)
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]
D = Decimal


def state(sim: BybitSimulator, symbol: str) -> tuple[Decimal, Decimal]:
    return sim.account.leverage(symbol)


@pytest.mark.parametrize("cut", [0.005, 0.45, 1.3, 2.2])
async def test_a_cancelled_batch_is_reconciled_to_the_exchange(
    client: BybitClient, sim: BybitSimulator, cut: float
) -> None:
    symbols = tradable(sim, 30)
    before = {s: state(sim, s) for s in symbols}
    await client.get_account()
    await client.get_instruments()
    sim.set_latency(400)  # answers take 0.4 s: requests are in flight when cut
    journal = BatchJournal()
    seen: list[str] = []
    batch = asyncio.create_task(
        client.set_leverage_many(
            dict.fromkeys(symbols, "6.5"),
            journal=journal,
            on_progress=lambda r, done, total: seen.append(r.symbol),
        )
    )
    await asyncio.sleep(0.8 + cut)  # past the plan's reads, into the sends
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    await asyncio.sleep(1)  # requests the server already took land meanwhile
    changed = {s for s in symbols if state(sim, s) != before[s]}
    assert changed <= set(journal.may_have_changed)  # nothing changed unseen
    assert set(seen) <= set(journal.changed) | set(journal.may_have_changed)
    sim.set_latency(0)
    report = await client.reconcile(journal)
    assert len(report) == len(journal) == len(symbols)
    for result in report:
        held = state(sim, result.symbol)
        assert (result.applied_buy, result.applied_sell) == held
        assert result.outcome in (Outcome.SET, Outcome.FAILED, Outcome.UNCHANGED)
        if result.outcome is Outcome.SET:
            assert held == (D("6.5"), D("6.5"))
        if result.outcome is Outcome.FAILED:
            assert isinstance(result.error, Interrupted)
    assert {r.symbol for r in report if r.outcome is Outcome.SET} == changed


async def test_a_raising_progress_callback_costs_no_result(
    client: BybitClient, sim: BybitSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    symbols = tradable(sim, 6)

    def broken(result: LeverageResult, done: int, total: int) -> None:
        raise RuntimeError("a bug in the caller's callback")

    with caplog.at_level(logging.ERROR, logger="bybit_leverage"):
        report = await client.set_leverage_many(
            dict.fromkeys(symbols, 4), on_progress=broken
        )
    assert report.counts == {Outcome.SET: 6}
    assert caplog.text.count("on_progress raised") == 1
    assert all(state(sim, s) == (D(4), D(4)) for s in symbols)


async def test_a_finished_batch_leaves_a_closed_journal(
    client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = tradable(sim, 3)
    journal = BatchJournal()
    report = await client.set_leverage_many(
        {symbols[0]: 10, symbols[1]: 4, symbols[2]: 5}, journal=journal
    )
    assert not journal.open
    assert set(journal.changed) == {
        r.symbol for r in report if r.outcome is Outcome.SET
    }
    again = await client.reconcile(journal)  # nothing unsettled: nothing read
    assert again.requests_sent == 0
    assert [r.outcome for r in again] == [r.outcome for r in report if r.attempts]


async def test_the_cancellation_warning_names_what_may_have_changed(
    client: BybitClient, sim: BybitSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    symbols = tradable(sim, 20)
    await client.get_account()
    await client.get_instruments()
    sim.set_latency(400)
    batch = asyncio.create_task(client.set_leverage_many(dict.fromkeys(symbols, 3)))
    await asyncio.sleep(1.0)  # the first ten are on the wire
    with caplog.at_level(logging.WARNING, logger="bybit_leverage"):
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
    assert "in flight (may have changed):" in caplog.text
    named = caplog.text.split("in flight (may have changed):")[1]
    assert any(symbol in named for symbol in symbols)
