"""A simulator in a child process for the peer-client tests, as a user would run it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bybit_leverage.simulator import Banner, spawn


@pytest.fixture
def spawned() -> Iterator[Banner]:
    """``python -m bybit_leverage.simulator`` on a free port, Bybit's limits on.

    60 symbols list over 40 Trading linear contracts: several pages at 20 a page.
    """
    with spawn(symbols=60) as banner:
        yield banner
