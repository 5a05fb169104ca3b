"""A simulator in a child process for the peer-client tests, as a user would run it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bybit_leverage.simulator import Banner, spawn


@pytest.fixture
def spawned(request: pytest.FixtureRequest) -> Iterator[Banner]:
    """``python -m bybit_leverage.simulator`` on a free port, Bybit's limits on.

    60 symbols list over 40 Trading linear contracts: several pages at 20 a page.
    Parametrize it indirectly for another number of symbols.
    """
    symbols: int = getattr(request, "param", 60)
    with spawn(symbols=symbols) as banner:
        yield banner
