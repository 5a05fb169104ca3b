"""``BybitSimulator``: the loopback server and its Python controls."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bybit_leverage._hosts import is_loopback
from bybit_leverage.models import InstrumentStatus
from bybit_leverage.simulator._admin import make_admin
from bybit_leverage.simulator._app import Profile, make_app
from bybit_leverage.simulator._core import SimCore, SimRequest
from bybit_leverage.simulator._faults import Fault
from bybit_leverage.simulator._market import Universe, build_universe
from bybit_leverage.simulator._state import (
    CONTRACT_TRADE,
    MarginMode,
    SimAccount,
    SimKey,
)

__all__ = ["BybitSimulator"]

Number = Decimal | int | str


class BybitSimulator:
    """A Bybit V5 look-alike served on the loopback interface.

    Use it as an async context manager; it listens from ``__aenter__`` until
    ``__aexit__``. Market data and the default account's keys are a function of
    ``seed``, so runs are reproducible.

    Args:
        symbols: How many linear symbols to list (inverse ones come on top).
        seed: Seed for the market data, the keys and the latency jitter.
        rate_limit: Apply Bybit's per-UID and per-IP limits.
        latency_ms: Delay added to every answer, in loop milliseconds.
        jitter_ms: Extra uniform random delay in ``[0, jitter_ms]``.
        port: TCP port; 0 picks a free one.
        host: Address to bind; only loopback addresses are accepted.
        wall_clock: Epoch seconds for the server's clock (``time.time``); tests
            may pin it to check the timestamp window at its edges.
        log_size: How many requests :attr:`requests` keeps.
        profile: ``"mainnet"``, or ``"demo"`` to answer like Bybit's
            demo-trading host (no ``/v5/position/symbol-info``).
        margin_mode: The default account's margin mode.
        unified_status: The default account's ``unifiedMarginStatus``.
        hedge: Symbols the default account holds in hedge mode.
        positions: Open positions of the default account: symbol to value (USD).
        read_only: Make the default key read-only.
        contract_trade: The default key's ``permissions.ContractTrade``.
        ips: IP addresses the default key is bound to (none: any).
        key_expired: Make the default key expired.

    Raises:
        ValueError: For a non-loopback ``host``, fewer than 2 symbols, a
            negative latency, or an unknown profile, margin mode or status.
        KeyError: For an unlisted symbol in ``hedge`` or ``positions``.
    """

    def __init__(
        self,
        symbols: int = 600,
        *,
        seed: int = 0,
        rate_limit: bool = True,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        port: int = 0,
        host: str = "127.0.0.1",
        wall_clock: Callable[[], float] = time.time,
        log_size: int = 10_000,
        profile: Profile | str = Profile.MAINNET,
        margin_mode: MarginMode | str = MarginMode.CROSS,
        unified_status: int = 5,
        hedge: Iterable[str] = (),
        positions: Mapping[str, Number] | None = None,
        read_only: bool = False,
        contract_trade: Sequence[str] = CONTRACT_TRADE,
        ips: Sequence[str] = (),
        key_expired: bool = False,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the simulator binds loopback only, not {host!r}")
        self._host = host
        self._port = port
        self._profile = Profile(profile)
        self._core = SimCore(
            build_universe(symbols, seed), wall_clock, seed=seed, log_size=log_size
        )
        self._core.set_latency(latency_ms, jitter_ms)
        self._core.limits.enabled = rate_limit
        self._default = self.add_account(
            margin_mode=margin_mode,
            unified_status=unified_status,
            read_only=read_only,
            contract_trade=contract_trade,
            ips=ips,
            expired=key_expired,
        )
        for symbol in hedge:
            self._default.set_position_mode(symbol, hedge=True)
        for symbol, value in (positions or {}).items():
            self._default.set_position_value(symbol, value)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (``__aenter__`` calls this).

        Raises:
            RuntimeError: If already started.
            OSError: If the address cannot be bound (e.g. the port is busy).
        """
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        host = f"[{address[0]}]" if ":" in address[0] else address[0]
        self._url = f"http://{host}:{address[1]}"

    async def aclose(self) -> None:
        """Stop listening and release hanging requests; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            self._core.close()
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def app(self) -> web.Application:
        """Build the aiohttp application (Bybit routes plus ``/__sim/`` admin)."""
        return make_app(self._core, make_admin(self._core), self._profile)

    # -- addresses and accounts -----------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``.

        Raises:
            RuntimeError: Before the simulator is started.
        """
        if self._url is None:
            raise RuntimeError("the simulator is not running; use `async with`")
        return self._url

    @property
    def profile(self) -> Profile:
        """The host profile: ``mainnet`` or ``demo``."""
        return self._profile

    @property
    def universe(self) -> Universe:
        """Every listed instrument."""
        return self._core.universe

    @property
    def account(self) -> SimAccount:
        """The default (HMAC) account."""
        return self._default

    @property
    def accounts(self) -> dict[int, SimAccount]:
        """Every account by UID."""
        return dict(self._core.accounts)

    @property
    def api_key(self) -> str:
        """The default account's API key."""
        return self._default.api_key

    @property
    def api_secret(self) -> str:
        """The default account's HMAC secret."""
        secret = self._default.api_secret
        assert secret is not None  # noqa: S101 - the default account is HMAC
        return secret

    def add_account(
        self,
        *,
        rsa_public_key: str | bytes | None = None,
        margin_mode: MarginMode | str = MarginMode.CROSS,
        unified_status: int = 5,
        parent: SimAccount | None = None,
        read_only: bool = False,
        contract_trade: Sequence[str] = CONTRACT_TRADE,
        ips: Sequence[str] = (),
        expired: bool = False,
    ) -> SimAccount:
        """Create an account (a new UID) with one key: HMAC, or RSA given a PEM.

        ``parent`` makes it a sub-account of that (master) account; it is still
        a UID of its own, with its own rate budget. The key arguments are those
        of :meth:`add_key`.

        Raises:
            ValueError: For a bad RSA key, margin mode or unified status.
        """
        account = self._core.new_account(
            margin_mode=MarginMode(margin_mode),
            unified_status=unified_status,
            parent_uid=None if parent is None else parent.uid,
        )
        self.add_key(
            account,
            rsa_public_key=rsa_public_key,
            read_only=read_only,
            contract_trade=contract_trade,
            ips=ips,
            expired=expired,
        )
        return account

    def add_key(
        self,
        account: SimAccount | None = None,
        *,
        rsa_public_key: str | bytes | None = None,
        read_only: bool = False,
        contract_trade: Sequence[str] = CONTRACT_TRADE,
        ips: Sequence[str] = (),
        expired: bool = False,
        note: str = "",
    ) -> SimKey:
        """Give ``account`` (default: the default one) another API key.

        Every key of an account shares its per-UID rate windows.

        Args:
            account: The account to add the key to.
            rsa_public_key: An RSA public key (PEM) for a self-generated key;
                otherwise the key is HMAC and gets a secret.
            read_only: A read-only key (set-leverage answers 10005).
            contract_trade: ``permissions.ContractTrade``; without
                ``"Position"`` set-leverage answers 10005.
            ips: Bind the key to these addresses; requests from others get 10010.
            expired: An expired key: every private call answers 33004.
            note: The key's remark.

        Raises:
            ValueError: If ``rsa_public_key`` is not an RSA public key in PEM form.
        """
        pem = None
        if rsa_public_key is not None:
            pem = (
                rsa_public_key.decode()
                if isinstance(rsa_public_key, bytes)
                else rsa_public_key
            )
            _check_rsa_pem(pem)
        return self._core.new_key(
            self._default if account is None else account,
            rsa_public_key=pem,
            read_only=read_only,
            contract_trade=tuple(contract_trade),
            ips=tuple(ips),
            expired=expired,
            note=note,
        )

    # -- market controls -----------------------------------------------------------

    def set_status(self, symbol: str, status: InstrumentStatus | str) -> None:
        """Change a symbol's listing status, e.g. delist it (``Closed``) mid-run.

        Raises:
            KeyError: If the symbol is not listed.
            ValueError: For an unknown status.
        """
        self._core.universe.set_status(symbol, status)

    def lower_leverage(
        self, symbol: str, leverage: Number, *, account: SimAccount | None = None
    ) -> None:
        """Lower a symbol's leverage as Bybit's risk system does (now, server time).

        Raises:
            ValueError: For a leverage outside the symbol's filter.
        """
        target = self._default if account is None else account
        target.lower_leverage(symbol, leverage, at_ms=self.server_time_ms())

    # -- controls ---------------------------------------------------------------------

    def inject(self, endpoint: str, fault: Fault | str, times: int = 1) -> None:
        """Make the next ``times`` requests to ``endpoint`` (or ``"*"``) fail.

        Raises:
            ValueError: For an unknown endpoint or fault, or ``times < 1``.
        """
        self._core.faults.inject(endpoint, fault, times)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self._core.faults.clear()

    def set_latency(self, ms: float, jitter_ms: float = 0) -> None:
        """Delay every answer by ``ms`` plus up to ``jitter_ms`` (loop time).

        Raises:
            ValueError: For a negative value.
        """
        self._core.set_latency(ms, jitter_ms)

    def set_clock_skew(self, ms: int) -> None:
        """Run the server's wall clock ``ms`` ahead of (or behind) the real one."""
        self._core.skew_ms = int(ms)

    def set_uid_limit(self, endpoint: str, per_second: int) -> None:
        """Change an endpoint's per-UID limit; its windows start afresh.

        Raises:
            ValueError: For an unknown endpoint or a limit below 1.
        """
        self._core.limits.set_limit(endpoint, per_second)

    def server_time_ms(self) -> int:
        """The server's current wall time in epoch ms (skew included)."""
        return self._core.server_time_ms()

    @property
    def rate_limit(self) -> bool:
        """Whether rate limits apply."""
        return self._core.limits.enabled

    @rate_limit.setter
    def rate_limit(self, enabled: bool) -> None:
        self._core.limits.enabled = enabled

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters by endpoint.

        Example: ``{"set-leverage": {"requests": 12, "ret_codes": {0: 10,
        110043: 2}, "http": {200: 12}}}``.
        """
        return self._core.stats()

    def reset_stats(self) -> None:
        """Forget counters and the request log."""
        self._core.reset_stats()

    @property
    def requests(self) -> list[SimRequest]:
        """Recent requests, oldest first."""
        return self._core.requests


def _check_rsa_pem(pem: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        raise ValueError("rsa_public_key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("rsa_public_key must be an RSA key")
