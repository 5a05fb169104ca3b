"""The simulator's core state and its aiohttp.web routes.

Every request to a Bybit route goes through the same pipeline, in the order a
real deployment applies it: the per-IP limit (HTTP 403, HTML), the configured
latency, an injected fault (if one is queued), then for private routes the
authentication checks and the per-UID rate limit, and finally the endpoint's
own rules. Each request is counted and logged once, whatever stage answered it.

Authentication answers (chosen to match Bybit as closely as public reports allow):

* a missing ``X-BAPI-API-KEY``, ``X-BAPI-SIGN`` or ``X-BAPI-TIMESTAMP`` header:
  HTTP 401 with a JSON envelope, retCode 10003;
* a timestamp or recv window that is not an integer: HTTP 200, retCode 10001;
* an unknown key: retCode 10003; a timestamp outside
  ``[server - recv_window, server + 1000)``: retCode 10002; a bad signature:
  retCode 10004 with ``error sign! origin_string[...]``.

Answers refused before the account is known carry no ``X-Bapi-Limit*`` headers;
every answer after that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import random
import re
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from aiohttp import web
from attrs import define, field, frozen

from bybit_leverage import _constants as c
from bybit_leverage._signing import signature_payload, verify_rsa
from bybit_leverage.models import Category, InstrumentStatus, format_leverage
from bybit_leverage.simulator._cursor import decode_cursor, encode_cursor
from bybit_leverage.simulator._faults import Fault, FaultPlan
from bybit_leverage.simulator._limits import Decision, RollingWindow
from bybit_leverage.simulator._market import SimInstrument, Universe
from bybit_leverage.simulator._state import MarginMode, SimAccount

__all__ = ["SimCore", "SimRequest", "make_app"]

#: Per-UID requests per rolling second. symbol-info's limit is undocumented:
#: the simulator gives it set-leverage's 10/s, the stricter reading.
UID_LIMITS: Final = {
    "set-leverage": c.SET_LEVERAGE_LIMIT_PER_S,
    "position-list": c.POSITION_LIST_LIMIT_PER_S,
    "symbol-info": 10,
}
#: Loop seconds a "hang" fault keeps the request open (past any client timeout).
HANG_SECONDS: Final = 3600.0
#: Headers never written to the request log (credentials a proxy might add).
_UNLOGGED: Final = frozenset({"authorization", "cookie", "proxy-authorization"})
_LEVERAGE_RE: Final = re.compile(r"\d+(\.\d+)?")
_FORBIDDEN_HTML: Final = (
    "<html><head><title>403 Forbidden</title></head><body>"
    "<center><h1>403 Forbidden</h1></center><p>access too frequent</p>"
    "</body></html>"
)
_ERROR_HTML: Final = "<html><body><h1>{status} {reason}</h1></body></html>"
_REASONS: Final = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_SET_LEVERAGE_FIELDS: Final = ("category", "symbol", "buyLeverage", "sellLeverage")


@frozen
class SimRequest:
    """One request as the simulator saw and answered it.

    Attributes:
        method: HTTP method.
        path: URL path.
        endpoint: Endpoint name (``"set-leverage"``, ...).
        raw_query: The query string exactly as sent (still percent-encoded).
        body: The raw body.
        headers: Request headers (credentials other than the API key, such as
            cookies, are dropped; the API secret is never sent, so never logged).
        status: HTTP status answered, or ``None`` when the connection was
            aborted or left hanging.
        ret_code: The envelope's retCode, when a JSON envelope was sent.
        loop_time: Event-loop time at which the request arrived.
        uid: The authenticated account, when authentication got that far.
    """

    method: str
    path: str
    endpoint: str
    raw_query: str
    body: bytes
    headers: Mapping[str, str]
    status: int | None
    ret_code: int | None
    loop_time: float
    uid: int | None = None


@define
class _Reply:
    """What to answer; turned into a web response (or an abort) in one place."""

    status: int | None
    ret_code: int | None = None
    text: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(factory=dict)
    uid: int | None = None


@define
class _EndpointStats:
    requests: int = 0
    ret_codes: Counter[int] = field(factory=Counter)
    http: Counter[int] = field(factory=Counter)


class _Refused(Exception):
    """Internal: a rule refused the request with this reply."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.ret_code)
        self.reply = reply


