from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
from bybit_leverage.models import ContractType, InstrumentStatus
from bybit_leverage.simulator import BybitSimulator
from bybit_leverage.simulator._cursor import decode_cursor, encode_cursor
from bybit_leverage.simulator._market import build_universe

from .helpers import Api

INSTRUMENTS = "/v5/market/instruments-info"
ITEM_FIELDS = {
    "symbol", "contractType", "status", "baseCoin", "quoteCoin", "settleCoin",
    "launchTime", "deliveryTime", "priceScale", "leverageFilter", "priceFilter",
    "lotSizeFilter", "fundingInterval",
}  # fmt: skip

pytestmark = pytest.mark.bybit_sim(seed=7)


async def test_universe_is_a_function_of_the_seed() -> None:
    first, again, other = (
        build_universe(100, 1),
        build_universe(100, 1),
        build_universe(100, 2),
    )
    assert [dict(s.wire) for s in first.by_symbol.values()] == [
        dict(s.wire) for s in again.by_symbol.values()
    ]
    assert set(first.by_symbol) != set(other.by_symbol)


async def test_default_universe_has_the_shape_of_bybit_linear() -> None:
    universe = build_universe(600, 0)
    linear = universe.by_category["linear"]  # type: ignore[index]
    assert len(linear) == 600
    assert len(universe.by_category["inverse"]) >= 2  # type: ignore[index]
    kinds = Counter(
        (s.instrument.contract_type, s.instrument.settle_coin) for s in linear
    )
    assert kinds[(ContractType.LINEAR_PERPETUAL, "USDT")] > 500
    assert kinds[(ContractType.LINEAR_PERPETUAL, "USDC")] > 0
    assert kinds[(ContractType.LINEAR_FUTURES, "USDC")] > 0
    statuses = Counter(s.instrument.status for s in linear)
    assert set(statuses) == set(InstrumentStatus)
    assert statuses[InstrumentStatus.TRADING] > 500
    filters = {tuple(s.wire["leverageFilter"].values()) for s in linear}
    for expected in ("100.00", "75.00", "50.00", "25.00", "12.50", "5.00", "20.0"):
        assert any(f[1] == expected for f in filters), expected
    assert {f[2] for f in filters} == {"0.01", "0.1"}
    for inverse in universe.by_category["inverse"]:  # type: ignore[index]
        assert inverse.instrument.contract_type.value.startswith("Inverse")


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
async def test_well_known_symbols_are_always_listed(symbol: str) -> None:
    for seed in range(3):
        item = build_universe(10, seed).by_symbol[symbol]
        assert item.wire["status"] == "Trading"
        assert dict(item.wire["leverageFilter"]) == {
            "minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01",
        }  # fmt: skip
        assert item.wire["deliveryTime"] == "0"


async def test_risk_tiers_start_at_the_filter_max_and_never_rise() -> None:
    for listed in build_universe(200, 3).by_symbol.values():
        rule = listed.instrument.leverage_filter
        caps = [t.max_leverage for t in listed.tiers]
        assert caps[0] == rule.max_leverage
        assert caps == sorted(caps, reverse=True)
        assert caps[-1] < caps[0] or caps[0] == rule.min_leverage
        assert all((cap - rule.min_leverage) % rule.leverage_step == 0 for cap in caps)
        assert listed.tier_max(Decimal(0)) == rule.max_leverage
        assert listed.tier_max(listed.tiers[-1].max_value * 10) == caps[-1]


async def test_too_few_symbols_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        build_universe(1, 0)


async def test_cursor_round_trip_and_refusals() -> None:
    cursor = encode_cursor(500, "linear|None")
    assert cursor.endswith("%3D%3D")
    assert decode_cursor(unquote(cursor), "linear|None") == 500
    # still percent-encoded (the client encoded it once more): decoded again
    assert decode_cursor(cursor, "linear|None") == 500
    assert decode_cursor(unquote(cursor), "inverse|None") is None
    assert decode_cursor("!!", "linear|None") is None


