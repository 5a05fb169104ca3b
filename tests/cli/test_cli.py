"""The CLI through its real entry point, against a simulator in another process."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bybit_leverage.cli import run_command
from bybit_leverage.cli._demo import run_demo
from bybit_leverage.cli._output import Output
from bybit_leverage.simulator import BybitSimulator, spawn
from tests.helpers import set_leverage_count

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=80, seed=2)]


@pytest.fixture
def keys(sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    return sim.url


@pytest.fixture
def no_keys(sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("BYBIT_API_KEY", raising=False)
    monkeypatch.delenv("BYBIT_API_SECRET", raising=False)
    return sim.url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await run_command(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_limits_as_json(no_keys: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(
        capsys, "limits", "BTCUSDT", "ethusdt", "--base-url", no_keys, "--json"
    )
    assert code == 0
    assert json.loads(out) == [
        {
            "symbol": "BTCUSDT",
            "status": "Trading",
            "min_leverage": "1",
            "max_leverage": "100",
            "leverage_step": "0.01",
        },
        {
            "symbol": "ETHUSDT",
            "status": "Trading",
            "min_leverage": "1",
            "max_leverage": "100",
            "leverage_step": "0.01",
        },
    ]


async def test_limits_table_and_unknown_symbol(
    no_keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(
        capsys, "limits", "BTCUSDT", "BTCUSD", "--base-url", no_keys
    )
    assert code == 1
    assert "BTCUSDT" in out
    assert "100" in out
    assert "unknown linear symbol 'BTCUSD'; did you mean BTCUSDT" in err


async def test_plan_writes_nothing_and_shows_snapping(
    keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(
        capsys,
        "plan",
        "BTCUSDT=12.345",
        "XYZUSDT=3",
        "ETHUSDT=10",
        "--base-url",
        keys,
        "--json",
    )
    assert code == 1  # XYZUSDT is rejected
    btc, xyz, eth = json.loads(out)["plan"]
    assert (btc["action"], btc["target_buy"], btc["adjusted"]) == ("set", "12.34", True)
    assert btc["current_buy"] is not None
    assert xyz["action"] == "rejected"
    assert xyz["error"]["type"] == "UnknownSymbol"
    assert eth["action"] == "unchanged" or eth["current_buy"] != "10"
    code, out, _ = await run(capsys, "limits", "BTCUSDT", "--base-url", keys, "--json")
    assert code == 0


async def test_plan_without_keys_skips_the_current_values(
    no_keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(
        capsys, "plan", "--all", "3", "--base-url", no_keys, "--json"
    )
    plan = json.loads(out)["plan"]
    assert code == 0
    assert len(plan) > 40
    assert {item["action"] for item in plan} == {"set"}
    assert {item["current_buy"] for item in plan} == {None}


async def test_set_then_set_again(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (
        "set",
        "SOLUSDT=7.777",
        "DOGEUSDT=150",
        "--base-url",
        keys,
        "--yes",
        "--json",
    )
    code, out, _ = await run(capsys, *argv)
    assert code == 0
    doc = json.loads(out)
    assert doc["counts"] == {"set": 2}
    sol, doge = doc["results"]
    assert (sol["applied_buy"], sol["adjusted"]) == ("7.77", True)
    assert doge["applied_buy"] is not None
    code, out, _ = await run(capsys, *argv)
    again = json.loads(out)
    assert code == 0
    assert again["counts"] == {"unchanged": 2}
    # A new process: the account is read first, to name it; the batch reads the
    # leverage in force and the open positions, and writes nothing.
    assert again["requests_sent"] == 2
    assert again["host"] == keys
    assert again["account"]["margin_mode"] == "REGULAR_MARGIN"
    assert set_leverage_count(sim) == 2


async def test_set_prints_a_table_and_fails_on_rejections(
    keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(
        capsys, "set", "ADAUSDT=4", "NOPEUSDT=4", "--base-url", keys, "--yes"
    )
    assert code == 1
    assert "ADAUSDT" in out
    assert "rejected" in out
    assert "2 symbols:" in out


async def test_set_asks_first_and_refuses_without_a_terminal(
    keys: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _, err = await run(capsys, "set", "XRPUSDT=9", "--base-url", keys)
    assert code == 2
    assert "refusing to write without --yes" in err


async def test_set_needs_keys(no_keys: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await run(capsys, "set", "XRPUSDT=9", "--base-url", no_keys, "--yes")
    assert code == 2
    assert "no API key: set BYBIT_API_KEY and BYBIT_API_SECRET" in err
    assert "BybitClient" not in err  # the CLI speaks in its own terms


async def test_key_file(
    sim: BybitSimulator,
    no_keys: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = tmp_path / "keys.env"
    key_file.write_text(
        "# simulator keys\n"
        f"export BYBIT_API_KEY={sim.api_key}\n"
        f"BYBIT_API_SECRET='{sim.api_secret}'\n"
    )
    code, out, err = await run(
        capsys,
        "set",
        "LINKUSDT=3",
        "--base-url",
        no_keys,
        "--key-file",
        str(key_file),
        "--yes",
        "--json",
    )
    assert code == 0, err
    assert sim.api_secret not in out + err
    bad = tmp_path / "bad.env"
    bad.write_text("BYBIT_API_KEY\n")
    code, _, err = await run(
        capsys, "plan", "BTCUSDT=2", "--base-url", no_keys, "--key-file", str(bad)
    )
    assert (code, err.strip()) == (2, f"error: {bad}, line 1: expected NAME=value")


async def test_target_files(
    keys: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "plan.json"
    good.write_text('{"AVAXUSDT": "6", "DOTUSDT": 6}')
    code, out, _ = await run(
        capsys, "plan", "--file", str(good), "--base-url", keys, "--json"
    )
    assert code == 0
    assert [p["symbol"] for p in json.loads(out)["plan"]] == ["AVAXUSDT", "DOTUSDT"]
    bad = tmp_path / "plan.csv"
    bad.write_text("symbol,leverage\nAVAXUSDT,6\n,7\n")
    code, _, err = await run(
        capsys, "set", "--file", str(bad), "--base-url", keys, "--yes"
    )
    assert code == 2
    assert err.strip() == f"error: {bad}, line 3: missing symbol"
    code, _, err = await run(
        capsys, "plan", "--file", str(tmp_path / "none.csv"), "--base-url", keys
    )
    assert code == 2
    assert "No such file" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("plan",), "give SYMBOL=LEVERAGE arguments"),
        (("plan", "BTCUSDT"), "expected SYMBOL=LEVERAGE"),
        (("plan", "BTCUSDT=1", "btcusdt=2"), "repeated: BTCUSDT"),
        (("limits", "--base-url", "http://example.com"), "http"),
    ],
)
async def test_usage_errors_exit_2(
    no_keys: str,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    if "--base-url" not in argv:
        argv = (*argv, "--base-url", no_keys)
    code, _, err = await run(capsys, *argv)
    assert code == 2
    assert message in err


def test_the_real_console_script_against_simulate() -> None:
    """``bybit-leverage simulate`` in one process, ``set`` in another."""
    with spawn(symbols=40, rate_limit=False) as banner:
        keys = {"BYBIT_API_KEY": banner.api_key, "BYBIT_API_SECRET": banner.api_secret}
        env = {**os.environ, **keys}
        reader = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "bybit_leverage",
                "limits",
                "--json",
                "--base-url",
                banner.url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert reader.stdout is not None
        reader.stdout.close()  # like `| head` giving up: the CLI must stay quiet
        _, reader_err = reader.communicate(timeout=30)
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "bybit_leverage",
                "set",
                "BTCUSDT=12.345",
                "--base-url",
                banner.url,
                "--yes",
                "--json",
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["applied_buy"] == "12.34"
    assert banner.api_secret not in done.stderr
    assert (reader.returncode, reader_err) == (1, b"")


async def test_the_demo_sets_then_finds_everything_unchanged() -> None:
    stream = io.StringIO()
    code = await run_demo(
        Output(stream, plain=True, quiet=True), symbols=120, batch=40, seed=5
    )
    text = stream.getvalue()
    assert code == 0
    first = re.search(r"First pass: (\d+) set, .* answered 10006; (\d+) injected", text)
    naive = re.search(r"naive .*? (\d+) answered 10006", text)
    second = re.search(r"Second pass: (.*)", text)
    assert first is not None, text
    assert naive is not None, text
    assert second is not None, text
    assert "0 answered 10006" in first.group(0)
    assert int(first.group(2)) == 8  # every injected fault was met, and survived
    assert int(naive.group(1)) > 0  # the naive gather earns 10006s ours never does
    assert "and 0 writes" in second.group(1)
    assert " set" not in second.group(1).split(" in ")[0]
    assert "rejected before sending: unknown linear symbol 'NOTAREALUSDT'" in text
    assert "is not tradable" in text
    assert "Snapping adjusted" in text
    assert "Results (14 of 42 shown: rejected, failed and adjusted first)" in text
    assert "bybit-leverage plan --testnet" in text.splitlines()[-1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "sent"), [("n", 2, 0), ("yes", 0, 1)])
async def test_set_asks_on_a_terminal(
    keys: str,
    sim: BybitSimulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    sent: int,
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: answer)
    result, out, _ = await run(capsys, "set", "XRPUSDT=9", "--base-url", keys)
    assert result == code
    assert ("nothing was sent" in out) is (sent == 0)
    assert sim.stats().get("set-leverage", {}).get("requests", 0) == sent


async def test_progress_bar_on_a_terminal(keys: str) -> None:
    screen = _Terminal()
    code = await run_command(
        ["set", "ADAUSDT=3", "DOTUSDT=3", "--base-url", keys, "--yes"], stream=screen
    )
    assert code == 0
    assert "2 symbols: 2 set" in screen.getvalue()


async def test_plan_table_shows_hedge_targets(
    keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(
        capsys, "plan", "ETHUSDT=10/5", "BTCUSDT=3", "--base-url", keys
    )
    assert code == 1  # ETHUSDT is in one-way mode
    assert "10/5" in out
    assert "one-way mode" in out
    assert "2 symbols: 1 rejected, 1 to set, 0 adjusted" in out


async def test_limits_of_every_symbol(
    no_keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(capsys, "limits", "--base-url", no_keys, "--json")
    assert code == 0
    listed = {row["symbol"] for row in json.loads(out)}
    assert "BTCUSDT" in listed
    assert len(listed) > 60


@pytest.mark.parametrize(
    ("flag", "host"),
    [
        ("--testnet", "https://api-testnet.bybit.com"),
        ("--demo", "https://api-demo.bybit.com"),
        (None, "https://api.bybit.com"),
    ],
)
def test_hosts_by_flag(flag: str | None, host: str) -> None:
    from bybit_leverage.cli._config import make_client
    from bybit_leverage.cli._parser import build_parser

    argv = ["limits", *([flag] if flag else [])]
    assert make_client(build_parser().parse_args(argv)).base_url == host


async def test_rsa_keys_from_a_file(
    sim: BybitSimulator,
    no_keys: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rsa_pem: tuple[bytes, bytes],
) -> None:
    private, public = rsa_pem
    account = sim.add_account(rsa_public_key=public.decode())
    pem = tmp_path / "key.pem"
    pem.write_bytes(private)
    monkeypatch.setenv("BYBIT_API_KEY", account.api_key)
    monkeypatch.setenv("BYBIT_PRIVATE_KEY_FILE", str(pem))
    code, out, err = await run(
        capsys, "set", "XRPUSDT=4", "--base-url", no_keys, "--yes", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["counts"] == {"set": 1}
    assert account.leverage("XRPUSDT") == (Decimal(4), Decimal(4))
    monkeypatch.setenv("BYBIT_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    code, _, err = await run(capsys, "plan", "XRPUSDT=4", "--base-url", no_keys)
    assert code == 2
    assert "cannot read RSA private key" in err
    assert "missing.pem: No such file" in err


async def test_demo_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(capsys, "demo", "--symbols", "80", "--batch", "12")
    assert code == 0
    assert "Second pass:" in out