@define
class SimCore:
    """All mutable simulator state: accounts, limits, faults, clocks and counters.

    ``wall_clock`` gives epoch seconds (``time.time`` by default); the server's
    wall time is that plus the configured skew. Rate windows and latency run on
    the event loop's clock, so tests can fast-forward it.
    """

    universe: Universe
    wall_clock: Callable[[], float]
    rate_limit: bool = True
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    skew_ms: int = 0
    seed: int = 0
    log_size: int = 10_000
    faults: FaultPlan = field(factory=FaultPlan)
    accounts: dict[int, SimAccount] = field(factory=dict)
    _by_key: dict[str, SimAccount] = field(factory=dict, init=False)
    _uid_windows: dict[tuple[int, str], RollingWindow] = field(factory=dict, init=False)
    _ip_windows: dict[str, RollingWindow] = field(factory=dict, init=False)
    _stats: dict[str, _EndpointStats] = field(factory=dict, init=False)
    _log: deque[SimRequest] = field(init=False)
    _rng: random.Random = field(init=False)
    _closing: asyncio.Event = field(factory=asyncio.Event, init=False)

    def __attrs_post_init__(self) -> None:
        self._log = deque(maxlen=self.log_size)
        self._rng = random.Random(self.seed)

    # -- accounts ------------------------------------------------------------

    def register(self, account: SimAccount) -> None:
        """Add an account; its key must be new."""
        if account.api_key in self._by_key or account.uid in self.accounts:
            raise ValueError(f"account {account.uid} or its key is already registered")
        self.accounts[account.uid] = account
        self._by_key[account.api_key] = account

    # -- clocks ---------------------------------------------------------------

    def server_time_ms(self) -> int:
        """The server's wall time in epoch ms (wall clock plus skew)."""
        return int(self.wall_clock() * 1000) + self.skew_ms

    # -- statistics -------------------------------------------------------------

    @property
    def requests(self) -> list[SimRequest]:
        """The most recent requests (up to ``log_size``), oldest first."""
        return list(self._log)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters by endpoint: requests, retCodes and HTTP statuses seen."""
        return {
            name: {
                "requests": entry.requests,
                "ret_codes": dict(entry.ret_codes),
                "http": dict(entry.http),
            }
            for name, entry in self._stats.items()
        }

    def reset_stats(self) -> None:
        """Forget the counters and the request log."""
        self._stats.clear()
        self._log.clear()

    def _record(
        self, request: web.Request, endpoint: str, body: bytes, at: float, reply: _Reply
    ) -> None:
        entry = self._stats.get(endpoint)
        if entry is None:
            entry = self._stats[endpoint] = _EndpointStats()
        entry.requests += 1
        if reply.ret_code is not None:
            entry.ret_codes[reply.ret_code] += 1
        if reply.status is not None:
            entry.http[reply.status] += 1
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in _UNLOGGED
        }
        self._log.append(
            SimRequest(
                request.method,
                request.path,
                endpoint,
                request.rel_url.raw_query_string,
                body,
                headers,
                reply.status,
                reply.ret_code,
                at,
                reply.uid,
            )
        )

    def close(self) -> None:
        """Release hanging requests: the server is shutting down."""
        self._closing.set()

    # -- replies ----------------------------------------------------------------

    def envelope(
        self,
        ret_code: int,
        ret_msg: str,
        result: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> _Reply:
        """Build a JSON envelope reply."""
        text = json.dumps(
            {
                "retCode": ret_code,
                "retMsg": ret_msg,
                "result": {} if result is None else result,
                "retExtInfo": {},
                "time": self.server_time_ms(),
            },
            separators=(",", ":"),
        )
        return _Reply(status, ret_code, text)

    def _fault_reply(self, fault: Fault) -> _Reply:
        if fault is Fault.RET_10016:
            return self.envelope(c.SERVER_ERROR, "Internal System Error.")
        if fault is Fault.RET_10006:
            return self.envelope(c.TOO_MANY_VISITS, "Too many visits!")
        if fault is Fault.MALFORMED_JSON:
            return _Reply(200, None, '{"retCode":0,"retMsg":"OK","result":{"list":[')
        if fault is Fault.HTTP_403:
            return _Reply(403, None, _FORBIDDEN_HTML, "text/html")
        status = int(fault.value.removeprefix("http_"))
        html = _ERROR_HTML.format(status=status, reason=_REASONS[status])
        return _Reply(status, None, html, "text/html")

    # -- pipeline -----------------------------------------------------------------

    def route(
        self,
        endpoint: str,
        handler: Callable[[web.Request, bytes, SimAccount | None], _Reply],
        *,
        private: bool,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap an endpoint handler in the common request pipeline."""

        async def serve(request: web.Request) -> web.StreamResponse:
            loop = asyncio.get_running_loop()
            arrived = loop.time()
            body = await request.read()
            reply = await self._pipeline(request, endpoint, body, handler, private)
            self._record(request, endpoint, body, arrived, reply)
            if reply.status is None:
                if request.transport is not None:
                    request.transport.abort()
                # The transport is gone; aiohttp drops whatever is returned.
                return web.Response(status=500)
            return web.Response(
                status=reply.status,
                text=reply.text,
                content_type=reply.content_type,
                headers=reply.headers,
            )

        return serve

    async def _pipeline(
        self,
        request: web.Request,
        endpoint: str,
        body: bytes,
        handler: Callable[[web.Request, bytes, SimAccount | None], _Reply],
        private: bool,
    ) -> _Reply:
        loop = asyncio.get_running_loop()
        if self.rate_limit:
            ip = request.remote or "?"
            window = self._ip_windows.get(ip)
            if window is None:
                window = self._ip_windows[ip] = RollingWindow(c.IP_LIMIT, c.IP_WINDOW_S)
            if not window.acquire(loop.time()).allowed:
                return _Reply(403, None, _FORBIDDEN_HTML, "text/html")
        delay = self.latency_ms + (
            self._rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        )
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        fault = self.faults.take(endpoint)
        if fault is Fault.RESET:
            return _Reply(None)
        if fault is Fault.HANG:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), HANG_SECONDS)
            return _Reply(None)
        if fault is not None:
            reply = self._fault_reply(fault)
            if private and reply.ret_code is not None:
                self._peek_limit_headers(request, endpoint, reply)
            return reply
        account: SimAccount | None = None
        try:
            if private:
                account = self._authenticate(request, body)
                limit_headers = self._take_slot(account, endpoint)
                try:
                    reply = handler(request, body, account)
                except _Refused as refused:
                    reply = refused.reply
                reply.headers.update(limit_headers)
            else:
                reply = handler(request, body, None)
        except _Refused as refused:
            reply = refused.reply
        if account is not None:
            reply.uid = account.uid
        return reply

    def _limit_headers(self, decision: Decision) -> dict[str, str]:
        now = asyncio.get_running_loop().time()
        reset_ms = self.server_time_ms() + round((decision.reset_at - now) * 1000)
        return {
            "X-Bapi-Limit": str(decision.limit),
            "X-Bapi-Limit-Status": str(decision.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
        }

    def _window(self, account: SimAccount, endpoint: str) -> RollingWindow:
        key = (account.uid, endpoint)
        window = self._uid_windows.get(key)
        if window is None:
            window = self._uid_windows[key] = RollingWindow(UID_LIMITS[endpoint], 1.0)
        return window

    def _take_slot(self, account: SimAccount, endpoint: str) -> dict[str, str]:
        if not self.rate_limit:
            return {}
        decision = self._window(account, endpoint).acquire(
            asyncio.get_running_loop().time()
        )
        headers = self._limit_headers(decision)
        if not decision.allowed:
            reply = self.envelope(c.TOO_MANY_VISITS, "Too many visits!")
            reply.headers.update(headers)
            reply.uid = account.uid
            raise _Refused(reply)
        return headers

    def _peek_limit_headers(
        self, request: web.Request, endpoint: str, reply: _Reply
    ) -> None:
        account = self._by_key.get(request.headers.get("X-BAPI-API-KEY", ""))
        if account is None or not self.rate_limit:
            return
        decision = self._window(account, endpoint).peek(
            asyncio.get_running_loop().time()
        )
        reply.headers.update(self._limit_headers(decision))
        reply.uid = account.uid

    def _authenticate(self, request: web.Request, body: bytes) -> SimAccount:
        headers = request.headers
        api_key = headers.get("X-BAPI-API-KEY")
        sign = headers.get("X-BAPI-SIGN")
        timestamp_text = headers.get("X-BAPI-TIMESTAMP")
        if not api_key or not sign or not timestamp_text:
            missing = [
                name
                for name, value in (
                    ("X-BAPI-API-KEY", api_key),
                    ("X-BAPI-SIGN", sign),
                    ("X-BAPI-TIMESTAMP", timestamp_text),
                )
                if not value
            ]
            raise _Refused(
                self.envelope(
                    c.INVALID_API_KEY,
                    f"missing required header(s): {', '.join(missing)}",
                    status=401,
                )
            )
        window_text = headers.get("X-BAPI-RECV-WINDOW", str(c.RECV_WINDOW_MS))
        if not timestamp_text.isdigit() or not window_text.isdigit():
            raise _Refused(
                self.envelope(
                    c.PARAM_ERROR,
                    "X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers",
                )
            )
        account = self._by_key.get(api_key)
        if account is None:
            raise _Refused(self.envelope(c.INVALID_API_KEY, "API key is invalid."))
        timestamp, recv_window = int(timestamp_text), int(window_text)
        server = self.server_time_ms()
        if not server - recv_window <= timestamp < server + c.MAX_CLOCK_AHEAD_MS:
            raise _Refused(
                self.envelope(
                    c.TIMESTAMP_ERROR,
                    "invalid request, please check your server timestamp or "
                    f"recv_window param. req_timestamp[{timestamp}],"
                    f"server_timestamp[{server}],recv_window[{recv_window}]",
                )
            )
        if request.method == "GET":
            payload = request.rel_url.raw_query_string
        else:
            try:
                payload = body.decode()
            except UnicodeDecodeError:
                payload = body.decode("latin-1")
        message = signature_payload(timestamp, api_key, recv_window, payload)
        if account.rsa_public_key is not None:
            valid = verify_rsa(account.rsa_public_key, message, sign)
        else:
            expected = hmac.new(
                (account.api_secret or "").encode(), message.encode(), "sha256"
            ).hexdigest()
            valid = hmac.compare_digest(expected, sign)
        if not valid:
            raise _Refused(
                self.envelope(
                    c.INVALID_SIGNATURE, f"error sign! origin_string[{message}]"
                )
            )
        return account

    # -- endpoints --------------------------------------------------------------

    def handle_time(
        self, request: web.Request, body: bytes, account: SimAccount | None
    ) -> _Reply:
        """``GET /v5/market/time``."""
        now_ms = self.server_time_ms()
        return self.envelope(
            c.OK,
            "OK",
            {"timeSecond": str(now_ms // 1000), "timeNano": str(now_ms * 1_000_000)},
        )

    def _param_error(self, message: str) -> _Refused:
        return _Refused(self.envelope(c.PARAM_ERROR, message))

    def _category(self, value: object) -> Category:
        if value not in (Category.LINEAR.value, Category.INVERSE.value):
            raise self._param_error(
                f"category must be linear or inverse, got {value!r}"
            )
        return Category(str(value))

    def handle_instruments(
        self, request: web.Request, body: bytes, account: SimAccount | None
    ) -> _Reply:
        """``GET /v5/market/instruments-info`` with filters and cursor paging."""
        query = request.query
        category = self._category(query.get("category"))
        symbol = query.get("symbol") or None
        base_coin = query.get("baseCoin") or None
        status_text = query.get("status") or None
        try:
            status = InstrumentStatus(status_text) if status_text else None
        except ValueError:
            raise self._param_error(f"status {status_text!r} is invalid") from None
        limit_text = query.get("limit", "500")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1000:
            raise self._param_error(f"limit must be in [1, 1000], got {limit_text!r}")
        limit = int(limit_text)
        items: list[SimInstrument] = list(self.universe.by_category[category])
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
                raise self._param_error("cursor is invalid")
            offset = decoded
        page = items[offset : offset + limit]
        end = offset + limit
        next_cursor = encode_cursor(end, fingerprint) if end < len(items) else ""
        return self.envelope(
            c.OK,
            "OK",
            {
                "category": category.value,
                "list": [dict(s.wire) for s in page],
                "nextPageCursor": next_cursor,
            },
        )

    def handle_set_leverage(
        self, request: web.Request, body: bytes, account: SimAccount | None
    ) -> _Reply:
        """``POST /v5/position/set-leverage`` with every rule of the fact sheet."""
        assert account is not None  # noqa: S101 - private routes always authenticate
        try:
            params = json.loads(body)
        except ValueError:
            raise self._param_error("request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise self._param_error("request body must be a JSON object")
        for name in _SET_LEVERAGE_FIELDS:
            if name not in params:
                raise self._param_error(f"{name} is required")
            if not isinstance(params[name], str):
                raise self._param_error(f"{name} must be a string")
        category = self._category(params["category"])
        symbol: str = params["symbol"]
        listed = self.universe.get(category, symbol)
        if listed is None:
            raise self._param_error(f"symbol invalid: {symbol!r} is not listed")
        if listed.instrument.status is not InstrumentStatus.TRADING:
            raise _Refused(
                self.envelope(
                    c.CONTRACT_NOT_LIVE,
                    f"contract {symbol} is not live (status "
                    f"{listed.instrument.status.value})",
                )
            )
        if account.margin_mode is MarginMode.PORTFOLIO:
            raise _Refused(
                self.envelope(
                    c.PORTFOLIO_MARGIN_FORBIDS,
                    "Portfolio margin mode does not support setting leverage",
                )
            )
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
                raise self._param_error(
                    f"{name} {text!r} invalid: must be between "
                    f"{format_leverage(rule.min_leverage)} and "
                    f"{format_leverage(rule.max_leverage)} in steps of "
                    f"{format_leverage(rule.leverage_step)}"
                )
            values.append(value)
        buy, sell = values
        state = account.state(symbol)
        if buy != sell:
            if not state.hedge:
                raise self._param_error(
                    "buyLeverage must equal sellLeverage in one-way mode"
                )
            if account.margin_mode is MarginMode.CROSS:
                raise self._param_error(
                    "buyLeverage must equal sellLeverage under cross margin"
                )
        cap = listed.tier_max(state.position_value)
        for value in (buy, sell):
            if value > cap:
                raise _Refused(
                    self.envelope(
                        c.RISK_LIMIT_EXCEEDED,
                        f"cannot set leverage [{_x100(value)}] gt maxLeverage "
                        f"[{_x100(cap)}] by risk limit",
                    )
                )
        if buy == state.buy and sell == state.sell:
            return self.envelope(c.LEVERAGE_NOT_MODIFIED, "leverage not modified")
        state.buy, state.sell = buy, sell
        return self.envelope(c.OK, "OK")

    def _positions(
        self, account: SimAccount, listed: SimInstrument
    ) -> list[tuple[int, str, Decimal]]:
        state = account.state(listed.symbol)
        if state.hedge:
            return [(1, "Buy", state.buy), (2, "Sell", state.sell)]
        return [(0, "Buy" if state.position_value else "", state.buy)]

    def _symbols_query(
        self, request: web.Request
    ) -> tuple[Category, list[SimInstrument]]:
        category = self._category(request.query.get("category"))
        symbol = request.query.get("symbol")
        if symbol:
            listed = self.universe.get(category, symbol)
            if listed is None:
                raise self._param_error(f"symbol invalid: {symbol!r} is not listed")
            return category, [listed]
        return category, list(self.universe.by_category[category])

    def handle_symbol_info(
        self, request: web.Request, body: bytes, account: SimAccount | None
    ) -> _Reply:
        """``GET /v5/position/symbol-info``: current leverage, one row per side.

        Under portfolio margin it answers retCode 110038 (the simulator's pick:
        the endpoint's error code there is undocumented).
        """
        assert account is not None  # noqa: S101 - private routes always authenticate
        category, symbols = self._symbols_query(request)
        if account.margin_mode is MarginMode.PORTFOLIO:
            raise _Refused(
                self.envelope(
                    c.PORTFOLIO_MARGIN_FORBIDS,
                    "Portfolio margin mode does not support this request",
                )
            )
        rows = [
            {
                "symbol": listed.symbol,
                "leverage": format_leverage(leverage),
                "side": side,
                "positionIdx": idx,
            }
            for listed in symbols
            for idx, side, leverage in self._positions(account, listed)
        ]
        return self.envelope(c.OK, "OK", {"category": category.value, "list": rows})

    def handle_position_list(
        self, request: web.Request, body: bytes, account: SimAccount | None
    ) -> _Reply:
        """``GET /v5/position/list`` for one symbol (or a settle coin's open ones)."""
        assert account is not None  # noqa: S101 - private routes always authenticate
        settle = request.query.get("settleCoin")
        if not request.query.get("symbol") and not settle:
            self._category(request.query.get("category"))
            raise self._param_error("symbol or settleCoin is required")
        category, symbols = self._symbols_query(request)
        if not request.query.get("symbol"):
            symbols = [
                s
                for s in symbols
                if s.instrument.settle_coin == settle
                and account.state(s.symbol).position_value > 0
            ]
        portfolio = account.margin_mode is MarginMode.PORTFOLIO
        rows = []
        for listed in symbols:
            state = account.state(listed.symbol)
            value = state.position_value
            for idx, side, leverage in self._positions(account, listed):
                rows.append(
                    {
                        "positionIdx": idx,
                        "riskId": 1,
                        "riskLimitValue": format(listed.tiers[0].max_value, "f"),
                        "symbol": listed.symbol,
                        "side": side if value else "",
                        "size": "1" if value else "0",
                        "avgPrice": "0",
                        "positionValue": format(value, "f") if value else "0",
                        "tradeMode": int(account.margin_mode is MarginMode.ISOLATED),
                        "autoAddMargin": 0,
                        "positionStatus": "Normal",
                        "leverage": "" if portfolio else format_leverage(leverage),
                        "markPrice": "0",
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
                        "adlRankIndicator": 0,
                        "isReduceOnly": False,
                        "seq": -1,
                        "createdTime": "0",
                        "updatedTime": "0",
                    }
                )
        return self.envelope(
            c.OK,
            "OK",
            {"category": category.value, "list": rows, "nextPageCursor": ""},
        )


def _x100(value: Decimal) -> int:
    # Bybit writes leverage x 100 in the 110013 message: 20x is [2000].
    return int((value * 100).to_integral_value())


def make_app(core: SimCore, admin: web.Application | None = None) -> web.Application:
    """Build the aiohttp application serving ``core`` (plus optional admin routes)."""
    app = web.Application()
    app.router.add_get(
        c.PATH_SERVER_TIME, core.route("time", core.handle_time, private=False)
    )
    app.router.add_get(
        c.PATH_INSTRUMENTS,
        core.route("instruments-info", core.handle_instruments, private=False),
    )
    app.router.add_post(
        c.PATH_SET_LEVERAGE,
        core.route("set-leverage", core.handle_set_leverage, private=True),
    )
    app.router.add_get(
        c.PATH_SYMBOL_INFO,
        core.route("symbol-info", core.handle_symbol_info, private=True),
    )
    app.router.add_get(
        c.PATH_POSITION_LIST,
        core.route("position-list", core.handle_position_list, private=True),
    )
    if admin is not None:
        app.add_subapp("/__sim/", admin)
    return app