async def test_server_time(api: Api, sim: BybitSimulator) -> None:
    before = sim.server_time_ms()
    reply = await api.public("/v5/market/time")
    after = sim.server_time_ms()
    result = reply.result
    assert before <= reply.json["time"] <= after
    # The result is read while handling, the envelope's time when answering (as on
    # Bybit), so the two may differ by the handling time, never the other way.
    handled_ms = int(result["timeNano"]) // 1_000_000
    assert before <= handled_ms <= reply.json["time"]
    assert int(result["timeSecond"]) == handled_ms // 1000
    sim.set_clock_skew(-60_000)
    skewed = (await api.public("/v5/market/time")).json["time"]
    assert skewed < before - 50_000


async def test_paging_walks_every_trading_symbol(api: Api, sim: BybitSimulator) -> None:
    expected = sorted(
        s.symbol
        for s in sim.universe.by_category["linear"]  # type: ignore[index]
        if s.instrument.status is InstrumentStatus.TRADING
    )
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        query = "category=linear&limit=7" + (f"&cursor={cursor}" if cursor else "")
        reply = await api.public(INSTRUMENTS, query)
        assert reply.ret_code == 0
        result = reply.result
        assert result["category"] == "linear"
        pages += 1
        for item in result["list"]:
            assert set(item) >= ITEM_FIELDS
            assert item["status"] == "Trading"
        seen += [item["symbol"] for item in result["list"]]
        cursor = result["nextPageCursor"]
        if not cursor:
            break
        assert "%3D" in cursor  # sent already URL-encoded
    assert seen == expected
    assert pages == -(-len(expected) // 7)


async def test_default_limit_is_500(session: aiohttp.ClientSession) -> None:
    async with BybitSimulator(symbols=600) as sim:
        api = Api(session, sim.url, Credentials.hmac(sim.api_key, sim.api_secret))
        first = (await api.public(INSTRUMENTS, "category=linear")).result
        assert len(first["list"]) == 500
        rest = (
            await api.public(
                INSTRUMENTS, f"category=linear&cursor={first['nextPageCursor']}"
            )
        ).result
        trading = sum(
            s.instrument.status is InstrumentStatus.TRADING
            for s in sim.universe.by_category["linear"]  # type: ignore[index]
        )
        assert len(rest["list"]) == trading - 500
        assert rest["nextPageCursor"] == ""


@pytest.mark.parametrize("status", list(InstrumentStatus))
async def test_status_filter(
    api: Api, sim: BybitSimulator, status: InstrumentStatus
) -> None:
    reply = await api.public(INSTRUMENTS, f"category=linear&status={status.value}")
    listed = reply.result["list"]
    assert listed
    assert {item["status"] for item in listed} == {status.value}


async def test_symbol_and_base_coin_filters(api: Api, sim: BybitSimulator) -> None:
    one = await api.public(INSTRUMENTS, "category=linear&symbol=ETHUSDT")
    assert [i["symbol"] for i in one.result["list"]] == ["ETHUSDT"]
    not_live = next(
        s.symbol
        for s in sim.universe.by_category["linear"]  # type: ignore[index]
        if s.instrument.status is InstrumentStatus.PRE_LAUNCH
    )
    by_name = await api.public(INSTRUMENTS, f"category=linear&symbol={not_live}")
    assert [i["symbol"] for i in by_name.result["list"]] == [not_live]
    filtered = await api.public(
        INSTRUMENTS, f"category=linear&symbol={not_live}&status=Trading"
    )
    assert filtered.result["list"] == []
    btc = await api.public(INSTRUMENTS, "category=inverse&baseCoin=BTC")
    assert {i["symbol"] for i in btc.result["list"]} >= {"BTCUSD"}
    assert all(i["baseCoin"] == "BTC" for i in btc.result["list"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "category=futures",
        "category=linear&limit=0",
        "category=linear&limit=1001",
        "category=linear&limit=ten",
        "category=linear&status=Live",
        "category=linear&cursor=garbage",
        "category=linear&cursor=%25%25",
    ],
)
async def test_bad_instrument_queries_are_10001(api: Api, query: str) -> None:
    reply = await api.public(INSTRUMENTS, query)
    assert reply.status == 200
    assert reply.ret_code == 10001


async def test_cursor_is_bound_to_its_filters(api: Api) -> None:
    first = await api.public(INSTRUMENTS, "category=linear&limit=5")
    cursor = first.result["nextPageCursor"]
    other = await api.public(
        INSTRUMENTS, f"category=linear&limit=5&status=Closed&cursor={cursor}"
    )
    assert other.ret_code == 10001
    assert "cursor" in other.ret_msg


@pytest.mark.parametrize("encode", [lambda c: c, lambda c: c.replace("%", "%25")])
async def test_cursor_sent_verbatim_or_encoded_once_more(api: Api, encode: Any) -> None:
    first = await api.public(INSTRUMENTS, "category=linear&limit=5")
    cursor = first.result["nextPageCursor"]
    assert cursor.endswith("%3D%3D")
    sent = encode(cursor)
    second = await api.public(INSTRUMENTS, f"category=linear&limit=5&cursor={sent}")
    assert second.ret_code == 0
    names = [i["symbol"] for i in first.result["list"] + second.result["list"]]
    assert len(set(names)) == 10


async def test_spot_lists_a_few_pairs_and_option_none(api: Api) -> None:
    spot = (await api.public(INSTRUMENTS, "category=spot")).result
    assert spot["category"] == "spot"
    assert {i["symbol"] for i in spot["list"]} >= {"BTCUSDT", "ETHUSDT"}
    for item in spot["list"]:
        assert item["status"] == "Trading"
        assert set(item["lotSizeFilter"]) >= {"basePrecision", "minOrderQty"}
        assert "leverageFilter" not in item
    eth = await api.public(INSTRUMENTS, "category=spot&baseCoin=ETH")
    assert [i["symbol"] for i in eth.result["list"]] == ["ETHUSDT"]
    btc = await api.public(INSTRUMENTS, "category=spot&symbol=BTCUSDT")
    assert [i["symbol"] for i in btc.result["list"]] == ["BTCUSDT"]
    closed = await api.public(INSTRUMENTS, "category=spot&status=Closed")
    assert closed.result["list"] == []
    bad = await api.public(INSTRUMENTS, "category=spot&status=Open")
    assert bad.ret_code == 10001
    option = (await api.public(INSTRUMENTS, "category=option&baseCoin=BTC")).result
    assert (option["category"], option["list"], option["nextPageCursor"]) == (
        "option",
        [],
        "",
    )


async def test_delisting_between_plan_and_send(api: Api, sim: BybitSimulator) -> None:
    before = await api.public(INSTRUMENTS, "category=linear&symbol=ETHUSDT")
    assert before.result["list"][0]["status"] == "Trading"
    sim.set_status("ETHUSDT", "Closed")
    reply = await api.set_leverage("ETHUSDT", "5")
    assert reply.ret_code == 110074
    after = await api.public(INSTRUMENTS, "category=linear&symbol=ETHUSDT")
    assert after.result["list"][0]["status"] == "Closed"
    trading = await api.public(INSTRUMENTS, "category=linear&limit=1000")
    assert "ETHUSDT" not in {i["symbol"] for i in trading.result["list"]}
    sim.set_status("ETHUSDT", InstrumentStatus.TRADING)
    assert (await api.set_leverage("ETHUSDT", "5")).ret_code == 0
    assert (
        sim.universe.by_symbol["ETHUSDT"].instrument.status is InstrumentStatus.TRADING
    )
    with pytest.raises(KeyError):
        sim.set_status("NOPE", "Closed")
    with pytest.raises(ValueError, match="Gone"):
        sim.set_status("ETHUSDT", "Gone")
