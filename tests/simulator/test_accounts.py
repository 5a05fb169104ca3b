"""Accounts as people have them (UTA 2.0): margin modes, key states, shared limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest

from bybit_leverage._signing import Credentials
from bybit_leverage.simulator import BybitSimulator, MarginMode, SimKey

from .helpers import Api

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(seed=7)]

ACCOUNT_INFO = "/v5/account/info"
QUERY_API = "/v5/user/query-api"
COIN_INFO = "/v5/asset/coin/query-info"
SYMBOL_INFO = "/v5/position/symbol-info"
POSITIONS = "/v5/position/list"


def api_for(api: Api, key: SimKey) -> Api:
    assert key.api_secret is not None
    return Api(api.session, api.url, Credentials.hmac(key.api_key, key.api_secret))


@pytest.mark.parametrize(
    ("given", "mode"),
    [
        ("cross", MarginMode.CROSS),
        ("REGULAR_MARGIN", MarginMode.CROSS),
        ("isolated", MarginMode.ISOLATED),
        ("ISOLATED_MARGIN", MarginMode.ISOLATED),
        ("isolated_margin", MarginMode.ISOLATED),
        ("portfolio", MarginMode.PORTFOLIO),
        ("PORTFOLIO_MARGIN", MarginMode.PORTFOLIO),
    ],
)
def test_margin_modes_use_bybit_names_and_accept_the_old_ones(
    given: str, mode: MarginMode
) -> None:
    assert MarginMode(given) is mode
    assert mode.value.endswith("_MARGIN")


def test_unknown_margin_mode_and_status_are_refused() -> None:
    with pytest.raises(ValueError, match="hybrid"):
        MarginMode("hybrid")
    with pytest.raises(ValueError, match="3 is not"):
        MarginMode(3)  # type: ignore[arg-type]  # proving non-strings are refused
    with pytest.raises(ValueError, match="unified status"):
        BybitSimulator(symbols=2, unified_status=2)


async def test_account_info_shape(api: Api, sim: BybitSimulator) -> None:
    reply = await api.get(ACCOUNT_INFO, "")
    assert reply.ret_code == 0
    assert reply.headers["X-Bapi-Limit"] == "50"
    result = reply.result
    assert result == {
        "unifiedMarginStatus": 5,
        "marginMode": "REGULAR_MARGIN",
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": result["updatedTime"],
        "dcpStatus": "OFF",
        "timeWindow": 0,
        "smpGroup": 0,
    }
    assert result["updatedTime"].isdigit()
    sim.account.set_margin_mode("isolated")
    sim.account.set_unified_status(6)
    again = (await api.get(ACCOUNT_INFO, "")).result
    assert (again["marginMode"], again["unifiedMarginStatus"]) == ("ISOLATED_MARGIN", 6)


async def test_query_api_shape_for_the_default_key(
    api: Api, sim: BybitSimulator
) -> None:
    reply = await api.get(QUERY_API, "")
    assert reply.ret_code == 0
    assert reply.headers["X-Bapi-Limit"] == "10"
    result = reply.result
    assert result["apiKey"] == sim.api_key
    assert (result["userID"], result["readOnly"], result["secret"]) == (
        sim.account.uid,
        0,
        "",
    )
    assert result["permissions"]["ContractTrade"] == ["Order", "Position"]
    assert result["permissions"]["Derivatives"] == ["DerivativesTrade"]
    assert result["ips"] == ["*"]
    assert (result["uta"], result["isMaster"], result["parentUid"]) == (1, True, "0")
    expires = datetime.strptime(result["expiredAt"], "%Y-%m-%dT%H:%M:%SZ")
    created = datetime.strptime(result["createdAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert expires - created == timedelta(days=90)
    assert result["deadlineDay"] in (89, 90)
    assert sim.api_secret not in reply.text


async def test_query_api_for_special_keys(api: Api, sim: BybitSimulator) -> None:
    bound = sim.add_key(ips=["127.0.0.1"], contract_trade=["Order"], note="bot")
    info = (await api_for(api, bound).get(QUERY_API, "")).result
    assert (info["ips"], info["note"]) == (["127.0.0.1"], "bot")
    assert info["permissions"]["ContractTrade"] == ["Order"]
    assert (info["expiredAt"], info["deadlineDay"]) == ("1970-01-01T00:00:00Z", -1)
    master = sim.account
    sub = sim.add_account(parent=master, unified_status=1, read_only=True)
    info = (await api_for(api, sub.key).get(QUERY_API, "")).result
    assert (info["userID"], info["isMaster"], info["parentUid"]) == (
        sub.uid,
        False,
        str(master.uid),
    )
    assert (info["readOnly"], info["uta"]) == (1, 0)
    assert info["permissions"]["Derivatives"] == []


async def test_read_only_key_reads_but_cannot_set(
    api: Api, sim: BybitSimulator
) -> None:
    reader = api_for(api, sim.add_key(read_only=True))
    for path, query in [
        (SYMBOL_INFO, "category=linear&symbol=BTCUSDT"),
        (POSITIONS, "category=linear&symbol=BTCUSDT"),
        (ACCOUNT_INFO, ""),
        (QUERY_API, ""),
        (COIN_INFO, ""),
    ]:
        assert (await reader.get(path, query)).ret_code == 0, path
    refused = await reader.set_leverage("BTCUSDT", "5")
    assert refused.ret_code == 10005
    assert "ermission" in refused.ret_msg
    assert sim.account.leverage("BTCUSDT") == (Decimal(10),) * 2


async def test_key_without_position_permission_cannot_set(
    api: Api, sim: BybitSimulator
) -> None:
    trader = api_for(api, sim.add_key(contract_trade=["Order"]))
    assert (await trader.set_leverage("BTCUSDT", "5")).ret_code == 10005
    assert (await api.set_leverage("BTCUSDT", "5")).ret_code == 0  # the full key


@pytest.mark.parametrize(
    ("settings", "code"),
    [({"expired": True}, 33004), ({"ips": ["10.1.2.3"]}, 10010)],
)
async def test_expired_or_ip_bound_keys_fail_every_private_call(
    api: Api, sim: BybitSimulator, settings: dict[str, object], code: int
) -> None:
    caller = api_for(api, sim.add_key(**settings))  # type: ignore[arg-type]
    for path, query in [
        (SYMBOL_INFO, "category=linear"),
        (POSITIONS, "category=linear&symbol=BTCUSDT"),
        (ACCOUNT_INFO, ""),
        (QUERY_API, ""),
        (COIN_INFO, ""),
    ]:
        reply = await caller.get(path, query)
        assert (reply.status, reply.ret_code) == (200, code), path
        assert "X-Bapi-Limit" not in reply.headers  # refused before any budget
    assert (await caller.set_leverage("BTCUSDT", "5")).ret_code == code
    assert (await caller.public("/v5/market/time")).ret_code == 0  # public is fine


async def test_a_key_bound_to_the_callers_ip_works(
    api: Api, sim: BybitSimulator
) -> None:
    bound = api_for(api, sim.add_key(ips=["10.1.2.3", "127.0.0.1"]))
    assert (await bound.set_leverage("BTCUSDT", "5")).ret_code == 0


async def test_keys_of_one_uid_share_its_windows(api: Api, sim: BybitSimulator) -> None:
    second = api_for(api, sim.add_key())
    statuses = []
    for n in range(10):
        caller = api if n % 2 else second
        reply = await caller.set_leverage("BTCUSDT", str(n + 1))
        assert reply.ret_code == 0
        statuses.append(reply.headers["X-Bapi-Limit-Status"])
    assert statuses == [str(9 - n) for n in range(10)]  # one UID-wide count
    assert (await second.set_leverage("BTCUSDT", "20")).ret_code == 10006
    assert (await api.set_leverage("BTCUSDT", "20")).ret_code == 10006
    sub = sim.add_account(parent=sim.account)  # another UID: its own budget
    assert (await api_for(api, sub.key).set_leverage("BTCUSDT", "20")).ret_code == 0
    assert {r.uid for r in sim.requests} == {sim.account.uid, sub.uid}


async def test_set_uid_limit(api: Api, sim: BybitSimulator) -> None:
    sim.set_uid_limit("account-info", 2)
    assert (await api.get(ACCOUNT_INFO, "")).headers["X-Bapi-Limit"] == "2"
    assert (await api.get(ACCOUNT_INFO, "")).ret_code == 0
    assert (await api.get(ACCOUNT_INFO, "")).ret_code == 10006
    sim.set_uid_limit("account-info", 3)  # a new window
    assert (await api.get(ACCOUNT_INFO, "")).headers["X-Bapi-Limit-Status"] == "2"
    with pytest.raises(ValueError, match="nope"):
        sim.set_uid_limit("nope", 1)
    with pytest.raises(ValueError, match="0/s"):
        sim.set_uid_limit("account-info", 0)


async def test_coin_info_shape(api: Api) -> None:
    reply = await api.get(COIN_INFO, "")
    assert reply.ret_code == 0
    rows = reply.result["rows"]
    assert {row["coin"] for row in rows} >= {"USDT", "USDC", "BTC"}
    for row in rows:
        assert set(row) == {"name", "coin", "remainAmount", "chains"}
        assert row["chains"]
        for chain in row["chains"]:
            assert set(chain) >= {"chain", "chainType", "withdrawFee", "withdrawMin"}
            assert set(chain) >= {"chainDeposit", "chainWithdraw", "minAccuracy"}
            assert chain["chainDeposit"] == "1"
            assert chain["minAccuracy"].isdigit()
    usdt = await api.get(COIN_INFO, "coin=usdt")
    assert [row["coin"] for row in usdt.result["rows"]] == ["USDT"]


@pytest.fixture
async def demo(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with BybitSimulator(symbols=10, profile="demo") as sim:
        yield Api(session, sim.url, Credentials.hmac(sim.api_key, sim.api_secret))


async def test_demo_profile_has_no_symbol_info(demo: Api) -> None:
    missing = await demo.get(SYMBOL_INFO, "category=linear")
    assert missing.status == 404
    assert (await demo.set_leverage("BTCUSDT", "5")).ret_code == 0
    rows = (await demo.get(POSITIONS, "category=linear&symbol=BTCUSDT")).result
    assert rows["list"][0]["leverage"] == "5"


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="testnet"):
        BybitSimulator(symbols=2, profile="testnet")


@pytest.mark.bybit_sim(
    margin_mode="ISOLATED_MARGIN",
    unified_status=6,
    hedge=["ETHUSDT"],
    positions={"BTCUSDT": 1000},
)
async def test_constructor_sets_up_the_default_account(sim: BybitSimulator) -> None:
    account = sim.account
    assert (account.margin_mode, account.unified_status) == (MarginMode.ISOLATED, 6)
    assert account.is_hedge("ETHUSDT")
    assert account.position_value("BTCUSDT") == 1000
    assert list(account.open_positions()) == ["BTCUSDT"]


@pytest.mark.bybit_sim(read_only=True, ips=["127.0.0.1"], contract_trade=["Order"])
async def test_constructor_sets_up_the_default_key(sim: BybitSimulator) -> None:
    key = sim.account.key
    assert (key.read_only, key.ips, key.contract_trade) == (
        True,
        ("127.0.0.1",),
        ("Order",),
    )
    assert not key.may_set_leverage
    assert sim.api_secret not in repr(key)


async def test_rsa_key_on_an_existing_account(
    api: Api, sim: BybitSimulator, rsa_pem: tuple[bytes, bytes]
) -> None:
    private, public = rsa_pem
    key = sim.add_key(rsa_public_key=public)
    assert key.api_secret is None
    assert sim.account.keys[-1] is key
    rsa_api = Api(api.session, api.url, Credentials.rsa(key.api_key, private.decode()))
    assert (await rsa_api.set_leverage("BTCUSDT", "4")).ret_code == 0
    info = (await rsa_api.get(QUERY_API, "")).result
    assert info["rsaPublicKey"].startswith("-----BEGIN PUBLIC KEY-----")
