"""Helpers for the client tests that run on the simulator."""

from __future__ import annotations

from decimal import Decimal

from bybit_leverage import Category, InstrumentStatus
from bybit_leverage.simulator import BybitSimulator


def set_leverage_count(sim: BybitSimulator) -> int:
    """How many set-leverage requests reached the simulator."""
    return int(sim.stats().get("set-leverage", {}).get("requests", 0))


def tradable(sim: BybitSimulator, count: int) -> list[str]:
    """``count`` tradable linear symbols with a 0.01 step and a cap of 25x or more.

    Their grids hold every target the tests use, so results are easy to predict.
    """
    symbols = [
        item.symbol
        for item in sim.universe.by_category[Category.LINEAR]
        if item.instrument.status is InstrumentStatus.TRADING
        and item.instrument.leverage_filter.max_leverage >= 25
        and item.instrument.leverage_filter.leverage_step == Decimal("0.01")
    ]
    assert len(symbols) >= count
    return symbols[:count]


def private_requests(sim: BybitSimulator) -> int:
    """Requests to private endpoints (what a report counts as ``requests_sent``)."""
    public = {"time", "instruments-info"}
    return sum(
        int(entry["requests"])
        for endpoint, entry in sim.stats().items()
        if endpoint not in public
    )


def requests_to(sim: BybitSimulator, endpoint: str) -> int:
    """Requests that reached one endpoint of the simulator."""
    return int(sim.stats().get(endpoint, {}).get("requests", 0))
