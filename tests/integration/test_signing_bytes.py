"""The exact bytes signed and sent, checked against Bybit's known-answer vectors."""

from __future__ import annotations

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
POST_PARAMS = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "buyLeverage": "6",
    "sellLeverage": "6",
}


@pytest.fixture
def m() -> Iterator[aioresponses]:
    with aioresponses() as mocked:
        mocked.get(
            BASE + c.PATH_SERVER_TIME,
            payload={
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "timeSecond": str(LOCAL_MS // 1000),
                    "timeNano": str(LOCAL_MS * 10**6),
                },
                "time": LOCAL_MS,
            },
        )
        yield mocked


def ok(result: dict[str, object] | None = None) -> dict[str, object]:
    return {"retCode": 0, "retMsg": "OK", "result": result or {}, "time": LOCAL_MS}


async def test_signed_get_sends_and_signs_the_exact_query(m: aioresponses) -> None:
    query = "category=linear&symbol=BTCUSDT"
    m.get(f"{BASE}{c.PATH_POSITION_LIST}?{query}", payload=ok({"list": []}))
    async with bl.BybitClient(
        api_key=KEY, api_secret=SECRET, now_ms=lambda: LOCAL_MS
    ) as client:
        response = await client._request(
            "GET",
            c.PATH_POSITION_LIST,
            {"category": "linear", "symbol": "BTCUSDT"},
            signed=True,
        )
    assert response.attempts == 1
    assert response.envelope.ok
    [call] = m.requests[("GET", URL(f"{BASE}{c.PATH_POSITION_LIST}?{query}"))]
    headers = call.kwargs["headers"]
    assert headers["X-BAPI-API-KEY"] == KEY
    assert headers["X-BAPI-TIMESTAMP"] == str(TS)
    assert headers["X-BAPI-RECV-WINDOW"] == "5000"
    assert headers["X-BAPI-SIGN"] == GET_SIGN
    assert headers["X-BAPI-SIGN-TYPE"] == "2"
    assert call.kwargs["data"] is None
    # The time endpoint was read once, before the first private request.
    assert len(m.requests[("GET", URL(BASE + c.PATH_SERVER_TIME))]) == 1


async def test_signed_post_sends_and_signs_the_exact_body(m: aioresponses) -> None:
    m.post(BASE + c.PATH_SET_LEVERAGE, payload=ok())
    async with bl.BybitClient(
        api_key=KEY, api_secret=SECRET, now_ms=lambda: LOCAL_MS
    ) as client:
        await client._request("POST", c.PATH_SET_LEVERAGE, POST_PARAMS, signed=True)
    [call] = m.requests[("POST", URL(BASE + c.PATH_SET_LEVERAGE))]
    assert call.kwargs["data"] == POST_BODY
    headers = call.kwargs["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-BAPI-TIMESTAMP"] == str(TS)
    assert headers["X-BAPI-SIGN"] == POST_SIGN


async def test_rsa_key_signs_the_body_verifiably(
    m: aioresponses, rsa_pem: tuple[bytes, bytes]
) -> None:
    pem, public = rsa_pem
    m.post(BASE + c.PATH_SET_LEVERAGE, payload=ok())
    async with bl.BybitClient(
        api_key=KEY, private_key=pem, now_ms=lambda: LOCAL_MS
    ) as client:
        assert "PRIVATE" not in repr(client)
        await client._request("POST", c.PATH_SET_LEVERAGE, POST_PARAMS, signed=True)
    [call] = m.requests[("POST", URL(BASE + c.PATH_SET_LEVERAGE))]
    headers = call.kwargs["headers"]
    message = signature_payload(TS, KEY, 5000, POST_BODY)
    assert verify_rsa(public, message, headers["X-BAPI-SIGN"])


async def test_public_get_is_unsigned_and_query_is_not_reencoded(
    m: aioresponses,
) -> None:
    url = f"{BASE}{c.PATH_INSTRUMENTS}?category=linear&limit=1000&cursor=abc%3D%3D"
    m.get(url, payload=ok({"list": [], "nextPageCursor": ""}))
    async with bl.BybitClient() as client:
        await client._request(
            "GET",
            c.PATH_INSTRUMENTS,
            {"category": "linear", "limit": "1000", "cursor": "abc%3D%3D"},
            signed=False,
        )
    # aioresponses files requests under a normalized (sorted) URL; "%3D" survives.
    [call] = m.requests[("GET", normalize_url(URL(url, encoded=True)))]
    assert "X-BAPI-SIGN" not in call.kwargs["headers"]
    # No clock sync for public reads.
    assert ("GET", URL(BASE + c.PATH_SERVER_TIME)) not in m.requests


async def test_private_call_without_keys_sends_nothing(m: aioresponses) -> None:
    async with bl.BybitClient() as client:
        with pytest.raises(bl.MissingCredentials):
            await client._request("POST", c.PATH_SET_LEVERAGE, {}, signed=True)
    assert m.requests == {}
