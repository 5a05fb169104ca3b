"""Account, key and position answers: tolerant of absence, strict on type."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bybit_leverage import AccountProfile, MarginMode, ResponseDecodeError
from bybit_leverage._wire_account import (
    parse_account_info,
    parse_key_info,
    parse_positions,
)

P = "/p"
BASE = AccountProfile(MarginMode.REGULAR_MARGIN, 5)


def test_account_info_reads_margin_mode_and_status() -> None:
    profile = parse_account_info(
        {"marginMode": "ISOLATED_MARGIN", "unifiedMarginStatus": 6}, P
    )
    assert profile == AccountProfile(MarginMode.ISOLATED_MARGIN, 6)
    assert not AccountProfile(None, 1).is_unified
    # A mode Bybit adds later is not an error: it is unknown.
    assert parse_account_info({"marginMode": "NEW_MODE"}, P).margin_mode is None
    with pytest.raises(ResponseDecodeError, match="unifiedMarginStatus"):
        parse_account_info({"unifiedMarginStatus": "five"}, P)


def test_key_info_reads_the_key() -> None:
    profile = parse_key_info(
        {
            "userID": 24617703,
            "readOnly": 0,
            "permissions": {"ContractTrade": ["Order", "Position"]},
            "ips": ["*"],
            "expiredAt": "2027-01-02T03:04:05Z",
            "isMaster": False,
            "parentUid": "100",
        },
        P,
        BASE,
    )
    assert profile.uid == 24617703
    assert (profile.read_only, profile.can_set_leverage) == (False, True)
    assert profile.expires_at == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (profile.is_master, profile.parent_uid, profile.ips) == (False, 100, ("*",))
    assert profile.margin_mode is MarginMode.REGULAR_MARGIN  # kept from account info


@pytest.mark.parametrize(
    ("result", "read_only", "can_write"),
    [
        ({"readOnly": 1, "permissions": {"ContractTrade": ["Position"]}}, True, False),
        ({"readOnly": 0, "permissions": {"ContractTrade": ["Order"]}}, False, False),
        ({"readOnly": "0"}, False, None),  # no permissions listed: unknown
    ],
)
def test_what_the_key_may_do(
    result: dict[str, Any], read_only: bool, can_write: bool | None
) -> None:
    profile = parse_key_info(result, P, BASE)
    assert (profile.read_only, profile.can_set_leverage) == (read_only, can_write)


@pytest.mark.parametrize("moment", ["1970-01-01T00:00:00Z", "", None])
def test_a_key_without_expiry(moment: str | None) -> None:
    assert parse_key_info({"expiredAt": moment}, P, BASE).expires_at is None


@pytest.mark.parametrize(
    "result",
    [
        {"expiredAt": "soon"},
        {"userID": True},
        {"permissions": {"ContractTrade": "Position"}},
    ],
)
def test_a_malformed_key_answer_names_its_field(result: dict[str, Any]) -> None:
    with pytest.raises(ResponseDecodeError):
        parse_key_info(result, P, BASE)


def test_position_rows_and_the_cursor() -> None:
    rows, cursor = parse_positions(
        {
            "list": [
                {
                    "symbol": "BTCUSDT",
                    "positionIdx": 0,
                    "size": "0.5",
                    "side": "Buy",
                    "leverage": "10",
                    "leverageSysUpdatedTime": "1764374400000",
                    "isReduceOnly": True,
                },
                {"symbol": "ETHUSDT", "size": "0", "side": "", "leverage": ""},
            ],
            "nextPageCursor": "abc%3D",
        },
        P,
    )
    btc, eth = rows
    assert (btc.size, btc.leverage, btc.reduce_only) == (
        Decimal("0.5"),
        Decimal(10),
        True,
    )
    assert btc.leverage_sys_updated == datetime(2025, 11, 29, tzinfo=UTC)
    assert (eth.size, eth.leverage, eth.leverage_sys_updated) == (
        Decimal(0),
        None,
        None,
    )
    assert cursor == "abc%3D"
    assert parse_positions({"list": [], "nextPageCursor": ""}, P) == ([], None)


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"list": [7]},
        {"list": [{"symbol": "X", "size": 1}]},
        {"list": [{"symbol": "X", "size": "lots"}]},
        {"list": [{"symbol": "X", "leverage": "NaN"}]},
    ],
)
def test_malformed_position_rows(result: dict[str, Any]) -> None:
    with pytest.raises(ResponseDecodeError):
        parse_positions(result, P)
