"""``BybitSimulator``: the loopback server, its Python controls and admin routes."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final, Self, TextIO

from aiohttp import web
from attrs import frozen

from bybit_leverage._hosts import is_loopback
from bybit_leverage.simulator._app import SimCore, SimRequest, make_app
from bybit_leverage.simulator._faults import Fault
from bybit_leverage.simulator._market import Universe, build_universe
from bybit_leverage.simulator._state import SimAccount

__all__ = ["BybitSimulator", "run", "serve"]

_FIRST_UID: Final = 100_001
_KEY_CHARS: Final = string.ascii_uppercase + string.digits
# The start-up lines of `simulate`, which read_banner() parses for other programs.
_BANNER_URL: Final = "Bybit simulator serving on "
_BANNER_END: Final = "Ctrl-C to stop."


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

    Raises:
        ValueError: For a non-loopback ``host`` or fewer than 2 symbols.
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
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the simulator binds loopback only, not {host!r}")
        self._host = host
        self._port = port
        self._core = SimCore(
            build_universe(symbols, seed),
            wall_clock,
            rate_limit=rate_limit,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            seed=seed,
            log_size=log_size,
        )
        self._keys = random.Random(f"bybit-sim-keys-{seed}")
        self._default = self.add_account()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (``__aenter__`` calls this).

        Raises:
            RuntimeError: If already started.
        """
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
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
        return make_app(self._core, self._admin_app())

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
        assert self._default.api_secret is not None  # noqa: S101 - the default account is HMAC
        return self._default.api_secret

    def add_account(self, *, rsa_public_key: str | bytes | None = None) -> SimAccount:
        """Create an account with its own key: HMAC, or RSA given a public key PEM.

        Raises:
            ValueError: If ``rsa_public_key`` is not an RSA public key in PEM form.
        """
        uid = _FIRST_UID + len(self._core.accounts)
        api_key = "".join(self._keys.choices(_KEY_CHARS, k=18))
        if rsa_public_key is None:
            secret = "".join(self._keys.choices(_KEY_CHARS, k=36))
            account = SimAccount(uid, api_key, self._core.universe, api_secret=secret)
        else:
            pem = (
                rsa_public_key.decode()
                if isinstance(rsa_public_key, bytes)
                else rsa_public_key
            )
            _check_rsa_pem(pem)
            account = SimAccount(uid, api_key, self._core.universe, rsa_public_key=pem)
        self._core.register(account)
        return account

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
        if ms < 0 or jitter_ms < 0:
            raise ValueError("latency and jitter must be >= 0")
        self._core.latency_ms, self._core.jitter_ms = ms, jitter_ms

    def set_clock_skew(self, ms: int) -> None:
        """Run the server's wall clock ``ms`` ahead of (or behind) the real one."""
        self._core.skew_ms = int(ms)

    def server_time_ms(self) -> int:
        """The server's current wall time in epoch ms (skew included)."""
        return self._core.server_time_ms()

    @property
    def rate_limit(self) -> bool:
        """Whether rate limits apply."""
        return self._core.rate_limit

    @rate_limit.setter
    def rate_limit(self, enabled: bool) -> None:
        self._core.rate_limit = enabled

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

    # -- admin routes ---------------------------------------------------------------

    def _admin_app(self) -> web.Application:
        admin = web.Application()

        async def body(request: web.Request) -> dict[str, Any]:
            try:
                data = json.loads(await request.read() or b"{}")
            except ValueError:
                raise _bad("body is not JSON") from None
            if not isinstance(data, dict):
                raise _bad("body must be a JSON object")
            return data

        async def inject(request: web.Request) -> web.Response:
            data = await body(request)
            try:
                self.inject(
                    str(data.get("endpoint", "*")),
                    str(data.get("fault")),
                    int(data.get("times", 1)),
                )
            except (TypeError, ValueError) as exc:
                raise _bad(str(exc)) from None
            return web.json_response({"pending": self._core.faults.pending()})

        async def clear(request: web.Request) -> web.Response:
            self.clear_faults()
            return web.json_response({"pending": {}})

        async def latency(request: web.Request) -> web.Response:
            data = await body(request)
            try:
                self.set_latency(float(data["ms"]), float(data.get("jitter_ms", 0)))
            except (KeyError, TypeError, ValueError) as exc:
                raise _bad(f"expected {{ms, jitter_ms}}: {exc}") from None
            return web.json_response(
                {"ms": self._core.latency_ms, "jitter_ms": self._core.jitter_ms}
            )

        async def skew(request: web.Request) -> web.Response:
            data = await body(request)
            try:
                self.set_clock_skew(int(data["ms"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise _bad(f"expected {{ms}}: {exc}") from None
            return web.json_response({"ms": self._core.skew_ms})

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(self.stats())

        async def reset(request: web.Request) -> web.Response:
            self.reset_stats()
            return web.json_response({})

        admin.router.add_post("/inject", inject)
        admin.router.add_post("/clear-faults", clear)
        admin.router.add_post("/latency", latency)
        admin.router.add_post("/skew", skew)
        admin.router.add_get("/stats", stats)
        admin.router.add_post("/reset-stats", reset)
        return admin


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": message}), content_type="application/json"
    )


def _check_rsa_pem(pem: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        raise ValueError("rsa_public_key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("rsa_public_key must be an RSA key")


async def serve(
    *,
    port: int = 8123,
    symbols: int = 600,
    latency_ms: float = 0,
    seed: int = 0,
    rate_limit: bool = True,
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve a simulator on 127.0.0.1 until SIGINT/SIGTERM (or ``stop`` is set).

    Prints the URL and the default account's key and secret (simulator-made
    credentials, valid nowhere else) so another program can connect.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass
    try:
        async with BybitSimulator(
            symbols, seed=seed, rate_limit=rate_limit, latency_ms=latency_ms, port=port
        ) as sim:
            print(f"{_BANNER_URL}{sim.url}", file=out)
            print(f"BYBIT_API_KEY={sim.api_key}", file=out)
            print(f"BYBIT_API_SECRET={sim.api_secret}", file=out)
            print(_BANNER_END, file=out, flush=True)
            await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    print("Simulator stopped.", file=out, flush=True)


def run(**options: Any) -> int:
    """Run :func:`serve` in a new event loop; returns the exit code (0)."""
    asyncio.run(serve(**options))
    return 0


@frozen
class Banner:
    """What ``bybit-leverage simulate`` prints on start: where it is and its keys."""

    url: str
    api_key: str
    api_secret: str


def read_banner(lines: Iterable[str]) -> Banner:
    """Read the start-up lines of ``bybit-leverage simulate`` (e.g. its stdout).

    Consumes lines up to and including the last banner line, so a program that
    started the simulator as a subprocess can connect to it.

    Raises:
        ValueError: When the lines end before the banner does.
    """
    found: dict[str, str] = {}
    for line in lines:
        text = line.strip()
        if text.startswith(_BANNER_URL):
            found["url"] = text.removeprefix(_BANNER_URL)
        elif text.startswith(("BYBIT_API_KEY=", "BYBIT_API_SECRET=")):
            name, _, value = text.partition("=")
            found[name] = value
        elif text == _BANNER_END:
            break
    try:
        return Banner(found["url"], found["BYBIT_API_KEY"], found["BYBIT_API_SECRET"])
    except KeyError as exc:
        raise ValueError(f"the simulator's banner has no {exc.args[0]}") from None


@contextmanager
def spawn(
    *,
    symbols: int = 600,
    latency_ms: float = 0,
    seed: int = 0,
    rate_limit: bool = True,
    port: int = 0,
) -> Iterator[Banner]:
    """Run ``bybit-leverage simulate`` in a child process for the ``with`` block.

    For programs that want the simulator outside their own event loop (a
    benchmark that must not share a core with it, a synchronous test suite).
    Yields the URL and keys it printed; on exit it is stopped with SIGINT.

    Raises:
        RuntimeError: When the simulator did not stop cleanly.
    """
    argv = [
        sys.executable, "-m", "bybit_leverage", "simulate",
        "--port", str(port), "--symbols", str(symbols),
        "--latency-ms", str(latency_ms), "--seed", str(seed),
    ]  # fmt: skip
    if not rate_limit:
        argv.append("--no-rate-limit")
    # Our own interpreter and module, with arguments we built: nothing untrusted.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE was asked for
        yield read_banner(process.stdout)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    if code != 0:
        raise RuntimeError(f"the simulator exited with status {code}")
