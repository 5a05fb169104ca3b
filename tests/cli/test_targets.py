from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bybit_leverage import LeverageRequest, TargetError
from bybit_leverage.cli._targets import (
    MAX_SYMBOL_CHARS,
    parse_assignment,
    parse_target_text,
)


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


# -- hostile text: a TargetError naming where, or valid requests ------------------


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        # json.loads raised RecursionError.
        ("[" * 100_000, "plan.json", "nested too deeply"),
        ('{"A": ' * 50_000, "plan.json", "nested too deeply"),
        # NaN and Infinity are not JSON, though json.loads reads them.
        ('{"BTCUSDT": NaN}', "plan.json", "NaN is not a JSON number"),
        ('[{"symbol": "A", "leverage": -Infinity}]', "plan.json", "-Infinity is not"),
        # The second value silently won.
        ('{"BTCUSDT": 10, "BTCUSDT": 20}', "plan.json", "key 'BTCUSDT' appears twice"),
        ('[{"symbol": "A", "symbol": "B", "leverage": 1}]', "plan.json", "'symbol'"),
        # Both forms in one item: buy and sell were silently dropped.
        (
            '[{"symbol": "ETHUSDT", "leverage": 10, "buy": 20, "sell": 5}]',
            "plan.json, item 0",
            "ETHUSDT: give leverage or buy/sell, not both",
        ),
        ('{"BTC\\u0000USDT": 10}', "plan.json, key 'BTC\\x00USDT'", "not a symbol"),
        ('{"\\ud800": 10}', "plan.json, key '\\ud800'", "not a symbol"),
    ],
)
def test_hostile_json_is_a_target_error(text: str, where: str, reason: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target_text(text, source="plan.json")
    assert info.value.where == where
    assert reason in info.value.reason


def test_json_numbers_keep_their_digits() -> None:
    # Floats lost digits: their text now goes on as written.
    text = '{"C": 12.345678901234567890123, "D": 1e9}'
    assert parse_target_text(text) == [
        LeverageRequest("C", "12.345678901234567890123"),
        LeverageRequest("D", "1e9"),  # a number: clamped (or refused) per symbol
    ]


@pytest.mark.parametrize(
    ("text", "where", "shown"),
    [
        # A 5,000-digit int raised ValueError (Python's int-to-str limit), and
        # 1e999 became 'inf': now each is a usage error naming its key.
        ('{"A": ' + "1" * 5000 + "}", "key 'A'", "111111"),
        ('{"B": 1e999}', "key 'B'", "1e999"),
        ("symbol,leverage\nBTCUSDT,ten\n", "line 2", "'ten'"),
        ("BTCUSDT,10/x\n", "line 1", "'10/x'"),
    ],
)
def test_a_value_that_is_not_a_number_names_its_place(
    text: str, where: str, shown: str
) -> None:
    with pytest.raises(TargetError) as info:
        parse_target_text(text, source="plan.txt")
    assert where in str(info.value)
    assert shown in str(info.value)
    assert len(str(info.value)) < 200  # cut short, never the whole value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Excel's "CSV UTF-8" starts with a byte-order mark: the header was
        # read as a symbol, '\ufeffSYMBOL'.
        (
            "\ufeffsymbol,leverage\r\nBTCUSDT,10\r\n",
            [LeverageRequest("BTCUSDT", "10")],
        ),
        ('\ufeff{"BTCUSDT": "10"}', [LeverageRequest("BTCUSDT", "10")]),
        # Old Mac line ends: csv raised "new-line character seen in unquoted field".
        (
            "BTCUSDT,10\rETHUSDT,5\r",
            [
                LeverageRequest("BTCUSDT", "10"),
                LeverageRequest("ETHUSDT", "5"),
            ],
        ),
    ],
)
def test_byte_order_mark_and_line_ends(
    text: str, expected: list[LeverageRequest]
) -> None:
    assert parse_target_text(text, source="plan.csv") == expected


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        # csv raised its own Error for a field over 128 KiB.
        ("BTCUSDT,10\nETHUSDT," + "1" * 200_000, "plan.csv, line 2", "field larger"),
        ("BTC\x00USDT,10", "plan.csv, line 1", "not a symbol: 'BTC\\x00USDT'"),
        ("BTC USDT,10", "plan.csv, line 1", "not a symbol: 'BTC USDT'"),
        ("\x1b[2J,10", "plan.csv, line 1", "not a symbol: '\\x1b[2J'"),
        ("A" * 65 + ",10", "plan.csv, line 1", f"not a symbol: '{'A' * 40}'…"),
    ],
)
def test_hostile_csv_is_a_target_error(text: str, where: str, reason: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target_text(text, source="plan.csv")
    assert info.value.where == where
    assert reason in info.value.reason


def test_a_long_assignment_is_named_cut_short() -> None:
    text = "X" * 100_000
    with pytest.raises(TargetError) as info:
        parse_assignment(text)
    assert info.value.where == repr("X" * 40) + "…"
    with pytest.raises(TargetError, match="not a symbol"):
        parse_assignment(text + "=10")


def outcome(parse: Callable[[], list[LeverageRequest]]) -> str:
    """Parse; check the requests (or the error); say which it was."""
    try:
        requests = parse()
    except TargetError as exc:
        error: TargetError | None = exc
    else:
        error = None
    if error is not None:  # two values of 40 characters at most, escaped
        assert len(str(error)) <= 1000, str(error)
        return "error"
    for request in requests:
        assert isinstance(request, LeverageRequest)
        symbol = request.symbol
        assert symbol == symbol.strip().upper()
        assert 0 < len(symbol) <= MAX_SYMBOL_CHARS
        assert not any(unicodedata.category(c)[0] in "CZ" for c in symbol)
        if request.leverage is None:
            sides = [request.buy, request.sell]
        else:
            assert request.buy is request.sell is None
            sides = [request.leverage]
        for value in sides:
            assert isinstance(value, str)
            assert value
            assert value == value.strip()
    return "requests"


csv_alphabet = st.sampled_from(
    list(',,,\n\n\r"#= /\t\x00\ufeff\u2003\ud800.-eE0123456789BTCUSDsymbolveragbuy')
)
csv_texts = st.one_of(st.text(), st.text(csv_alphabet, max_size=80))


@settings(max_examples=200)
@given(csv_texts)
def test_any_assignment_is_requests_or_a_target_error(text: str) -> None:
    outcome(lambda: [parse_assignment(text)])


@settings(max_examples=200)
@given(csv_texts)
def test_any_csv_text_is_requests_or_a_target_error(text: str) -> None:
    outcome(lambda: parse_target_text(text, source="plan.csv"))


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(csv_alphabet, max_size=8),
    st.text(max_size=8),
)
json_docs = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["symbol", "leverage", "buy", "sell", "BTCUSDT", ""])
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
targets_lists = st.lists(
    st.fixed_dictionaries(
        {"symbol": json_scalars},
        optional={"leverage": json_scalars, "buy": json_scalars, "sell": json_scalars},
    ),
    max_size=4,
)


@settings(max_examples=200)
@given(st.one_of(json_docs, targets_lists), st.booleans())
def test_any_json_document_is_requests_or_a_target_error(
    doc: object, ascii_only: bool
) -> None:
    text = json.dumps(doc, ensure_ascii=ascii_only)  # NaN and Infinity included
    outcome(lambda: parse_target_text(text, source="plan.json"))


json_ish = st.text(st.sampled_from(list('[]{}",:0123456789.eE-+ \nNaInfity\\u')))
deep = st.builds(
    lambda depth, opener, tail: opener * depth + tail,
    st.integers(0, 3000),
    st.sampled_from(["[", '{"A":', '[{"symbol":']),
    json_ish,
)


@settings(max_examples=200)
@given(json_ish | deep)
def test_any_bracketed_text_is_requests_or_a_target_error(text: str) -> None:
    outcome(lambda: parse_target_text(text, source="plan.json"))
