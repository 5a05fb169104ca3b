"""Reads of a spawned simulator that bypass the client under test.

A peer client's own read-back could agree with its own write even if neither
reached the simulator; these ask the simulator directly (its ``/__sim/`` admin
routes and the public instruments route), with the standard library only.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def _json(request: urllib.request.Request) -> Any:
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.load(response)


def leverage_of(url: str, symbol: str) -> tuple[str, str]:
    """``(buy, sell)`` leverage of ``symbol`` on the default account, as strings."""
    # POST /__sim/position with only the symbol changes nothing and reports the state.
    body = json.dumps({"symbol": symbol}).encode()
    request = urllib.request.Request(f"{url}/__sim/position", data=body, method="POST")  # noqa: S310 - loopback
    buy, sell = _json(request)["leverage"]
    return str(buy), str(sell)


def set_leverage_codes(url: str) -> dict[str, int]:
    """How many set-leverage answers the simulator gave, by retCode (as a string)."""
    stats = _json(urllib.request.Request(f"{url}/__sim/stats"))  # noqa: S310 - loopback
    codes: dict[str, int] = stats.get("set-leverage", {}).get("ret_codes", {})
    return codes


def linear_symbols(url: str, status: str = "Trading") -> list[str]:
    """Every linear symbol the simulator lists in ``status``, 1000 a page."""
    symbols: list[str] = []
    cursor = ""
    while True:
        # The cursor arrives percent-encoded and goes back as it came.
        query = f"category=linear&limit=1000&status={status}&cursor={cursor}"
        request = urllib.request.Request(f"{url}/v5/market/instruments-info?{query}")  # noqa: S310 - loopback
        result = _json(request)["result"]
        symbols += [item["symbol"] for item in result["list"]]
        cursor = result["nextPageCursor"]
        if not cursor:
            return symbols
