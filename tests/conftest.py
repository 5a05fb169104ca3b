"""Shared fixtures: captured Bybit payloads, and a simulator with a client on it."""

from __future__ import annotations

import asyncio
import inspect
import json
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bybit_leverage import BybitClient
from bybit_leverage.simulator import BybitSimulator
from tests.keys import rsa_pem_pair

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def rsa_pem() -> tuple[bytes, bytes]:
    """One RSA key pair for the session: ``(private PEM, public PEM)``."""
    return rsa_pem_pair()


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load a captured response body from tests/fixtures by name."""
    return _load


@pytest.fixture(autouse=True)
def _close_the_loop_looptime_opens(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the event loop looptime makes the policy open for a sync test.

    looptime asks the policy for the current loop around every test; for a sync
    test none exists, so the policy creates one that nobody closes, and the next
    async test replaces it. ``filterwarnings = error`` then fails the run on its
    unclosed sockets when it is collected. Closing it (and leaving it set, closed)
    ends that; async tests get their loops from pytest-asyncio as before.
    """
    yield
    if inspect.iscoroutinefunction(request.function):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # no loop is set: nothing was left behind
            return
    if not loop.is_running():
        loop.close()


@pytest.fixture
def sim(bybit_sim: BybitSimulator) -> BybitSimulator:
    """The package's own ``bybit_sim`` fixture, configured by ``bybit_sim`` markers.

    One fixture for every test: client tests mark their modules
    ``bybit_sim(symbols=120, seed=3)``, the CLI's ``(symbols=80, seed=2)``, the
    simulator's ``(seed=7)``.
    """
    return bybit_sim


@pytest.fixture
async def client(sim: BybitSimulator) -> AsyncIterator[BybitClient]:
    """A client with the simulator's default account."""
    async with BybitClient(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.url
    ) as bybit:
        yield bybit
