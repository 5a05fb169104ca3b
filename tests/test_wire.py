from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from bybit_leverage import (
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
    PositionLeverage,
    ResponseDecodeError,
)
from bybit_leverage._wire import (
    Sides,
    collect_sides,
    decode_json,
    encode_body,
    encode_query,
    instrument_to_wire,
    parse_envelope,
    parse_instruments_page,
    parse_position_leverage,
)

PATH = "/v5/market/instruments-info"
D = Decimal
Payload = Callable[[str], Any]


def test_page_parses_into_instruments_and_cursor(payload: Payload) -> None:
    body = payload("instruments_linear_page1")
    envelope = parse_envelope(body, PATH)
    page = parse_instruments_page(envelope.result, Category.LINEAR, PATH)
    btc = page.instruments[0]
    assert btc == Instrument(
        symbol="BTCUSDT",
        category=Category.LINEAR,
        status=InstrumentStatus.TRADING,
        contract_type=ContractType.LINEAR_PERPETUAL,
        base_coin="BTC",
        quote_coin="USDT",
        settle_coin="USDT",
        launch_time=datetime(2020, 3, 30, tzinfo=UTC),
        leverage_filter=LeverageFilter(
            Decimal("1"), Decimal("100.00"), Decimal("0.01")
        ),
        delivery_time=None,
    )
    assert btc.is_tradable
    assert page.next_cursor == "first%3DETHUSDT%26last%3DETHUSDT"  # verbatim, encoded
    assert envelope.time_ms == 1672280218882


def test_last_page_has_no_cursor_and_keeps_caps_exact(payload: Payload) -> None:
    body = payload("instruments_linear_page2")
    page = parse_instruments_page(body["result"], Category.LINEAR, PATH)
    assert page.next_cursor is None
    futures, pepe = page.instruments
    assert futures.contract_type is ContractType.LINEAR_FUTURES
    assert futures.delivery_time == datetime(2025, 12, 26, 8, tzinfo=UTC)
    assert pepe.leverage_filter.max_leverage == Decimal(
        "12.50"
    )  # never truncated to 12


def test_a_json_float_leverage_is_a_decode_error_naming_the_path(
    payload: Payload,
) -> None:
    body = copy.deepcopy(payload("instruments_linear_page1"))
    body["result"]["list"][1]["leverageFilter"]["maxLeverage"] = 100.0
    with pytest.raises(ResponseDecodeError) as info:
        parse_instruments_page(body["result"], Category.LINEAR, PATH)
    assert "$.result.list[1].leverageFilter.maxLeverage" in str(info.value)
    assert info.value.path == PATH


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda item: item.pop("symbol"), "$.result.list[0].symbol"),
        (lambda item: item.update(status="Halted"), "$.result.list[0].status"),
        (
            lambda item: item["leverageFilter"].update(leverageStep="0"),
            "$.result.list[0]",
        ),
        (
            lambda item: item["leverageFilter"].update(maxLeverage="abc"),
            "$.result.list[0].leverageFilter.maxLeverage",
        ),
    ],
)
def test_malformed_items_name_their_path(
    payload: Payload, mutate: Callable[[dict[str, Any]], object], where: str
) -> None:
    body = copy.deepcopy(payload("instruments_linear_page1"))
    mutate(body["result"]["list"][0])
    with pytest.raises(ResponseDecodeError, match=PATH) as info:
        parse_instruments_page(body["result"], Category.LINEAR, PATH)
    assert where in str(info.value)


@pytest.mark.parametrize(
    ("result", "where"),
    [
        ({"category": "linear"}, "$.result.list"),
        ({"list": [1]}, "$.result.list[0]"),
        ({"list": [], "nextPageCursor": 5}, "nextPageCursor"),
    ],
)
def test_malformed_pages_name_their_path(result: dict[str, Any], where: str) -> None:
    with pytest.raises(ResponseDecodeError, match=r"\$") as info:
        parse_instruments_page(result, Category.LINEAR, PATH)
    assert where in str(info.value)


def test_unknown_fields_are_ignored(payload: Payload) -> None:
    body = copy.deepcopy(payload("instruments_linear_page1"))
    body["result"]["list"][0]["brandNewField"] = {"nested": [1, 2]}
    body["result"]["list"][0]["leverageFilter"]["maxLeverageTier2"] = "50"
    page = parse_instruments_page(body["result"], Category.LINEAR, PATH)
    assert page.instruments[0].symbol == "BTCUSDT"


@pytest.mark.parametrize("ret_code", [0, "0"])
@pytest.mark.parametrize("ret_msg", ["OK", "success", "SUCCESS", ""])
def test_success_is_ret_code_zero_whatever_the_message(
    ret_code: int | str, ret_msg: str
) -> None:
    envelope = parse_envelope(
        {"retCode": ret_code, "retMsg": ret_msg, "result": {}}, "/p"
    )
    assert envelope.ok
    assert envelope.ret_code == 0


def test_business_errors_are_returned_not_raised(payload: Payload) -> None:
    envelope = parse_envelope(payload("set_leverage_not_modified"), "/p")
    assert not envelope.ok
    assert envelope.ret_code == 110043
    assert envelope.result == {}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "expected an object"),
        ({"retMsg": "OK"}, "retCode is missing"),
        ({"retCode": True}, "retCode is missing"),
        ({"retCode": "abc"}, "not an integer"),
        ({"retCode": 0, "retMsg": 5}, "retMsg"),
        ({"retCode": 0, "result": "x"}, "result is a str"),
    ],
)
def test_malformed_envelopes_are_decode_errors(body: object, reason: str) -> None:
    with pytest.raises(ResponseDecodeError, match=reason) as info:
        parse_envelope(body, "/v5/position/set-leverage")
    assert info.value.path == "/v5/position/set-leverage"


