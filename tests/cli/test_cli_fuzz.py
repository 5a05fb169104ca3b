"""Arbitrary targets and files through the CLI: only exit codes, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bybit_leverage.cli import run_command
from bybit_leverage.simulator import BybitSimulator

pytestmark = [pytest.mark.bybit_sim(symbols=40, seed=2)]

numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(["1e999999", "\u0661\u0660", "1_0", "", " ", "10/5", "x", "-1"]),
)
symbols = st.one_of(
    st.sampled_from(["BTCUSDT", "ETHUSDT", "btcusdt", "NOPEUSDT", "", "A\x00B"]),
    st.text(max_size=12),
)
targets = st.lists(
    st.one_of(st.builds(lambda s, v: f"{s}={v}", symbols, numbers), st.text()),
    max_size=4,
)
files = st.one_of(
    st.none(),
    st.binary(max_size=300),
    st.lists(st.tuples(symbols, numbers), max_size=5).map(
        lambda rows: "\n".join(f"{s},{v}" for s, v in rows).encode()
    ),
    st.dictionaries(symbols, numbers, max_size=4).map(
        lambda d: ("{" + ",".join(f'"{k}":{v}' for k, v in d.items()) + "}").encode()
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    command=st.sampled_from(["plan", "set"]),
    args=targets,
    file=files,
    extra=st.lists(st.sampled_from(["--no-clamp", "--only-flat", "--json"])),
)
async def test_any_input_ends_in_an_exit_code_and_never_a_traceback(
    sim: BybitSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    args: list[str],
    file: bytes | None,
    extra: list[str],
) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    monkeypatch.setenv("BYBIT_BASE_URL", sim.url)
    argv = [command, *args, *dict.fromkeys(extra)]
    if file is not None:
        path = tmp_path / "targets.txt"
        path.write_bytes(file)
        argv += ["--file", str(path)]
    if command == "set":
        argv.append("--yes")
    try:
        code = await run_command(argv, stream=io.StringIO())
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code if isinstance(exc.code, int) else -1
    _, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, err)
    assert "Traceback" not in err
    assert sim.api_secret not in err
