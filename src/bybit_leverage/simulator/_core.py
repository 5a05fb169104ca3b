"""The simulator's state and the one request pipeline every Bybit route goes through.

The pipeline applies, in the order a real deployment does: the per-IP limit
(HTTP 403, HTML), the configured latency, an injected fault (if one is queued),
then for private routes authentication and the per-UID rate limit, and finally
the endpoint's own rules. Each request is counted and logged once, whatever
stage answered it. Answers refused before the account is known carry no
``X-Bapi-Limit*`` headers; every answer after that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from aiohttp import web
from attrs import define, field, frozen

from bybit_leverage.simulator._auth import KeyRing, RateLimits, authenticate
from bybit_leverage.simulator._faults import Fault, FaultPlan
from bybit_leverage.simulator._market import Universe
from bybit_leverage.simulator._replies import (
    FORBIDDEN_HTML,
    Call,
    Refused,
    Reply,
    fault_reply,
)
from bybit_leverage.simulator._state import SimAccount, SimKey, make_key_text

__all__ = ["Handler", "SimCore", "SimRequest"]

#: Loop seconds a "hang" fault keeps the request open (past any client timeout).
HANG_SECONDS: Final = 3600.0
#: How far away a ``ret_10006_far_reset`` fault puts the reset (ms).
FAR_RESET_MS: Final = 60_000
#: Headers never written to the request log (credentials a proxy might add).
_UNLOGGED: Final = frozenset({"authorization", "cookie", "proxy-authorization"})
#: Headers logged by name only: a signature is as good as a secret while it is fresh.
_REDACTED: Final = frozenset({"x-bapi-sign"})
_FIRST_UID: Final = 100_001

#: An endpoint's rules: a function of the request, raising Refused to refuse.
Handler = Callable[[Call], Reply]


@frozen
class SimRequest:
    """One request as the simulator saw and answered it.

    Attributes:
        method: HTTP method.
        path: URL path.
        endpoint: Endpoint name (``"set-leverage"``, ...).
        raw_query: The query string exactly as sent (still percent-encoded).
        body: The raw body.
        headers: Request headers. Credentials other than the API key, such as
            cookies, are dropped and ``X-BAPI-SIGN`` reads ``<redacted>``; the
            API secret is never sent, so never logged.
        status: HTTP status answered, or ``None`` when the connection was
            aborted or left hanging.
        ret_code: The envelope's retCode, when a whole JSON envelope was sent.
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
class _EndpointStats:
    requests: int = 0
    ret_codes: Counter[int] = field(factory=Counter)
    http: Counter[int] = field(factory=Counter)


