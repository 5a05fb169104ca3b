from __future__ import annotations

import asyncio
import io
import json
import socket
from typing import Any

import aiohttp
import pytest

from bybit_leverage.simulator import BybitSimulator, read_banner, serve

from .helpers import Api

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(seed=7)]


async def _admin(
    session: aiohttp.ClientSession,
    sim: BybitSimulator,
    method: str,
    path: str,
    body: Any = None,
) -> tuple[int, Any]:
    data = body if isinstance(body, str | None) else json.dumps(body)
    async with session.request(
        method, f"{sim.url}/__sim/{path}", data=data
    ) as response:
        return response.status, await response.json()


async def test_admin_routes(
    api: Api, sim: BybitSimulator, session: aiohttp.ClientSession
) -> None:
    status, pending = await _admin(
        session,
        sim,
        "POST",
        "inject",
        {"endpoint": "time", "fault": "http_503", "times": 2},
    )
    assert (status, pending) == (200, {"pending": {"time": [["http_503", 2]]}})
    assert (await api.public("/v5/market/time")).status == 503
    assert (await _admin(session, sim, "POST", "clear-faults"))[0] == 200
    assert (await api.public("/v5/market/time")).status == 200
    assert await _admin(session, sim, "POST", "latency", {"ms": 5, "jitter_ms": 1}) == (
        200,
        {"ms": 5.0, "jitter_ms": 1.0},
    )
    assert await _admin(session, sim, "POST", "skew", {"ms": -60000}) == (
        200,
        {"ms": -60000},
    )
    assert (
        await api.get("/v5/position/symbol-info", "category=linear")
    ).ret_code == 10002
    status, stats = await _admin(session, sim, "GET", "stats")
    assert stats["time"] == {
        "requests": 2,
        "ret_codes": {"0": 1},
        "http": {"503": 1, "200": 1},
    }
    assert (await _admin(session, sim, "POST", "reset-stats"))[0] == 200
    assert sim.stats() == {}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("inject", {"endpoint": "time", "fault": "melt"}),
        ("inject", {"endpoint": "time", "fault": "http_500", "times": "x"}),
        ("inject", "not json"),
        ("inject", "[1]"),
        ("latency", {}),
        ("latency", {"ms": -1}),
        ("skew", {"ms": "soon"}),
    ],
)
async def test_admin_refuses_bad_bodies(
    sim: BybitSimulator, session: aiohttp.ClientSession, path: str, body: Any
) -> None:
    status, answer = await _admin(session, sim, "POST", path, body)
    assert status == 400
    assert answer["error"]


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "192.168.1.10", "example.com", "::"],  # noqa: S104 - proving it refuses
)
async def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        BybitSimulator(symbols=2, host=host)


@pytest.mark.parametrize("host", ["localhost", "::1"])
async def test_loopback_hosts(host: str, session: aiohttp.ClientSession) -> None:
    try:
        sim = BybitSimulator(symbols=2, host=host)
        await sim.start()
    except OSError:
        pytest.skip(f"{host} is not available here")
    try:
        async with session.get(f"{sim.url}/v5/market/time") as response:
            assert response.status == 200
    finally:
        await sim.aclose()


async def test_lifecycle_errors() -> None:
    sim = BybitSimulator(symbols=2)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url
    async with sim:
        with pytest.raises(RuntimeError, match="already running"):
            await sim.start()
    await sim.aclose()  # twice is fine


async def test_bybit_sim_fixture(
    bybit_sim: BybitSimulator, session: aiohttp.ClientSession
) -> None:
    assert len(bybit_sim.universe.by_category["linear"]) == 60  # type: ignore[index]
    async with session.get(f"{bybit_sim.url}/v5/market/time") as response:
        assert (await response.json())["retCode"] == 0


async def test_serve_until_stopped(session: aiohttp.ClientSession) -> None:
    out, stop = io.StringIO(), asyncio.Event()
    task = asyncio.create_task(serve(port=_free_port(), symbols=5, out=out, stop=stop))
    for _ in range(500):  # polls the printed banner: serve() has no ready hook
        if "Ctrl-C" in out.getvalue():
            break
        await asyncio.sleep(0.01)
    banner = read_banner(io.StringIO(out.getvalue()))
    async with session.get(f"{banner.url}/v5/market/time") as response:
        assert response.status == 200
    assert f"export BYBIT_API_KEY={banner.api_key}" in out.getvalue()
    stop.set()
    await task
    assert out.getvalue().endswith("# Simulator stopped.\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
