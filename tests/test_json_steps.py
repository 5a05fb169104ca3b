"""Decoding a large answer in steps: the same values and errors as json.loads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bybit_leverage import BybitClient
from bybit_leverage._json_steps import STEP_CHARS, decode_json_in_steps
from bybit_leverage._wire import decode_json
from bybit_leverage.errors import ResponseDecodeError

PATH = "/v5/position/symbol-info"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=40,
)
layouts = st.sampled_from(
    [{}, {"indent": 2}, {"separators": (",", ":")}, {"indent": "\t"}]
)


def run(steps: Generator[None, None, Any]) -> tuple[Any, int]:
    """The generator's value and how many times it yielded."""
    yields = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value, yields
        yields += 1


def both(body: str | bytes) -> tuple[object, object]:
    """What json.loads and the stepped decoder make of ``body`` (an error: its type)."""
    try:
        expected: object = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        expected = ResponseDecodeError
    try:
        got: object = run(decode_json_in_steps(body, PATH))[0]
    except ResponseDecodeError:
        got = ResponseDecodeError
    return expected, got


@given(json_values, layouts)
def test_any_json_decodes_as_json_loads_does(
    value: Any, layout: dict[str, Any]
) -> None:
    text = json.dumps(value, **layout)
    expected, got = both(text)
    assert got == expected
    assert both(text.encode())[1] == expected
    assert both(f" \n{text}\t ")[1] == expected


@given(json_values, st.data())
def test_a_cut_answer_fails_where_json_loads_fails(
    value: Any, data: st.DataObject
) -> None:
    text = json.dumps({"retCode": 0, "result": {"list": [value, value]}}, indent=1)
    cut = data.draw(st.integers(0, len(text) - 1))
    expected, got = both(text[:cut])
    assert got == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        " ",
        "{",
        "[",
        '{"a" 1}',
        '{"a":1,}',
        "[1,]",
        "[1 2]",
        '{"a":1} x',
        "{1:2}",
        "nul",
        "NaN",
        "[-Infinity]",
        '{"a":1,"a":2}',
        '"\\ud800"',
        b"\xff\xfe{\x00}\x00",
        b"\xef\xbb\xbf[1]",
        b'{"a":"\xff"}',
        "<html>403</html>",
    ],
)
def test_odd_bodies_are_taken_or_refused_as_json_loads_does(body: str | bytes) -> None:
    expected, got = both(body)
    assert got == expected or (got != got and expected != expected)  # NaN


def test_a_deeply_nested_answer_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError, match="nested too deeply"):
        run(decode_json_in_steps('{"a":' * 100_000, PATH))


def test_a_long_list_is_decoded_a_slice_at_a_time() -> None:
    rows = [
        {"symbol": f"S{i}USDT", "leverage": "10", "positionIdx": 0} for i in range(5000)
    ]
    text = json.dumps({"retCode": 0, "result": {"list": rows}})
    value, yields = run(decode_json_in_steps(text, PATH))
    assert value == json.loads(text)
    assert yields >= len(text) // (STEP_CHARS + 100) - 1
    assert decode_json(text, PATH) == value


@pytest.mark.bybit_sim(symbols=3000, seed=5)
async def test_a_whole_category_is_decoded_with_the_loop_free_between_steps(
    client: BybitClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_turns = 0
    turns_seen: list[int] = []

    def tick() -> None:
        nonlocal loop_turns
        loop_turns += 1
        handle[0] = asyncio.get_running_loop().call_soon(tick)

    def watched(body: bytes | str, path: str) -> Generator[None, None, Any]:
        steps = decode_json_in_steps(body, path)
        while True:
            turns_seen.append(loop_turns)
            try:
                next(steps)
            except StopIteration as done:
                return done.value
            yield

    monkeypatch.setattr("bybit_leverage._http.decode_json_in_steps", watched)
    handle = [asyncio.get_running_loop().call_soon(tick)]
    try:
        found = await client.fetch_position_leverage()
    finally:
        handle[0].cancel()
    assert len(found) >= 3000
    # The one large answer (symbol-info for the category) took several turns.
    assert len(turns_seen) > 5
    assert len(set(turns_seen)) == len(turns_seen)
