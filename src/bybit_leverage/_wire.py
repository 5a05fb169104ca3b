"""Wire format: JSON envelopes, camelCase names and decimal strings (pure).

Bybit's names and formats stop here. Models never see a camelCase key, and
leverage numbers are only ever built from JSON strings: a JSON float would bring
binary rounding error with it, so it is a decode error.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeAlias
from urllib.parse import quote

import attrs
import cattrs
from attrs import frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from bybit_leverage.errors import ResponseDecodeError
from bybit_leverage.models import (
    Category,
    Instrument,
    PositionLeverage,
    format_leverage,
    plain_decimal,
)

__all__ = [
    "Envelope",
    "InstrumentsPage",
    "decode_json",
    "encode_body",
    "encode_query",
    "instrument_to_wire",
    "parse_envelope",
    "parse_instruments_page",
    "parse_position_leverage",
    "parse_server_time",
    "result_list",
    "set_leverage_body",
]

_CAMEL_RE: Final = re.compile(r"_([a-z])")
# Characters that stay literal in a query value. "%" is kept so that a cursor Bybit
# sent already URL-encoded goes back verbatim instead of being encoded twice.
_QUERY_SAFE: Final = "%-._~:,"


def _to_camel(name: str) -> str:
    return _CAMEL_RE.sub(lambda m: m.group(1).upper(), name)


def _decimal_from_wire(value: object, _: type) -> Decimal:
    if not isinstance(value, str):  # a float would smuggle in binary rounding error
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    if len(value) > 40:  # only short cells are worth keeping
        return _decimal_from_text(value)
    return _cached_decimal_from_text(value)


def _decimal_from_text(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return plain_decimal(number)  # "100.00" reads back as Decimal('100')


#: A listing repeats a few hundred distinct cells ("0.01", "100") thousands of times.
_cached_decimal_from_text: Final = functools.lru_cache(maxsize=4096)(_decimal_from_text)


def _ms_from_wire(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"expected epoch milliseconds, got {type(value).__name__}")
    return int(value)


def _datetime_from_wire(value: object, _: type) -> datetime:
    return datetime.fromtimestamp(_ms_from_wire(value) / 1000, UTC)


def _optional_datetime_from_wire(value: object, _: object) -> datetime | None:
    # Bybit writes "0" (not null) for "no delivery time" on perpetuals.
    if value is None or value in ("", "0", 0):
        return None
    return _datetime_from_wire(value, datetime)


def _datetime_to_wire(value: datetime) -> str:
    return str(round(value.timestamp() * 1000))


def make_converter() -> cattrs.Converter:
    """Build the converter holding every wire rule (names, decimals, times)."""
    conv = cattrs.Converter(forbid_extra_keys=False)  # Bybit adds fields; tolerate them
    conv.register_structure_hook(Decimal, _decimal_from_wire)
    conv.register_unstructure_hook(Decimal, lambda d: format(d, "f"))
    conv.register_structure_hook(datetime, _datetime_from_wire)
    conv.register_structure_hook(datetime | None, _optional_datetime_from_wire)
    conv.register_unstructure_hook(datetime, _datetime_to_wire)

    def camel_in(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
        renames: dict[str, Any] = {  # dict[str, Any] keeps mypy --strict quiet
            a.name: override(rename=_to_camel(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_structure_fn(cls, conv, **renames)

    def camel_out(cls: type[Any]) -> Callable[[Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(rename=_to_camel(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, **renames)

    conv.register_structure_hook_factory(attrs.has, camel_in)
    conv.register_unstructure_hook_factory(attrs.has, camel_out)
    return conv


CONVERTER: Final = make_converter()


@frozen
class Envelope:
    """Bybit's response envelope, checked for shape but not for success."""

    ret_code: int
    ret_msg: str
    result: Mapping[str, Any]
    time_ms: int | None = None

    @property
    def ok(self) -> bool:
        """Whether ``retCode`` is 0 (the only success; ``retMsg`` varies)."""
        return self.ret_code == 0


@frozen
class InstrumentsPage:
    """One page of Instruments Info."""

    instruments: list[Instrument]
    next_cursor: str | None


