"""``python -m bybit_leverage.simulator``: flags, usage errors, the banner, imports."""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import bybit_leverage.simulator as package
from bybit_leverage._signing import Credentials, auth_headers
from bybit_leverage.simulator import (
    configure_parser,
    main,
    read_banner,
    run_args,
    spawn,
)

SIMULATOR = Path(package.__file__).parent
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *args], capture_output=True, text=True, env=ENV, timeout=60
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "99999"], "--port"),
        (["--symbols", "1"], "at least 2"),
        (["--latency-ms", "-5"], ">= 0"),
        (["--margin-mode", "hybrid"], "REGULAR_MARGIN"),
        (["--position", "BTCUSDT"], "SYMBOL=VALUE"),
        (["--hedge", "NOPEUSDT", "--port", "0"], "NOPEUSDT"),
        (["--hedge", "BTCUSD", "--port", "0"], "USDT perpetuals"),
    ],
)
def test_bad_options_are_one_line_usage_errors(flags: list[str], message: str) -> None:
    done = _python("-m", "bybit_leverage.simulator", "--symbols", "5", *flags)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_port_is_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _python("-m", "bybit_leverage.simulator", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def _get(url: str, path: str, key: str, secret: str) -> dict[str, Any]:
    headers = auth_headers(
        Credentials.hmac(key, secret),
        timestamp_ms=int(time.time() * 1000),
        recv_window_ms=5000,
        payload="",
    )
    request = urllib.request.Request(f"{url}{path}", headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.load(response)
    return answer


def test_spawn_with_account_flags_and_the_banner_as_a_key_file(tmp_path: Path) -> None:
    flags = ["--margin-mode", "isolated", "--hedge", "ETHUSDT", "--unified-status", "6"]
    flags += ["--position", "ETHUSDT=2500", "--profile", "demo", "--read-only"]
    with spawn(symbols=20, rate_limit=False, args=flags) as banner:
        info = _get(banner.url, "/v5/account/info", banner.api_key, banner.api_secret)
        assert info["result"]["marginMode"] == "ISOLATED_MARGIN"
        assert info["result"]["unifiedMarginStatus"] == 6
        # Demo trading serves neither symbol-info nor query-api.
        for path in ("/v5/position/symbol-info", "/v5/user/query-api"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                _get(banner.url, path, banner.api_key, "x")
            assert missing.value.code == 404
            missing.value.close()
        with urllib.request.urlopen(f"{banner.url}/__sim/accounts") as response:  # noqa: S310
            (account,) = json.load(response)
        assert account["positions"] == {"ETHUSDT": "2500"}
        assert account["keys"][0]["read_only"] is True


def test_the_printed_banner_works_in_a_shell() -> None:
    port = _free_port()
    argv = [sys.executable, "-m", "bybit_leverage.simulator", "--port", str(port)]
    argv += ["--symbols", "5", "--no-rate-limit", "--bind-ip", "10.9.9.9"]
    argv += ["--expired-key", "--no-position-permission"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        argv,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        banner = read_banner(lines)
        script = "".join(lines) + 'printf "%s %s" "$BYBIT_BASE_URL" "$BYBIT_API_KEY"'
        shell = subprocess.run(  # noqa: S603 - a fixed shell and our own banner
            ["/bin/sh", "-c", script], capture_output=True, text=True, check=True
        )
        assert shell.stdout == f"http://127.0.0.1:{port} {banner.api_key}"
        expired = _get(banner.url, "/v5/account/info", banner.api_key, "x")
        assert expired["retCode"] == 33004  # expiry is checked before the IP
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:  # pragma: no cover - only when the test fails
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert rest == "# Simulator stopped.\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_spawn_reports_a_simulator_that_did_not_start() -> None:
    with (
        pytest.raises(RuntimeError, match="did not start"),
        spawn(symbols=5, args=["--hedge", "NOPEUSDT"]),
    ):
        pass  # pragma: no cover - never entered


def test_configure_parser_and_run_args_for_the_cli(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    args = parser.parse_args(
        ["--port", "0", "--symbols", "9", "--position", "BTCUSDT=5", "--hedge", "X"]
    )
    seen: dict[str, Any] = {}

    def fake_run(**options: Any) -> int:
        seen.update(options)
        return 0

    import bybit_leverage.simulator._process as process

    monkeypatch.setattr(process, "run", fake_run)
    assert run_args(args) == 0
    assert seen["positions"] == {"BTCUSDT": 5}
    assert (seen["port"], seen["symbols"], seen["hedge"]) == (0, 9, ("X",))
    assert (seen["rate_limit"], seen["profile"], seen["margin_mode"]) == (
        True,
        "mainnet",
        "REGULAR_MARGIN",
    )
    assert "contract_trade" not in seen  # the default permissions


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--symbols", "one"]) == 2
    assert main(["--latency-ms", "nan"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2
    assert main(["--help"]) == 0
    assert "--margin-mode" in capsys.readouterr().out


def test_importing_the_package_and_plugin_loads_no_server() -> None:
    code = (
        "import sys, bybit_leverage.simulator, bybit_leverage.simulator.pytest_plugin\n"
        "print([m for m in sys.modules if m.startswith(('aiohttp.web', "
        "'bybit_leverage.simulator.'))])"
    )
    done = _python("-c", code)
    assert done.returncode == 0, done.stderr
    # Only the plugin itself. bybit_leverage/__init__ still imports the client (and
    # so aiohttp's client) eagerly: that is asserted where the package face lives.
    assert done.stdout.strip() == "['bybit_leverage.simulator.pytest_plugin']"


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "bybit_leverage.simulator."
        ):
            found.add(str(node.module).rsplit(".", 1)[1])
    return found


def test_simulator_imports_point_one_way() -> None:
    graph = {path.stem: _imports(path) for path in SIMULATOR.glob("*.py")}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in visiting, f"import cycle: {' -> '.join((*trail, name))}"
        if name in order:
            return
        visiting.add(name)
        for target in sorted(graph[name]):
            visit(target, (*trail, name))
        visiting.discard(name)
        order.append(name)

    for name in sorted(graph):
        visit(name, ())
    assert order.index("_replies") < order.index("_core") < order.index("_simulator")


@pytest.mark.parametrize("module", sorted(SIMULATOR.glob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(module: Path) -> None:
    limit = 450 if module.name == "_market.py" else 400  # the universe has one job
    assert len(module.read_text().splitlines()) <= limit
