"""A loopback Bybit V5 simulator for tests, demos and benchmarks.

It serves Bybit's market routes (``/v5/market/time``,
``/v5/market/instruments-info``), its position routes
(``/v5/position/set-leverage``, ``/v5/position/symbol-info``,
``/v5/position/list``) and its account routes (``/v5/account/info``,
``/v5/user/query-api``, ``/v5/asset/coin/query-info``) with Bybit's
authentication, API key states, rate limits and leverage rules, from a
deterministic market, plus ``/__sim/...`` admin routes for fault injection,
latency, clock skew, accounts and statistics::

    async with BybitSimulator(symbols=600, latency_ms=20) as sim:
        sim.inject("set-leverage", fault="http_503", times=3)
        ...
        sim.stats()

It imports only the package's pure modules and ``aiohttp.web``, never the
client; importing this package imports neither (names load on first use).
See docs/simulator.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bybit_leverage._lazy import lazy_names

if TYPE_CHECKING:
    from bybit_leverage.simulator._app import Profile
    from bybit_leverage.simulator._command import configure_parser, main, run_args
    from bybit_leverage.simulator._core import SimRequest
    from bybit_leverage.simulator._faults import ENDPOINTS, Fault
    from bybit_leverage.simulator._market import RiskTier, SimInstrument, Universe
    from bybit_leverage.simulator._process import (
        Banner,
        read_banner,
        run,
        serve,
        spawn,
    )
    from bybit_leverage.simulator._simulator import BybitSimulator
    from bybit_leverage.simulator._state import MarginMode, SimAccount, SimKey

__all__ = [
    "ENDPOINTS",
    "Banner",
    "BybitSimulator",
    "Fault",
    "MarginMode",
    "Profile",
    "RiskTier",
    "SimAccount",
    "SimInstrument",
    "SimKey",
    "SimRequest",
    "Universe",
    "configure_parser",
    "main",
    "read_banner",
    "run",
    "run_args",
    "serve",
    "spawn",
]

# Where each public name lives. The package is imported on every pytest run (its
# pytest plugin is registered through pytest11), so aiohttp.web and the market
# generator load only when a name is first used.
_HOMES = {
    "Profile": "_app",
    "configure_parser": "_command",
    "main": "_command",
    "run_args": "_command",
    "SimRequest": "_core",
    "ENDPOINTS": "_faults",
    "Fault": "_faults",
    "RiskTier": "_market",
    "SimInstrument": "_market",
    "Universe": "_market",
    "Banner": "_process",
    "read_banner": "_process",
    "run": "_process",
    "serve": "_process",
    "spawn": "_process",
    "BybitSimulator": "_simulator",
    "MarginMode": "_state",
    "SimAccount": "_state",
    "SimKey": "_state",
}

__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals(), __all__)
