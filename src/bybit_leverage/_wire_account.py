"""Wire format of the account answers: account info, API key info, position rows (pure).

* ``GET /v5/account/info``
  (https://bybit-exchange.github.io/docs/v5/account/account-info):
  ``unifiedMarginStatus`` (int), ``marginMode`` (string).
* ``GET /v5/user/query-api``
  (https://bybit-exchange.github.io/docs/v5/user/apikey-info):
  ``userID``, ``readOnly`` (0/1), ``permissions.ContractTrade``, ``ips``,
  ``expiredAt`` (ISO 8601), ``isMaster``, ``parentUid``.
* ``GET /v5/position/list`` (https://bybit-exchange.github.io/docs/v5/position):
  rows with ``symbol``, ``positionIdx``, ``size``, ``side``, ``leverage``,
  ``leverageSysUpdatedTime`` (ms), ``isReduceOnly``; paged by ``nextPageCursor``.

Fields Bybit may leave out or send empty are tolerated; a field that is there
with the wrong type is a :class:`ResponseDecodeError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bybit_leverage.errors import ResponseDecodeError
from bybit_leverage.models import AccountProfile, MarginMode, Position

__all__ = ["parse_account_info", "parse_key_info", "parse_positions"]


def _int(value: object, path: str, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ResponseDecodeError(path, f"{where} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise ResponseDecodeError(path, f"{where} is not an integer") from None


def parse_account_info(result: Mapping[str, Any], path: str) -> AccountProfile:
    """The account half of a profile: margin mode and UTA status.

    An unknown margin mode (Bybit may add one) is ``None``, not an error.
    """
    raw_mode = result.get("marginMode")
    try:
        mode = MarginMode(raw_mode) if isinstance(raw_mode, str) else None
    except ValueError:
        mode = None
    status = _int(
        result.get("unifiedMarginStatus"), path, "$.result.unifiedMarginStatus"
    )
    return AccountProfile(mode, status)


def _expiry(value: object, path: str) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ResponseDecodeError(path, f"$.result.expiredAt {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # An IP-bound key never expires; Bybit reports the epoch (or nothing) then.
    return None if moment.timestamp() <= 0 else moment


def parse_key_info(
    result: Mapping[str, Any], path: str, account: AccountProfile
) -> AccountProfile:
    """Complete ``account`` with what ``query-api`` says of the key."""
    read_only = _int(result.get("readOnly"), path, "$.result.readOnly")
    permissions = result.get("permissions")
    contract = (
        permissions.get("ContractTrade") if isinstance(permissions, dict) else None
    )
    if contract is not None and not isinstance(contract, list):
        raise ResponseDecodeError(path, "$.result.permissions.ContractTrade")
    ips = result.get("ips")
    parent = _int(result.get("parentUid"), path, "$.result.parentUid")
    can_write = None
    if contract is not None:
        can_write = "Position" in contract and not read_only
    master = result.get("isMaster")
    return AccountProfile(
        account.margin_mode,
        account.unified_margin_status,
        uid=_int(result.get("userID"), path, "$.result.userID"),
        read_only=None if read_only is None else bool(read_only),
        can_set_leverage=can_write,
        expires_at=_expiry(result.get("expiredAt"), path),
        ips=tuple(str(ip) for ip in ips) if isinstance(ips, list) else (),
        is_master=master if isinstance(master, bool) else None,
        parent_uid=parent or None,
    )


def _decimal(value: object, path: str, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ResponseDecodeError(path, f"{where} is not a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ResponseDecodeError(
            path, f"{where} is not a decimal: {value!r}"
        ) from None
    if not number.is_finite():
        raise ResponseDecodeError(path, f"{where} is not finite")
    return number


def parse_positions(
    result: Mapping[str, Any], path: str
) -> tuple[list[Position], str | None]:
    """Position rows of one page, and the next page's cursor (``None``: last page).

    Rows with zero size are positions' leverage settings, not open positions;
    they are returned too (``size`` 0), so a caller may read leverage from them.
    """
    rows = result.get("list")
    if not isinstance(rows, list):
        raise ResponseDecodeError(path, "$.result.list is missing or not a list")
    found = []
    for index, row in enumerate(rows):
        where = f"$.result.list[{index}]"
        if not isinstance(row, dict) or not isinstance(row.get("symbol"), str):
            raise ResponseDecodeError(path, f"{where} has no symbol")
        updated = _int(
            row.get("leverageSysUpdatedTime"), path, f"{where}.leverageSysUpdatedTime"
        )
        found.append(
            Position(
                row["symbol"],
                _decimal(row.get("size"), path, f"{where}.size") or Decimal(0),
                str(row.get("side") or ""),
                _int(row.get("positionIdx"), path, f"{where}.positionIdx") or 0,
                _decimal(row.get("leverage"), path, f"{where}.leverage"),
                datetime.fromtimestamp(updated / 1000, UTC) if updated else None,
                row.get("isReduceOnly") is True,
            )
        )
    cursor = result.get("nextPageCursor")
    return found, cursor if isinstance(cursor, str) and cursor else None
