from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bybit_leverage.models import InstrumentStatus
from bybit_leverage.simulator import BybitSimulator, MarginMode

from .helpers import Api

PATH = "/v5/position/set-leverage"

pytestmark = pytest.mark.bybit_sim(seed=7)


def _first(sim: BybitSimulator, status: InstrumentStatus, **wire: str) -> str:
    return next(
        s.symbol
        for s in sim.universe.by_symbol.values()
        if s.instrument.status is status
        and all(s.wire.get(k) == v for k, v in wire.items())
    )


async def test_set_then_not_modified(api: Api, sim: BybitSimulator) -> None:
    reply = await api.set_leverage("BTCUSDT", "12.34")
    assert (reply.status, reply.ret_code, reply.result) == (200, 0, {})
    assert sim.account.leverage("BTCUSDT") == (Decimal("12.34"),) * 2
    again = await api.set_leverage("BTCUSDT", "12.340")
    assert again.ret_code == 110043
    assert again.ret_msg == "leverage not modified"
    assert (await api.set_leverage("BTCUSDT", "10")).ret_code == 0


async def test_default_leverage_is_10_or_the_max(sim: BybitSimulator) -> None:
    five = next(
        s.symbol
        for s in sim.universe.by_symbol.values()
        if s.instrument.leverage_filter.max_leverage < 10
    )
    assert sim.account.leverage("BTCUSDT") == (Decimal(10),) * 2
    assert sim.account.leverage(five) == (Decimal(5),) * 2


async def test_inverse_category(api: Api, sim: BybitSimulator) -> None:
    assert (await api.set_leverage("BTCUSD", "25", category="inverse")).ret_code == 0
    assert (await api.set_leverage("BTCUSD", "25")).ret_code == 10001  # not linear


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"},
        {"category": "linear", "buyLeverage": "5", "sellLeverage": "5"},
        {"category": "linear", "symbol": "BTCUSDT", "sellLeverage": "5"},
        {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5"},
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "buyLeverage": 5,
            "sellLeverage": "5",
        },
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "buyLeverage": "5",
            "sellLeverage": 5.0,
        },
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "buyLeverage": "5",
            "sellLeverage": "5",
        },
        {
            "category": "linear",
            "symbol": "NOPEUSDT",
            "buyLeverage": "5",
            "sellLeverage": "5",
        },
    ],
)
async def test_parameter_errors(api: Api, body: dict[str, object]) -> None:
    assert (await api.post(PATH, json.dumps(body))).ret_code == 10001


@pytest.mark.parametrize("body", ["not json", "[1, 2]"])
async def test_body_must_be_a_json_object(api: Api, body: str) -> None:
    assert (await api.post(PATH, body)).ret_code == 10001


@pytest.mark.parametrize(
    "value", ["0.99", "100.01", "101", "10.001", "1e1", "-5", "abc", "", " 5"]
)
async def test_out_of_range_or_off_grid_is_10001_naming_the_range(
    api: Api, value: str
) -> None:
    reply = await api.set_leverage("BTCUSDT", value)
    assert reply.ret_code == 10001
    assert "between 1 and 100 in steps of 0.01" in reply.ret_msg


async def test_step_of_a_tenth(api: Api, sim: BybitSimulator) -> None:
    async with BybitSimulator(symbols=600) as big:
        symbol = next(
            s.symbol
            for s in big.universe.by_symbol.values()
            if s.wire["leverageFilter"]["leverageStep"] == "0.1"
            and s.instrument.status is InstrumentStatus.TRADING
        )
        tenth = Api(
            api.session, big.url, api.creds.__class__.hmac(big.api_key, big.api_secret)
        )
        assert (await tenth.set_leverage(symbol, "5.05")).ret_code == 10001
        assert (await tenth.set_leverage(symbol, "5.1")).ret_code == 0


@pytest.mark.parametrize(
    "status",
    [InstrumentStatus.PRE_LAUNCH, InstrumentStatus.DELIVERING, InstrumentStatus.CLOSED],
)
async def test_not_live_is_110074(
    api: Api, sim: BybitSimulator, status: InstrumentStatus
) -> None:
    symbol = _first(sim, status)
    reply = await api.set_leverage(symbol, "2")
    assert reply.ret_code == 110074
    assert status.value in reply.ret_msg


async def test_one_way_needs_equal_sides(api: Api) -> None:
    reply = await api.set_leverage("BTCUSDT", "10", "5")
    assert reply.ret_code == 10001
    assert "one-way" in reply.ret_msg


async def test_hedge_mode_rules(api: Api, sim: BybitSimulator) -> None:
    sim.account.set_position_mode("ETHUSDT", hedge=True)
    cross = await api.set_leverage("ETHUSDT", "10", "5")
    assert cross.ret_code == 10001
    assert "cross margin" in cross.ret_msg
    sim.account.set_margin_mode("isolated")
    assert (await api.set_leverage("ETHUSDT", "10", "5")).ret_code == 0
    assert sim.account.leverage("ETHUSDT") == (Decimal(10), Decimal(5))
    assert (await api.set_leverage("ETHUSDT", "10", "5")).ret_code == 110043
    assert (await api.set_leverage("ETHUSDT", "10", "6")).ret_code == 0
    sim.account.set_position_mode("ETHUSDT", hedge=False)
    assert not sim.account.is_hedge("ETHUSDT")


async def test_hedge_mode_only_for_usdt_perpetuals(sim: BybitSimulator) -> None:
    usdc = next(
        s.symbol for s in sim.universe.by_symbol.values() if s.symbol.endswith("PERP")
    )
    for symbol in (usdc, "BTCUSD"):
        with pytest.raises(ValueError, match="USDT perpetuals"):
            sim.account.set_position_mode(symbol, hedge=True)
    with pytest.raises(KeyError):
        sim.account.set_position_mode("NOPE")


async def test_risk_tier_caps_leverage_with_the_live_message(
    api: Api, sim: BybitSimulator
) -> None:
    listed = sim.universe.by_symbol["BTCUSDT"]
    tier = listed.tiers[2]
    sim.account.set_position_value("BTCUSDT", tier.max_value)
    assert sim.account.max_leverage("BTCUSDT") == tier.max_leverage == Decimal(25)
    reply = await api.set_leverage("BTCUSDT", "50")
    assert reply.ret_code == 110013
    assert (
        reply.ret_msg
        == "cannot set leverage [5000] gt maxLeverage [2500] by risk limit"
    )
    assert (await api.set_leverage("BTCUSDT", "25")).ret_code == 0
    sim.account.set_position_value("BTCUSDT", 0)
    assert (await api.set_leverage("BTCUSDT", "50")).ret_code == 0
    with pytest.raises(ValueError, match=">= 0"):
        sim.account.set_position_value("BTCUSDT", -1)


async def test_portfolio_margin_is_110038(api: Api, sim: BybitSimulator) -> None:
    sim.account.set_margin_mode(MarginMode.PORTFOLIO)
    assert sim.account.margin_mode is MarginMode.PORTFOLIO
    assert (await api.set_leverage("BTCUSDT", "5")).ret_code == 110038
    with pytest.raises(ValueError, match="hybrid"):
        sim.account.set_margin_mode("hybrid")


async def test_set_leverage_state_bypasses_rules(api: Api, sim: BybitSimulator) -> None:
    sim.account.set_leverage_state("BTCUSDT", "7", "7")
    assert (await api.set_leverage("BTCUSDT", "7")).ret_code == 110043
