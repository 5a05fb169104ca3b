"""Verified outcomes: a report never states a leverage the exchange does not hold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bybit_leverage import (
    BybitClient,
    LeverageMismatch,
    LeverageResult,
    LeverageSource,
    Outcome,
)
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]
D = Decimal


def held(sim: BybitSimulator, result: LeverageResult) -> tuple[Decimal, Decimal]:
    return sim.account.leverage(result.symbol)


# The write lands but its answer is lost (the connection resets after it), and
# then every retry fails in its own way.
RETRY_FAILURES = [
    ("http_503", 10),  # 5xx until the attempts run out
    ("truncated", 10),  # a 200 whose body is cut off, on every retry
    ("http_403", 1),  # the CDN refuses the retry: never retried
    ("ret_10002", 2),  # 10002, a resync, 10002 again
]


@pytest.mark.parametrize(("fault", "times"), RETRY_FAILURES)
async def test_a_landed_write_whose_answer_was_lost_reads_back_as_set(
    client: BybitClient, sim: BybitSimulator, fault: str, times: int
) -> None:
    (symbol,) = tradable(sim, 1)
    sim.inject("set-leverage", "reset_after_write")
    sim.inject("set-leverage", fault, times=times)
    report = await client.set_leverage_many({symbol: "6.5"})
    (result,) = report.results
    assert held(sim, result) == (D("6.5"), D("6.5"))  # it landed
    assert result.outcome is Outcome.SET
    assert (result.applied_buy, result.applied_sell) == held(sim, result)
    assert result.source is LeverageSource.SYMBOL_INFO  # read back, not assumed
    assert not result.uncertain
    assert result.attempts >= 2


@pytest.mark.parametrize(("fault", "times"), RETRY_FAILURES)
async def test_a_write_that_never_landed_reads_back_as_failed_with_the_old_value(
    client: BybitClient, sim: BybitSimulator, fault: str, times: int
) -> None:
    (symbol,) = tradable(sim, 1)
    before = sim.account.leverage(symbol)
    sim.inject("set-leverage", "reset")  # dropped before the handler ran
    sim.inject("set-leverage", fault, times=times)
    if fault == "truncated":  # truncated runs the handler: use a pure failure
        sim.clear_faults()
        sim.inject("set-leverage", "reset")
        sim.inject("set-leverage", "malformed_json", times=10)
    (result,) = (await client.set_leverage_many({symbol: "6.5"})).results
    assert held(sim, result) == before
    assert result.outcome is Outcome.FAILED
    assert (result.applied_buy, result.applied_sell) == before
    assert result.error is not None
    assert not result.uncertain


async def test_a_mixed_batch_ends_equal_to_the_exchange(
    client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = tradable(sim, 8)
    for fault in ("reset_after_write", "http_503", "reset", "http_403"):
        sim.inject("set-leverage", fault)
    report = await client.set_leverage_many(dict.fromkeys(symbols, 9), concurrency=1)
    assert len(report) == len(symbols)
    for result in report:
        if result.outcome in (Outcome.SET, Outcome.UNCHANGED):
            assert (result.applied_buy, result.applied_sell) == held(sim, result)
        else:
            assert result.applied_buy in (None, held(sim, result)[0])
    assert all(r.applied == D(9) for r in report if r.ok)


async def test_without_verification_an_unconfirmed_result_claims_nothing(
    client: BybitClient, sim: BybitSimulator
) -> None:
    (symbol,) = tradable(sim, 1)
    sim.inject("set-leverage", "reset_after_write")
    sim.inject("set-leverage", "http_403")
    (result,) = (await client.set_leverage_many({symbol: 8}, verify=False)).results
    assert result.outcome is Outcome.FAILED
    assert result.uncertain
    assert (result.applied_buy, result.applied_sell) == (None, None)
    assert held(sim, result) == (D(8), D(8))  # the exchange did change


async def test_verify_reads_back_every_symbol_and_names_a_disagreement(
    client: BybitClient, sim: BybitSimulator
) -> None:
    first, second = tradable(sim, 2)

    def meddle(result: LeverageResult, done: int, total: int) -> None:
        if result.symbol == first:  # someone else moves it right after us
            sim.account.set_leverage_state(first, 3, 3)

    report = await client.set_leverage_many(
        {first: 11, second: 12}, verify=True, on_progress=meddle, concurrency=1
    )
    moved, kept = report.results
    assert moved.outcome is Outcome.FAILED
    assert isinstance(moved.error, LeverageMismatch)
    assert (moved.applied_buy, moved.applied_sell) == (D(3), D(3))
    assert kept.outcome is Outcome.SET
    assert kept.source is LeverageSource.SYMBOL_INFO
    assert int(sim.stats()["symbol-info"]["requests"]) == 2  # plan, then read-back
