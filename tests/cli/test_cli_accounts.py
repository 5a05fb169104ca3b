"""The CLI names the host and account, refuses bad keys in one line, knows hosts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from bybit_leverage.cli import run_command
from bybit_leverage.simulator import BybitSimulator, read_banner
from tests.helpers import set_leverage_count, tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=80, seed=2)]


@pytest.fixture
def keys(sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    monkeypatch.setenv("BYBIT_BASE_URL", sim.url)  # as the simulator's banner says
    return sim.url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await run_command(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_plan_names_host_account_and_open_positions(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    symbol, other = tradable(sim, 2)
    sim.account.set_position_value(symbol, 30_000)
    code, out, _ = await run(capsys, "plan", f"{symbol}=7", f"{other}=7")
    assert code == 0
    first = out.splitlines()[0]
    assert first == f"host: {keys}; account: UID {sim.account.uid}, REGULAR_MARGIN"
    row = next(line for line in out.splitlines() if line.startswith(symbol))
    assert "open " in row
    assert "Buy" in row
    code, out, _ = await run(capsys, "plan", f"{symbol}=7", "--json")
    doc = json.loads(out)
    assert doc["account"]["uid"] == sim.account.uid
    assert doc["plan"][0]["position"]["side"] == "Buy"


async def test_only_flat_leaves_open_positions_alone(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    symbol, other = tradable(sim, 2)
    sim.account.set_position_value(symbol, 30_000)
    code, out, _ = await run(
        capsys, "set", f"{symbol}=7", f"{other}=7", "--yes", "--only-flat", "--json"
    )
    assert code == 1
    doc = json.loads(out)
    assert [r["outcome"] for r in doc["results"]] == ["rejected", "set"]
    assert doc["results"][0]["error"]["type"] == "OpenPosition"
    assert set_leverage_count(sim) == 1


async def test_a_wrong_secret_is_one_line_and_exit_2(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("BYBIT_API_SECRET", "wrong")
    code, out, err = await run(capsys, "set", "--all", "5", "--yes")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "retCode=10004" in err
    assert "wrong" not in err
    assert set_leverage_count(sim) == 0


@pytest.mark.bybit_sim(symbols=80, seed=2, profile="demo")
async def test_on_a_demo_host_a_second_run_writes_nothing(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = [f"{s}=3.5" for s in tradable(sim, 6)]
    code, out, _ = await run(capsys, "set", *targets, "--yes", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"set": 6}
    sim.reset_stats()
    code, out, _ = await run(capsys, "set", *targets, "--yes", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"unchanged": 6}
    assert set_leverage_count(sim) == 0


@pytest.mark.bybit_sim(
    symbols=80, seed=2, hedge=("ETHUSDT",), margin_mode="ISOLATED_MARGIN"
)
async def test_hedge_targets_on_an_isolated_account(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(capsys, "set", "ETHUSDT=10/5", "--yes", "--verify")
    assert code == 0, out
    assert "ISOLATED_MARGIN" in out.splitlines()[0]
    assert str(sim.account.leverage("ETHUSDT")) == "(Decimal('10'), Decimal('5'))"


def test_simulate_runs_through_the_cli_and_refuses_bad_options() -> None:
    # Our own interpreter and module, with fixed arguments: nothing untrusted.
    bad = subprocess.run(
        [sys.executable, "-m", "bybit_leverage", "simulate", "--port", "99999"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
    argv = [sys.executable, "-m", "bybit_leverage", "simulate", "--port", "0"]
    argv += ["--symbols", "5", "--profile", "demo"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        banner = read_banner(process.stdout)
        assert banner.url.startswith("http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
