"""The public async client: instruments, leverage rules, and the request core.

``BybitClient`` is thin: transport, signing, pacing and retries live in
``_http``; the instrument cache lives in ``cache``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Self

import attrs

from bybit_leverage import _constants as c
from bybit_leverage._clock import RESYNC_INTERVAL_S, system_now_ms
from bybit_leverage._http import HttpCore, Response, Tally, validate_base_url
from bybit_leverage._ratelimit import IP_BUDGET
from bybit_leverage._signing import Credentials
from bybit_leverage._wire import parse_instruments_page, parse_position_leverage
from bybit_leverage.batch import (
    BatchReport,
    LeverageRequest,
    OnRiskLimit,
    PlannedChange,
    ProgressCallback,
    Targets,
    execute_plans,
    plan_batch,
    plan_one,
    send_one,
)
from bybit_leverage.cache import DEFAULT_TTL, InstrumentCache
from bybit_leverage.errors import ConfigurationError, MissingCredentials
from bybit_leverage.leverage import LeverageLike, SnapPolicy
from bybit_leverage.models import (
    Category,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
    LeverageResult,
    PositionLeverage,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BybitClient"]

logger = logging.getLogger(__name__)

#: A listing longer than this many pages means the cursor is looping.
_MAX_PAGES: Final = 100
#: How long a symbol's position mode (one-way or hedge) is trusted once read.
POSITION_MODE_TTL: Final = 300.0


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
        pace_endpoints: ``False`` sends private requests without waiting for the
            endpoint's per-account budget (10/s for set-leverage). Only for a
            simulator whose limits are off, e.g. to measure CPU; against Bybit it
            earns 10006 answers, which are then waited out and retried.
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
        pace_endpoints: bool = True,
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
            pace_endpoints=pace_endpoints,
            resync_interval=time_resync_interval,
            rand=rand,
        )
        self._key_hint = f"{credentials.api_key[:4]}…" if credentials else None
        self.instruments = InstrumentCache(self.fetch_instruments, ttl=cache_ttl)
        """The client's instrument cache (``invalidate()`` forces a refetch)."""
        self._positions: dict[tuple[Category, str], tuple[float, PositionLeverage]] = {}

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
    def has_credentials(self) -> bool:
        """Whether the client holds keys for private endpoints."""
        return self._http.has_credentials

    def require_credentials(self) -> None:
        """Fail early, before any request, when the client has no keys.

        Raises:
            MissingCredentials: The client was built without keys.
        """
        if not self.has_credentials:
            raise MissingCredentials(
                "setting leverage needs keys: pass api_key and api_secret "
                "(or private_key) to BybitClient"
            )

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
        tally: Tally | None = None,
    ) -> Response:
        """Send one request through pacing, signing and retries.

        The request core the setter builds on; arguments, results and errors are
        those of :meth:`bybit_leverage._http.HttpCore.request`.
        """
        return await self._http.request(
            method, path, params, signed=signed, accept=accept, tally=tally
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

    # -- positions -------------------------------------------------------------------

    async def fetch_position_leverage(
        self,
        category: Category = Category.LINEAR,
        symbol: str | None = None,
        *,
        tally: Tally | None = None,
    ) -> dict[str, PositionLeverage]:
        """Read the leverage in force and the position mode, for one or every symbol.

        One ``/v5/position/symbol-info`` request covers the whole category.

        Raises:
            MissingCredentials: The client has no keys.
            BybitError: The request failed after its retries (portfolio-margin
                accounts get an error here).
        """
        params = {"category": category.value}
        if symbol is not None:
            params["symbol"] = symbol
        response = await self._request(
            "GET", c.PATH_SYMBOL_INFO, params, signed=True, tally=tally
        )
        positions = parse_position_leverage(
            response.envelope.result, c.PATH_SYMBOL_INFO
        )
        now = self._now()
        for name, position in positions.items():
            self._positions[category, name] = (now, position)
        return positions

    async def get_position_leverage(
        self, symbol: str, category: Category = Category.LINEAR
    ) -> PositionLeverage | None:
        """A symbol's leverage and position mode, read at most every few minutes.

        Returns ``None`` when Bybit lists no row for the symbol.

        Raises:
            BybitError: The read failed.
        """
        cached = self._positions.get((category, symbol))
        if cached is not None and self._now() - cached[0] < POSITION_MODE_TTL:
            return cached[1]
        positions = await self.fetch_position_leverage(category, symbol)
        return positions.get(symbol)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # -- setting leverage --------------------------------------------------------------

    async def set_leverage(
        self,
        symbol: str,
        leverage: LeverageLike | None = None,
        *,
        buy: LeverageLike | None = None,
        sell: LeverageLike | None = None,
        category: Category = Category.LINEAR,
        policy: SnapPolicy = SnapPolicy.DOWN,
        on_risk_limit: OnRiskLimit = "fail",
        raise_on_failure: bool = False,
    ) -> LeverageResult:
        """Set one symbol's leverage, checked and snapped against its filter first.

        Give ``leverage`` for both sides, or ``buy`` and ``sell`` (hedge mode only).
        The value is snapped onto the symbol's grid under ``policy``; what Bybit
        would refuse is refused locally (``REJECTED``, nothing sent). Bybit's
        "not modified" (110043) is ``UNCHANGED``, not an error.

        Args:
            symbol: The symbol (case-insensitive).
            leverage: Leverage for both sides.
            buy: Buy-side leverage (hedge mode).
            sell: Sell-side leverage (hedge mode).
            category: ``LINEAR`` or ``INVERSE``.
            policy: How off-grid or out-of-range values are treated.
            on_risk_limit: On 110013, ``"fail"`` (the error carries the allowed
                maximum) or ``"clamp"`` (retry once at that maximum).
            raise_on_failure: Raise the result's error instead of returning a
                ``REJECTED`` or ``FAILED`` result.

        Returns:
            The outcome, with requested and applied values and whether snapping
            adjusted them.

        Raises:
            MissingCredentials: The client has no keys (nothing is sent).
            BybitError: Only with ``raise_on_failure``: the typed reason the
                symbol was rejected or failed.
        """
        self.require_credentials()
        started = self._now()
        request = LeverageRequest(symbol, leverage, buy, sell)
        plan = await plan_one(
            self, request, category=category, policy=policy, positions=None
        )
        result = await send_one(self, plan, on_risk_limit=on_risk_limit)
        result = attrs.evolve(result, elapsed=self._now() - started)
        if raise_on_failure and result.error is not None and not result.ok:
            raise result.error
        return result

    async def plan_leverage_many(
        self,
        targets: Targets,
        *,
        category: Category = Category.LINEAR,
        policy: SnapPolicy = SnapPolicy.DOWN,
        read_current: bool = True,
    ) -> list[PlannedChange]:
        """Show what :meth:`set_leverage_many` would do, writing nothing.

        With ``read_current`` (and keys), the leverage in force is read with one
        request, so symbols already at their target show as ``UNCHANGED``.

        Raises:
            DuplicateSymbol: A symbol appears twice.
        """
        plans, _ = await plan_batch(
            self,
            targets,
            category=category,
            policy=policy,
            read_current=read_current and self.has_credentials,
        )
        return plans

    async def set_leverage_many(
        self,
        targets: Targets,
        *,
        category: Category = Category.LINEAR,
        policy: SnapPolicy = SnapPolicy.DOWN,
        skip_unchanged: bool = True,
        concurrency: int = 20,
        on_risk_limit: OnRiskLimit = "fail",
        on_progress: ProgressCallback | None = None,
    ) -> BatchReport:
        """Set leverage on many symbols concurrently: one result per symbol.

        ``targets`` is ``{symbol: leverage}`` or a sequence of
        :class:`LeverageRequest`. Every symbol gets exactly one result, in input
        order; one symbol's failure never cancels another's. With
        ``skip_unchanged``, the leverage in force is read for the whole category
        with one request and nothing is sent for symbols already at their target
        (if that read fails, every symbol is sent). The client paces itself under
        Bybit's 10/s per-account limit.

        Args:
            targets: What to set.
            category: ``LINEAR`` or ``INVERSE``.
            policy: How off-grid or out-of-range values are treated.
            skip_unchanged: Read current leverage first and skip what is at target.
            concurrency: Requests waiting at once, at most.
            on_risk_limit: ``"fail"`` or ``"clamp"`` (see :meth:`set_leverage`).
            on_progress: Called after each symbol with ``(result, done, total)``.

        Raises:
            MissingCredentials: The client has no keys (nothing is sent).
            DuplicateSymbol: A symbol appears twice (nothing is sent).
            ValueError: ``concurrency`` below 1.
        """
        self.require_credentials()
        started = self._now()
        plans, reads = await plan_batch(
            self, targets, category=category, policy=policy, read_current=skip_unchanged
        )
        report = await execute_plans(
            self,
            plans,
            reads=reads,
            concurrency=concurrency,
            on_risk_limit=on_risk_limit,
            on_progress=on_progress,
        )
        return attrs.evolve(report, elapsed=self._now() - started)
