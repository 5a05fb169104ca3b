"""Private account endpoints: account info, API key info and coin info.

* ``GET /v5/account/info`` (https://bybit-exchange.github.io/docs/v5/account/account-info)
* ``GET /v5/user/query-api`` (https://bybit-exchange.github.io/docs/v5/user/apikey-info)
* ``GET /v5/asset/coin/query-info`` (https://bybit-exchange.github.io/docs/v5/asset/coin-info):
  enough coins and chains for clients that load currencies with their markets
  (ccxt's ``load_markets()`` calls it whenever a key is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from bybit_leverage.simulator._replies import Call, Reply

__all__ = ["COINS", "handle_account_info", "handle_coin_info", "handle_query_api"]

#: What an IP-bound key reports: it never expires (a reading seen in public
#: client code; Bybit documents the two fields only for keys without an IP).
_NO_EXPIRY: Final = ("1970-01-01T00:00:00Z", -1)
_PERMISSION_GROUPS: Final = (
    "ContractTrade", "Spot", "Wallet", "Options", "Derivatives", "CopyTrading",
    "BlockTrade", "Exchange", "NFT", "Affiliate", "Earn",
)  # fmt: skip


def handle_account_info(call: Call) -> Reply:
    """``GET /v5/account/info``: the account's UTA status and margin mode."""
    account, _ = call.private()
    return Reply.ok(
        {
            "unifiedMarginStatus": account.unified_status,
            "marginMode": account.margin_mode.value,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(account.updated_ms),
            "dcpStatus": "OFF",
            "timeWindow": 0,
            "smpGroup": 0,
        }
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def handle_query_api(call: Call) -> Reply:
    """``GET /v5/user/query-api``: the calling key's permissions, IPs and expiry."""
    account, key = call.private()
    now = datetime.fromtimestamp(call.now_ms / 1000, UTC)
    expires = key.expires_at()
    if expires is None:
        expired_at, deadline_day = _NO_EXPIRY
    else:
        expired_at = _iso(expires)
        deadline_day = 0 if key.expired else max(0, (expires - now).days)
    permissions: dict[str, list[str]] = {name: [] for name in _PERMISSION_GROUPS}
    permissions["ContractTrade"] = list(key.contract_trade)
    if account.unified_status >= 3:
        permissions["Derivatives"] = ["DerivativesTrade"]
    return Reply.ok(
        {
            "id": str(key.created_ms % 100_000_000),
            "note": key.note,
            "apiKey": key.api_key,
            "readOnly": int(key.read_only),
            "secret": "",
            "permissions": permissions,
            "ips": list(key.ips) or ["*"],
            "type": 1,
            "deadlineDay": deadline_day,
            "expiredAt": expired_at,
            "createdAt": _iso(datetime.fromtimestamp(key.created_ms / 1000, UTC)),
            "unified": 0,
            "uta": int(account.unified_status >= 3),
            "userID": account.uid,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": key.rsa_public_key or "",
            "isMaster": account.parent_uid is None,
            "parentUid": str(account.parent_uid or 0),
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }
    )


def _chain(
    chain: str, chain_type: str, fee: str, minimum: str, accuracy: str
) -> Mapping[str, str]:
    return MappingProxyType(
        {
            "chainType": chain_type,
            "confirmation": "12",
            "withdrawFee": fee,
            "depositMin": "0",
            "withdrawMin": minimum,
            "chain": chain,
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": accuracy,
            "withdrawPercentageFee": "0",
            "contractAddress": "",
            "safeConfirmNumber": "64",
        }
    )


def _coin(coin: str, remain: str, *chains: Mapping[str, str]) -> Mapping[str, Any]:
    return MappingProxyType(
        {"name": coin, "coin": coin, "remainAmount": remain, "chains": chains}
    )


#: The coins ``coin/query-info`` lists: the settle coins of the simulated
#: contracts (USDT, USDC, and the inverse contracts' coins).
COINS: Final = (
    _coin("BTC", "150", _chain("BTC", "BTC", "0.0002", "0.001", "8")),
    _coin("ETH", "3000", _chain("ETH", "Ethereum", "0.0015", "0.003", "8")),
    _coin(
        "USDC",
        "5000000",
        _chain("ETH", "Ethereum", "3", "10", "6"),
        _chain("SOL", "Solana", "1", "5", "6"),
    ),
    _coin(
        "USDT",
        "5000000",
        _chain("ETH", "Ethereum", "3", "10", "6"),
        _chain("TRX", "TRC20", "1", "10", "6"),
    ),
    _coin("XRP", "1000000", _chain("XRP", "XRP", "0.2", "20", "6")),
)


def handle_coin_info(call: Call) -> Reply:
    """``GET /v5/asset/coin/query-info``: coins and their chains (``coin`` filters)."""
    call.private()
    wanted = call.query.get("coin")
    rows = [
        {**coin, "chains": [dict(chain) for chain in coin["chains"]]}
        for coin in COINS
        if wanted is None or coin["coin"] == wanted.upper()
    ]
    return Reply.ok({"rows": rows})
