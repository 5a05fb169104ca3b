"""Every ```python block in the docs runs, type-checks and is ruff-clean.

Blocks written as doctests (their first line starts with ``>>>``) are run by pytest
itself (``--doctest-glob='*.md'``). This module takes every other ```python block of
README.md and docs/**/*.md, writes each to a module of its own, and:

- type-checks them all with mypy under the project's configuration (strict);
- lints and format-checks each with ruff, as if it were a file in docs/ (where
  ``print`` is how an example shows its output);
- runs each in a fresh interpreter, warnings as errors. A block that defines
  ``test_*`` functions is a test module and runs under pytest (with the package's
  ``bybit_sim`` plugin and ``--strict-markers``), and every test in it must pass;
  any other block is a script and must exit 0.

Examples that talk to a real host follow one convention: they take the key and
the host from the environment, as the CLI does, ``os.environ["BYBIT_API_KEY"]``,
``os.environ["BYBIT_API_SECRET"]`` and ``os.environ.get("BYBIT_BASE_URL",
bl.TESTNET)``, so a reader runs them unchanged against testnet (or against a
pasted simulator banner). Here every script runs with those three variables, and
no other ``BYBIT_*``, pointing at a fresh simulator in a child process whose
default account is in isolated margin with ETHUSDT in hedge mode (what the
quickstart asks of a testnet account). A block may name a real host only as that
default, which a test checks, so no example can reach Bybit from here.

What is not meant to run is fenced as what it is: ```console for shell sessions,
```text for output and file contents, ```json for payloads. A bare ``` fence is
refused, so no Python hides from these tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen
from mypy import api as mypy_api

from bybit_leverage.simulator import spawn

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: The fences the docs may use; ```python is the only one that runs.
FENCES = frozenset({"python", "console", "text", "json"})
#: Real hosts, as an example would name them.
REAL_HOSTS = re.compile(r"\b(MAINNET|MAINNET_BYTICK|TESTNET|DEMO|REGIONAL_HOSTS)\b")
#: The only way an example may name a real host: as the default of the variable.
HOST_FROM_ENV = re.compile(
    r'os\.environ\.get\(\s*"BYBIT_BASE_URL",\s*bl\.(TESTNET|MAINNET|DEMO)\s*\)'
)
#: The simulator the scripts' environment points at (see the module docstring).
SIMULATOR_ARGS = ("--margin-mode", "ISOLATED_MARGIN", "--hedge", "ETHUSDT")
SCRIPT_TIMEOUT_S = 120


@frozen
class Block:
    """One ```python block that is not a doctest."""

    page: Path
    line: int  # of the opening fence, from 1
    code: str

    @property
    def name(self) -> str:
        """A module name that says where the block is: ``docs_quickstart_L42``."""
        stem = re.sub(r"\W", "_", self.page.stem.lower())
        return f"docs_{stem}_L{self.line}"

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_test_module(self) -> bool:
        return re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None


def fences(page: Path) -> Iterator[tuple[int, str, str]]:
    """Each fenced block of a page: (line of its opening fence, info, text)."""
    lines = page.read_text().splitlines()
    start, info, body = 0, "", list[str]()
    inside = False
    for number, line in enumerate(lines, start=1):
        if not line.startswith("```"):
            if inside:
                body.append(line)
            continue
        if inside:
            yield start, info, "\n".join(body) + "\n"
            inside = False
        else:
            start, info, body, inside = number, line[3:].strip(), [], True
    assert not inside, f"{page}: a fence opened on line {start} never closes"


def python_blocks() -> list[Block]:
    return [
        Block(page, line, text)
        for page in PAGES
        for line, info, text in fences(page)
        if info == "python" and not text.lstrip().startswith(">>>")
    ]


BLOCKS = python_blocks()


def test_there_are_examples_to_run() -> None:
    assert len(BLOCKS) >= 5
    assert len({block.name for block in BLOCKS}) == len(BLOCKS)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fence_says_what_it_holds(page: Path) -> None:
    for line, info, _ in fences(page):
        assert info in FENCES, (
            f"{page.name}:{line}: fence {info!r}; use one of {FENCES}"
        )


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_examples_reach_real_hosts_only_through_the_environment(block: Block) -> None:
    named = REAL_HOSTS.findall(block.code)
    defaults = HOST_FROM_ENV.findall(block.code)
    assert len(named) == len(defaults), (
        f"{block.where} names a real host; take it from BYBIT_BASE_URL instead: "
        'os.environ.get("BYBIT_BASE_URL", bl.TESTNET)'
    )
    assert 'api_key="' not in block.code.replace(" ", ""), f"{block.where}: a key"


def test_examples_type_check(tmp_path: Path) -> None:
    for block in BLOCKS:
        (tmp_path / f"{block.name}.py").write_text(block.code)
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            *sorted(str(path) for path in tmp_path.glob("*.py")),
        ]
    )
    where = {block.name: block.where for block in BLOCKS}
    errors = "\n".join(
        re.sub(
            r"^.*?(docs_\w+)\.py:(\d+)",
            lambda m: f"{where[m[1]]} +{int(m[2]) - 1}",
            line,
        )
        for line in (stdout + stderr).splitlines()
    )
    assert status == 0, errors


def _ruff(*args: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter running ruff
        [sys.executable, "-m", "ruff", *args],
        input=code,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_examples_are_ruff_clean(block: Block) -> None:
    # As a file in docs/, so the project's rules for docs/ apply.
    filename = f"docs/{block.name}.py"
    check = _ruff(
        "check",
        "--extend-per-file-ignores",
        "docs/**:T201",  # examples show their output with print
        "--stdin-filename",
        filename,
        "-",
        code=block.code,
    )
    assert check.returncode == 0, f"{block.where}\n{check.stdout}{check.stderr}"
    formatted = _ruff("format", "--stdin-filename", filename, "-", code=block.code)
    assert formatted.returncode == 0, formatted.stderr
    assert formatted.stdout == block.code, f"{block.where}: not as ruff formats it"


@pytest.fixture(scope="module")
def simulator_env() -> Iterator[dict[str, str]]:
    """The environment of every example: keys and host of a simulator, no other."""
    with spawn(symbols=60, args=SIMULATOR_ARGS) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BYBIT_")}
        env |= {
            "BYBIT_BASE_URL": sim.url,
            "BYBIT_API_KEY": sim.api_key,
            "BYBIT_API_SECRET": sim.api_secret,
        }
        yield env


def _run_example(
    block: Block, tmp_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    module = tmp_path / f"{block.name}.py"
    module.write_text(block.code)
    if block.is_test_module:
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nasyncio_mode = auto\n"
            "asyncio_default_fixture_loop_scope = function\n"
            "filterwarnings = error\n"
            "addopts = --strict-markers -p no:cacheprovider\n"
        )
        command = [sys.executable, "-m", "pytest", "-q", str(module)]
    else:
        command = [sys.executable, "-W", "error", str(module)]
    return subprocess.run(  # noqa: S603 - our interpreter, our temporary module
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_examples_run(
    block: Block, tmp_path: Path, simulator_env: dict[str, str]
) -> None:
    done = _run_example(block, tmp_path, simulator_env)
    output = f"{block.where}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    assert "Exception ignored" not in done.stderr, output
    assert "Unclosed" not in done.stderr, output
    if block.is_test_module:  # every test ran and passed: none skipped, none missing
        assert re.search(r"^\d+ passed in ", done.stdout, re.MULTILINE), output
