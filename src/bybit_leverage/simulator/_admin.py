"""The ``/__sim/`` admin routes: the Python controls over HTTP, JSON in and out.

For a simulator in another process (``python -m bybit_leverage.simulator``).
Every body is a JSON object; a bad one answers HTTP 400 ``{"error": "..."}``.
Routes that act on an account take ``"uid"`` (default: the first account).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bybit_leverage.simulator._core import SimCore
from bybit_leverage.simulator._state import CONTRACT_TRADE, SimAccount, SimKey

__all__ = ["account_summary", "key_summary", "make_admin"]

_Route = Callable[[dict[str, Any]], Any]


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": message}), content_type="application/json"
    )


def key_summary(key: SimKey) -> dict[str, Any]:
    """A key as JSON: its public part and settings (the secret is left out)."""
    return {
        "api_key": key.api_key,
        "read_only": key.read_only,
        "contract_trade": list(key.contract_trade),
        "ips": list(key.ips),
        "expired": key.expired,
        "rsa": key.rsa_public_key is not None,
    }


def account_summary(account: SimAccount) -> dict[str, Any]:
    """An account as JSON: settings, keys and open positions."""
    return {
        "uid": account.uid,
        "parent_uid": account.parent_uid,
        "margin_mode": account.margin_mode.value,
        "unified_status": account.unified_status,
        "keys": [key_summary(key) for key in account.keys],
        "positions": {
            symbol: format(account.position_value(symbol), "f")
            for symbol in account.open_positions()
        },
    }


def _account(core: SimCore, data: dict[str, Any]) -> SimAccount:
    uid = data.get("uid", min(core.accounts))
    account = core.accounts.get(uid) if isinstance(uid, int) else None
    if account is None:
        raise ValueError(f"no account with uid {uid!r}")
    return account


def _strings(
    data: dict[str, Any], name: str, default: tuple[str, ...]
) -> tuple[str, ...]:
    value = data.get(name, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def _decimal(data: dict[str, Any], name: str) -> Decimal:
    value = data[name]
    if not isinstance(value, str | int):  # a float would carry binary rounding
        raise TypeError(f"{name} must be a string or an integer")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None


def make_admin(core: SimCore) -> web.Application:
    """Build the admin sub-application for ``core``."""
    admin = web.Application()

    def post(path: str, action: _Route) -> None:
        async def handle(request: web.Request) -> web.Response:
            try:
                data = json.loads(await request.read() or b"{}")
            except ValueError:
                raise _bad("body is not JSON") from None
            if not isinstance(data, dict):
                raise _bad("body must be a JSON object")
            try:
                answer = action(data)
            except KeyError as exc:
                raise _bad(f"missing or unknown {exc.args[0]!r}") from None
            except (TypeError, ValueError) as exc:
                raise _bad(str(exc)) from None
            return web.json_response(answer)

        admin.router.add_post(path, handle)

    def get(path: str, answer: Callable[[], Any]) -> None:
        async def handle(request: web.Request) -> web.Response:
            return web.json_response(answer())

        admin.router.add_get(path, handle)

    def inject(data: dict[str, Any]) -> Any:
        core.faults.inject(
            str(data.get("endpoint", "*")),
            str(data.get("fault")),
            int(data.get("times", 1)),
        )
        return {"pending": core.faults.pending()}

    def clear(data: dict[str, Any]) -> Any:
        core.faults.clear()
        return {"pending": {}}

    def latency(data: dict[str, Any]) -> Any:
        core.set_latency(float(data["ms"]), float(data.get("jitter_ms", 0)))
        return {"ms": core.latency_ms, "jitter_ms": core.jitter_ms}

    def skew(data: dict[str, Any]) -> Any:
        core.skew_ms = int(data["ms"])
        return {"ms": core.skew_ms}

    def reset(data: dict[str, Any]) -> Any:
        core.reset_stats()
        return {}

    def account(data: dict[str, Any]) -> Any:
        target = _account(core, data)
        if "margin_mode" in data:
            target.set_margin_mode(str(data["margin_mode"]))
        if "unified_status" in data:
            target.set_unified_status(int(data["unified_status"]))
        return account_summary(target)

    def add_account(data: dict[str, Any]) -> Any:
        parent = data.get("parent_uid")
        if parent is not None and parent not in core.accounts:
            raise ValueError(f"no account with uid {parent!r}")
        created = core.new_account(
            margin_mode=str(data.get("margin_mode", "REGULAR_MARGIN")),
            unified_status=int(data.get("unified_status", 5)),
            parent_uid=parent,
        )
        return add_key({**data, "uid": created.uid})

    def add_key(data: dict[str, Any]) -> Any:
        target = _account(core, data)
        key = core.new_key(
            target,
            read_only=bool(data.get("read_only", False)),
            contract_trade=_strings(data, "contract_trade", CONTRACT_TRADE),
            ips=_strings(data, "ips", ()),
            expired=bool(data.get("expired", False)),
        )
        # Simulator-made credentials, valid nowhere else: handed out like the banner.
        return {"uid": target.uid, "api_key": key.api_key, "api_secret": key.api_secret}

    def position(data: dict[str, Any]) -> Any:
        target = _account(core, data)
        symbol = str(data["symbol"])
        if "hedge" in data:
            target.set_position_mode(symbol, hedge=bool(data["hedge"]))
        if "value" in data:
            side = str(data.get("side", "Buy"))
            target.set_position_value(symbol, _decimal(data, "value"), side=side)
        if "reduce_only" in data:
            target.set_reduce_only(symbol, bool(data["reduce_only"]))
        if "leverage" in data:
            value = _decimal(data, "leverage")
            target.set_leverage_state(symbol, value, value)
        state = target.state(symbol)
        return {
            "symbol": symbol,
            "hedge": state.hedge,
            "value": format(state.position_value, "f"),
            "side": state.side,
            "reduce_only": state.reduce_only,
            "leverage": [format(state.buy, "f"), format(state.sell, "f")],
        }

    def lower(data: dict[str, Any]) -> Any:
        target = _account(core, data)
        symbol = str(data["symbol"])
        target.lower_leverage(
            symbol, _decimal(data, "leverage"), at_ms=core.server_time_ms()
        )
        if "reduce_only" in data:
            target.set_reduce_only(symbol, bool(data["reduce_only"]))
        return position({"uid": target.uid, "symbol": symbol})

    def status(data: dict[str, Any]) -> Any:
        listed = core.universe.set_status(str(data["symbol"]), str(data["status"]))
        return {"symbol": listed.symbol, "status": listed.instrument.status.value}

    post("/inject", inject)
    post("/clear-faults", clear)
    post("/latency", latency)
    post("/skew", skew)
    post("/reset-stats", reset)
    post("/account", account)
    post("/accounts", add_account)
    post("/keys", add_key)
    post("/position", position)
    post("/lower-leverage", lower)
    post("/status", status)
    get("/stats", core.stats)
    get("/accounts", lambda: [account_summary(a) for a in core.accounts.values()])
    return admin
