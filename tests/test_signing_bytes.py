"""The exact bytes signed and sent, checked against Bybit's known-answer vectors.

Bybit's "Integration guidance" page documents the string to sign; the vectors
(key, secret, timestamp and signatures) are computed with Python's hmac and
checked with openssl. The request core is reached through the public client
over a :class:`MockTransport`; one test goes through aiohttp to check that the
URL on the wire is the one that was signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aioresponses import aioresponses
from aioresponses.core import (  # type: ignore[attr-defined]  # not in its __all__
    normalize_url,
)
from yarl import URL

import bybit_leverage as bl
from bybit_leverage import _constants as c
from bybit_leverage._signing import signature_payload, verify_rsa
from bybit_leverage.transport import HTTPRequest, HTTPResponse, MockTransport
from tests.fakebybit import instrument_item

BASE = "https://api.bybit.com"
KEY = "CFEJUGQEQPPHGOHGHM"
SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"
TS = 1658384314791
# The client aims 100 ms behind the server: a local clock 100 ms past the vector's
# timestamp, agreeing with the server, signs exactly at TS.
LOCAL_MS = TS + 100
GET_SIGN = "6d765638b4e69592b3f7258bc14206d6b89516b495c3db05c6c781c6f987819f"
POST_SIGN = "801ce681afdfd32d72a28a858ae66c44a0720773a078483f3ff1558a24df7522"
POST_BODY = (
    '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"6","sellLeverage":"6"}'
)


def answer(request: HTTPRequest) -> HTTPResponse:
    """A Bybit that agrees with the vector's clock and lists BTCUSDT."""
    if request.path == c.PATH_SERVER_TIME:
        return HTTPResponse.envelope(
            {"timeSecond": str(LOCAL_MS // 1000), "timeNano": str(LOCAL_MS * 10**6)}
        )
    if request.path == c.PATH_INSTRUMENTS:
        listed = [] if "PreLaunch" in request.url else [instrument_item("BTCUSDT")]
        return HTTPResponse.envelope({"list": listed, "nextPageCursor": ""})
    return HTTPResponse.envelope({"list": []})


@pytest.fixture
def wire() -> MockTransport:
    return MockTransport(answer)


def sent(wire: MockTransport, path: str) -> list[HTTPRequest]:
    return [request for request in wire.requests if request.path == path]


async def test_signed_get_sends_and_signs_the_exact_query(wire: MockTransport) -> None:
    async with bl.BybitClient(
        api_key=KEY, api_secret=SECRET, now_ms=lambda: LOCAL_MS, transport=wire
    ) as client:
        assert await client.fetch_position_leverage(bl.Category.LINEAR, "BTCUSDT") == {}
    [call] = sent(wire, c.PATH_SYMBOL_INFO)
    assert call.url == f"{BASE}{c.PATH_SYMBOL_INFO}?category=linear&symbol=BTCUSDT"
    assert call.headers["X-BAPI-API-KEY"] == KEY
    assert call.headers["X-BAPI-TIMESTAMP"] == str(TS)
    assert call.headers["X-BAPI-RECV-WINDOW"] == "5000"
    assert call.headers["X-BAPI-SIGN"] == GET_SIGN
    assert call.headers["X-BAPI-SIGN-TYPE"] == "2"
    assert call.body is None
    # The time endpoint was read once, before the first private request.
    assert wire.requests[0].path == c.PATH_SERVER_TIME
    assert len(sent(wire, c.PATH_SERVER_TIME)) == 1


async def test_signed_post_sends_and_signs_the_exact_body(wire: MockTransport) -> None:
    async with bl.BybitClient(
        api_key=KEY, api_secret=SECRET, now_ms=lambda: LOCAL_MS, transport=wire
    ) as client:
        result = await client.set_leverage("BTCUSDT", 6)
    assert result.outcome is bl.Outcome.SET
    [call] = sent(wire, c.PATH_SET_LEVERAGE)
    assert call.body == POST_BODY
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["X-BAPI-TIMESTAMP"] == str(TS)
    assert call.headers["X-BAPI-SIGN"] == POST_SIGN


async def test_rsa_key_signs_the_body_verifiably(
    wire: MockTransport, rsa_pem: tuple[bytes, bytes]
) -> None:
    pem, public = rsa_pem
    async with bl.BybitClient(
        api_key=KEY, private_key=pem, now_ms=lambda: LOCAL_MS, transport=wire
    ) as client:
        assert "PRIVATE" not in repr(client)
        await client.set_leverage("BTCUSDT", 6)
    [call] = sent(wire, c.PATH_SET_LEVERAGE)
    message = signature_payload(TS, KEY, 5000, POST_BODY)
    assert verify_rsa(public, message, call.headers["X-BAPI-SIGN"])


async def test_private_call_without_keys_sends_nothing(wire: MockTransport) -> None:
    async with bl.BybitClient(transport=wire) as client:
        with pytest.raises(bl.MissingCredentials):
            await client.set_leverage("BTCUSDT", 6)
        with pytest.raises(bl.MissingCredentials):
            await client.fetch_position_leverage()
    assert wire.requests == []


@pytest.fixture
def m() -> Iterator[aioresponses]:
    with aioresponses() as mocked:
        yield mocked


def page(items: list[object], cursor: str) -> dict[str, object]:
    return {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"list": items, "nextPageCursor": cursor},
    }


async def test_public_get_is_unsigned_and_the_cursor_is_not_reencoded(
    m: aioresponses,
) -> None:
    first = f"{BASE}{c.PATH_INSTRUMENTS}?category=linear&limit=1000"
    second = first + "&cursor=abc%3D%3D"
    prelaunch = first + "&status=PreLaunch"
    m.get(first, payload=page([instrument_item("BTCUSDT")], "abc%3D%3D"))
    m.get(second, payload=page([instrument_item("ETHUSDT")], ""))
    m.get(prelaunch, payload=page([], ""))
    async with bl.BybitClient() as client:
        listed = await client.fetch_instruments()
    assert [i.symbol for i in listed] == ["BTCUSDT", "ETHUSDT"]
    # aioresponses files requests under a normalized (sorted) URL; "%3D" survives.
    [call] = m.requests[("GET", normalize_url(URL(second, encoded=True)))]
    assert "X-BAPI-SIGN" not in call.kwargs["headers"]
    # No clock sync for public reads.
    assert ("GET", URL(BASE + c.PATH_SERVER_TIME)) not in m.requests


async def test_the_aiohttp_transport_sends_the_signed_body(m: aioresponses) -> None:
    m.get(
        BASE + c.PATH_SERVER_TIME,
        payload={"retCode": 0, "retMsg": "OK", "result": {}, "time": LOCAL_MS},
    )
    m.get(
        f"{BASE}{c.PATH_INSTRUMENTS}?category=linear&limit=1000",
        payload=page([instrument_item("BTCUSDT")], ""),
    )
    m.get(
        f"{BASE}{c.PATH_INSTRUMENTS}?category=linear&limit=1000&status=PreLaunch",
        payload=page([], ""),
    )
    m.post(
        BASE + c.PATH_SET_LEVERAGE, payload={"retCode": 0, "retMsg": "OK", "result": {}}
    )
    async with bl.BybitClient(
        api_key=KEY, api_secret=SECRET, now_ms=lambda: LOCAL_MS
    ) as client:
        await client.set_leverage("BTCUSDT", 6)
    [call] = m.requests[("POST", URL(BASE + c.PATH_SET_LEVERAGE))]
    assert call.kwargs["data"] == POST_BODY
    assert json.loads(call.kwargs["data"])["buyLeverage"] == "6"
    assert call.kwargs["headers"]["X-BAPI-SIGN"] == POST_SIGN
