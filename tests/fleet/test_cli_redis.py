"""``--redis`` and ``BYBIT_LEVERAGE_REDIS``: the CLI books in a shared budget."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bybit_leverage import BybitClient, ConfigurationError, InProcessBudget, RedisBudget
from bybit_leverage.cli import run_command
from bybit_leverage.cli._config import make_client
from bybit_leverage.cli._parser import build_parser
from bybit_leverage.simulator import BybitSimulator

from .conftest import RedisServer, redis_names


@pytest.fixture
async def sim() -> AsyncIterator[BybitSimulator]:
    async with BybitSimulator(symbols=60, seed=2) as simulator:
        yield simulator


async def test_the_flag_and_the_variable_name_a_redis_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parse = build_parser().parse_args
    monkeypatch.delenv("BYBIT_LEVERAGE_REDIS", raising=False)
    plain = make_client(parse(["plan", "BTCUSDT=5"]))
    flagged = make_client(parse(["set", "BTCUSDT=5", "--redis", "redis://h:1/0"]))
    monkeypatch.setenv("BYBIT_LEVERAGE_REDIS", "redis://h:2/0")
    from_env = make_client(parse(["plan", "BTCUSDT=5"]))
    assert isinstance(plain.budget, InProcessBudget)
    assert isinstance(flagged.budget, RedisBudget)
    assert isinstance(from_env.budget, RedisBudget)
    for client in (plain, flagged, from_env):
        await client.aclose()  # closes the budgets it made (never connected)


def test_a_url_redis_cannot_use_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Redis URL") as caught:
        BybitClient(budget="http://secret@h:1/0")
    assert "secret" not in str(caught.value)


async def test_set_books_in_redis(
    sim: BybitSimulator,
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    argv = ["set", "BTCUSDT=5", "--base-url", sim.url, "--redis", redis_server.url]
    assert await run_command([*argv, "--yes"]) == 0
    assert sim.account.leverage("BTCUSDT") == (Decimal(5), Decimal(5))
    capsys.readouterr()
    names = await redis_names(redis_server.url, "*set-leverage*")
    assert names == [
        f"bybit-leverage:{{{sim.url}|uid:{sim.account.uid}|/v5/position/set-leverage}}:log"
    ]


def test_the_package_works_without_redis_installed() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"  # as if not installed
        "import asyncio, bybit_leverage as bl\n"
        "bl.RedisBudget  # the name loads; redis is needed only to make one\n"
        "asyncio.run(bl.BybitClient().aclose())\n"
        "try:\n"
        "    bl.BybitClient(budget='redis://127.0.0.1:1/0')\n"
        "except bl.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    # Our own interpreter and a fixed program: nothing untrusted runs.
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert 'pip install "bybit-leverage[redis]"' in out.stdout
