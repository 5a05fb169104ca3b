"""The request core: pace, sign, send through a transport, map the answer, retry.

A request goes: wait for its budget (per-endpoint and per-IP limiters) -> sign the
exact bytes, immediately before they go (a request signed before a long wait
would arrive outside its receive window) -> send through the :class:`Transport`
-> map the answer to this package's errors -> retry what is safe. Nothing here
knows aiohttp: the transport is the seam.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from typing import Final

from attrs import define

from bybit_leverage import _constants as c
from bybit_leverage._budget import RateBudget
from bybit_leverage._clock import ServerClock, system_now_ms
from bybit_leverage._config import Limits, Retries
from bybit_leverage._hosts import host_label
from bybit_leverage._json_steps import STEP_CHARS, decode_json_in_steps
from bybit_leverage._ratelimit import RateLimits, Ticket
from bybit_leverage._retry import backoff_delay, rate_limit_delay, should_retry
from bybit_leverage._signing import Credentials, auth_headers
from bybit_leverage._wire import (
    Envelope,
    decode_json,
    encode_body,
    encode_query,
    parse_envelope,
    parse_server_time,
)
from bybit_leverage.errors import (
    BybitError,
    ClientClosed,
    HTTPStatusError,
    IPRateLimited,
    MissingCredentials,
    RateLimitError,
    ResponseDecodeError,
    TimestampError,
    TransportError,
    error_for_ret_code,
)
from bybit_leverage.transport import HTTPRequest, HTTPResponse, Transport

__all__ = ["RequestCore", "Tally"]

logger = logging.getLogger(__name__)

_JSON_HEADERS: Final = {"Content-Type": "application/json"}
#: How much of a non-200 body an error keeps, for diagnosis.
_ERROR_BODY_CHARS: Final = 500
#: Answers longer than this (bytes) are decoded in steps, the loop free between
#: them: a whole category's symbol-info decoded in one call held it 4-5 ms.
_LARGE_BODY: Final = 2 * STEP_CHARS
#: A body not decoded yet.
_UNREAD: Final = object()


async def _decode_in_steps(body: bytes, path: str) -> object:
    """:func:`decode_json_in_steps`, letting the loop run between its steps."""
    steps = decode_json_in_steps(body, path)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        await asyncio.sleep(0)


@define
class Tally:
    """Counts the sends of a logical request, including those that end in an error.

    A caller that must know what a call cost (a batch's ``requests_sent``, a
    symbol's ``attempts``), also when it failed, passes one in.

    Attributes:
        sent: Attempts that went out.
        uncertain: Whether an attempt went out and its fate is unknown (no
            answer, a broken body, a 5xx): a write may have landed.
        on_send: Called as each attempt goes on the wire (after the limiters
            admitted it): a batch journal records the symbol as sent then.
    """

    sent: int = 0
    uncertain: bool = False
    on_send: Callable[[], object] | None = None


def _fate_unknown(exc: BybitError) -> bool:
    """Whether a sent request that failed this way may still have been applied."""
    if isinstance(exc, HTTPStatusError):
        return exc.status >= 500
    return isinstance(exc, TransportError | ResponseDecodeError)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


class RequestCore:
    """Send paced, signed, retried requests through a transport.

    Args:
        base_url: Already validated.
        credentials: The key, or ``None`` for a public-only client.
        transport: Sends one exchange (aiohttp by default, a mock in tests).
        recv_window: ``X-BAPI-RECV-WINDOW`` in ms.
        timeout: Seconds allowed for one attempt.
        retries: Attempts and deadline per call.
        limits: The IP budget and per-endpoint pacing.
        budget: Where per-endpoint budgets are booked (in-process by default).
        now_ms: The local wall clock in epoch ms.
        resync_interval: Seconds after which the server-time offset is remeasured.
        rand: Random source for backoff jitter.
    """

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials | None,
        transport: Transport,
        recv_window: int,
        timeout: float,
        retries: Retries,
        limits: Limits,
        now_ms: Callable[[], int] = system_now_ms,
        resync_interval: float,
        rand: Callable[[], float] = random.random,
        budget: RateBudget | None = None,
    ) -> None:
        self._base_url = base_url
        self._credentials = credentials
        self._transport = transport
        self._recv_window = recv_window
        self._timeout = timeout
        self._retries = retries
        self._rand = rand
        self._closed = False
        self.limits = RateLimits(
            ip_limit=limits.ip_budget,
            pace_endpoints=limits.pace_endpoints,
            budget=budget,
            listen=limits.listen,
            environment=host_label(base_url),
            api_key=None if credentials is None else credentials.api_key,
        )
        self.clock = ServerClock(
            self._fetch_server_ms, now_ms=now_ms, resync_interval=resync_interval
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    @property
    def has_credentials(self) -> bool:
        """Whether private endpoints can be called."""
        return self._credentials is not None

    async def aclose(self) -> None:
        """Close the transport (once)."""
        if self._closed:
            return
        self._closed = True
        await self._transport.aclose()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        *,
        signed: bool,
        accept: frozenset[int] = frozenset(),
        tally: Tally | None = None,
    ) -> Envelope:
        """Send one logical request, retrying what is safe.

        Args:
            method: ``"GET"`` (params go in the query) or ``"POST"`` (JSON body).
            path: The endpoint path, e.g. ``/v5/position/set-leverage``.
            params: String parameters, in the order they are sent.
            signed: Whether the endpoint is private (sign and pace per account).
            accept: Non-zero retCodes to return instead of raising (e.g. 110043).
            tally: Counts every attempt, also when the call ends in an error.

        Raises:
            MissingCredentials: A private call on a client without keys.
            ClientClosed: The client was closed.
            APIError: A non-zero retCode not in ``accept`` (after retries).
            HTTPStatusError: A non-200 status (after retries where safe).
            TransportError: Connection failure or timeout (after retries).
            ResponseDecodeError: The body was not a Bybit envelope.
        """
        if self._closed:
            raise ClientClosed()
        if signed and self._credentials is None:
            raise MissingCredentials(
                f"{path} is a private endpoint and this client has no API key"
            )
        loop = asyncio.get_running_loop()
        started = loop.time()
        queued = 0.0  # time queued behind the limiters is not spent on retries
        attempt = failures = 0
        resynced = False
        while True:
            attempt += 1
            if signed:  # its own request retries on its own; failures end the call
                await self.clock.ensure_synced()
            try:
                ticket = await self.limits.acquire(path, private=signed)
                queued += ticket.waited
                if self._closed:
                    raise ClientClosed()
                if tally is not None:
                    tally.sent += 1
                    if tally.on_send is not None:
                        tally.on_send()
                return await self._attempt(method, path, params, signed, accept, ticket)
            except BybitError as exc:
                if tally is not None and _fate_unknown(exc):
                    tally.uncertain = True
                if not should_retry(exc):
                    raise
                if isinstance(exc, RateLimitError):
                    delay = rate_limit_delay(
                        exc.reset_at_ms, self.clock.server_now_ms()
                    )
                    # Everyone sharing this endpoint waits too, not just us.
                    await self.limits.block(path, delay)
                else:
                    failures += 1
                    if failures >= self._retries.max_attempts:
                        raise
                    if isinstance(exc, TimestampError):
                        if resynced:
                            raise
                        resynced = True
                        await self.clock.resync()
                        delay = 0.0
                    else:
                        delay = backoff_delay(failures, rand=self._rand)
                if loop.time() - started - queued + delay > self._retries.deadline:
                    raise
                logger.debug(
                    "retrying %s %s in %.3fs after attempt %d: %s",
                    method,
                    path,
                    delay,
                    attempt,
                    exc,
                )
                if delay > 0:
                    await asyncio.sleep(delay)

    def _build(
        self, method: str, path: str, params: Mapping[str, str], signed: bool
    ) -> HTTPRequest:
        """The exact request: the bytes that are signed are the bytes sent."""
        headers: dict[str, str]
        body: str | None
        if method == "GET":
            payload = encode_query(params)
            url = (
                f"{self._base_url}{path}?{payload}"
                if payload
                else self._base_url + path
            )
            headers, body = {}, None
        else:
            payload = body = encode_body(params)
            url = self._base_url + path
            headers = dict(_JSON_HEADERS)
        if signed:
            assert self._credentials is not None  # noqa: S101 - checked by request()
            headers.update(
                auth_headers(
                    self._credentials,
                    timestamp_ms=self.clock.timestamp_ms(),
                    recv_window_ms=self._recv_window,
                    payload=payload,
                )
            )
        return HTTPRequest(method, url, path, headers, body, self._timeout)

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        signed: bool,
        accept: frozenset[int],
        ticket: Ticket,
    ) -> Envelope:
        """One attempt: build and sign, send, map the answer."""
        try:
            response = await self._transport.send(
                self._build(method, path, params, signed)
            )
            payload: object = _UNREAD
            if response.status == 200 and len(response.body) > _LARGE_BODY:
                payload = await _decode_in_steps(response.body, path)
            return self._map(response, path, signed, accept, ticket, payload)
        finally:  # whatever the answer was, or none: those waiting on it go on
            if signed:
                self.limits.answered(path, ticket)

    def _map(
        self,
        response: HTTPResponse,
        path: str,
        signed: bool,
        accept: frozenset[int],
        ticket: Ticket,
        payload: object,
    ) -> Envelope:
        status = response.status
        if status != 200:
            text = response.body[:_ERROR_BODY_CHARS].decode("utf-8", errors="replace")
            if status == 403:
                raise IPRateLimited(status, path, text)
            raise HTTPStatusError(status, path, text)
        if payload is _UNREAD:
            payload = decode_json(response.body, path)
        envelope = parse_envelope(payload, path)
        code = envelope.ret_code
        if signed:
            self.limits.learn(
                path,
                response.headers,
                self.clock.server_now_ms(),
                ticket,
                refused=code == c.TOO_MANY_VISITS,
            )
        if code and code not in accept:
            reset = (
                _int_header(response.headers, "x-bapi-limit-reset-timestamp")
                if code == c.TOO_MANY_VISITS
                else None
            )
            raise error_for_ret_code(
                code, envelope.ret_msg, path, reset_at_ms=reset, result=envelope.result
            )
        return envelope

    async def _fetch_server_ms(self) -> int:
        """Read the server's clock from ``GET /v5/market/time`` (epoch ms)."""
        envelope = await self.request("GET", c.PATH_SERVER_TIME, {}, signed=False)
        return parse_server_time(envelope, c.PATH_SERVER_TIME)
