"""Parse leverage targets from the command line and from plan files (pure).

Accepted forms:

- arguments: ``BTCUSDT=10``, ``ETHUSDT=12.5``, ``ETHUSDT=10/5`` (hedge: buy/sell);
- CSV: rows ``symbol,leverage`` or ``symbol,buy,sell``, with or without a header;
  blank lines and lines starting with ``#`` are skipped;
- JSON: ``{"BTCUSDT": "10", ...}`` or ``[{"symbol": ..., "leverage": ...}, ...]``
  (or ``buy``/``sell`` instead of ``leverage``).

Values stay strings here: they become ``Decimal`` when snapped, so a bad number is
reported per symbol with its allowed range. What is refused here is what has no
symbol or no value at all, with the line (or item) it came from.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Final

from bybit_leverage import LeverageRequest, TargetError

__all__ = ["parse_assignment", "parse_target_text", "read_targets_file"]

_HEADER_WORDS: Final = {"symbol", "leverage", "buy", "sell"}


def _request(symbol: str, values: list[str], where: str) -> LeverageRequest:
    symbol = symbol.strip().upper()
    values = [value.strip() for value in values]
    if not symbol:
        raise TargetError(where, "missing symbol")
    if not values or any(not value for value in values):
        raise TargetError(where, f"missing leverage for {symbol}")
    if len(values) == 1:
        return LeverageRequest(symbol, values[0])
    if len(values) == 2:
        return LeverageRequest(symbol, buy=values[0], sell=values[1])
    raise TargetError(where, f"expected LEVERAGE or BUY/SELL for {symbol}")


def parse_assignment(text: str) -> LeverageRequest:
    """Parse ``SYMBOL=LEVERAGE`` or ``SYMBOL=BUY/SELL``.

    Raises:
        TargetError: When the text has no ``=``, no symbol or no value.
    """
    symbol, sep, value = text.partition("=")
    if not sep:
        raise TargetError(repr(text), "expected SYMBOL=LEVERAGE (e.g. BTCUSDT=10)")
    return _request(symbol, value.split("/"), repr(text))


def _from_csv(text: str, source: str) -> list[LeverageRequest]:
    requests = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in _HEADER_WORDS:
            continue
        while cells and not cells[-1]:
            cells.pop()
        requests.append(_request(cells[0], cells[1:], f"{source}, line {number}"))
    return requests


def _json_item(item: Any, where: str) -> LeverageRequest:
    if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
        raise TargetError(where, "expected an object with a symbol")
    keys = ("leverage",) if "leverage" in item else ("buy", "sell")
    values = [item.get(key) for key in keys]
    for key, value in zip(keys, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TargetError(where, f"{item['symbol']}: {key} must be a number")
    return _request(item["symbol"], [str(value) for value in values], where)


def _from_json(text: str, source: str) -> list[LeverageRequest]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TargetError(f"{source}, line {exc.lineno}", exc.msg) from None
    if isinstance(data, dict):
        return [
            _json_item(
                {"symbol": symbol, "leverage": value}, f"{source}, key {symbol!r}"
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

    Raises:
        TargetError: Naming ``source`` and the line (CSV, JSON syntax) or item
            (JSON) of the first bad entry.
    """
    stripped = text.lstrip()
    if source.lower().endswith(".json") or stripped.startswith(("{", "[")):
        return _from_json(text, source)
    return _from_csv(text, source)


def read_targets_file(path: str) -> list[LeverageRequest]:
    """Read and parse a plan file (see :func:`parse_target_text`).

    Raises:
        TargetError: The file cannot be read, or an entry is bad.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TargetError(path, exc.strerror or "cannot read") from None
    return parse_target_text(text, source=path)
