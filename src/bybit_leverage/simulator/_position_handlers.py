"""Private position endpoints: set-leverage, symbol-info and position list.

* ``POST /v5/position/set-leverage``
  (https://bybit-exchange.github.io/docs/v5/position/leverage)
* ``GET /v5/position/symbol-info`` ("Get Futures Leverage")
* ``GET /v5/position/list`` (https://bybit-exchange.github.io/docs/v5/position)

What set-leverage checks, in order: the key's permission (10005), the body's
four string fields, the category, a listed symbol (10001), Trading status
(110074), portfolio margin (110038), range and grid of both values (10001),
buy != sell outside hedge mode or outside isolated margin (10001), the risk
tier (110013), and "already at this value" (110043).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Final

from bybit_leverage import _constants as c
from bybit_leverage.models import Category, InstrumentStatus, format_leverage
from bybit_leverage.simulator._cursor import decode_cursor, encode_cursor
from bybit_leverage.simulator._market import SimInstrument
from bybit_leverage.simulator._market_handlers import category_of
from bybit_leverage.simulator._replies import Call, Reply, param_error, refuse
from bybit_leverage.simulator._state import MarginMode, SimAccount

__all__ = ["handle_position_list", "handle_set_leverage", "handle_symbol_info"]

_LEVERAGE_RE: Final = re.compile(r"\d+(\.\d+)?")
_SET_LEVERAGE_FIELDS: Final = ("category", "symbol", "buyLeverage", "sellLeverage")
#: position/list page sizes: default 20, at most 200.
_POSITION_PAGE: Final = (20, 200)


def _x100(value: Decimal) -> int:
    # Bybit writes leverage x 100 in the 110013 message: 20x is [2000].
    return int((value * 100).to_integral_value())


def _leverages(params: dict[str, Any], listed: SimInstrument) -> tuple[Decimal, ...]:
    rule = listed.instrument.leverage_filter
    values = []
    for name in ("buyLeverage", "sellLeverage"):
        text: str = params[name]
        value = Decimal(text) if _LEVERAGE_RE.fullmatch(text) else None
        if (
            value is None
            or not rule.min_leverage <= value <= rule.max_leverage
            or (value - rule.min_leverage) % rule.leverage_step != 0
        ):
            raise param_error(
                f"{name} {text!r} invalid: must be between "
                f"{format_leverage(rule.min_leverage)} and "
                f"{format_leverage(rule.max_leverage)} in steps of "
                f"{format_leverage(rule.leverage_step)}"
            )
        values.append(value)
    return tuple(values)


def handle_set_leverage(call: Call) -> Reply:
    """``POST /v5/position/set-leverage`` with every rule of the module docstring."""
    account, key = call.private()
    if not key.may_set_leverage:
        raise refuse(
            c.PERMISSION_DENIED,
            "Permission denied, please check your API key permissions.",
        )
    try:
        params = json.loads(call.body)
    except ValueError:
        raise param_error("request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise param_error("request body must be a JSON object")
    for name in _SET_LEVERAGE_FIELDS:
        if name not in params:
            raise param_error(f"{name} is required")
        if not isinstance(params[name], str):
            raise param_error(f"{name} must be a string")
    category = category_of(params["category"])
    symbol: str = params["symbol"]
    listed = call.universe.get(category, symbol)
    if listed is None:
        raise param_error(f"symbol invalid: {symbol!r} is not listed")
    if listed.instrument.status is not InstrumentStatus.TRADING:
        raise refuse(
            c.CONTRACT_NOT_LIVE,
            f"contract {symbol} is not live (status {listed.instrument.status.value})",
        )
    if account.margin_mode is MarginMode.PORTFOLIO:
        raise refuse(
            c.PORTFOLIO_MARGIN_FORBIDS,
            "Portfolio margin mode does not support setting leverage",
        )
    buy, sell = _leverages(params, listed)
    state = account.state(symbol)
    if buy != sell:
        if not state.hedge:
            raise param_error("buyLeverage must equal sellLeverage in one-way mode")
        if account.margin_mode is not MarginMode.ISOLATED:
            raise param_error("buyLeverage must equal sellLeverage under cross margin")
    cap = listed.tier_max(state.position_value)
    for value in (buy, sell):
        if value > cap:
            raise refuse(
                c.RISK_LIMIT_EXCEEDED,
                f"cannot set leverage [{_x100(value)}] gt maxLeverage "
                f"[{_x100(cap)}] by risk limit",
            )
    if buy == state.buy and sell == state.sell:
        return Reply.envelope(c.LEVERAGE_NOT_MODIFIED, "leverage not modified")
    state.buy, state.sell = buy, sell
    return Reply.ok()


def _sides(account: SimAccount, symbol: str) -> list[tuple[int, str, Decimal]]:
    """``(positionIdx, side, leverage)`` rows: two in hedge mode, one in one-way."""
    state = account.state(symbol)
    if state.hedge:
        return [(1, "Buy", state.buy), (2, "Sell", state.sell)]
    return [(0, state.side if state.position_value else "", state.buy)]


def _symbols(call: Call) -> tuple[Category, list[SimInstrument]]:
    category = category_of(call.query.get("category"))
    symbol = call.query.get("symbol")
    if symbol:
        listed = call.universe.get(category, symbol)
        if listed is None:
            raise param_error(f"symbol invalid: {symbol!r} is not listed")
        return category, [listed]
    return category, list(call.universe.by_category[category])


def handle_symbol_info(call: Call) -> Reply:
    """``GET /v5/position/symbol-info``: current leverage, one row per side.

    Under portfolio margin it answers retCode 110038 (the simulator's pick:
    the endpoint's error code there is undocumented).
    """
    account, _ = call.private()
    category, symbols = _symbols(call)
    if account.margin_mode is MarginMode.PORTFOLIO:
        raise refuse(
            c.PORTFOLIO_MARGIN_FORBIDS,
            "Portfolio margin mode does not support this request",
        )
    rows = [
        {
            "symbol": listed.symbol,
            "leverage": format_leverage(leverage),
            "side": side,
            "positionIdx": idx,
        }
        for listed in symbols
        for idx, side, leverage in _sides(account, listed.symbol)
    ]
    return Reply.ok({"category": category.value, "list": rows})


def _position_row(
    account: SimAccount, listed: SimInstrument, idx: int, side: str, lev: Decimal
) -> dict[str, Any]:
    state = account.state(listed.symbol)
    # In hedge mode the position sits on one of the two rows; the other is empty.
    held = state.position_value > 0 and (idx == 0 or side == state.side)
    size = account.position_size(listed.symbol) if held else Decimal(0)
    tick = Decimal(listed.wire["priceFilter"]["tickSize"])
    value = state.position_value if held else Decimal(0)
    avg = (value / size).quantize(tick) if held else Decimal(0)
    updated = state.sys_updated_ms
    return {
        "positionIdx": idx,
        "riskId": 1,
        "riskLimitValue": format(listed.tiers[0].max_value, "f"),
        "symbol": listed.symbol,
        "side": side if held else "",
        "size": format(size, "f"),
        "avgPrice": format(avg, "f"),
        "positionValue": format(value, "f"),
        "tradeMode": int(account.margin_mode is MarginMode.ISOLATED),
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": (
            "" if account.margin_mode is MarginMode.PORTFOLIO else format_leverage(lev)
        ),
        "markPrice": format(listed.mark_price, "f"),
        "liqPrice": "",
        "bustPrice": "",
        "positionIM": "0",
        "positionMM": "0",
        "positionBalance": "0",
        "tpslMode": "Full",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": "0",
        "curRealisedPnl": "0",
        "cumRealisedPnl": "0",
        "adlRankIndicator": 2 if held else 0,
        "isReduceOnly": state.reduce_only,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "" if updated is None else str(updated),
        "seq": -1,
        "createdTime": "0",
        "updatedTime": "0",
    }


def _page_limit(text: str | None) -> int:
    default, most = _POSITION_PAGE
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise param_error(f"limit must be in [1, {most}], got {text!r}")
    return int(text)


def handle_position_list(call: Call) -> Reply:
    """``GET /v5/position/list``: one symbol, or the open positions, paged.

    linear needs ``symbol`` or ``settleCoin``; inverse without either lists the
    account's open inverse positions. Without ``symbol`` only open positions
    are listed, ``limit`` (1..200, default 20) rows a page with a cursor.
    """
    account, _ = call.private()
    query = call.query
    settle = query.get("settleCoin")
    category, symbols = _symbols(call)
    limit = _page_limit(query.get("limit"))
    if not query.get("symbol"):
        if not settle and category is Category.LINEAR:
            raise param_error("symbol or settleCoin is required")
        symbols = [
            s
            for s in symbols
            if (not settle or s.instrument.settle_coin == settle)
            and account.state(s.symbol).position_value > 0
        ]
    rows = [
        _position_row(account, listed, idx, side, lev)
        for listed in symbols
        for idx, side, lev in _sides(account, listed.symbol)
    ]
    fingerprint = f"positions|{category}|{query.get('symbol')}|{settle}"
    offset = 0
    if query.get("cursor"):
        decoded = decode_cursor(query["cursor"], fingerprint)
        if decoded is None:
            raise param_error("cursor is invalid")
        offset = decoded
    end = offset + limit
    return Reply.ok(
        {
            "category": category.value,
            "list": rows[offset:end],
            "nextPageCursor": encode_cursor(end, fingerprint)
            if end < len(rows)
            else "",
        }
    )
