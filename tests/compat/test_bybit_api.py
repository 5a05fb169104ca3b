"""npm ``bybit-api`` (Node) against ``python -m bybit_leverage.simulator``.

Runs node/bybit_api_check.mjs, which pages instruments-info and sets leverage twice
with ``RestClientV5``, and checks the JSON summary it prints. Skipped, with the
reason, where ``node`` or the installed package is missing (``make compat-node``
installs it; ``make test`` does so whenever node and npm are on PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bybit_leverage.simulator import Banner

from .sim_admin import leverage_of, linear_symbols

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "bybit_api_check.mjs"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH"),
    pytest.mark.skipif(
        not (NODE_DIR / "node_modules" / "bybit-api" / "package.json").is_file(),
        reason="npm bybit-api is not installed: run `make compat-node`",
    ),
]


def test_bybit_api_pages_instruments_and_sets_leverage(spawned: Banner) -> None:
    assert NODE is not None  # skipped above otherwise
    env = {
        **os.environ,
        "BYBIT_BASE_URL": spawned.url,
        "BYBIT_API_KEY": spawned.api_key,
        "BYBIT_API_SECRET": spawned.api_secret,
        "LIMIT": "20",
        "SYMBOL": "SOLUSDT",
        "LEVERAGE": "7.5",
    }
    done = subprocess.run(  # noqa: S603 - node on our own script, no shell
        [NODE, str(SCRIPT)],
        env=env,
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # the script prints no secret
    summary = json.loads(done.stdout)

    pages = summary["pages"]
    # Pages 2 and on came back for the cursor bybit-api sent, encoded once more.
    assert len(pages) >= 3
    assert all(len(page) == 20 for page in pages[:-1])
    assert [s for page in pages for s in page] == linear_symbols(spawned.url)

    assert summary["set"] == {"retCode": 0, "retMsg": "OK"}
    assert summary["again"] == {"retCode": 110043, "retMsg": "leverage not modified"}
    assert leverage_of(spawned.url, "SOLUSDT") == ("7.5", "7.5")
