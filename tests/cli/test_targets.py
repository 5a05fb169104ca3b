from __future__ import annotations

import pytest

from bybit_leverage import LeverageRequest, TargetError
from bybit_leverage.cli._targets import parse_assignment, parse_target_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BTCUSDT=10", LeverageRequest("BTCUSDT", "10")),
        ("ethusdt=12.555", LeverageRequest("ETHUSDT", "12.555")),
        (" ETHUSDT = 10/5 ", LeverageRequest("ETHUSDT", buy="10", sell="5")),
    ],
)
def test_assignments(text: str, expected: LeverageRequest) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("BTCUSDT", "expected SYMBOL=LEVERAGE"),
        ("=10", "missing symbol"),
        ("BTCUSDT=", "missing leverage for BTCUSDT"),
        ("BTCUSDT=1/2/3", "expected LEVERAGE or BUY/SELL"),
        ("BTCUSDT=10/", "missing leverage"),
    ],
)
def test_bad_assignments_say_why(text: str, reason: str) -> None:
    with pytest.raises(TargetError, match=reason) as info:
        parse_assignment(text)
    assert info.value.where == repr(text)


def test_csv_with_header_comments_and_hedge_rows() -> None:
    text = "symbol,leverage\n# majors\nBTCUSDT,10\n\nETHUSDT,10,5\nSOLUSDT, 7.5 ,\n"
    assert parse_target_text(text, source="plan.csv") == [
        LeverageRequest("BTCUSDT", "10"),
        LeverageRequest("ETHUSDT", buy="10", sell="5"),
        LeverageRequest("SOLUSDT", "7.5"),
    ]


def test_csv_errors_carry_the_line_number() -> None:
    text = "BTCUSDT,10\nETHUSDT,10\n,5\n"
    with pytest.raises(TargetError, match=r"plan\.csv, line 3: missing symbol"):
        parse_target_text(text, source="plan.csv")
    with pytest.raises(TargetError, match=r"line 2: missing leverage for XRPUSDT"):
        parse_target_text("BTCUSDT,10\nXRPUSDT\n", source="plan.csv")


def test_json_object_and_list_forms() -> None:
    assert parse_target_text('{"BTCUSDT": "10", "ETHUSDT": 12.5}') == [
        LeverageRequest("BTCUSDT", "10"),
        LeverageRequest("ETHUSDT", "12.5"),
    ]
    text = (
        '[{"symbol": "ETHUSDT", "buy": 10, "sell": "5"},'
        ' {"symbol": "BTCUSDT", "leverage": 3}]'
    )
    assert parse_target_text(text) == [
        LeverageRequest("ETHUSDT", buy="10", sell="5"),
        LeverageRequest("BTCUSDT", "3"),
    ]


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ('{"BTCUSDT": "10",\n "ETHUSDT": }', "plan.json, line 2", "Expecting value"),
        (
            '[{"symbol": "BTCUSDT"}]',
            "plan.json, item 0",
            "BTCUSDT: buy must be a number",
        ),
        ('[{"leverage": 5}]', "plan.json, item 0", "expected an object with a symbol"),
        ('{"BTCUSDT": true}', "plan.json, key 'BTCUSDT'", "leverage must be a number"),
        ('"BTCUSDT"', "plan.json", "expected a JSON object or list"),
    ],
)
def test_json_errors_name_line_or_item(text: str, where: str, reason: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target_text(text, source="plan.json")
    assert info.value.where == where
    assert reason in info.value.reason
