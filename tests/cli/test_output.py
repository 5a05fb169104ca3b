"""What the CLI prints reads well piped or on a terminal."""

from __future__ import annotations

import io
import logging
import sys
from decimal import Decimal

import pytest

from bybit_leverage import Category, LeverageResult, Outcome
from bybit_leverage.cli._main import _CurrentStderr
from bybit_leverage.cli._output import Output


def result(symbol: str) -> LeverageResult:
    return LeverageResult(
        symbol, Category.LINEAR, Outcome.SET, Decimal(5), Decimal(5), Decimal(5)
    )


def test_piped_tables_never_wrap_a_symbol() -> None:
    stream = io.StringIO()
    long = "1000000VERYLONGSYMBOLNAME-26JUN26"
    Output(stream).table("t", ("symbol", "note"), [(long, "x " * 60)])
    assert long in stream.getvalue().splitlines()[2]


def test_a_plain_progress_line_goes_to_stderr_and_does_not_flood(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Output(io.StringIO())
    with out.progress(300, "setting leverage") as progress:
        for done in range(1, 301):
            progress(result("BTCUSDT"), done, 300)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "setting leverage: 1/300 done"
    assert err[-1] == "setting leverage: 300/300 done"
    assert len(err) <= 3  # the first, at most one a second, the last
    quiet = Output(io.StringIO(), quiet=True)
    with quiet.progress(2, "x") as progress:
        progress(result("BTCUSDT"), 2, 2)
    assert capsys.readouterr().err == ""


def test_log_lines_follow_a_redirected_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = _CurrentStderr()
    log = logging.getLogger("bybit_leverage.test_output")
    log.addHandler(handler)
    try:
        redirected = io.StringIO()  # what a live progress bar puts in place
        monkeypatch.setattr(sys, "stderr", redirected)
        log.warning("a warning while the bar draws")
        assert "a warning while the bar draws" in redirected.getvalue()
    finally:
        log.removeHandler(handler)
