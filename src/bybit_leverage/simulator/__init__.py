"""A loopback Bybit V5 simulator for tests, demos and benchmarks.

It serves ``/v5/market/time``, ``/v5/market/instruments-info``,
``/v5/position/set-leverage``, ``/v5/position/symbol-info`` and
``/v5/position/list`` with Bybit's authentication, rate limits and leverage
rules, from a deterministic market, plus ``/__sim/...`` admin routes for fault
injection, latency, clock skew and statistics::

    async with BybitSimulator(symbols=600, latency_ms=20) as sim:
        sim.inject("set-leverage", fault="http_503", times=3)
        ...
        sim.stats()

It imports only the package's pure modules and ``aiohttp.web``, never the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bybit_leverage.simulator._app import SimRequest
    from bybit_leverage.simulator._faults import ENDPOINTS, Fault
    from bybit_leverage.simulator._market import RiskTier, SimInstrument, Universe
    from bybit_leverage.simulator._server import (
        Banner,
        BybitSimulator,
        read_banner,
        run,
        serve,
        spawn,
    )
    from bybit_leverage.simulator._state import MarginMode, SimAccount

__all__ = [
    "ENDPOINTS",
    "Banner",
    "BybitSimulator",
    "Fault",
    "MarginMode",
    "RiskTier",
    "SimAccount",
    "SimInstrument",
    "SimRequest",
    "Universe",
    "read_banner",
    "run",
    "serve",
    "spawn",
]

# Where each public name lives. The package is imported on every pytest run (its
# pytest plugin is registered through pytest11), so aiohttp.web and the market
# generator load only when a name is first used.
_HOMES = {
    "SimRequest": "_app",
    "ENDPOINTS": "_faults",
    "Fault": "_faults",
    "RiskTier": "_market",
    "SimInstrument": "_market",
    "Universe": "_market",
    "Banner": "_server",
    "BybitSimulator": "_server",
    "read_banner": "_server",
    "run": "_server",
    "serve": "_server",
    "spawn": "_server",
    "MarginMode": "_state",
    "SimAccount": "_state",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