@define
class SimCore:
    """All mutable simulator state: accounts, keys, limits, faults, clocks, counters.

    ``wall_clock`` gives epoch seconds (``time.time`` by default); the server's
    wall time is that plus the configured skew. Rate windows and latency run on
    the event loop's clock, so tests can fast-forward it.
    """

    universe: Universe
    wall_clock: Callable[[], float]
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    skew_ms: int = 0
    seed: int = 0
    log_size: int = 10_000
    faults: FaultPlan = field(factory=FaultPlan)
    limits: RateLimits = field(factory=RateLimits)
    keys: KeyRing = field(factory=KeyRing)
    accounts: dict[int, SimAccount] = field(factory=dict)
    _stats: dict[str, _EndpointStats] = field(factory=dict, init=False)
    _log: deque[SimRequest] = field(init=False)
    _rng: random.Random = field(init=False)
    _key_rng: random.Random = field(init=False)
    _closing: asyncio.Event = field(factory=asyncio.Event, init=False)

    def __attrs_post_init__(self) -> None:
        self._log = deque(maxlen=self.log_size)
        self._rng = random.Random(self.seed)
        self._key_rng = random.Random(f"bybit-sim-keys-{self.seed}")

    # -- accounts and keys -------------------------------------------------------

    def new_account(self, **settings: Any) -> SimAccount:
        """Create and register an account with the next UID (no key yet)."""
        account = SimAccount(_FIRST_UID + len(self.accounts), self.universe, **settings)
        self.accounts[account.uid] = account
        return account

    def new_key(self, account: SimAccount, **settings: Any) -> SimKey:
        """Make an API key for ``account``: HMAC, or RSA given ``rsa_public_key``."""
        api_key = make_key_text(self._key_rng, 18)
        if settings.get("rsa_public_key") is None:
            settings["api_secret"] = make_key_text(self._key_rng, 36)
        key = SimKey(api_key, account.uid, **settings)
        self.keys.add(key, account)
        account.keys.append(key)
        return key

    # -- clocks and knobs ------------------------------------------------------------

    def server_time_ms(self) -> int:
        """The server's wall time in epoch ms (wall clock plus skew)."""
        return int(self.wall_clock() * 1000) + self.skew_ms

    def set_latency(self, ms: float, jitter_ms: float = 0) -> None:
        """Delay every answer by ``ms`` plus up to ``jitter_ms``.

        Raises:
            ValueError: For a negative value.
        """
        if ms < 0 or jitter_ms < 0:
            raise ValueError("latency and jitter must be >= 0")
        self.latency_ms, self.jitter_ms = ms, jitter_ms

    # -- statistics ------------------------------------------------------------------

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
        self, request: web.Request, endpoint: str, body: bytes, at: float, reply: Reply
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
            k: "<redacted>" if k.lower() in _REDACTED else v
            for k, v in request.headers.items()
            if k.lower() not in _UNLOGGED
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

    # -- pipeline ----------------------------------------------------------------------

    def route(
        self, endpoint: str, handler: Handler, *, private: bool
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap an endpoint handler in the common request pipeline."""

        async def serve(request: web.Request) -> web.StreamResponse:
            arrived = asyncio.get_running_loop().time()
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
                text=reply.render(self.server_time_ms()),
                content_type=reply.content_type,
                headers=reply.headers,
            )

        return serve

    async def _pipeline(
        self,
        request: web.Request,
        endpoint: str,
        body: bytes,
        handler: Handler,
        private: bool,
    ) -> Reply:
        loop = asyncio.get_running_loop()
        if not self.limits.admit_ip(request.remote or "?", loop.time()):
            return Reply.page(403, FORBIDDEN_HTML)
        delay = self.latency_ms + (
            self._rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        )
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        fault = self.faults.take(endpoint)
        if fault is Fault.RESET:
            return Reply(None)
        if fault is Fault.HANG:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), HANG_SECONDS)
            return Reply(None)
        if fault is not None and not fault.runs_handler:
            return self._fault(request, endpoint, fault, private)
        reply = self._answer(request, endpoint, body, handler, private)
        if fault is Fault.RESET_AFTER_WRITE:  # the change landed; its answer is lost
            reply.status, reply.ret_code = None, None
        elif fault is Fault.TRUNCATED:
            whole = reply.render(self.server_time_ms())
            reply.text, reply.ret_code = whole[: len(whole) // 2], None
            reply.status, reply.content_type = 200, "application/json"
        return reply

    def _fault(
        self, request: web.Request, endpoint: str, fault: Fault, private: bool
    ) -> Reply:
        reply = fault_reply(fault)
        if reply.ret_code is None:
            return reply
        found = self.keys.get(request.headers.get("X-BAPI-API-KEY", ""))
        if private and found is not None:
            uid = found[1].uid
            now = asyncio.get_running_loop().time()
            reply.headers.update(
                self.limits.peek(uid, endpoint, now, self.server_time_ms())
            )
            reply.uid = uid
        if fault is Fault.RET_10006_NO_RESET:
            reply.headers.pop("X-Bapi-Limit-Reset-Timestamp", None)
        elif fault is Fault.RET_10006_FAR_RESET:
            reset = self.server_time_ms() + FAR_RESET_MS
            reply.headers["X-Bapi-Limit-Reset-Timestamp"] = str(reset)
        return reply

    def _answer(
        self,
        request: web.Request,
        endpoint: str,
        body: bytes,
        handler: Handler,
        private: bool,
    ) -> Reply:
        server_ms = self.server_time_ms()
        account: SimAccount | None = None
        key: SimKey | None = None
        query: dict[str, str] = {}
        for name, value in request.query.items():
            query.setdefault(name, value)  # the first of repeated names
        try:
            headers: dict[str, str] = {}
            if private:
                if request.method == "GET":
                    payload = request.rel_url.raw_query_string
                else:
                    try:
                        payload = body.decode()
                    except UnicodeDecodeError:
                        payload = body.decode("latin-1")
                key, account = authenticate(
                    request.headers,
                    payload,
                    request.remote or "?",
                    self.keys,
                    server_ms,
                )
                now = asyncio.get_running_loop().time()
                headers = self.limits.take(account.uid, endpoint, now, server_ms)
            call = Call(
                request.method, query, body, server_ms, self.universe, account, key
            )
            try:
                reply = handler(call)
            except Refused as refused:
                reply = refused.reply
            reply.headers.update(headers)
        except Refused as refused:
            reply = refused.reply
        if account is not None:
            reply.uid = account.uid
        return reply
