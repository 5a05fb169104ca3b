"""Public market endpoints: server time and instruments info.

* ``GET /v5/market/time`` (https://bybit-exchange.github.io/docs/v5/market/time)
* ``GET /v5/market/instruments-info``
  (https://bybit-exchange.github.io/docs/v5/market/instrument): ``linear`` and
  ``inverse`` with filters and cursor paging; ``spot`` lists a few pairs and
  ``option`` an empty list (this SDK asks for neither; clients that load every
  market do).
"""

from __future__ import annotations

from typing import Any

from bybit_leverage.models import Category, InstrumentStatus
from bybit_leverage.simulator._cursor import decode_cursor, encode_cursor
from bybit_leverage.simulator._market import SPOT, SimInstrument
from bybit_leverage.simulator._replies import Call, Reply, param_error

__all__ = ["category_of", "handle_instruments", "handle_time"]

_OTHER_CATEGORIES = ("spot", "option")


def category_of(value: object) -> Category:
    """Parse a derivatives ``category`` parameter.

    Raises:
        Refused: retCode 10001 for anything but linear or inverse.
    """
    if value not in (Category.LINEAR.value, Category.INVERSE.value):
        raise param_error(f"category must be linear or inverse, got {value!r}")
    return Category(str(value))


def handle_time(call: Call) -> Reply:
    """``GET /v5/market/time``."""
    now_ms = call.now_ms
    return Reply.ok(
        {"timeSecond": str(now_ms // 1000), "timeNano": str(now_ms * 1_000_000)}
    )


def _status_filter(text: str | None) -> InstrumentStatus | None:
    try:
        return InstrumentStatus(text) if text else None
    except ValueError:
        raise param_error(f"status {text!r} is invalid") from None


def _other(category: str, call: Call) -> Reply:
    items: list[dict[str, Any]] = []
    if category == "spot":
        symbol = call.query.get("symbol")
        base_coin = call.query.get("baseCoin")
        status = _status_filter(call.query.get("status")) or InstrumentStatus.TRADING
        items = [
            dict(item)
            for item in SPOT
            if (symbol is None or item["symbol"] == symbol)
            and (base_coin is None or item["baseCoin"] == base_coin)
            and item["status"] == status.value
        ]
    return Reply.ok({"category": category, "list": items, "nextPageCursor": ""})


def handle_instruments(call: Call) -> Reply:
    """``GET /v5/market/instruments-info`` with filters and cursor paging."""
    query = call.query
    if query.get("category") in _OTHER_CATEGORIES:
        return _other(query["category"], call)
    category = category_of(query.get("category"))
    symbol = query.get("symbol") or None
    base_coin = query.get("baseCoin") or None
    status = _status_filter(query.get("status"))
    limit_text = query.get("limit", "500")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1000:
        raise param_error(f"limit must be in [1, 1000], got {limit_text!r}")
    limit = int(limit_text)
    items: list[SimInstrument] = list(call.universe.by_category[category])
    if symbol is not None:
        # A symbol asked for by name is returned whatever its status, unless
        # a status filter is given too.
        items = [s for s in items if s.symbol == symbol]
    if status is not None or symbol is None:
        wanted = status or InstrumentStatus.TRADING
        items = [s for s in items if s.instrument.status is wanted]
    if base_coin is not None:
        items = [s for s in items if s.instrument.base_coin == base_coin]
    fingerprint = f"{category}|{symbol}|{status}|{base_coin}"
    cursor = query.get("cursor")
    offset = 0
    if cursor:
        decoded = decode_cursor(cursor, fingerprint)
        if decoded is None:
            raise param_error("cursor is invalid")
        offset = decoded
    page = items[offset : offset + limit]
    end = offset + limit
    return Reply.ok(
        {
            "category": category.value,
            "list": [dict(s.wire) for s in page],
            "nextPageCursor": encode_cursor(end, fingerprint)
            if end < len(items)
            else "",
        }
    )
