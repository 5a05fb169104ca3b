"""The one place that talks to aiohttp: session, signing, pacing, retries.

A request goes: pace (per-endpoint and per-IP limiters) -> sign the exact bytes
-> send -> map the outcome to this package's errors -> retry what is safe. aiohttp
exceptions are translated here and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from typing import Final

import aiohttp
from attrs import define, frozen
from yarl import URL

from bybit_leverage import _constants as c
from bybit_leverage._clock import ServerClock, system_now_ms
from bybit_leverage._hosts import is_loopback
from bybit_leverage._ratelimit import IP_BUDGET, RateLimits
from bybit_leverage._retry import backoff_delay, rate_limit_delay, should_retry
from bybit_leverage._signing import Credentials, auth_headers
from bybit_leverage._wire import (
    Envelope,
    decode_json,
    encode_body,
    encode_query,
    parse_envelope,
)
from bybit_leverage.errors import (
    BybitError,
    ClientClosed,
    ConfigurationError,
    ConnectionFailed,
    HTTPStatusError,
    IPRateLimited,
    MissingCredentials,
    RateLimitError,
    RequestTimeout,
    ResponseDecodeError,
    TimestampError,
    error_for_ret_code,
)

__all__ = ["HttpCore", "Response", "validate_base_url"]

logger = logging.getLogger(__name__)

_JSON_HEADERS: Final = {"Content-Type": "application/json"}
#: How much of a non-200 body an error keeps, for diagnosis.
_ERROR_BODY_CHARS: Final = 500


@frozen
class Response:
    """A successful (or accepted) answer to one logical request.

    Attributes:
        envelope: The parsed envelope; ``ret_code`` is 0 or one of the accepted codes.
        attempts: How many times the request was sent (1 when no retry was needed).
    """

    envelope: Envelope
    attempts: int


@define
class Tally:
    """Counts the sends of a logical request, including those that end in an error.

    :class:`Response` reports attempts on success; a caller that must also know
    how many requests a failed call cost (a batch's ``requests_sent``) passes one
    of these in.
    """

    sent: int = 0


def validate_base_url(base_url: str) -> str:
    """Check a base URL and return it without a trailing slash.

    Raises:
        ConfigurationError: Unless the URL is ``https://``, or ``http://`` to a
            loopback host (127.0.0.0/8, ::1, localhost): plain HTTP would carry
            signed requests in the clear.
    """
    try:
        url = URL(base_url)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"base_url is not a URL: {exc}") from None
    if not url.host or url.query_string or url.fragment:
        raise ConfigurationError(
            f"base_url must be scheme://host[:port][/prefix], got {base_url!r}"
        )
    if url.scheme == "http":
        if not is_loopback(url.host):
            raise ConfigurationError(
                f"refusing plain http:// to non-loopback host {url.host!r}; "
                "use https://"
            )
    elif url.scheme != "https":
        raise ConfigurationError(f"base_url must use https://, got {base_url!r}")
    return base_url.rstrip("/")


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


class HttpCore:
    """Own or borrow an aiohttp session and send paced, signed, retried requests.

    Args:
        base_url: Already validated with :func:`validate_base_url`.
        credentials: The key, or ``None`` for a public-only client.
        recv_window: ``X-BAPI-RECV-WINDOW`` in ms.
        session: A session to borrow (never closed here), or ``None`` to own one.
        timeout: Seconds allowed for one attempt (connect, send and read).
        now_ms: The local wall clock in epoch ms.
        max_attempts: Sends per call for failures other than 10006 (whose wait
            the server dictates).
        retry_deadline: Seconds a call may spend on attempts and backoff, not
            counting time queued behind the rate limiters.
        ip_limit: Requests per 5 s across the client; ``None`` disables the guard.
        pace_endpoints: Whether private calls wait for their endpoint's budget.
        resync_interval: Seconds after which the server-time offset is remeasured.
        rand: Random source for backoff jitter.
    """

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials | None,
        recv_window: int = c.RECV_WINDOW_MS,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        now_ms: Callable[[], int] = system_now_ms,
        max_attempts: int = 5,
        retry_deadline: float = 30.0,
        ip_limit: int | None = IP_BUDGET,
        pace_endpoints: bool = True,
        resync_interval: float = 900.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._base_url = base_url
        self._credentials = credentials
        self._recv_window = recv_window
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._deadline = retry_deadline
        self._rand = rand
        self._closed = False
        self._urls: dict[str, URL] = {}
        self.limits = RateLimits(ip_limit=ip_limit, pace_endpoints=pace_endpoints)
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

    def open(self) -> aiohttp.ClientSession:
        """Return the session, creating the owned one on first use (in the loop).

        Raises:
            ClientClosed: After :meth:`aclose`.
        """
        if self._closed:
            raise ClientClosed()
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def aclose(self) -> None:
        """Close the owned session (once); a borrowed one is left open."""
        if self._closed:
            return
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        *,
        signed: bool,
        accept: frozenset[int] = frozenset(),
        tally: Tally | None = None,
    ) -> Response:
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
        if signed and self._credentials is None:
            raise MissingCredentials(
                f"{path} is a private endpoint: pass api_key and api_secret "
                "(or private_key) to BybitClient"
            )
        session = self.open()
        loop = asyncio.get_running_loop()
        started = loop.time()
        queued = 0.0  # time queued behind the limiters is not spent on retries
        attempt = 0
        failures = 0
        resynced = False
        while True:
            attempt += 1
            if signed:  # its own request retries on its own; failures end the call
                await self.clock.ensure_synced()
            try:
                queued += await self.limits.acquire(path, private=signed)
                if self._closed:
                    raise ClientClosed()
                if tally is not None:
                    tally.sent += 1
                envelope = await self._send(
                    session, method, path, params, signed, accept
                )
            except BybitError as exc:
                if not should_retry(exc):
                    raise
                if isinstance(exc, RateLimitError):
                    delay = rate_limit_delay(
                        exc.reset_at_ms, self.clock.server_now_ms()
                    )
                    # Everyone sharing this endpoint waits too, not just us.
                    self.limits.endpoint(path).block_for(delay)
                else:
                    failures += 1
                    if failures >= self._max_attempts:
                        raise
                    if isinstance(exc, TimestampError):
                        if resynced:
                            raise
                        resynced = True
                        await self.clock.resync()
                        delay = 0.0
                    else:
                        delay = backoff_delay(failures, rand=self._rand)
                if loop.time() - started - queued + delay > self._deadline:
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
            else:
                return Response(envelope, attempt)

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base_url + path, encoded=True)
        return url

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        params: Mapping[str, str],
        signed: bool,
        accept: frozenset[int],
    ) -> Envelope:
        """One attempt: sign the exact bytes, send them, map the answer."""
        headers: dict[str, str]
        data: str | None
        if method == "GET":
            payload = encode_query(params)
            url = (
                URL(f"{self._base_url}{path}?{payload}", encoded=True)
                if payload
                else self._url(path)
            )
            headers = {}
            data = None
        else:
            payload = data = encode_body(params)
            url = self._url(path)
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
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=self._timeout
            ) as resp:
                status = resp.status
                body = await resp.read()
                resp_headers = resp.headers
        except TimeoutError as exc:  # includes aiohttp.ServerTimeoutError
            raise RequestTimeout(
                path, f"no answer within {self._timeout.total}s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed(path, f"{type(exc).__name__}: {exc}") from exc
        if status != 200:
            text = body[:_ERROR_BODY_CHARS].decode("utf-8", errors="replace")
            if status == 403:
                raise IPRateLimited(status, path, text)
            raise HTTPStatusError(status, path, text)
        envelope = parse_envelope(decode_json(body, path), path)
        if signed:
            self.limits.learn(path, resp_headers, self.clock.server_now_ms())
        code = envelope.ret_code
        if code and code not in accept:
            reset = (
                _int_header(resp_headers, "X-Bapi-Limit-Reset-Timestamp")
                if code == c.TOO_MANY_VISITS
                else None
            )
            raise error_for_ret_code(code, envelope.ret_msg, path, reset_at_ms=reset)
        return envelope

    async def _fetch_server_ms(self) -> int:
        """Read the server's clock from ``GET /v5/market/time`` (epoch ms)."""
        response = await self.request("GET", c.PATH_SERVER_TIME, {}, signed=False)
        result = response.envelope.result
        try:
            if "timeNano" in result:
                return int(result["timeNano"]) // 1_000_000
            if "timeSecond" in result:
                return int(result["timeSecond"]) * 1000
        except (TypeError, ValueError):
            raise ResponseDecodeError(
                c.PATH_SERVER_TIME, "timeNano/timeSecond is not an integer"
            ) from None
        if response.envelope.time_ms is not None:
            return response.envelope.time_ms
        raise ResponseDecodeError(c.PATH_SERVER_TIME, "no server time in the answer")
