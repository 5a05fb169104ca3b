from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from typing import Any

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
    ("fault", "code"),
    [("ret_10016", 10016), ("ret_10006", 10006), ("ret_10002", 10002)],
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
    assert first.headers["X-BAPI-SIGN"] == "<redacted>"
    signature = api.sign(
        first.body.decode(), timestamp=int(first.headers["X-BAPI-TIMESTAMP"])
    )
    assert signature["X-BAPI-SIGN"] not in repr(sim.requests)
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


# One request per endpoint, each answered 200 with an envelope when no fault is queued.
CALLS = [
    ("time", "GET", "/v5/market/time", "", True),
    ("instruments-info", "GET", "/v5/market/instruments-info", "category=linear", True),
    ("set-leverage", "POST", "/v5/position/set-leverage", "", False),
    ("symbol-info", "GET", "/v5/position/symbol-info", "category=linear", False),
    (
        "position-list",
        "GET",
        "/v5/position/list",
        "category=linear&symbol=BTCUSDT",
        False,
    ),
    ("account-info", "GET", "/v5/account/info", "", False),
    ("query-api", "GET", "/v5/user/query-api", "", False),
    ("coin-info", "GET", "/v5/asset/coin/query-info", "", False),
]


def test_every_endpoint_has_a_call_here() -> None:
    assert {name for name, *_ in CALLS} == set(ENDPOINTS)


async def _call(api: Api, method: str, path: str, query: str, public: bool) -> Any:
    if method == "POST":
        return await api.set_leverage("BTCUSDT", "7")
    if public:
        return await api.public(path, query)
    return await api.get(path, query)


@pytest.mark.parametrize("fault", ["truncated", "malformed_json"])
@pytest.mark.parametrize(("endpoint", "method", "path", "query", "public"), CALLS)
async def test_broken_bodies_on_every_endpoint(
    api: Api,
    sim: BybitSimulator,
    fault: str,
    endpoint: str,
    method: str,
    path: str,
    query: str,
    public: bool,
) -> None:
    sim.inject(endpoint, fault)
    reply = await _call(api, method, path, query, public)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.text.startswith('{"retCode":')
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.text)
    assert sim.requests[-1].ret_code is None
    again = await _call(api, method, path, query, public)
    assert again.ret_code in (0, 110043)


async def test_truncated_is_the_real_answer_cut_and_its_change_lands(
    api: Api, sim: BybitSimulator
) -> None:
    sim.inject("set-leverage", "truncated")
    cut = await api.set_leverage("BTCUSDT", "33")
    assert cut.text.startswith('{"retCode":0,')
    assert sim.account.leverage("BTCUSDT") == (Decimal(33),) * 2
    sim.inject("set-leverage", "malformed_json")
    await api.set_leverage("BTCUSDT", "44")
    assert sim.account.leverage("BTCUSDT") == (Decimal(33),) * 2  # that one never ran


async def test_reset_after_write_applies_the_change_and_loses_the_answer(
    api: Api, sim: BybitSimulator
) -> None:
    sim.inject("set-leverage", Fault.RESET_AFTER_WRITE)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.set_leverage("BTCUSDT", "25")
    assert sim.account.leverage("BTCUSDT") == (Decimal(25),) * 2  # it landed
    logged = sim.requests[-1]
    assert (logged.status, logged.ret_code, logged.uid) == (None, None, sim.account.uid)
    retry = await api.set_leverage("BTCUSDT", "25")
    assert retry.ret_code == 110043  # what a retry after a lost answer sees
    sim.inject("set-leverage", Fault.RESET)  # the plain reset never runs the handler
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.set_leverage("BTCUSDT", "26")
    assert sim.account.leverage("BTCUSDT") == (Decimal(25),) * 2


async def test_10006_without_a_reset_header(api: Api, sim: BybitSimulator) -> None:
    sim.inject("set-leverage", "ret_10006_no_reset")
    reply = await api.set_leverage("BTCUSDT", "5")
    assert reply.ret_code == 10006
    assert reply.headers["X-Bapi-Limit-Status"] == "10"
    assert "X-Bapi-Limit-Reset-Timestamp" not in reply.headers
    sim.inject("time", "ret_10006_no_reset")
    public = await api.public("/v5/market/time")
    assert public.ret_code == 10006
    assert "X-Bapi-Limit-Reset-Timestamp" not in public.headers


@pytest.mark.parametrize("endpoint", ["set-leverage", "time"])
async def test_10006_with_a_far_reset(
    api: Api, sim: BybitSimulator, endpoint: str
) -> None:
    sim.inject(endpoint, "ret_10006_far_reset")
    before = sim.server_time_ms()
    if endpoint == "time":
        reply = await api.public("/v5/market/time")
    else:
        reply = await api.set_leverage("BTCUSDT", "5")
    assert reply.ret_code == 10006
    reset = int(reply.headers["X-Bapi-Limit-Reset-Timestamp"])
    assert before + 60_000 <= reset <= sim.server_time_ms() + 60_000
    assert sim.account.leverage("BTCUSDT") == (Decimal(10),) * 2


def test_faults_that_keep_the_handler_have_no_reply_of_their_own() -> None:
    from bybit_leverage.simulator._replies import fault_reply

    for fault in Fault:
        if fault.runs_handler or fault in (Fault.RESET, Fault.HANG):
            with pytest.raises(ValueError, match=fault.value):
                fault_reply(fault)
        else:
            assert fault_reply(fault).status is not None