def decode_json(body: bytes | str, path: str) -> Any:
    """Parse a response body as JSON.

    Raises:
        ResponseDecodeError: When the body is not JSON (an HTML error page, say).
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResponseDecodeError(path, f"not JSON ({exc})") from None


def parse_envelope(payload: object, path: str) -> Envelope:
    """Check the envelope's shape and return it; a non-zero ``retCode`` is not raised.

    ``retCode`` is accepted as an int or as a numeric string (older responses).

    Raises:
        ResponseDecodeError: When a required part is missing or has the wrong type.
    """
    if not isinstance(payload, dict):
        raise ResponseDecodeError(
            path, f"expected an object, got {type(payload).__name__}"
        )
    raw_code = payload.get("retCode")
    if isinstance(raw_code, bool) or not isinstance(raw_code, int | str):
        raise ResponseDecodeError(path, "retCode is missing or not an integer")
    try:
        ret_code = int(raw_code)
    except ValueError:
        raise ResponseDecodeError(
            path, f"retCode {raw_code!r} is not an integer"
        ) from None
    ret_msg = payload.get("retMsg", "")
    if not isinstance(ret_msg, str):
        raise ResponseDecodeError(path, "retMsg is not a string")
    result = payload.get("result")
    if result is None or result == []:  # error answers may carry null or [] here
        result = {}
    if not isinstance(result, dict):
        raise ResponseDecodeError(
            path, f"result is a {type(result).__name__}, not an object"
        )
    time_ms = payload.get("time")
    return Envelope(
        ret_code, ret_msg, result, time_ms if isinstance(time_ms, int) else None
    )


def structure(value: object, cls: type[Any], path: str, where: str = "$") -> Any:
    """Structure ``value`` into ``cls`` with the wire rules.

    Raises:
        ResponseDecodeError: Naming each offending field, e.g.
            ``invalid value for type, expected Decimal @ $.leverageFilter.minLeverage``.
    """
    try:
        return CONVERTER.structure(value, cls)
    except cattrs.BaseValidationError as exc:
        # cattrs names attributes; report the wire's camelCase names instead.
        problems = "; ".join(
            _to_camel(line) for line in cattrs.transform_error(exc, path=where)
        )
        raise ResponseDecodeError(path, problems) from None
    except (TypeError, ValueError) as exc:  # e.g. an invariant of the model
        raise ResponseDecodeError(path, f"{where}: {exc}") from None


def result_list(result: Mapping[str, Any], path: str) -> list[Any]:
    """``result.list``, checked to be a list.

    Raises:
        ResponseDecodeError: When it is missing or not a list.
    """
    items = result.get("list")
    if not isinstance(items, list):
        raise ResponseDecodeError(path, "$.result.list is missing or not a list")
    return items


def parse_instruments_page(
    result: Mapping[str, Any],
    category: Category,
    path: str,
    start: int = 0,
    stop: int | None = None,
) -> InstrumentsPage:
    """Turn one Instruments Info ``result`` into instruments and the next cursor.

    The cursor comes back as Bybit sent it (already URL-encoded); ``None`` means
    there is no further page. ``start``/``stop`` parse a slice of the items (a
    caller that yields to its loop between slices parses a long page in parts).

    Raises:
        ResponseDecodeError: When the page or one of its items is malformed.
    """
    items = result_list(result, path)
    instruments = []
    for index in range(start, len(items) if stop is None else min(stop, len(items))):
        item = items[index]
        where = f"$.result.list[{index}]"
        if not isinstance(item, dict):
            raise ResponseDecodeError(path, f"{where} is not an object")
        instruments.append(
            structure({**item, "category": category.value}, Instrument, path, where)
        )
    cursor = result.get("nextPageCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseDecodeError(path, "$.result.nextPageCursor is not a string")
    return InstrumentsPage(instruments, cursor or None)


def instrument_to_wire(instrument: Instrument) -> dict[str, Any]:
    """Render an instrument as an Instruments Info list item (camelCase, strings)."""
    item: dict[str, Any] = CONVERTER.unstructure(instrument)
    del item["category"]  # the category is a request parameter, not an item field
    if item["deliveryTime"] is None:
        item["deliveryTime"] = "0"
    return item


def encode_body(params: Mapping[str, str]) -> str:
    """Serialize a POST body compactly; these exact bytes are signed and sent."""
    return json.dumps(params, separators=(",", ":"))


def encode_query(params: Mapping[str, str | int | None]) -> str:
    """Build a query string in the given order; these exact bytes are signed and sent.

    ``None`` values are left out. ``%`` is kept, so a cursor that Bybit already
    URL-encoded is sent back verbatim.
    """
    return "&".join(
        f"{key}={quote(str(value), safe=_QUERY_SAFE)}"
        for key, value in params.items()
        if value is not None
    )


def _leverage_cell(row: Mapping[str, Any], path: str, where: str) -> Decimal | None:
    raw = row.get("leverage")
    if raw == "":  # portfolio margin reports no leverage
        return None
    try:
        return _decimal_from_wire(raw, Decimal)
    except (TypeError, ValueError) as exc:
        raise ResponseDecodeError(path, f"{where}.leverage: {exc}") from None


def parse_position_leverage(
    result: Mapping[str, Any], path: str
) -> dict[str, PositionLeverage]:
    """Group ``/v5/position/symbol-info`` (or ``/v5/position/list``) rows by symbol.

    ``positionIdx`` 0 is one-way mode (one leverage for both sides); 1 and 2 are
    the buy and sell sides of a hedge-mode symbol.

    Raises:
        ResponseDecodeError: When a row is malformed.
    """
    sides: Sides = {}
    collect_sides(result_list(result, path), path, sides)
    return group_sides(sides.items())


#: Leverage by symbol and ``positionIdx``, as rows are read.
Sides: TypeAlias = dict[str, dict[int, Decimal | None]]


def collect_sides(
    rows: Sequence[Any],
    path: str,
    into: Sides,
    start: int = 0,
    stop: int | None = None,
    *,
    wanted: AbstractSet[str] | None = None,
) -> None:
    """Read the leverage cells of ``rows[start:stop]`` into ``into``.

    With ``wanted``, rows of other symbols are passed over unread: a batch of
    fifty symbols does not pay for the account's other five hundred.

    Raises:
        ResponseDecodeError: When a row is malformed.
    """
    sides = into
    for index in range(start, len(rows) if stop is None else min(stop, len(rows))):
        row = rows[index]
        where = f"$.result.list[{index}]"
        if not isinstance(row, dict) or not isinstance(row.get("symbol"), str):
            raise ResponseDecodeError(path, f"{where} has no symbol")
        if wanted is not None and row["symbol"] not in wanted:
            continue
        try:
            idx = int(row.get("positionIdx", 0))
        except (TypeError, ValueError):
            raise ResponseDecodeError(
                path, f"{where}.positionIdx is not 0, 1 or 2"
            ) from None
        if idx not in (0, 1, 2):
            raise ResponseDecodeError(path, f"{where}.positionIdx is not 0, 1 or 2")
        sides.setdefault(row["symbol"], {})[idx] = _leverage_cell(row, path, where)


def group_sides(
    sides: Iterable[tuple[str, dict[int, Decimal | None]]],
    into: dict[str, PositionLeverage] | None = None,
) -> dict[str, PositionLeverage]:
    """Each symbol's leverage and position mode from its rows' cells (``Sides`` items).

    Adds to ``into`` when given, so a long listing can be grouped in slices.
    """
    positions = {} if into is None else into
    for symbol, by_idx in sides:
        if 0 in by_idx:
            positions[symbol] = PositionLeverage(
                symbol, by_idx[0], by_idx[0], hedge=False
            )
        else:
            positions[symbol] = PositionLeverage(
                symbol, by_idx.get(1), by_idx.get(2), hedge=True
            )
    return positions


def parse_server_time(envelope: Envelope, path: str) -> int:
    """Read the server's clock (epoch ms) from a ``/v5/market/time`` answer.

    ``result.timeNano`` is the most precise, then ``result.timeSecond``, then the
    envelope's own ``time``.

    Raises:
        ResponseDecodeError: When none of them is there or a value is not an integer.
    """
    result = envelope.result
    try:
        if "timeNano" in result:
            return int(result["timeNano"]) // 1_000_000
        if "timeSecond" in result:
            return int(result["timeSecond"]) * 1000
    except (TypeError, ValueError):
        raise ResponseDecodeError(
            path, "timeNano/timeSecond is not an integer"
        ) from None
    if envelope.time_ms is not None:
        return envelope.time_ms
    raise ResponseDecodeError(path, "no server time in the answer")


def set_leverage_body(
    category: Category, symbol: str, buy: Decimal, sell: Decimal
) -> dict[str, str]:
    """The ``/v5/position/set-leverage`` body: leverage as plain decimal strings."""
    return {
        "category": category.value,
        "symbol": symbol,
        "buyLeverage": format_leverage(buy),
        "sellLeverage": format_leverage(sell),
    }
