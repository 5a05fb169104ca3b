from __future__ import annotations

import asyncio
import json
from collections import Counter

import aiohttp
import pytest

from bybit_leverage.simulator import ENDPOINTS, BybitSimulator, Fault

from .helpers import Api

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(seed=7)]


@pytest.mark.parametrize(
    ("fault", "status", "content_type"),
    [
        ("http_500", 500, "text/html"),
        ("http_502", 502, "text/html"),
        ("http_503", 503, "text/html"),
        ("http_429", 429, "text/html"),
        ("http_403", 403, "text/html"),
        ("malformed_json", 200, "application/json"),
    ],
)
async def test_http_faults_then_recovery(
    api: Api, sim: BybitSimulator, fault: str, status: int, content_type: str
) -> None:
    sim.inject("instruments-info", fault=fault, times=2)
    for _ in range(2):
        reply = await api.public("/v5/market/instruments-info", "category=linear")
        assert reply.status == status
        assert reply.headers["Content-Type"].startswith(content_type)
        with pytest.raises(json.JSONDecodeError):
            json.loads(reply.text)
    assert (
        await api.public("/v5/market/instruments-info", "category=linear")
    ).ret_code == 0
    expected = Counter({status: 2}) + Counter({200: 1})
    assert sim.stats()["instruments-info"]["http"] == dict(expected)


@pytest.mark.parametrize(
    ("fault", "code"), [("ret_10016", 10016), ("ret_10006", 10006)]
)
async def test_ret_code_faults_carry_limit_headers(
    api: Api, sim: BybitSimulator, fault: str, code: int
) -> None:
    sim.inject("set-leverage", fault=fault)
    reply = await api.set_leverage("BTCUSDT", "5")
    assert (reply.status, reply.ret_code) == (200, code)
    assert reply.headers["X-Bapi-Limit-Status"] == "10"  # nothing consumed
    assert sim.account.leverage("BTCUSDT")[0] == 10  # not applied
    assert (await api.set_leverage("BTCUSDT", "5")).ret_code == 0


async def test_reset_aborts_the_connection(api: Api, sim: BybitSimulator) -> None:
    sim.inject("time", fault=Fault.RESET)
    host, port = sim.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /v5/market/time HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    try:
        received = await reader.read()
    except ConnectionResetError:
        received = b""
    finally:
        writer.close()
        await writer.wait_closed()
    assert received == b""  # not a single byte of an answer
    # a client that cannot retry (POST) sees the broken connection
    sim.inject("set-leverage", fault="reset")
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.set_leverage("BTCUSDT", "5")
    assert [(r.status, r.ret_code) for r in sim.requests] == [(None, None)] * 2


async def test_hang_outlasts_a_client_timeout(api: Api, sim: BybitSimulator) -> None:
    sim.inject("*", fault="hang")
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(30):
            await api.public("/v5/market/time")
    assert loop.time() - start == pytest.approx(30, abs=0.1)
    assert (await api.public("/v5/market/time")).status == 200


async def test_hang_ends_at_shutdown(session: aiohttp.ClientSession) -> None:
    async with BybitSimulator(symbols=10) as sim:
        sim.inject("time", fault="hang")
        request = asyncio.ensure_future(session.get(f"{sim.url}/v5/market/time"))
        await asyncio.sleep(0.5)
        assert not request.done()
    # closing the simulator releases the request: the connection is dropped
    with pytest.raises(aiohttp.ClientError):
        await request
    assert sim.stats()["time"]["requests"] == 1


async def test_endpoint_faults_come_before_wildcard_ones(
    api: Api, sim: BybitSimulator
) -> None:
    sim.inject("*", fault="http_502")
    sim.inject("time", fault="http_500")
    assert (await api.public("/v5/market/time")).status == 500
    assert (await api.public("/v5/market/time")).status == 502
    assert (await api.public("/v5/market/time")).status == 200
    sim.inject("*", fault="http_503", times=3)
    sim.clear_faults()
    assert (await api.public("/v5/market/time")).status == 200


@pytest.mark.parametrize(
    ("endpoint", "fault", "times"),
    [("nope", "http_500", 1), ("time", "boom", 1), ("time", "http_500", 0)],
)
async def test_inject_validates(
    sim: BybitSimulator, endpoint: str, fault: str, times: int
) -> None:
    with pytest.raises(ValueError, match=r"endpoint|is not a valid Fault|times"):
        sim.inject(endpoint, fault=fault, times=times)


async def test_stats_and_request_log(api: Api, sim: BybitSimulator) -> None:
    await api.set_leverage("BTCUSDT", "5")
    await api.set_leverage("BTCUSDT", "5")
    await api.get("/v5/position/list", "category=linear&symbol=BTCUSDT")
    stats = sim.stats()
    assert stats["set-leverage"] == {
        "requests": 2,
        "ret_codes": {0: 1, 110043: 1},
        "http": {200: 2},
    }
    assert set(stats) <= set(ENDPOINTS)
    first, second, third = sim.requests
    assert (first.method, first.path, first.endpoint) == (
        "POST",
        "/v5/position/set-leverage",
        "set-leverage",
    )
    assert json.loads(first.body)["buyLeverage"] == "5"
    assert (first.status, first.ret_code, first.uid) == (200, 0, sim.account.uid)
    assert second.ret_code == 110043
    assert third.raw_query == "category=linear&symbol=BTCUSDT"
    assert first.headers["X-BAPI-API-KEY"] == sim.api_key
    assert all(sim.api_secret not in repr(r) for r in sim.requests)
    assert first.loop_time <= second.loop_time <= third.loop_time
    with pytest.raises(AttributeError):
        first.status = 500  # type: ignore[misc]
    sim.reset_stats()
    assert (sim.stats(), sim.requests) == ({}, [])


async def test_public_names_resolve_lazily() -> None:
    import bybit_leverage.simulator as package

    assert sorted(package.__all__) == dir(package)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="nope"):
        _ = package.nope
