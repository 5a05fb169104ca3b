"""set_leverage against the simulator: every outcome a single call can have."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bybit_leverage import (
    BybitClient,
    Category,
    InstrumentStatus,
    InvalidLeverage,
    MissingCredentials,
    Outcome,
    PositionModeMismatch,
    RiskLimitExceeded,
    SnapPolicy,
    SymbolNotTradable,
    UnknownSymbol,
)
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import set_leverage_count

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]
D = Decimal


async def test_snaps_onto_the_grid_then_sets(
    client: BybitClient, sim: BybitSimulator
) -> None:
    result = await client.set_leverage("BTCUSDT", "12.345")
    assert result.outcome is Outcome.SET
    assert (result.requested, result.applied) == (D("12.345"), D("12.34"))
    assert result.adjusted
    assert result.error is None
    assert result.attempts == 1
    assert sim.account.leverage("BTCUSDT") == (D("12.34"), D("12.34"))
    sent = [r for r in sim.requests if r.path == "/v5/position/set-leverage"]
    assert json.loads(sent[-1].body) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "buyLeverage": "12.34",
        "sellLeverage": "12.34",
    }


async def test_lowercase_symbols_resolve(client: BybitClient) -> None:
    result = await client.set_leverage("ethusdt", 20)
    assert result.symbol == "ETHUSDT"
    assert result.outcome is Outcome.SET


async def test_not_modified_is_unchanged_not_an_error(
    client: BybitClient, sim: BybitSimulator
) -> None:
    await client.set_leverage("BTCUSDT", 25)
    again = await client.set_leverage("BTCUSDT", "25.00")
    assert again.outcome is Outcome.UNCHANGED  # Bybit answered 110043
    assert again.error is None
    assert again.ok
    assert again.applied == D("25")
    assert sim.stats()["set-leverage"]["ret_codes"] == {0: 1, 110043: 1}


async def test_unknown_symbol_is_rejected_without_a_request(
    client: BybitClient, sim: BybitSimulator
) -> None:
    result = await client.set_leverage("BTCUSD", 10)
    assert result.outcome is Outcome.REJECTED
    assert isinstance(result.error, UnknownSymbol)
    assert "BTCUSDT" in result.error.suggestions
    assert result.attempts == 0
    assert set_leverage_count(sim) == 0


async def test_a_symbol_that_is_not_trading_is_rejected(
    client: BybitClient, sim: BybitSimulator
) -> None:
    idle = next(
        item.symbol
        for item in sim.universe.by_category[Category.LINEAR]
        if item.instrument.status is InstrumentStatus.PRE_LAUNCH
    )
    result = await client.set_leverage(idle, 5)
    assert result.outcome is Outcome.REJECTED
    assert isinstance(result.error, SymbolNotTradable)
    assert set_leverage_count(sim) == 0


@pytest.mark.parametrize(
    ("value", "policy", "reason"),
    [
        ("abc", SnapPolicy.DOWN, "not a number"),
        (0, SnapPolicy.DOWN, "must be positive"),
        (True, SnapPolicy.DOWN, "a bool is not a leverage"),
        ("12.345", SnapPolicy.STRICT, "not on the step grid"),
        ("101", SnapPolicy.STRICT, "out of range"),
    ],
)
async def test_invalid_values_are_rejected_naming_symbol_and_range(
    client: BybitClient,
    sim: BybitSimulator,
    value: object,
    policy: SnapPolicy,
    reason: str,
) -> None:
    result = await client.set_leverage("BTCUSDT", value, policy=policy)  # type: ignore[arg-type]
    assert result.outcome is Outcome.REJECTED
    assert isinstance(result.error, InvalidLeverage)
    message = str(result.error)
    assert message.startswith("BTCUSDT: ")
    assert reason in message
    assert "[1, 100] in steps of 0.01" in message
    assert set_leverage_count(sim) == 0


async def test_raise_on_failure_raises_the_typed_error(client: BybitClient) -> None:
    with pytest.raises(InvalidLeverage, match="BTCUSDT"):
        await client.set_leverage("BTCUSDT", "x", raise_on_failure=True)
    result = await client.set_leverage("BTCUSDT", 11, raise_on_failure=True)
    assert result.outcome is Outcome.SET


async def test_buy_and_sell_differ_only_in_hedge_mode(
    client: BybitClient, sim: BybitSimulator
) -> None:
    one_way = await client.set_leverage("ETHUSDT", buy=10, sell=5)
    assert one_way.outcome is Outcome.REJECTED
    assert isinstance(one_way.error, PositionModeMismatch)
    assert "one-way mode" in str(one_way.error)
    assert set_leverage_count(sim) == 0

    sim.account.set_position_mode("SOLUSDT", hedge=True)
    sim.account.set_margin_mode("isolated")
    hedge = await client.set_leverage("SOLUSDT", buy="10", sell="5.555")
    assert hedge.outcome is Outcome.SET
    assert (hedge.applied_buy, hedge.applied_sell) == (D("10"), D("5.55"))
    assert hedge.adjusted
    assert sim.account.leverage("SOLUSDT") == (D("10"), D("5.55"))


async def test_leverage_and_sides_together_are_refused(client: BybitClient) -> None:
    result = await client.set_leverage("BTCUSDT", 5, buy=5, sell=5)
    assert result.outcome is Outcome.REJECTED
    assert "either leverage or buy/sell" in str(result.error)


async def test_risk_limit_fails_with_the_allowed_maximum(
    client: BybitClient, sim: BybitSimulator
) -> None:
    sim.account.set_position_value("BTCUSDT", 50_000_000)
    tier_max = sim.account.max_leverage("BTCUSDT")
    assert tier_max < 100
    result = await client.set_leverage("BTCUSDT", 100)
    assert result.outcome is Outcome.FAILED
    assert isinstance(result.error, RiskLimitExceeded)
    assert result.error.allowed_max == tier_max
    assert result.attempts == 1  # 110013 is never retried as such


async def test_risk_limit_clamp_retries_once_at_the_maximum(
    client: BybitClient, sim: BybitSimulator
) -> None:
    sim.account.set_position_value("BTCUSDT", 50_000_000)
    tier_max = sim.account.max_leverage("BTCUSDT")
    result = await client.set_leverage("BTCUSDT", 100, on_risk_limit="clamp")
    assert result.outcome is Outcome.SET
    assert result.adjusted
    assert result.applied == tier_max
    assert result.attempts == 2
    assert sim.account.leverage("BTCUSDT") == (tier_max, tier_max)


async def test_transient_errors_are_retried_and_counted(
    client: BybitClient, sim: BybitSimulator
) -> None:
    sim.inject("set-leverage", "http_503", times=2)
    result = await client.set_leverage("BTCUSDT", 30)
    assert result.outcome is Outcome.SET
    assert result.attempts == 3


async def test_hedge_sides_under_cross_margin_are_refused_locally(
    client: BybitClient, sim: BybitSimulator
) -> None:
    sim.account.set_position_mode("SOLUSDT", hedge=True)  # cross margin (default)
    result = await client.set_leverage("SOLUSDT", buy=10, sell=5)
    assert result.outcome is Outcome.REJECTED
    assert "cross margin (REGULAR_MARGIN)" in str(result.error)
    assert set_leverage_count(sim) == 0


async def test_a_parameter_error_is_failed_not_retried(
    client: BybitClient, sim: BybitSimulator
) -> None:
    # When the account cannot be read, the margin mode is unknown: the request
    # goes out, and Bybit's 10001 (hedge under cross margin) comes back FAILED.
    sim.inject("account-info", "http_503", times=50)
    sim.account.set_position_mode("SOLUSDT", hedge=True)
    result = await client.set_leverage("SOLUSDT", buy=10, sell=5)
    assert result.outcome is Outcome.FAILED
    assert getattr(result.error, "ret_code", None) == 10001
    assert result.attempts == 1


async def test_keys_are_needed_before_anything_is_sent(sim: BybitSimulator) -> None:
    async with BybitClient(base_url=sim.url) as anonymous:
        with pytest.raises(MissingCredentials):
            await anonymous.set_leverage("BTCUSDT", 10)
        with pytest.raises(MissingCredentials):
            await anonymous.set_leverage_many({"BTCUSDT": 10})
    assert sim.stats() == {}


async def test_inverse_contracts_are_their_own_category(
    client: BybitClient, sim: BybitSimulator
) -> None:
    result = await client.set_leverage("BTCUSD", "33.333", category=Category.INVERSE)
    assert (result.outcome, result.category) == (Outcome.SET, Category.INVERSE)
    assert result.applied == D("33.33")
    sent = [r for r in sim.requests if r.path == "/v5/position/set-leverage"]
    assert json.loads(sent[-1].body)["category"] == "inverse"
    linear = await client.set_leverage("BTCUSD", 5)  # not a linear symbol
    assert linear.outcome is Outcome.REJECTED
    assert isinstance(linear.error, UnknownSymbol)
    assert "BTCUSDT" in linear.error.suggestions
