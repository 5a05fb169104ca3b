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

from bybit_leverage.simulator._app import SimRequest
from bybit_leverage.simulator._faults import ENDPOINTS, Fault
from bybit_leverage.simulator._market import RiskTier, SimInstrument, Universe
from bybit_leverage.simulator._server import BybitSimulator, run, serve
from bybit_leverage.simulator._state import MarginMode, SimAccount

__all__ = [
    "ENDPOINTS",
    "BybitSimulator",
    "Fault",
    "MarginMode",
    "RiskTier",
    "SimAccount",
    "SimInstrument",
    "SimRequest",
    "Universe",
    "run",
    "serve",
]
