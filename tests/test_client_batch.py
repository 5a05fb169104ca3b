"""set_leverage_many against the simulator: one outcome per symbol, whatever fails."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from bybit_leverage import (
    BatchFailed,
    BybitClient,
    ConfigurationError,
    DuplicateSymbol,
    LeverageRequest,
    LeverageResult,
    LeverageSource,
    Outcome,
    UnknownSymbol,
)
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import private_requests, set_leverage_count, tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]
D = Decimal


async def test_the_product_example(client: BybitClient, sim: BybitSimulator) -> None:
    # BTCUSDT is already at 10 (the simulator's default): skipped after one read.
    report = await client.set_leverage_many(
        {"BTCUSDT": 10, "ETHUSDT": "7.5", "XYZUSDT": 3}
    )
    assert [r.symbol for r in report.results] == ["BTCUSDT", "ETHUSDT", "XYZUSDT"]
    assert report.counts == {Outcome.UNCHANGED: 1, Outcome.SET: 1, Outcome.REJECTED: 1}
    assert report["BTCUSDT"].attempts == 0
    assert isinstance(report["XYZUSDT"].error, UnknownSymbol)
    # The account (two reads), the leverage in force and the open positions (one
    # read each), then one set-leverage: every request is counted.
    assert report.requests_sent == private_requests(sim) == 5
    assert set_leverage_count(sim) == 1
    with pytest.raises(BatchFailed, match="1 of 3 symbols failed: XYZUSDT"):
        report.raise_for_failures()


async def test_a_second_pass_costs_only_reads(
    client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = tradable(sim, 30)
    targets = dict.fromkeys(symbols, "3.333")
    first = await client.set_leverage_many(targets)
    assert first.counts == {Outcome.SET: 30}
    assert all(r.adjusted and r.applied == D("3.33") for r in first.results)
    sim.reset_stats()
    second = await client.set_leverage_many(targets)
    assert second.counts == {Outcome.UNCHANGED: 30}
    assert all(r.applied == D("3.33") and r.adjusted for r in second.results)
    assert all(r.source is LeverageSource.SYMBOL_INFO for r in second.results)
    # The account is cached: one leverage read and one open-positions read per
    # settle coin of the batch, and no write.
    coins = {sim.universe.by_symbol[s].instrument.settle_coin for s in symbols}
    assert second.requests_sent == private_requests(sim) == 1 + len(coins)
    assert set_leverage_count(sim) == 0


async def test_without_skipping_every_symbol_is_sent(
    client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = tradable(sim, 5)
    report = await client.set_leverage_many(
        dict.fromkeys(symbols, 10), skip_unchanged=False
    )
    assert report.counts == {Outcome.UNCHANGED: 5}  # each one a 110043
    assert set_leverage_count(sim) == 5
    assert report.requests_sent == private_requests(sim)
    assert "symbol-info" not in sim.stats()


async def test_a_failed_read_falls_back_to_sending(
    client: BybitClient, sim: BybitSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject("symbol-info", "http_500", times=20)
    symbols = tradable(sim, 4)
    with caplog.at_level(logging.WARNING, logger="bybit_leverage"):
        report = await client.set_leverage_many(dict.fromkeys(symbols, 4))
    assert report.counts == {Outcome.SET: 4}
    assert "could not read current leverage" in caplog.text
    assert report.requests_sent == private_requests(sim)
    assert set_leverage_count(sim) == 4


async def test_duplicates_are_refused_before_anything_is_sent(
    client: BybitClient, sim: BybitSimulator
) -> None:
    with pytest.raises(DuplicateSymbol, match="repeated: BTCUSDT"):
        await client.set_leverage_many(
            [LeverageRequest("BTCUSDT", 5), LeverageRequest("btcusdt", 6)]
        )
    assert sim.stats() == {}


async def test_an_empty_batch_is_an_empty_report(
    client: BybitClient, sim: BybitSimulator
) -> None:
    report = await client.set_leverage_many({})
    assert report.results == ()
    assert report.requests_sent == 0
    assert report.ok
    assert sim.stats() == {}


async def test_requests_can_mix_forms_and_report_progress(
    client: BybitClient, sim: BybitSimulator
) -> None:
    sim.account.set_position_mode("SOLUSDT", hedge=True)
    sim.account.set_margin_mode("isolated")
    seen: list[tuple[str, int, int]] = []

    def progress(result: LeverageResult, done: int, total: int) -> None:
        seen.append((result.symbol, done, total))

    report = await client.set_leverage_many(
        [
            LeverageRequest("SOLUSDT", buy=8, sell=4),
            LeverageRequest("BTCUSDT", "150"),
            LeverageRequest("ETHUSDT", buy=8, sell=4),
        ],
        on_progress=progress,
    )
    sol, btc, eth = report.results
    assert (sol.outcome, sol.applied_buy, sol.applied_sell) == (Outcome.SET, D(8), D(4))
    assert (btc.outcome, btc.applied, btc.adjusted) == (Outcome.SET, D("100"), True)
    assert eth.outcome is Outcome.REJECTED  # one-way mode
    assert sorted(done for _, done, _ in seen) == [1, 2, 3]
    assert {total for _, _, total in seen} == {3}
    assert {symbol for symbol, _, _ in seen} == {"SOLUSDT", "BTCUSDT", "ETHUSDT"}


async def test_concurrency_must_be_positive(client: BybitClient) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await client.set_leverage_many({"BTCUSDT": 5}, concurrency=0)


async def test_the_rate_limit_paces_the_batch_without_10006(
    client: BybitClient, sim: BybitSimulator
) -> None:
    loop = asyncio.get_running_loop()
    symbols = tradable(sim, 50)
    await client.get_instruments()  # the listing is not part of the timing
    started = loop.time()
    report = await client.set_leverage_many(dict.fromkeys(symbols, 7))
    elapsed = loop.time() - started
    assert report.counts == {Outcome.SET: 50}
    ideal = (50 - 10) / 10
    assert ideal <= elapsed <= ideal * 1.2
    assert 10006 not in sim.stats()["set-leverage"]["ret_codes"]


async def test_cancelling_stops_pending_sends_and_leaks_nothing(
    client: BybitClient, sim: BybitSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    symbols = tradable(sim, 40)
    finished: list[LeverageResult] = []
    batch = asyncio.create_task(
        client.set_leverage_many(
            dict.fromkeys(symbols, 6), on_progress=lambda r, d, t: finished.append(r)
        )
    )
    await asyncio.sleep(1.5)  # loop time: about 20 of the 40 are through
    with caplog.at_level(logging.WARNING, logger="bybit_leverage.batch"):
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
    assert 10 <= len(finished) < 40
    assert "batch cancelled after" in caplog.text
    left = {
        task.get_coro().__qualname__  # type: ignore[union-attr]
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
    }
    assert left <= {"RequestHandler.start"}  # only the simulator's idle connections
    await asyncio.sleep(5)  # nothing is still sending in the background
    answered = sim.stats()["set-leverage"]["ret_codes"].get(0, 0)
    assert answered in (len(finished), len(finished) + 1)  # + one cut mid-flight
    for result in finished:
        assert sim.account.leverage(result.symbol) == (D("6"), D("6"))


async def test_three_hundred_symbols_under_faults_each_get_one_outcome() -> None:
    async with BybitSimulator(symbols=800, seed=11) as sim:
        sim.inject("set-leverage", "http_503", times=6)
        sim.inject("set-leverage", "ret_10016", times=4)
        sim.inject("set-leverage", "ret_10006", times=3)
        sim.inject("set-leverage", "malformed_json", times=2)
        sim.inject("symbol-info", "http_502", times=1)
        symbols = tradable(sim, 296)
        targets: dict[str, object] = dict.fromkeys(symbols, "4.444")
        targets |= {"NOPEUSDT": 5, "BADUSDT": 5, symbols[0] + "X": 5}
        targets["BTCUSDT"] = "abc"
        async with BybitClient(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url
        ) as client:
            report = await client.set_leverage_many(targets)  # type: ignore[arg-type]
    assert [r.symbol.upper() for r in report.results] == [s.upper() for s in targets]
    counts = report.counts
    assert sum(counts.values()) == len(targets)
    assert counts[Outcome.REJECTED] == 4
    assert counts.get(Outcome.FAILED, 0) + counts[Outcome.SET] == len(targets) - 4
    # A malformed body is not retried (the write may have happened): at most those
    # two fail; every other injected fault is retried to success.
    assert counts.get(Outcome.FAILED, 0) <= 2
    assert all(r.error is not None for r in report.results if not r.ok)
    # The only 10006 answers are the three injected ones: pacing caused none.
    assert sim.stats()["set-leverage"]["ret_codes"].get(10006, 0) == 3


async def test_planning_writes_nothing(
    client: BybitClient, sim: BybitSimulator
) -> None:
    plans = await client.plan_leverage_many(
        {"BTCUSDT": "10", "ETHUSDT": "12.555", "NOPEUSDT": 2}
    )
    btc, eth, nope = plans
    assert (btc.action, btc.current_buy) == (Outcome.UNCHANGED, D("10"))
    assert (eth.action, eth.target_buy, eth.adjusted) == (Outcome.SET, D("12.55"), True)
    assert nope.action is Outcome.REJECTED
    assert set_leverage_count(sim) == 0
    assert sim.stats()["symbol-info"]["requests"] == 1
    blind = await client.plan_leverage_many({"BTCUSDT": "10"}, read_current=False)
    assert (blind[0].action, blind[0].current_buy) == (Outcome.SET, None)


async def test_an_unreachable_listing_fails_every_symbol_once(
    sim: BybitSimulator,
) -> None:
    sim.inject("instruments-info", "http_503", times=50)
    async with BybitClient(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url
    ) as client:
        report = await client.set_leverage_many(
            [LeverageRequest(f"SYM{i}USDT", 5) for i in range(20)]
            + [LeverageRequest("ETHUSDT", buy=3, sell=2)]
        )
    assert report.counts == {Outcome.FAILED: 21}
    assert report["SYM0USDT"].requested == D("5")
    assert report["ETHUSDT"].requested_sell == D("2")
    # One listing attempt for the whole batch (with its own retries), not one each.
    assert sim.stats()["instruments-info"]["requests"] == 5
    assert "set-leverage" not in sim.stats()
    assert "symbol-info" not in sim.stats()


async def test_a_plan_shown_to_a_person_is_executed_exactly(
    client: BybitClient, sim: BybitSimulator
) -> None:
    first, second = tradable(sim, 2)
    plan = await client.plan_leverage_many({first: "4.5", second: 10, "NOPEUSDT": 2})
    assert set_leverage_count(sim) == 0  # planning writes nothing
    assert [c.action for c in plan] == [
        Outcome.SET,
        Outcome.UNCHANGED,
        Outcome.REJECTED,
    ]
    assert plan[first].target_buy == D("4.5")
    assert plan.to_send == (plan[0],)
    assert "3 symbols: 1 to set, 1 unchanged, 1 rejected, 0 adjusted" in plan.table()
    # Someone moves the second symbol after the plan was shown: the plan still
    # holds, and exactly it is carried out (nothing is planned again).
    sim.account.set_leverage_state(second, 7, 7)
    report = await client.execute(plan)
    assert [r.outcome for r in report] == [
        Outcome.SET,
        Outcome.UNCHANGED,
        Outcome.REJECTED,
    ]
    assert set_leverage_count(sim) == 1
    assert sim.account.leverage(first) == (D("4.5"), D("4.5"))
    assert report.requests_sent == plan.requests_sent + 1


async def test_plan_and_report_describe_an_error_the_same_way(
    client: BybitClient,
) -> None:
    plan = await client.plan_leverage_many({"BTCUSTD": 5})
    report = await client.execute(plan)
    planned = plan.to_dict()["plan"][0]["error"]
    reported = report.to_dict()["results"][0]["error"]
    assert planned == reported
    assert planned["type"] == "UnknownSymbol"
    assert plan.rows()[0][-1] == report.rows()[0][-1] == planned["message"]


async def test_execute_refuses_a_bad_concurrency_before_sending(
    client: BybitClient, sim: BybitSimulator
) -> None:
    plan = await client.plan_leverage_many(dict.fromkeys(tradable(sim, 2), 3))
    with pytest.raises(ConfigurationError, match="concurrency"):
        await client.execute(plan, concurrency=0)
    assert set_leverage_count(sim) == 0
