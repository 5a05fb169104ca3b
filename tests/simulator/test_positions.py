from __future__ import annotations

from decimal import Decimal

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


@pytest.mark.parametrize(
    ("hedge", "mode", "code"),
    [
        (True, "ISOLATED_MARGIN", 0),  # the only combination that may differ
        (True, "REGULAR_MARGIN", 10001),
        (False, "ISOLATED_MARGIN", 10001),
        (False, "REGULAR_MARGIN", 10001),
        (True, "PORTFOLIO_MARGIN", 110038),
    ],
)
async def test_buy_and_sell_may_differ_only_hedged_and_isolated(
    api: Api, sim: BybitSimulator, hedge: bool, mode: str, code: int
) -> None:
    sim.account.set_position_mode("ETHUSDT", hedge=hedge)
    sim.account.set_margin_mode(mode)
    assert (await api.set_leverage("ETHUSDT", "10", "5")).ret_code == code
    assert (await api.set_leverage("ETHUSDT", "7")).ret_code == (
        110038 if mode == "PORTFOLIO_MARGIN" else 0
    )


async def test_position_rows_agree_on_size_side_and_value(
    api: Api, sim: BybitSimulator
) -> None:
    sim.account.set_position_value("ETHUSDT", 12_345, side="Sell")
    (row,) = (await api.get(POSITIONS, "category=linear&symbol=ETHUSDT")).result["list"]
    listed = sim.universe.by_symbol["ETHUSDT"]
    size, avg = Decimal(row["size"]), Decimal(row["avgPrice"])
    assert (row["side"], row["positionValue"]) == ("Sell", "12345")
    assert size > 0
    assert size % listed.qty_step == 0
    assert size == sim.account.position_size("ETHUSDT")
    assert abs(size * avg - 12_345) <= size * Decimal(row["markPrice"]) / 100 + 1
    assert Decimal(row["markPrice"]) == listed.mark_price > 0
    sim.account.set_position_mode("ETHUSDT", hedge=True)
    rows = (await api.get(POSITIONS, "category=linear&symbol=ETHUSDT")).result["list"]
    assert [(r["positionIdx"], r["side"], r["size"] != "0") for r in rows] == [
        (1, "", False),
        (2, "Sell", True),
    ]
    sim.account.set_position_value("ETHUSDT", 0)
    rows = (await api.get(POSITIONS, "category=linear&symbol=ETHUSDT")).result["list"]
    assert {(r["side"], r["size"], r["positionValue"]) for r in rows} == {
        ("", "0", "0")
    }
    with pytest.raises(ValueError, match="Buy or Sell"):
        sim.account.set_position_value("ETHUSDT", 1, side="Long")


async def test_the_exchange_lowering_leverage_shows_on_the_rows(
    api: Api, sim: BybitSimulator
) -> None:
    (row,) = (await api.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result["list"]
    assert (row["leverageSysUpdatedTime"], row["isReduceOnly"]) == ("", False)
    sim.account.set_leverage_state("BTCUSDT", 50, 50)
    before = sim.server_time_ms()
    sim.lower_leverage("BTCUSDT", 20)
    sim.account.set_reduce_only("BTCUSDT")
    (row,) = (await api.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result["list"]
    assert row["leverage"] == "20"
    assert before <= int(row["leverageSysUpdatedTime"]) <= sim.server_time_ms()
    assert row["isReduceOnly"] is True
    sim.lower_leverage("BTCUSDT", 30)  # never raises what is in force
    assert sim.account.leverage("BTCUSDT") == (Decimal(20), Decimal(20))
    sim.account.lower_leverage("BTCUSDT", 5, at_ms=123)
    assert sim.account.state("BTCUSDT").sys_updated_ms == 123
    with pytest.raises(ValueError, match="outside"):
        sim.lower_leverage("BTCUSDT", 500)


async def test_settle_coin_listing_pages_with_limit_and_cursor(
    api: Api, sim: BybitSimulator
) -> None:
    open_symbols = [
        s.symbol
        for s in sim.universe.by_category["linear"]  # type: ignore[index]
        if s.instrument.settle_coin == "USDT"
    ][:7]
    for symbol in open_symbols:
        sim.account.set_position_value(symbol, 1000)
    seen: list[str] = []
    cursor = ""
    while True:
        query = "category=linear&settleCoin=USDT&limit=3"
        reply = await api.get(
            POSITIONS, query + (f"&cursor={cursor}" if cursor else "")
        )
        assert reply.ret_code == 0
        page = reply.result["list"]
        assert len(page) <= 3
        seen += [row["symbol"] for row in page]
        cursor = reply.result["nextPageCursor"]
        if not cursor:
            break
    assert seen == open_symbols
    default = await api.get(POSITIONS, "category=linear&settleCoin=USDT")
    assert len(default.result["list"]) == 7  # under the default 20
    first = await api.get(POSITIONS, "category=linear&settleCoin=USDT&limit=5")
    usdt_cursor = first.result["nextPageCursor"]
    other = f"category=linear&settleCoin=USDC&cursor={usdt_cursor}"
    assert (await api.get(POSITIONS, other)).ret_code == 10001  # not its cursor


@pytest.mark.parametrize("limit", ["0", "201", "x"])
async def test_position_list_limit_is_1_to_200(api: Api, limit: str) -> None:
    query = f"category=linear&settleCoin=USDT&limit={limit}"
    assert (await api.get(POSITIONS, query)).ret_code == 10001


async def test_inverse_position_list_needs_no_symbol(
    api: Api, sim: BybitSimulator
) -> None:
    assert (await api.get(POSITIONS, "category=inverse")).result["list"] == []
    sim.account.set_position_value("BTCUSD", 5000)
    rows = (await api.get(POSITIONS, "category=inverse")).result["list"]
    assert [(r["symbol"], r["side"]) for r in rows] == [("BTCUSD", "Buy")]
    assert (await api.get(POSITIONS, "category=linear")).ret_code == 10001