@pytest.mark.parametrize("result", [None, []])
def test_empty_results_become_an_empty_mapping(result: object) -> None:
    envelope = parse_envelope({"retCode": 10001, "retMsg": "x", "result": result}, "/p")
    assert envelope.result == {}


def test_decode_json_refuses_an_html_page() -> None:
    assert decode_json(b'{"a": 1}', "/p") == {"a": 1}
    with pytest.raises(ResponseDecodeError, match="not JSON"):
        decode_json(b"<html>403 Forbidden</html>", "/p")


def test_body_and_query_are_the_exact_signed_bytes() -> None:
    body = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "buyLeverage": "6",
        "sellLeverage": "6",
    }
    assert encode_body(body) == (
        '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"6","sellLeverage":"6"}'
    )
    query = {"category": "linear", "symbol": "BTCUSDT", "cursor": None}
    assert encode_query(query) == "category=linear&symbol=BTCUSDT"


def test_query_sends_an_encoded_cursor_back_verbatim() -> None:
    cursor = "first%3DETHUSDT%26last%3DETHUSDT"
    query = encode_query({"category": "linear", "limit": 1000, "cursor": cursor})
    assert query == f"category=linear&limit=1000&cursor={cursor}"
    assert encode_query({"cursor": "a=b&c"}) == "cursor=a%3Db%26c"


def test_instrument_round_trips_through_the_wire(payload: Payload) -> None:
    result = payload("instruments_linear_page2")["result"]
    original = parse_instruments_page(result, Category.LINEAR, PATH).instruments
    items = [instrument_to_wire(instrument) for instrument in original]
    assert items[0]["leverageFilter"] == {
        "minLeverage": "1",
        "maxLeverage": "25",  # read back plain: Decimal('25'), not Decimal('25.00')
        "leverageStep": "0.01",
    }
    # A model built with Bybit's own spelling keeps it (the simulator relies on it).
    styled = attrs.evolve(
        original[0], leverage_filter=LeverageFilter(D("1"), D("25.00"), D("0.01"))
    )
    assert instrument_to_wire(styled)["leverageFilter"]["maxLeverage"] == "25.00"
    assert items[1]["deliveryTime"] == "0"
    assert "category" not in items[0]
    again = parse_instruments_page({"list": items}, Category.LINEAR, PATH)
    assert again.instruments == original


def test_position_rows_group_into_modes() -> None:
    result = {
        "list": [
            {"symbol": "BTCUSDT", "leverage": "10", "side": "Buy", "positionIdx": 0},
            {"symbol": "ETHUSDT", "leverage": "12.5", "side": "Buy", "positionIdx": 1},
            {"symbol": "ETHUSDT", "leverage": "5", "side": "Sell", "positionIdx": "2"},
            {"symbol": "PMUSDT", "leverage": "", "side": "", "positionIdx": 0},
        ]
    }
    assert parse_position_leverage(result, "/p") == {
        "BTCUSDT": PositionLeverage("BTCUSDT", Decimal("10"), Decimal("10")),
        "ETHUSDT": PositionLeverage(
            "ETHUSDT", Decimal("12.5"), Decimal("5"), hedge=True
        ),
        "PMUSDT": PositionLeverage("PMUSDT", None, None),
    }


def test_only_the_wanted_symbols_are_read() -> None:
    rows = [
        {"symbol": "BTCUSDT", "leverage": "10", "positionIdx": 0},
        {"symbol": "ODDUSDT", "leverage": "ten", "positionIdx": 9},  # not asked for
        {"symbol": "ETHUSDT", "leverage": "12.5", "positionIdx": 1},
        {"symbol": "ETHUSDT", "leverage": "5", "positionIdx": 2},
    ]
    sides: Sides = {}
    collect_sides(rows, "/p", sides, wanted=frozenset({"BTCUSDT", "ETHUSDT"}))
    assert sides == {
        "BTCUSDT": {0: Decimal("10")},
        "ETHUSDT": {1: Decimal("12.5"), 2: Decimal("5")},
    }
    with pytest.raises(ResponseDecodeError, match="list\\[1\\]"):
        collect_sides(rows, "/p", {}, wanted=frozenset({"ODDUSDT"}))


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({}, "$.result.list is missing"),
        ({"list": [{"leverage": "1"}]}, "$.result.list[0] has no symbol"),
        ({"list": [{"symbol": "X", "leverage": "1", "positionIdx": 3}]}, "0, 1 or 2"),
        ({"list": [{"symbol": "X", "leverage": "1", "positionIdx": "a"}]}, "0, 1 or 2"),
        ({"list": [{"symbol": "X", "leverage": 10.0}]}, "$.result.list[0].leverage"),
        ({"list": [{"symbol": "X", "leverage": "ten"}]}, "not a decimal"),
    ],
)
def test_malformed_position_rows_name_their_path(
    result: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        parse_position_leverage(result, "/v5/position/symbol-info")
    assert reason in str(info.value)
