"""Long loops yield to the event loop: no step of the loop handles more than a slice.

Counted, not timed: a callback that re-arms itself runs once per iteration of
the loop, so tagging each unit of work with the iteration it ran in shows how
much work one step did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bybit_leverage import (
    BybitClient,
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
    LeverageRequest,
    Outcome,
    PlannedChange,
)
from bybit_leverage._http import Tally
from bybit_leverage._plan import checked_request, plan_symbol
from bybit_leverage._setter import send_all
from bybit_leverage._slices import SLICE, breathe, fan_out
from bybit_leverage.journal import BatchJournal
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import tradable


class Iterations:
    """Counts the event loop's iterations, and tags work with the current one."""

    def __init__(self) -> None:
        self.now = 0
        self.work: Counter[int] = Counter()
        self._handle: asyncio.Handle | None = None

    def _tick(self) -> None:
        self.now += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def did(self) -> None:
        self.work[self.now] += 1

    @property
    def most_in_one_step(self) -> int:
        return max(self.work.values())

    @contextmanager
    def running(self) -> Iterator[Iterations]:
        self._handle = asyncio.get_running_loop().call_soon(self._tick)
        try:
            yield self
        finally:
            assert self._handle is not None
            self._handle.cancel()


async def test_breathe_yields_once_per_slice() -> None:
    steps = Iterations()
    with steps.running():
        for index in range(4 * SLICE):
            steps.did()
            await breathe(index)
    assert sorted(steps.work.values()) == [SLICE] * 4


async def test_fan_out_keeps_order_and_runs_at_most_limit_tasks() -> None:
    running = most = 0
    tasks_seen = 0

    async def work(item: int) -> int:
        nonlocal running, most, tasks_seen
        running += 1
        most = max(most, running)
        tasks_seen = max(tasks_seen, len(asyncio.all_tasks()))
        await asyncio.sleep(0.001 * (item % 3))
        running -= 1
        return item * 2

    assert await fan_out(list(range(200)), 7, work) == [i * 2 for i in range(200)]
    assert most == 7
    assert tasks_seen <= 7 + 1  # the workers and this test, not one task per item
    assert await fan_out([], 7, work) == []


async def test_fan_out_raises_the_first_error_as_is_and_stops_the_rest() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        await asyncio.sleep(0)
        if item == 3:
            raise ValueError("item 3")
        await asyncio.sleep(1)
        return item

    with pytest.raises(ValueError, match="item 3"):
        await fan_out(list(range(100)), 5, work)
    assert len(started) < 100


def _change(symbol: str) -> PlannedChange:
    instrument = Instrument(
        symbol,
        Category.LINEAR,
        InstrumentStatus.TRADING,
        ContractType.LINEAR_PERPETUAL,
        "S",
        "USDT",
        "USDT",
        datetime(2020, 1, 1, tzinfo=UTC),
        LeverageFilter(Decimal(1), Decimal(100), Decimal("0.01")),
    )
    five = Decimal(5)
    return PlannedChange(
        symbol,
        Category.LINEAR,
        Outcome.SET,
        five,
        five,
        five,
        five,
        instrument=instrument,
    )


class _Endpoint:
    def __init__(self, steps: Iterations) -> None:
        self.steps = steps
        self.tasks = 0

    async def set_leverage(
        self, *args: Any, tally: Tally | None = None, **kwargs: Any
    ) -> bool:
        assert tally is not None
        self.tasks = max(self.tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        tally.sent += 1
        return True


async def test_a_long_batch_journals_and_sends_in_slices_with_a_few_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = Iterations()
    planned = BatchJournal.planned

    def counted_planned(self: BatchJournal, change: PlannedChange) -> None:
        steps.did()
        planned(self, change)

    monkeypatch.setattr(BatchJournal, "planned", counted_planned)
    plans = [_change(f"S{i}USDT") for i in range(1000)]
    endpoint = _Endpoint(steps)
    with steps.running():
        results = await send_all(endpoint, plans, concurrency=10)
    assert [r.outcome for r in results] == [Outcome.SET] * 1000
    assert steps.most_in_one_step <= SLICE
    assert endpoint.tasks <= 10 + 1


@pytest.mark.bybit_sim(symbols=700, seed=5)
async def test_planning_a_long_batch_never_plans_more_than_a_slice_per_step(
    client: BybitClient, sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    symbols = tradable(sim, 400)
    steps = Iterations()

    def counted(*args: Any, **kwargs: Any) -> PlannedChange:
        steps.did()
        return plan_symbol(*args, **kwargs)  # the pure planner, as imported

    monkeypatch.setattr("bybit_leverage._planner.plan_symbol", counted)
    with steps.running():
        plan = await client.plan_leverage_many(dict.fromkeys(symbols, "5"))
    assert len(plan.changes) == 400
    assert sum(steps.work.values()) == 400
    assert steps.most_in_one_step <= SLICE


@pytest.mark.bybit_sim(symbols=40, seed=5)
async def test_reading_many_targets_yields_in_slices(
    client: BybitClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = Iterations()

    def counted(index: int, item: object, *, pair: bool) -> LeverageRequest:
        steps.did()
        return checked_request(index, item, pair=pair)

    monkeypatch.setattr("bybit_leverage._planner.checked_request", counted)
    targets = {f"NOPE{i}USDT": 5 for i in range(1000)}  # unknown: nothing is sent
    with steps.running():
        plan = await client.plan_leverage_many(targets, read_current=False)
    assert sum(steps.work.values()) == 1000
    assert steps.most_in_one_step <= SLICE
    assert {c.action for c in plan.changes} == {Outcome.REJECTED}
