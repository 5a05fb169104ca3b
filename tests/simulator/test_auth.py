from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization

from bybit_leverage._signing import Credentials
from bybit_leverage.simulator import BybitSimulator
from tests.keys import rsa_pem_pair

from .conftest import PINNED_MS
from .helpers import Api

SYMBOL_INFO = "/v5/position/symbol-info"

pytestmark = pytest.mark.bybit_sim(seed=7)


@pytest.fixture
async def pinned(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with BybitSimulator(symbols=10, wall_clock=lambda: PINNED_MS / 1000) as sim:
        yield Api(
            session,
            sim.url,
            Credentials.hmac(sim.api_key, sim.api_secret),
            now_ms=lambda: PINNED_MS,
        )


@pytest.mark.parametrize(
    "header", ["X-BAPI-API-KEY", "X-BAPI-SIGN", "X-BAPI-TIMESTAMP"]
)
async def test_missing_auth_header_is_http_401(api: Api, header: str) -> None:
    headers = api.sign("category=linear")
    del headers[header]
    reply = await api.get(SYMBOL_INFO, "category=linear", headers)
    assert reply.status == 401
    assert reply.ret_code == 10003
    assert header in reply.ret_msg
    assert "X-Bapi-Limit" not in reply.headers


async def test_non_integer_timestamp_is_10001(api: Api) -> None:
    headers = {**api.sign("category=linear"), "X-BAPI-TIMESTAMP": "soon"}
    assert (await api.get(SYMBOL_INFO, "category=linear", headers)).ret_code == 10001


async def test_unknown_key_is_10003(api: Api) -> None:
    stranger = Api(api.session, api.url, Credentials.hmac("NOSUCHKEY", "secret"))
    reply = await stranger.get(SYMBOL_INFO, "category=linear")
    assert (reply.status, reply.ret_code) == (200, 10003)


async def test_bad_signature_is_10004_with_origin_string(api: Api) -> None:
    forger = Api(api.session, api.url, Credentials.hmac(api.creds.api_key, "wrong"))
    reply = await forger.get(SYMBOL_INFO, "category=linear")
    assert reply.ret_code == 10004
    assert reply.ret_msg.startswith("error sign! origin_string[")
    assert reply.ret_msg.endswith(f"{api.creds.api_key}5000category=linear]")


async def test_signature_covers_the_raw_query(api: Api) -> None:
    raw = "category=linear&symbol=BTC%55SDT"  # decodes to BTCUSDT
    reply = await api.get(SYMBOL_INFO, raw)
    assert reply.ret_code == 0
    assert reply.result["list"][0]["symbol"] == "BTCUSDT"
    decoded_signature = api.sign("category=linear&symbol=BTCUSDT")
    assert (await api.get(SYMBOL_INFO, raw, decoded_signature)).ret_code == 10004


async def test_signature_covers_the_raw_body(api: Api) -> None:
    body = (  # key order and spacing are the client's business; bytes are signed
        '{ "sellLeverage": "7", "buyLeverage": "7",\n'
        ' "symbol": "BTCUSDT", "category": "linear" }'
    )
    assert (await api.post("/v5/position/set-leverage", body)).ret_code == 0
    compact = (
        '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"8","sellLeverage":"8"}'
    )
    wrong = api.sign(compact.replace("8", "9"))
    assert (
        await api.post("/v5/position/set-leverage", compact, wrong)
    ).ret_code == 10004


@pytest.mark.parametrize(
    ("offset_ms", "ret_code"),
    [(-5000, 0), (-5001, 10002), (0, 0), (999, 0), (1000, 10002)],
)
async def test_timestamp_window_edges(
    pinned: Api, offset_ms: int, ret_code: int
) -> None:
    headers = pinned.sign("category=linear", timestamp=PINNED_MS + offset_ms)
    reply = await pinned.get(SYMBOL_INFO, "category=linear", headers)
    assert reply.ret_code == ret_code
    if ret_code:
        assert f"server_timestamp[{PINNED_MS}]" in reply.ret_msg


@pytest.mark.parametrize(
    ("skew_ms", "ret_code"), [(-2000, 10002), (4000, 0), (6000, 10002)]
)
async def test_clock_skew_moves_the_window(
    api: Api, sim: BybitSimulator, skew_ms: int, ret_code: int
) -> None:
    sim.set_clock_skew(skew_ms)
    assert (await api.get(SYMBOL_INFO, "category=linear")).ret_code == ret_code


def _rsa_pair() -> tuple[str, str]:
    private, public = rsa_pem_pair()
    return private.decode(), public.decode()


async def test_rsa_account(api: Api, sim: BybitSimulator) -> None:
    private, public = _rsa_pair()
    account = sim.add_account(rsa_public_key=public.encode())
    assert account.api_secret is None
    assert account.uid != sim.account.uid
    rsa_api = Api(api.session, api.url, Credentials.rsa(account.api_key, private))
    assert (await rsa_api.set_leverage("BTCUSDT", "3")).ret_code == 0
    assert account.leverage("BTCUSDT") == (Decimal(3), Decimal(3))
    assert sim.account.leverage("BTCUSDT") == (Decimal(10),) * 2  # separate
    other_private, _ = _rsa_pair()
    impostor = Api(
        api.session, api.url, Credentials.rsa(account.api_key, other_private)
    )
    assert (await impostor.set_leverage("BTCUSDT", "4")).ret_code == 10004


@pytest.mark.parametrize("pem", ["not a key", "EC"])
async def test_add_account_refuses_non_rsa_keys(sim: BybitSimulator, pem: str) -> None:
    if pem == "EC":
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
            .decode()
        )
    with pytest.raises(ValueError, match="rsa_public_key"):
        sim.add_account(rsa_public_key=pem)


async def test_hmac_accounts_have_distinct_keys(sim: BybitSimulator) -> None:
    second = sim.add_account()
    assert second.api_key != sim.api_key
    assert second.api_secret not in (None, sim.api_secret)
    assert set(sim.accounts) == {sim.account.uid, second.uid}
    assert sim.api_secret not in repr(sim.account)
