from __future__ import annotations

import asyncio
import io
import json
import socket
from typing import Any

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
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


async def test_admin_account_key_position_and_listing_routes(
    api: Api, sim: BybitSimulator, session: aiohttp.ClientSession
) -> None:
    status, account = await _admin(
        session,
        sim,
        "POST",
        "account",
        {"margin_mode": "isolated", "unified_status": 6},
    )
    assert status == 200
    assert (account["uid"], account["margin_mode"], account["unified_status"]) == (
        sim.account.uid,
        "ISOLATED_MARGIN",
        6,
    )
    assert account["keys"][0]["api_key"] == sim.api_key
    assert sim.api_secret not in json.dumps(account)
    status, key = await _admin(
        session, sim, "POST", "keys", {"read_only": True, "ips": ["127.0.0.1"]}
    )
    assert (status, key["uid"]) == (200, sim.account.uid)
    reader = Api(session, sim.url, Credentials.hmac(key["api_key"], key["api_secret"]))
    assert (await reader.set_leverage("BTCUSDT", "5")).ret_code == 10005
    status, sub = await _admin(
        session,
        sim,
        "POST",
        "accounts",
        {"parent_uid": sim.account.uid, "contract_trade": ["Order"], "expired": True},
    )
    assert sim.accounts[sub["uid"]].parent_uid == sim.account.uid
    expired = Api(session, sim.url, Credentials.hmac(sub["api_key"], sub["api_secret"]))
    assert (await expired.get("/v5/account/info", "")).ret_code == 33004
    status, position = await _admin(
        session,
        sim,
        "POST",
        "position",
        {"symbol": "ETHUSDT", "hedge": True, "value": "2500", "side": "Sell"},
    )
    assert (position["hedge"], position["value"]) == (True, "2500")
    assert (await api.set_leverage("ETHUSDT", "10", "5")).ret_code == 0
    status, lowered = await _admin(
        session,
        sim,
        "POST",
        "lower-leverage",
        {"symbol": "ETHUSDT", "leverage": 4, "reduce_only": True},
    )
    assert (lowered["leverage"], lowered["reduce_only"]) == (["4", "4"], True)
    assert sim.account.state("ETHUSDT").sys_updated_ms is not None
    status, moved = await _admin(
        session,
        sim,
        "POST",
        "position",
        {"symbol": "ETHUSDT", "leverage": "12", "reduce_only": False},
    )
    assert (moved["leverage"], moved["reduce_only"]) == (["12", "12"], False)
    status, listed = await _admin(
        session, sim, "POST", "status", {"symbol": "BTCUSDT", "status": "Closed"}
    )
    assert listed == {"symbol": "BTCUSDT", "status": "Closed"}
    assert (await api.set_leverage("BTCUSDT", "5")).ret_code == 110074
    status, accounts = await _admin(session, sim, "GET", "accounts")
    assert [a["uid"] for a in accounts] == sorted(sim.accounts)
    assert accounts[0]["positions"] == {"ETHUSDT": "2500"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("account", {"uid": 1}),
        ("account", {"uid": "x"}),
        ("account", {"margin_mode": "hybrid"}),
        ("accounts", {"parent_uid": 1}),
        ("keys", {"ips": "127.0.0.1"}),
        ("position", {"value": "1"}),
        ("position", {"symbol": "BTCUSDT", "value": 1.5}),
        ("position", {"symbol": "BTCUSDT", "value": "lots"}),
        ("position", {"symbol": "NOPE", "hedge": True}),
        ("lower-leverage", {"symbol": "BTCUSDT", "leverage": "1000"}),
        ("status", {"symbol": "BTCUSDT", "status": "Gone"}),
    ],
)
async def test_admin_refuses_bad_account_bodies(
    sim: BybitSimulator, session: aiohttp.ClientSession, path: str, body: Any
) -> None:
    status, answer = await _admin(session, sim, "POST", path, body)
    assert status == 400
    assert answer["error"]


@pytest.mark.bybit_sim(symbols=5, rate_limit=False, latency_ms=20, seed=3)
async def test_the_marker_configures_bybit_sim(
    bybit_sim: BybitSimulator, session: aiohttp.ClientSession
) -> None:
    assert len(bybit_sim.universe.by_category["linear"]) == 5  # type: ignore[index]
    assert not bybit_sim.rate_limit
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with session.get(f"{bybit_sim.url}/v5/market/time") as response:
        assert response.status == 200
    assert loop.time() - started == pytest.approx(0.02, abs=0.005)
    assert bybit_sim.api_key == BybitSimulator(symbols=2, seed=3).api_key
