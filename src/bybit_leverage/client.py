"""The public async client: a facade over the request core, cache, endpoints and setter.

``BybitClient`` composes the pieces and holds no logic of its own beyond wiring:
``_http`` paces, signs and retries; ``_api`` speaks each endpoint; ``cache``
keeps instruments; ``_plan`` decides (pure); ``_setter`` sends. Every arrow
points down: nothing below calls back into the client.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Self

from attrs import evolve

from bybit_leverage import _constants as c
from bybit_leverage._account import AccountCache
from bybit_leverage._aiohttp import AiohttpTransport
from bybit_leverage._api import BybitApi
from bybit_leverage._budget import RateBudget
from bybit_leverage._client_reads import ClientReads
from bybit_leverage._clock import RESYNC_INTERVAL_S, system_now_ms
from bybit_leverage._config import (
    DEFAULT_IP_BUDGET,
    Limits,
    Retries,
    check_positive,
    make_credentials,
    validate_base_url,
)
from bybit_leverage._execute import Executor
from bybit_leverage._hosts import MAINNET, host_label
from bybit_leverage._http import RequestCore
from bybit_leverage._plan import normalize_targets
from bybit_leverage._planner import Planner
from bybit_leverage._reads import LeverageReader
from bybit_leverage._setter import OnRiskLimit, ProgressCallback
from bybit_leverage.cache import DEFAULT_TTL, InstrumentCache
from bybit_leverage.errors import (
    ClientClosed,
    ConfigurationError,
)
from bybit_leverage.journal import BatchJournal
from bybit_leverage.leverage import LeverageLike, SnapPolicy
from bybit_leverage.models import (
    Category,
)
from bybit_leverage.report import (
    BatchPlan,
    BatchReport,
    LeverageRequest,
    LeverageResult,
    Targets,
)

if TYPE_CHECKING:
    import aiohttp

    from bybit_leverage._redis_budget import RedisBudget
    from bybit_leverage.transport import Transport

__all__ = ["BybitClient"]

logger = logging.getLogger(__name__)

_NO_KEYS: Final = (
    "setting leverage needs keys: pass api_key and api_secret "
    "(or private_key) to BybitClient"
)


def _redis_budget(url: str) -> RedisBudget:
    """A Redis budget for ``url`` (``redis`` is imported only here).

    Raises:
        ConfigurationError: ``redis`` is not installed or the URL is not one.
    """
    try:
        from bybit_leverage._redis_budget import RedisBudget

        return RedisBudget.from_url(url)
    except (ImportError, ValueError) as exc:
        # The message names what is wrong, never the URL (it may hold a password).
        raise ConfigurationError(f"budget: cannot use this Redis URL: {exc}") from None


class BybitClient(ClientReads):
    """Async client for Bybit V5 leverage endpoints.

    Use it as an async context manager (or call :meth:`aclose`). The aiohttp
    session is created inside the running loop on first use; a session passed
    in is borrowed and never closed.

    Args:
        api_key: The API key (needed for private endpoints only).
        api_secret: Its secret, for a system-generated (HMAC) key.
        private_key: An RSA private key in PEM form, for a self-generated key.
        private_key_password: Its password, if the PEM is encrypted.
        base_url: ``MAINNET``, ``TESTNET``, ``DEMO``, a regional host, or
            ``http://`` to a loopback simulator.
        recv_window: How long (ms) after its timestamp a request stays valid.
        session: An aiohttp session to borrow.
        transport: Send through this instead of aiohttp (e.g. a
            :class:`~bybit_leverage.transport.MockTransport` in tests).
        timeout: Seconds allowed for one attempt.
        cache_ttl: Seconds instruments stay cached.
        retries: Attempts and deadline per call (:class:`Retries`).
        limits: Pacing (:class:`Limits`); ``Limits.OFF`` only for a simulator
            whose limits are off.
        budget: Where the per-account endpoint budgets are booked: a
            :class:`RedisBudget` (or any :class:`RateBudget`) shared with other
            clients, processes and hosts, borrowed and never closed; or a
            ``redis://`` URL, for a :class:`RedisBudget` this client makes and
            closes. Default: an in-process budget of this client's own.
        now_ms: The local wall clock in epoch ms (inject a fake in tests).
        time_resync_interval: Seconds after which the server-time offset is
            measured again.
        rand: Random source for backoff jitter (inject for determinism).
        max_attempts: ``Retries(max_attempts=...)`` when ``retries`` is not given.
        retry_deadline: ``Retries(deadline=...)`` when ``retries`` is not given.
        ip_limit: ``Limits(ip_budget=...)`` when ``limits`` is not given.
        pace_endpoints: ``Limits(pace_endpoints=...)`` when ``limits`` is not given.

    Raises:
        ConfigurationError: Inconsistent keys, a non-https URL to a remote host,
            a setting that is not a finite positive number, or a budget URL
            that is not one (or ``redis`` is not installed).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key: str | bytes | None = None,
        private_key_password: str | bytes | None = None,
        base_url: str = MAINNET,
        recv_window: int = c.RECV_WINDOW_MS,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        timeout: float = 10.0,
        cache_ttl: float = DEFAULT_TTL,
        retries: Retries | None = None,
        limits: Limits | None = None,
        now_ms: Callable[[], int] = system_now_ms,
        time_resync_interval: float = RESYNC_INTERVAL_S,
        rand: Callable[[], float] = random.random,
        max_attempts: int = 5,
        retry_deadline: float = 30.0,
        ip_limit: int | None = DEFAULT_IP_BUDGET,
        pace_endpoints: bool = True,
        budget: RateBudget | str | None = None,
    ) -> None:
        for name, value in (
            ("recv_window", recv_window),
            ("timeout", timeout),
            ("cache_ttl", cache_ttl),
            ("time_resync_interval", time_resync_interval),
        ):
            check_positive(name, value, integer=name == "recv_window")
        # The grouped settings win; the single keywords are the older spelling.
        retries = retries or Retries(max_attempts, retry_deadline)
        limits = limits or Limits(ip_limit, pace_endpoints)
        self._base_url = validate_base_url(base_url)
        credentials = make_credentials(
            api_key, api_secret, private_key, private_key_password
        )
        self._own_budget: RedisBudget | None = None
        if isinstance(budget, str):
            budget = self._own_budget = _redis_budget(budget)
        self._core = RequestCore(
            base_url=self._base_url,
            credentials=credentials,
            transport=transport or AiohttpTransport(session),
            recv_window=recv_window,
            timeout=timeout,
            retries=retries,
            limits=limits,
            now_ms=now_ms,
            resync_interval=time_resync_interval,
            rand=rand,
            budget=budget,
        )
        self._api = api = BybitApi(self._core)
        self._key_hint = f"{credentials.api_key[:4]}…" if credentials else None
        self.instruments = InstrumentCache(api.fetch_instruments, ttl=cache_ttl)
        """The client's instrument cache (``invalidate()`` forces a refetch)."""
        self._account = AccountCache(
            api,
            host_label(self._base_url),
            on_profile=lambda profile: self._core.limits.set_account(profile.uid),
        )
        reader = LeverageReader(api)
        self._planner = Planner(
            self.instruments, self._account if credentials else None, reader
        )
        self._executor = Executor(api, self._account, reader)

    @property
    def budget(self) -> RateBudget:
        """Where this client books its per-account rate budgets."""
        return self._core.limits.budget

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<BybitClient {self._base_url} key={self._key_hint or 'none'} {state}>"

    async def __aenter__(self) -> Self:
        if self.closed:
            raise ClientClosed()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client; its own session and budget once, borrowed ones never."""
        await super().aclose()
        if self._own_budget is not None:
            budget, self._own_budget = self._own_budget, None
            await budget.aclose()

    # -- setting leverage ----------------------------------------------------------

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
        verify: bool | None = None,
    ) -> LeverageResult:
        """Set one symbol's leverage, checked and snapped against its filter first.

        Give ``leverage`` for both sides, or ``buy`` and ``sell`` (hedge mode only).
        What Bybit would refuse is refused locally (``REJECTED``, nothing sent).
        Bybit's "not modified" (110043) is ``UNCHANGED``, not an error.

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
            verify: Read back the outcome: ``None`` only when uncertain (an
                answer was lost), ``True`` always, ``False`` never.

        Raises:
            MissingCredentials: The client has no keys (nothing is sent).
            AuthenticationError: The key cannot set leverage (nothing is sent).
            TargetError: ``symbol`` is not a non-empty string.
            BybitError: Only with ``raise_on_failure``: the typed reason the
                symbol was rejected or failed.
        """
        self.require_credentials()
        loop = asyncio.get_running_loop()
        started = loop.time()
        (request,) = normalize_targets([LeverageRequest(symbol, leverage, buy, sell)])
        plan = BatchPlan(
            (await self._planner.plan_one(request, category, policy),), category
        )
        (result,) = await self._executor.execute(
            plan,
            concurrency=1,
            on_risk_limit=on_risk_limit,
            on_progress=None,
            verify=verify,
        )
        if raise_on_failure and result.error is not None and not result.ok:
            raise result.error
        return evolve(result, elapsed=loop.time() - started)

    async def plan_leverage_many(
        self,
        targets: Targets,
        *,
        category: Category = Category.LINEAR,
        policy: SnapPolicy = SnapPolicy.DOWN,
        read_current: bool = True,
        only_flat: bool = False,
        clamp: bool = True,
    ) -> BatchPlan:
        """Decide what :meth:`set_leverage_many` would do, writing nothing.

        Show the plan to a person, then hand it to :meth:`execute`. With keys,
        the plan knows the account's margin mode, which symbols hold an open
        position, and (with ``read_current``) the leverage in force, so symbols
        already at their target are planned ``UNCHANGED``.

        Args:
            targets: ``{symbol: leverage}`` or a sequence of requests.
            category: ``LINEAR`` or ``INVERSE``.
            policy: How off-grid or out-of-range values are treated.
            read_current: Read the leverage in force and skip what is at target.
            only_flat: Leave symbols that hold an open position alone
                (``REJECTED`` with :class:`OpenPosition`).
            clamp: Bring values outside a symbol's range to it (``False``:
                refuse them; values inside are still snapped onto the grid).

        Raises:
            DuplicateSymbol: A symbol appears twice.
            TargetError: ``targets`` is not a mapping or a list of requests.
            AuthenticationError: The key cannot be used.
        """
        return await self._planner.plan_many(
            targets,
            category=category,
            policy=policy,
            read_current=read_current,
            only_flat=only_flat,
            clamp=clamp,
        )

    async def execute(
        self,
        plan: BatchPlan,
        *,
        concurrency: int = 20,
        on_risk_limit: OnRiskLimit = "fail",
        on_progress: ProgressCallback | None = None,
        verify: bool | None = None,
        journal: BatchJournal | None = None,
    ) -> BatchReport:
        """Carry out exactly ``plan``: send what it plans to set, report every symbol.

        Every symbol gets exactly one result, in input order; one symbol's
        failure never cancels another's. The client paces itself under Bybit's
        10/s per-account limit, so ``concurrency`` only bounds the waiting.

        Args:
            plan: From :meth:`plan_leverage_many`.
            concurrency: Requests waiting at once, at most.
            on_risk_limit: ``"fail"`` or ``"clamp"`` (see :meth:`set_leverage`).
            on_progress: Called after each symbol with ``(result, done, total)``.
            verify: Read back outcomes: ``None`` (default) the uncertain ones
                (an answer was lost), ``True`` every symbol (a disagreement
                becomes ``FAILED`` with :class:`LeverageMismatch`), ``False`` none.
            journal: Records each symbol as it is planned, goes on the wire and
                settles; after a cancellation, :meth:`reconcile` reads back what
                it says may have changed.

        Raises:
            MissingCredentials: The client has no keys (nothing is sent).
            AuthenticationError: The key cannot set leverage (nothing is sent).
            ConfigurationError: ``concurrency`` is not a positive whole number.
        """
        self.require_credentials()
        return await self._executor.execute(
            plan,
            concurrency=concurrency,
            on_risk_limit=on_risk_limit,
            on_progress=on_progress,
            verify=verify,
            journal=journal,
        )

    async def reconcile(self, journal: BatchJournal) -> BatchReport:
        """Read back what a stopped batch may have changed; state the exchange's values.

        After a batch was cancelled (or its task died), its journal names the
        symbols whose requests were in flight or never sent. One read (per
        category) settles them: a landed request is ``SET``, anything else is
        ``FAILED`` with :class:`Interrupted` and the value the exchange holds.

        Raises:
            MissingCredentials: The client has no keys.
            AuthenticationError: The key cannot read.
        """
        self.require_credentials()
        return await self._executor.reconcile(journal)

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
        verify: bool | None = None,
        only_flat: bool = False,
        journal: BatchJournal | None = None,
        clamp: bool = True,
    ) -> BatchReport:
        """Set leverage on many symbols concurrently: one result per symbol.

        :meth:`plan_leverage_many` then :meth:`execute`. ``targets`` is
        ``{symbol: leverage}`` or a sequence of :class:`LeverageRequest`. With
        ``skip_unchanged``, the leverage in force is read for the whole category
        with one request and nothing is sent for symbols already at their target
        (if that read fails, every symbol is sent). ``verify`` and ``journal``
        are those of :meth:`execute`; ``only_flat`` and ``clamp`` those of
        :meth:`plan_leverage_many`.

        Raises:
            MissingCredentials: The client has no keys (nothing is sent).
            AuthenticationError: The key cannot set leverage: unknown, wrongly
                signed, IP-blocked, expired, read-only or without the position
                permission. Raised once, before anything is written.
            DuplicateSymbol: A symbol appears twice (nothing is sent).
            TargetError: ``targets`` is not a mapping or a list of requests.
            ConfigurationError: ``concurrency`` is not a positive whole number.
        """
        self.require_credentials()
        check_positive("concurrency", concurrency, integer=True)
        plan = await self.plan_leverage_many(
            targets,
            category=category,
            policy=policy,
            read_current=skip_unchanged,
            only_flat=only_flat,
            clamp=clamp,
        )
        return await self.execute(
            plan,
            concurrency=concurrency,
            on_risk_limit=on_risk_limit,
            on_progress=on_progress,
            verify=verify,
            journal=journal,
        )
