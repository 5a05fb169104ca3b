"""Parse leverage targets from the command line and from plan files (pure).

Accepted forms:

- arguments: ``BTCUSDT=10``, ``ETHUSDT=12.5``, ``ETHUSDT=10/5`` (hedge: buy/sell);
- CSV: rows ``symbol,leverage`` or ``symbol,buy,sell``, with or without a header;
  blank lines and lines starting with ``#`` are skipped; a leading byte-order
  mark (Excel's "CSV UTF-8") is ignored; lines may end in LF, CRLF or CR;
- JSON: ``{"BTCUSDT": "10", ...}`` or ``[{"symbol": ..., "leverage": ...}, ...]``
  (or ``buy``/``sell`` instead of ``leverage``). Strict JSON: no ``NaN`` or
  ``Infinity``, and no key twice in one object.

Values stay strings here, exactly as written (a JSON number keeps its digits),
but each must read as a number (``to_leverage``: ASCII digits, within bounds):
a typo in a file is a usage error found before anything is sent, naming the
line (or item) and the value. Whether a number fits a symbol's range and grid
is decided per symbol later. Also refused here: no symbol or no value at all,
or a symbol that cannot be one (more than 64 characters, whitespace or control
characters inside). Only :class:`TargetError` comes out, and it shows any value
it names cut short.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable
from typing import Any, Final

from bybit_leverage import InvalidLeverage, LeverageRequest, TargetError, to_leverage
from bybit_leverage.leverage import describe_value

__all__ = [
    "MAX_SYMBOL_CHARS",
    "parse_assignment",
    "parse_target_text",
]

_HEADER_WORDS: Final = {"symbol", "leverage", "buy", "sell"}
#: Bybit's symbols are short (``1000000BABYDOGEUSDT``, ``BTC-26DEC25``); anything
#: this long is a mistake, and would only make every message about it long.
MAX_SYMBOL_CHARS: Final = 64


def _symbol(text: str, where: str) -> str:
    symbol = text.strip().upper()
    if not symbol:
        raise TargetError(where, "missing symbol")
    # Control, format and unassigned characters (NUL, escapes, a byte-order mark,
    # lone surrogates) and inner whitespace are never part of a symbol, and
    # would garble the table the symbol is shown in.
    odd = any(unicodedata.category(char)[0] in "CZ" for char in symbol)
    if odd or len(symbol) > MAX_SYMBOL_CHARS:
        raise TargetError(where, f"not a symbol: {describe_value(text.strip())}")
    return symbol


def _request(symbol: str, values: list[str], where: str) -> LeverageRequest:
    symbol = _symbol(symbol, where)
    values = [value.strip() for value in values]
    if not values or any(not value for value in values):
        raise TargetError(where, f"missing leverage for {symbol}")
    for value in values:
        try:
            to_leverage(value, symbol=symbol)
        except InvalidLeverage as exc:
            raise TargetError(where, f"{symbol}: {exc.reason}: {exc.value}") from None
    if len(values) == 1:
        return LeverageRequest(symbol, values[0])
    if len(values) == 2:
        return LeverageRequest(symbol, buy=values[0], sell=values[1])
    raise TargetError(where, f"expected LEVERAGE or BUY/SELL for {symbol}")


def parse_assignment(text: str) -> LeverageRequest:
    """Parse ``SYMBOL=LEVERAGE`` or ``SYMBOL=BUY/SELL``.

    Raises:
        TargetError: When the text has no ``=``, no symbol or no value, or the
            symbol cannot be one. The error shows the text cut short.
    """
    where = describe_value(text)
    symbol, sep, value = text.partition("=")
    if not sep:
        raise TargetError(where, "expected SYMBOL=LEVERAGE (e.g. BTCUSDT=10)")
    return _request(symbol, value.split("/"), where)


def _from_csv(text: str, source: str) -> list[LeverageRequest]:
    requests: list[LeverageRequest] = []
    # newline="": csv itself splits \n, \r\n and \r, inside quotes too.
    reader = csv.reader(io.StringIO(text, newline=""))
    first = True
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:  # a field over csv's size limit, for one
            raise TargetError(f"{source}, line {reader.line_num}", str(exc)) from None
        if row is None:
            return requests
        where = f"{source}, line {reader.line_num}"
        cells = [cell.strip() for cell in row]
        header = first and bool(cells) and cells[0].lower() in _HEADER_WORDS
        first = False
        if header or not any(cells) or cells[0].startswith("#"):
            continue
        while cells and not cells[-1]:
            cells.pop()
        requests.append(_request(cells[0], cells[1:], where))


_FORMS: Final = (("leverage",), ("buy", "sell"))


def _json_item(item: Any, where: str) -> LeverageRequest:
    if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
        raise TargetError(where, "expected an object with a symbol")
    symbol = _symbol(item["symbol"], where)
    given = [form for form in _FORMS if any(key in item for key in form)]
    if len(given) > 1:
        raise TargetError(where, f"{symbol}: give leverage or buy/sell, not both")
    keys = given[0] if given else _FORMS[1]
    values: list[str] = []
    for key in keys:
        value = item.get(key)
        if not isinstance(value, str):  # numbers arrive as their text
            raise TargetError(where, f"{symbol}: {key} must be a number")
        values.append(value)
    return _request(symbol, values, where)


class _NotJSON(Exception):
    """Raised from inside the JSON decoder's hooks; becomes a TargetError."""


def _refuse_constant(name: str) -> object:
    raise _NotJSON(f"{name} is not a JSON number")


def _unique_keys(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _NotJSON(f"key {describe_value(key)} appears twice in one object")
        obj[key] = value
    return obj


def _load_json(text: str, source: str) -> Any:
    try:
        return json.loads(
            text,
            parse_int=str,  # the digits as written: no int-size limit, no float
            parse_float=str,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise TargetError(f"{source}, line {exc.lineno}", exc.msg) from None
    except _NotJSON as exc:
        raise TargetError(source, str(exc)) from None
    except RecursionError:
        raise TargetError(source, "nested too deeply") from None


def _from_json(text: str, source: str) -> list[LeverageRequest]:
    data = _load_json(text, source)
    if isinstance(data, dict):
        return [
            _json_item(
                {"symbol": symbol, "leverage": value},
                f"{source}, key {describe_value(symbol)}",
            )
            for symbol, value in data.items()
        ]
    if isinstance(data, list):
        return [
            _json_item(item, f"{source}, item {index}")
            for index, item in enumerate(data)
        ]
    raise TargetError(source, "expected a JSON object or list")


def parse_target_text(text: str, *, source: str = "targets") -> list[LeverageRequest]:
    """Parse a plan file's text: JSON (by ``.json`` name or opening bracket), else CSV.

    A leading byte-order mark is ignored.

    Raises:
        TargetError: Naming ``source`` and the line (CSV, JSON syntax) or item
            (JSON) of the first bad entry, or the repeated key of a JSON object.
    """
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if source.lower().endswith(".json") or stripped.startswith(("{", "[")):
        return _from_json(text, source)
    return _from_csv(text, source)
