"""Bad input is a usage error (exit 2, one line) found before anything is written."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from bybit_leverage.cli import run_command
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import set_leverage_count, tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=80, seed=2)]


@pytest.fixture
def keys(sim: BybitSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    monkeypatch.setenv("BYBIT_BASE_URL", sim.url)
    return sim.url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await run_command(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("BTCUSDT,10\n".encode("utf-16"), "is UTF-16"),
        ("symbol,leverage\nBTCUSDT,10\nÉTHUSDT,5\n".encode("latin-1"), "not UTF-8"),
        (b"", "holds no targets"),
        (b"# only a comment\n\n", "holds no targets"),
    ],
)
async def test_unreadable_target_files(
    keys: str,
    sim: BybitSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_bytes(content)
    code, _, err = await run(capsys, "set", "--file", str(plan), "--yes")
    assert code == 2
    assert message in one_line(err)
    assert str(plan) in err
    assert set_leverage_count(sim) == 0


async def test_an_excel_csv_with_a_byte_order_mark(
    keys: str, sim: BybitSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tradable(sim, 2)
    plan = tmp_path / "plan.csv"
    plan.write_bytes(
        f"symbol,leverage\r\n{first},7\r\n{second},8\r\n".encode("utf-8-sig")
    )
    code, out, err = await run(capsys, "set", "--file", str(plan), "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"set": 2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--all", "abc"], "--all"),
        (["--all", "1e999999"], "--all"),
        (["BTCUSDT=10", "--concurrency", "0"], "--concurrency"),
        (["BTCUSDT=10", "--concurrency", "many"], "--concurrency"),
    ],
)
async def test_bad_options_are_one_usage_error(
    keys: str,
    sim: BybitSimulator,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as info:
        await run_command(["set", *argv, "--yes"])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert message in one_line(err)
    assert set_leverage_count(sim) == 0


async def test_an_encrypted_rsa_key_needs_its_passphrase(
    sim: BybitSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rsa_pem: tuple[bytes, bytes],
) -> None:
    private, public = rsa_pem
    account = sim.add_account(rsa_public_key=public.decode())
    key = serialization.load_pem_private_key(private, password=None)
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    )
    pem = tmp_path / "key.pem"
    pem.write_bytes(locked)
    pem.chmod(0o600)
    monkeypatch.setenv("BYBIT_API_KEY", account.api_key)
    monkeypatch.setenv("BYBIT_PRIVATE_KEY_FILE", str(pem))
    monkeypatch.setenv("BYBIT_BASE_URL", sim.url)
    code, _, err = await run(capsys, "set", "XRPUSDT=4", "--yes")
    assert code == 2
    assert "BYBIT_PRIVATE_KEY_PASSPHRASE" in one_line(err)
    monkeypatch.setenv("BYBIT_PRIVATE_KEY_PASSPHRASE", "wrong")
    code, _, err = await run(capsys, "set", "XRPUSDT=4", "--yes")
    assert code == 2
    assert "wrong" not in one_line(err)
    monkeypatch.setenv("BYBIT_PRIVATE_KEY_PASSPHRASE", "open sesame")
    code, _, err = await run(capsys, "set", "XRPUSDT=4", "--yes")
    assert code == 0, err
    assert account.leverage("XRPUSDT") == (Decimal(4), Decimal(4))


async def test_a_key_file_readable_by_others_is_warned_about(
    sim: BybitSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    banner = tmp_path / "sim.env"  # what `simulate` prints, saved as is
    banner.write_text(
        f"# Bybit simulator serving on {sim.url}\n"
        f"export BYBIT_BASE_URL={sim.url}\n"
        f"export BYBIT_API_KEY={sim.api_key}\n"
        f"export BYBIT_API_SECRET={sim.api_secret}\n"
        "# Ctrl-C to stop.\n"
    )
    banner.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bybit_leverage"):
        code, _, _ = await run(capsys, "plan", "XRPUSDT=4", "--key-file", str(banner))
    assert code == 0
    assert "is readable by other users; run: chmod 600" in caplog.text
    assert sim.api_secret not in caplog.text
    banner.chmod(0o600)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bybit_leverage"):
        code, _, _ = await run(capsys, "plan", "XRPUSDT=4", "--key-file", str(banner))
    assert "readable by other users" not in caplog.text


async def test_clamping_is_counted_listed_and_can_be_refused(
    keys: str, sim: BybitSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tradable(sim, 2)
    code, out, _ = await run(capsys, "plan", f"{first}=1000", f"{second}=7.777")
    assert code == 0
    assert "(1 clamped to their range)" in out
    assert f"clamped to their range, not just rounded (1): {first}" in out
    code, out, _ = await run(
        capsys,
        "set",
        f"{first}=1000",
        f"{second}=7.777",
        "--no-clamp",
        "--yes",
        "--json",
    )
    assert code == 1
    first_result, second_result = json.loads(out)["results"]
    assert first_result["outcome"] == "rejected"
    assert "out of range (not clamped)" in first_result["error"]["message"]
    assert second_result["applied_buy"] == "7.77"  # grid snapping still applies
    assert set_leverage_count(sim) == 1
