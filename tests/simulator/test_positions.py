from __future__ import annotations

import pytest

from bybit_leverage.simulator import BybitSimulator, MarginMode

from .helpers import Api

SYMBOL_INFO = "/v5/position/symbol-info"
POSITIONS = "/v5/position/list"

pytestmark = pytest.mark.bybit_sim(seed=7)


async def test_symbol_info_lists_every_symbol(api: Api, sim: BybitSimulator) -> None:
    sim.account.set_position_mode("ETHUSDT", hedge=True)
    reply = await api.get(SYMBOL_INFO, "category=linear")
    rows = reply.result["list"]
    assert reply.result["category"] == "linear"
    assert len(rows) == len(sim.universe.by_category["linear"]) + 1  # type: ignore[index]
    eth = [r for r in rows if r["symbol"] == "ETHUSDT"]
    assert eth == [
        {"symbol": "ETHUSDT", "leverage": "10", "side": "Buy", "positionIdx": 1},
        {"symbol": "ETHUSDT", "leverage": "10", "side": "Sell", "positionIdx": 2},
    ]


async def test_symbol_info_reflects_set_leverage(api: Api) -> None:
    assert (await api.set_leverage("BTCUSDT", "12.5")).ret_code == 0
    reply = await api.get(SYMBOL_INFO, "category=linear&symbol=BTCUSDT")
    assert reply.result["list"] == [
        {"symbol": "BTCUSDT", "leverage": "12.5", "side": "", "positionIdx": 0}
    ]


@pytest.mark.parametrize(
    "query", ["category=linear&symbol=NOPE", "category=spot", "symbol=BTCUSDT"]
)
async def test_symbol_info_parameter_errors(api: Api, query: str) -> None:
    assert (await api.get(SYMBOL_INFO, query)).ret_code == 10001


async def test_symbol_info_under_portfolio_margin(
    api: Api, sim: BybitSimulator
) -> None:
    sim.account.set_margin_mode("portfolio")
    assert (await api.get(SYMBOL_INFO, "category=linear")).ret_code == 110038


async def test_position_list_one_way_and_hedge(api: Api, sim: BybitSimulator) -> None:
    one = (await api.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result
    assert one["nextPageCursor"] == ""
    (row,) = one["list"]
    assert (row["positionIdx"], row["leverage"], row["size"], row["side"]) == (
        0, "10", "0", "",
    )  # fmt: skip
    sim.account.set_position_mode("BTCUSDT", hedge=True)
    sim.account.set_margin_mode(MarginMode.ISOLATED)
    assert (await api.set_leverage("BTCUSDT", "20", "4")).ret_code == 0
    rows = (await api.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result["list"]
    assert [(r["positionIdx"], r["leverage"], r["tradeMode"]) for r in rows] == [
        (1, "20", 1),
        (2, "4", 1),
    ]


async def test_position_list_by_settle_coin_lists_open_positions(
    api: Api, sim: BybitSimulator
) -> None:
    assert (await api.get(POSITIONS, "category=linear&settleCoin=USDT")).result[
        "list"
    ] == []
    sim.account.set_position_value("ETHUSDT", 1000)
    rows = (await api.get(POSITIONS, "category=linear&settleCoin=USDT")).result["list"]
    assert [(r["symbol"], r["side"], r["positionValue"]) for r in rows] == [
        ("ETHUSDT", "Buy", "1000")
    ]


async def test_position_list_under_portfolio_margin_has_empty_leverage(
    api: Api, sim: BybitSimulator
) -> None:
    sim.account.set_margin_mode("portfolio")
    rows = (await api.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result["list"]
    assert rows[0]["leverage"] == ""


@pytest.mark.parametrize("query", ["category=linear", "category=x&symbol=BTCUSDT"])
async def test_position_list_parameter_errors(api: Api, query: str) -> None:
    assert (await api.get(POSITIONS, query)).ret_code == 10001
