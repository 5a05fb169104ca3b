"""A real redis-server for the tests that prove the Redis budget.

Each test gets its own server on a free loopback port, with nothing saved to
disk, in a temporary directory; it is stopped afterwards. Where no
``redis-server`` is installed the tests that need it are skipped, and say why
(``apt-get install redis-server`` installs it; ``.ci/run`` does, and sets
``BYBIT_LEVERAGE_REQUIRE_REDIS`` so that CI fails rather than skips).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Seconds a redis-server may take to start or stop.
_PATIENCE_S = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process that a test may stop and start again."""

    def __init__(self, binary: str, directory: Path) -> None:
        self._binary = binary
        self._directory = directory
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self._directory / "redis.log"
        argv = [
            self._binary,
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
            "--dir", str(self._directory), "--logfile", str(log),
        ]  # fmt: skip
        # The installed redis-server with arguments built here: nothing untrusted.
        self._process = subprocess.Popen(argv)  # noqa: S603
        deadline = time.monotonic() + _PATIENCE_S
        while time.monotonic() < deadline:  # a real process needs real time
            if log.exists() and "Ready to accept connections" in log.read_text():
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.01)
        self.stop()
        pytest.fail(f"redis-server did not start: {log.read_text()[-500:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it to go."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(_PATIENCE_S)
        self._process = None
        log = self._directory / "redis.log"
        if log.exists():  # the next start waits for its own "Ready" line
            log.unlink()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for one test (skipped where none is installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("BYBIT_LEVERAGE_REQUIRE_REDIS"):  # set by .ci/run
            pytest.fail(reason)
        pytest.skip(reason)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def redis_names(url: str, pattern: str = "*") -> list[str]:
    """The names of the keys in the Redis at ``url`` that match ``pattern``."""
    from redis.asyncio import Redis

    async with Redis.from_url(url, decode_responses=True) as redis:
        return sorted(str(name) for name in await redis.keys(pattern))
