"""Pytest plugin: the ``bybit_sim`` fixture and its marker (through ``pytest11``).

Loaded for every pytest run once the package is installed, so it imports
nothing heavy at module level: aiohttp and the simulator load when the fixture
is first used. Configure the fixture per test (or module, with ``pytestmark``)
with the marker, whose keywords are :class:`BybitSimulator`'s::

    @pytest.mark.bybit_sim(symbols=120, seed=3, rate_limit=False)
    async def test_something(bybit_sim): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:
    from bybit_leverage.simulator import BybitSimulator

__all__ = ["bybit_sim", "pytest_configure"]

#: What ``bybit_sim`` starts when no marker says otherwise.
DEFAULTS: Final = {"symbols": 60, "seed": 0}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``bybit_sim`` marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "bybit_sim(**options): BybitSimulator keyword arguments for the bybit_sim "
        "fixture (default symbols=60, seed=0)",
    )


def _async_fixture(func: Any) -> Any:
    # pytest_asyncio.fixture works in both strict and auto mode; without
    # pytest-asyncio the plugin still loads (the fixture just cannot run).
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest-asyncio is a test dependency
        return pytest.fixture(func)
    return pytest_asyncio.fixture(func)


@_async_fixture
async def bybit_sim(request: pytest.FixtureRequest) -> AsyncIterator[BybitSimulator]:
    """A started :class:`BybitSimulator` per test (60 linear symbols, seed 0).

    ``@pytest.mark.bybit_sim(...)`` overrides any keyword; the closest marker
    (test over class over module) wins for each keyword.
    """
    from bybit_leverage.simulator import BybitSimulator

    options: dict[str, Any] = dict(DEFAULTS)
    for marker in reversed(list(request.node.iter_markers("bybit_sim"))):
        options.update(marker.kwargs)
    async with BybitSimulator(**options) as sim:
        yield sim
