"""Without Redis: processes of one account pace each other through the headers.

Each client here has a budget of its own, as separate processes do; they share
only the simulator's per-UID window (20 ms latency). The event loop's clock is
fast-forwarded, so twenty seconds of pacing take well under one.
"""

from __future__ import annotations

import asyncio

import pytest

from bybit_leverage import BybitClient, InProcessBudget, Limits, Outcome
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import tradable

pytestmark = [
    pytest.mark.looptime,
    pytest.mark.bybit_sim(symbols=600, seed=3, latency_ms=20),
]


async def batches(
    sim: BybitSimulator,
    keys: list[tuple[str, str]],
    per_client: int,
    *,
    limits: Limits | None = None,
    budget: InProcessBudget | None = None,
) -> float:
    """Each key sets 7x on symbols of its own, all at once; the seconds it took."""
    symbols = tradable(sim, per_client * len(keys))
    loop = asyncio.get_running_loop()

    async def one(index: int, key: str, secret: str) -> None:
        mine = symbols[index * per_client : (index + 1) * per_client]
        async with BybitClient(
            api_key=key,
            api_secret=secret,
            base_url=sim.url,
            limits=limits,
            budget=budget,
        ) as client:
            await client.get_instruments()
            report = await client.set_leverage_many(dict.fromkeys(mine, 7))
        assert report.counts == {Outcome.SET: per_client}

    started = loop.time()
    async with asyncio.TaskGroup() as tg:
        for index, (key, secret) in enumerate(keys):
            tg.create_task(one(index, key, secret))
    return loop.time() - started


def refused_share(sim: BybitSimulator) -> float:
    codes: dict[int, int] = sim.stats()["set-leverage"]["ret_codes"]
    return codes.get(10006, 0) / sum(codes.values())


async def test_two_processes_on_one_key_listening_rarely_collide(
    sim: BybitSimulator,
) -> None:
    key = (sim.api_key, sim.api_secret)
    took = await batches(sim, [key, key], 100)
    assert refused_share(sim) <= 0.05
    assert took < 19.0 * 1.3  # the minimum is (200 - 10) / 10 s


async def test_without_listening_they_collide_half_the_time(
    sim: BybitSimulator,
) -> None:
    key = (sim.api_key, sim.api_secret)
    await batches(sim, [key, key], 100, limits=Limits(listen=False))
    assert refused_share(sim) > 0.3  # the issue measured 48%


async def test_one_budget_in_process_is_shared_by_the_keys_of_one_uid(
    sim: BybitSimulator,
) -> None:
    second = sim.add_key()
    assert second.api_secret is not None
    keys = [(sim.api_key, sim.api_secret), (second.api_key, second.api_secret)]
    took = await batches(sim, keys, 50, budget=InProcessBudget())
    assert 10006 not in sim.stats()["set-leverage"]["ret_codes"]
    assert took >= (100 - 10) / 10  # one window for both


async def test_accounts_do_not_share_a_budget(sim: BybitSimulator) -> None:
    other = sim.add_account()  # another UID: a window of its own
    assert other.api_secret is not None
    keys = [(sim.api_key, sim.api_secret), (other.api_key, other.api_secret)]
    took = await batches(sim, keys, 50, budget=InProcessBudget())
    assert took < (100 - 10) / 10  # both at 10/s side by side
    assert 10006 not in sim.stats()["set-leverage"]["ret_codes"]
