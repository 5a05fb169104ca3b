"""The public async client: instruments, leverage rules, and the request core.

``BybitClient`` is thin: transport, signing, pacing and retries live in
``_http``; the instrument cache lives in ``cache``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Self

from bybit_leverage import _constants as c
from bybit_leverage._clock import RESYNC_INTERVAL_S, system_now_ms
from bybit_leverage._http import HttpCore, Response, validate_base_url
from bybit_leverage._ratelimit import IP_BUDGET
from bybit_leverage._signing import Credentials
from bybit_leverage._wire import parse_instruments_page
from bybit_leverage.cache import DEFAULT_TTL, InstrumentCache
from bybit_leverage.errors import ConfigurationError
from bybit_leverage.models import Category, Instrument, InstrumentStatus, LeverageFilter

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BybitClient"]

logger = logging.getLogger(__name__)

#: A listing longer than this many pages means the cursor is looping.
_MAX_PAGES: Final = 100


def _credentials(
    api_key: str | None, api_secret: str | None, private_key: str | bytes | None
) -> Credentials | None:
    if api_key is None and api_secret is None and private_key is None:
        return None
    if not api_key:
        raise ConfigurationError("api_secret/private_key given without api_key")
    if api_secret is not None and private_key is not None:
        raise ConfigurationError(
            "pass api_secret (HMAC) or private_key (RSA), not both"
        )
    try:
        if private_key is not None:
            return Credentials.rsa(api_key, private_key)
        if api_secret is None:
            raise ConfigurationError("api_key given without api_secret or private_key")
        return Credentials.hmac(api_key, api_secret)
    except ValueError as exc:
        if isinstance(exc, ConfigurationError):
            raise
        # The key material itself is never echoed: only what was wrong with it.
        raise ConfigurationError(f"unusable credentials: {exc}") from None


class BybitClient:
    """Async client for Bybit V5 leverage endpoints.

    Use it as an async context manager (or call :meth:`aclose`). The aiohttp
    session is created inside the running loop on first use; a session passed
    in is borrowed and never closed.

    Args:
        api_key: The API key (needed for private endpoints only).
        api_secret: Its secret, for a system-generated (HMAC) key.
        private_key: An RSA private key in PEM form, for a self-generated key.
        base_url: ``MAINNET``, ``TESTNET``, ``DEMO``, a regional host, or
            ``http://`` to a loopback simulator.
        recv_window: How long (ms) after its timestamp a request stays valid.
        session: An aiohttp session to borrow.
        timeout: Seconds allowed for one attempt.
        cache_ttl: Seconds instruments stay cached.
        now_ms: The local wall clock in epoch ms (inject a fake in tests).
        max_attempts: Sends per call for transient failures (10006 waits are
            bounded by ``retry_deadline`` instead).
        retry_deadline: Seconds a call may spend retrying, not counting time
            queued behind the rate limiters.
        ip_limit: Requests per 5 s across all endpoints (Bybit bans at 600);
            ``None`` disables the guard, for loopback simulators only.
        time_resync_interval: Seconds after which the server-time offset is
            measured again.
        rand: Random source for backoff jitter (inject for determinism).

    Raises:
        ConfigurationError: Inconsistent keys, a non-https URL to a remote host,
            or a non-positive timing setting.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key: str | bytes | None = None,
        base_url: str = c.MAINNET,
        recv_window: int = c.RECV_WINDOW_MS,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        cache_ttl: float = DEFAULT_TTL,
        now_ms: Callable[[], int] = system_now_ms,
        max_attempts: int = 5,
        retry_deadline: float = 30.0,
        ip_limit: int | None = IP_BUDGET,
        time_resync_interval: float = RESYNC_INTERVAL_S,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if recv_window <= 0 or timeout <= 0 or cache_ttl <= 0 or max_attempts < 1:
            raise ConfigurationError(
                "recv_window, timeout and cache_ttl must be positive and "
                "max_attempts at least 1"
            )
        if ip_limit is not None and ip_limit < 1:
            raise ConfigurationError("ip_limit must be at least 1 (or None)")
        self._base_url = validate_base_url(base_url)
        credentials = _credentials(api_key, api_secret, private_key)
        self._http = HttpCore(
            base_url=self._base_url,
            credentials=credentials,
            recv_window=recv_window,
            session=session,
            timeout=timeout,
            now_ms=now_ms,
            max_attempts=max_attempts,
            retry_deadline=retry_deadline,
            ip_limit=ip_limit,
            resync_interval=time_resync_interval,
            rand=rand,
        )
        self._key_hint = f"{credentials.api_key[:4]}…" if credentials else None
        self.instruments = InstrumentCache(self.fetch_instruments, ttl=cache_ttl)
        """The client's instrument cache (``invalidate()`` forces a refetch)."""

    def __repr__(self) -> str:
        state = "closed" if self._http.closed else "open"
        return f"<BybitClient {self._base_url} key={self._key_hint or 'none'} {state}>"

    async def __aenter__(self) -> Self:
        self._http.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def base_url(self) -> str:
        """The host requests go to."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.closed

    @property
    def server_time_offset_ms(self) -> int:
        """Server minus local clock (ms) as last measured; 0 before any sync."""
        return self._http.clock.offset_ms

    async def aclose(self) -> None:
        """Close the client; its own session is closed once, a borrowed one never."""
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        *,
        signed: bool,
        accept: frozenset[int] = frozenset(),
    ) -> Response:
        """Send one request through pacing, signing and retries.

        Args:
            method: ``"GET"`` (params as the query) or ``"POST"`` (JSON body).
            path: The endpoint path.
            params: String parameters in sending order.
            signed: Whether the endpoint is private.
            accept: Non-zero retCodes returned instead of raised (e.g. 110043).

        Raises:
            MissingCredentials: A private call on a client without keys.
            ClientClosed: The client was closed.
            APIError: A non-zero retCode not in ``accept``.
            HTTPStatusError: A non-200 answer.
            TransportError: The connection failed or timed out.
            ResponseDecodeError: The answer was not a Bybit envelope.
        """
        return await self._http.request(
            method, path, params, signed=signed, accept=accept
        )

    async def sync_time(self) -> int:
        """Measure the server-time offset now and return it (ms, server - local)."""
        await self._http.clock.resync()
        return self._http.clock.offset_ms

    async def fetch_instruments(
        self, category: Category = Category.LINEAR
    ) -> list[Instrument]:
        """Read every listed instrument of ``category`` from the exchange.

        Reads all pages of the default (Trading) listing, then the ``PreLaunch``
        listing, and merges them without duplicates. Bypasses the cache.

        Raises:
            BybitError: A request failed after its retries.
        """
        merged: dict[str, Instrument] = {}
        for status in (None, InstrumentStatus.PRE_LAUNCH):
            for instrument in await self._fetch_listing(category, status):
                merged.setdefault(instrument.symbol, instrument)
        return list(merged.values())

    async def _fetch_listing(
        self, category: Category, status: InstrumentStatus | None
    ) -> list[Instrument]:
        found: list[Instrument] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params = {
                "category": category.value,
                "limit": str(c.INSTRUMENTS_PAGE_LIMIT),
            }
            if status is not None:
                params["status"] = status.value
            if cursor is not None:
                params["cursor"] = cursor  # already URL-encoded; encode_query keeps it
            response = await self._request(
                "GET", c.PATH_INSTRUMENTS, params, signed=False
            )
            page = parse_instruments_page(
                response.envelope.result, category, c.PATH_INSTRUMENTS
            )
            found.extend(page.instruments)
            if not page.instruments or page.next_cursor is None:
                return found
            if page.next_cursor in seen:
                logger.warning(
                    "instruments cursor %r repeated; stopping", page.next_cursor
                )
                return found
            seen.add(page.next_cursor)
            cursor = page.next_cursor
        logger.warning("instruments listing stopped after %d pages", _MAX_PAGES)
        return found

    async def get_instruments(
        self, category: Category = Category.LINEAR
    ) -> Mapping[str, Instrument]:
        """Every instrument of ``category`` by symbol, from the cache.

        Raises:
            BybitError: The cache was empty or expired and the fetch failed.
        """
        return await self.instruments.get(category)

    async def get_instrument(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> Instrument:
        """One instrument by symbol (case-insensitive), from the cache.

        Raises:
            UnknownSymbol: Not listed; the error suggests close matches.
        """
        return await self.instruments.lookup(symbol, category)

    async def get_leverage_filter(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> LeverageFilter:
        """A symbol's leverage rule (min, max, step), from the cache.

        Raises:
            UnknownSymbol: Not listed; the error suggests close matches.
        """
        return (await self.instruments.lookup(symbol, category)).leverage_filter
