"""Running the simulator as a process: ``serve``, ``run``, ``spawn`` and the banner.

On start, ``python -m bybit_leverage.simulator`` (and ``bybit-leverage
simulate``) prints a banner that works both pasted into a shell and saved as a
key file (``--key-file``): comments and ``export NAME=value`` lines only::

    # Bybit simulator serving on http://127.0.0.1:8123
    export BYBIT_BASE_URL=http://127.0.0.1:8123
    export BYBIT_API_KEY=...
    export BYBIT_API_SECRET=...
    # Ctrl-C to stop.

:func:`read_banner` reads it, and the older banner (``Bybit simulator serving
on URL`` and bare ``NAME=value`` lines) too.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TextIO

from attrs import field, frozen

__all__ = ["Banner", "read_banner", "run", "serve", "spawn"]

_SERVING: Final = "Bybit simulator serving on "
_END: Final = "Ctrl-C to stop."
_STOPPED: Final = "# Simulator stopped."
_NAMES: Final = {
    "BYBIT_BASE_URL": "url",
    "BYBIT_API_KEY": "api_key",
    "BYBIT_API_SECRET": "api_secret",
}


@frozen
class Banner:
    """What the simulator prints on start: where it is and its default keys."""

    url: str
    api_key: str
    api_secret: str = field(repr=False)


def banner_lines(url: str, api_key: str, api_secret: str) -> list[str]:
    """The banner for a simulator at ``url`` with these default keys."""
    return [
        f"# {_SERVING}{url}",
        f"export BYBIT_BASE_URL={url}",
        f"export BYBIT_API_KEY={api_key}",
        f"export BYBIT_API_SECRET={api_secret}",
        f"# {_END}",
    ]


def read_banner(lines: Iterable[str]) -> Banner:
    """Read the start-up lines of the simulator (e.g. its stdout).

    Consumes lines up to and including the end marker (``Ctrl-C to stop.``),
    so a program that started the simulator as a subprocess can connect to it.
    Reads both the ``export NAME=value`` banner and the older one.

    Raises:
        ValueError: When the lines end before the banner does.
    """
    found: dict[str, str] = {}
    for line in lines:
        text = line.strip().lstrip("#").strip()
        if text.startswith(_SERVING):
            found.setdefault("url", text.removeprefix(_SERVING))
        elif text == _END:
            break
        else:
            name, sep, value = text.removeprefix("export ").partition("=")
            if sep and name.strip() in _NAMES:
                found[_NAMES[name.strip()]] = value.strip().strip("'\"")
    missing = [name for name, field in _NAMES.items() if field not in found]
    if missing:
        raise ValueError(f"the simulator's banner has no {missing[0]}")
    return Banner(found["url"], found["api_key"], found["api_secret"])


async def serve(
    *,
    port: int = 8123,
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
    **options: Any,
) -> None:
    """Serve a simulator on 127.0.0.1 until SIGINT/SIGTERM (or ``stop`` is set).

    Prints the banner: the URL and the default account's key and secret
    (simulator-made credentials, valid nowhere else) so another program can
    connect.

    Args:
        port: TCP port (0 picks a free one).
        out: Where to print the banner.
        stop: Stops the server when set (besides SIGINT and SIGTERM).
        **options: :class:`BybitSimulator` keyword arguments (``symbols``,
            ``seed``, ``profile``, ``margin_mode``, ...).

    Raises:
        OSError: When the port cannot be bound.
        ValueError: For options the simulator refuses.
    """
    from bybit_leverage.simulator._simulator import BybitSimulator

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
        async with BybitSimulator(port=port, **options) as sim:
            lines = banner_lines(sim.url, sim.api_key, sim.api_secret)
            print(*lines, sep="\n", file=out, flush=True)
            await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    print(_STOPPED, file=out, flush=True)


def run(**options: Any) -> int:
    """Run :func:`serve` in a new event loop; returns the exit code (0)."""
    asyncio.run(serve(**options))
    return 0


@contextmanager
def spawn(
    *,
    symbols: int = 600,
    latency_ms: float = 0,
    seed: int = 0,
    rate_limit: bool = True,
    port: int = 0,
    args: Sequence[str] = (),
) -> Iterator[Banner]:
    """Run ``python -m bybit_leverage.simulator`` in a child process.

    For programs that want the simulator outside their own event loop (a
    benchmark that must not share a core with it, a synchronous test suite).
    Yields the URL and keys it printed; on exit it is stopped with SIGINT.

    Args:
        symbols: Linear symbols to list.
        latency_ms: Delay added to every answer.
        seed: Market data and key seed.
        rate_limit: Apply Bybit's limits.
        port: TCP port (0 picks a free one).
        args: Further command-line flags (``["--profile", "demo"]``, ...).

    Raises:
        RuntimeError: When the simulator did not start or did not stop cleanly.
    """
    argv = [
        sys.executable, "-m", "bybit_leverage.simulator",
        "--port", str(port), "--symbols", str(symbols),
        "--latency-ms", str(latency_ms), "--seed", str(seed),
        *([] if rate_limit else ["--no-rate-limit"]), *args,
    ]  # fmt: skip
    # Our own interpreter and module, with arguments we built: nothing untrusted.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE was asked for
        try:
            banner = read_banner(process.stdout)
        except ValueError:
            raise RuntimeError(
                f"the simulator did not start (exit status {process.wait(10)})"
            ) from None
        yield banner
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    if code != 0:
        raise RuntimeError(f"the simulator exited with status {code}")
