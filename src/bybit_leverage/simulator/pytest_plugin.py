"""Pytest plugin: the ``bybit_sim`` fixture (registered through ``pytest11``).

Loaded for every pytest run once the package is installed, so it imports
nothing heavy at module level: aiohttp and the simulator load when the fixture
is first used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bybit_leverage.simulator import BybitSimulator

__all__ = ["bybit_sim"]


def _async_fixture(func: Any) -> Any:
    # pytest_asyncio.fixture works in both strict and auto mode; without
    # pytest-asyncio the plugin still loads (the fixture just cannot run).
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest-asyncio is a test dependency
        return pytest.fixture(func)
    return pytest_asyncio.fixture(func)


@_async_fixture
async def bybit_sim() -> AsyncIterator[BybitSimulator]:
    """A started :class:`BybitSimulator` (60 linear symbols, seed 0) per test."""
    from bybit_leverage.simulator import BybitSimulator

    async with BybitSimulator(symbols=60, seed=0) as sim:
        yield sim
