from __future__ import annotations

import subprocess
import sys

import pytest

import bybit_leverage
from bybit_leverage.cli import main


def test_module_entry_point_reports_the_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bybit_leverage", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"bybit-leverage {bybit_leverage.__version__}"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: bybit-leverage" in capsys.readouterr().out
