"""Accounts (UIDs), their API keys, and each account's per-symbol state.

An account is a unified trading account (https://bybit-exchange.github.io/docs/v5/acct-mode):
its margin mode belongs to the whole account (``ISOLATED_MARGIN``,
``REGULAR_MARGIN`` = cross, ``PORTFOLIO_MARGIN``), its position mode belongs to
each symbol. An account holds one or more API keys; every key of a UID shares
that UID's rate budget, as Bybit limits per UID
(https://bybit-exchange.github.io/docs/v5/rate-limit). A sub-account is a
separate UID with its own keys and budget.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from attrs import define, field

from bybit_leverage.simulator._market import SimInstrument, Universe

__all__ = [
    "UNIFIED_STATUSES",
    "MarginMode",
    "SimAccount",
    "SimKey",
    "SymbolState",
]

#: Leverage a fresh account holds on a symbol (or the symbol's maximum, if lower).
DEFAULT_LEVERAGE: Final = Decimal(10)
#: ``unifiedMarginStatus`` values (https://bybit-exchange.github.io/docs/v5/account/account-info).
UNIFIED_STATUSES: Final = {
    1: "classic account",
    3: "UTA 1.0",
    4: "UTA 1.0 Pro",
    5: "UTA 2.0",
    6: "UTA 2.0 Pro",
}
#: What ``permissions.ContractTrade`` holds for a key that may trade and set leverage.
CONTRACT_TRADE: Final = ("Order", "Position")
#: Keys without an IP binding expire after this long (Bybit's 90 days).
UNBOUND_KEY_LIFETIME: Final = timedelta(days=90)


class MarginMode(enum.StrEnum):
    """An account's margin mode, spelled as ``/v5/account/info`` spells it.

    The older lower-case names (``cross``, ``isolated``, ``portfolio``) are
    accepted too: ``MarginMode("cross") is MarginMode.CROSS``.
    """

    CROSS = "REGULAR_MARGIN"
    ISOLATED = "ISOLATED_MARGIN"
    PORTFOLIO = "PORTFOLIO_MARGIN"

    @classmethod
    def _missing_(cls, value: object) -> MarginMode | None:
        if not isinstance(value, str):
            return None
        aliases = {
            "cross": cls.CROSS,
            "regular": cls.CROSS,
            "isolated": cls.ISOLATED,
            "portfolio": cls.PORTFOLIO,
        }
        text = value.lower()
        return aliases.get(text.removesuffix("_margin")) or aliases.get(text)


@define
class SymbolState:
    """One account's settings on one symbol.

    Attributes:
        buy: Leverage of the buy side (or of the one-way position).
        sell: Leverage of the sell side.
        hedge: Hedge (two-way) mode.
        position_value: Value of the open position in USD; 0 is none.
        side: ``Buy`` or ``Sell``: the side the open position is on.
        reduce_only: Whether the position is reduce-only (``isReduceOnly``).
        sys_updated_ms: When the exchange last lowered the leverage itself
            (``leverageSysUpdatedTime``, epoch ms), or ``None``.
    """

    buy: Decimal
    sell: Decimal
    hedge: bool = False
    position_value: Decimal = Decimal(0)
    side: str = "Buy"
    reduce_only: bool = False
    sys_updated_ms: int | None = None


@define
class SimKey:
    """One API key: its secret or RSA public key, permissions, IP binding, expiry.

    Attributes:
        api_key: The public key.
        uid: The account the key belongs to.
        api_secret: The HMAC secret (``None`` for an RSA key).
        rsa_public_key: The uploaded RSA public key in PEM form, for RSA keys.
        read_only: A read-only key: reads work, set-leverage answers 10005.
        contract_trade: ``permissions.ContractTrade``; without ``Position``
            set-leverage answers 10005.
        ips: IP addresses the key is bound to; empty means any IP (``*``).
            From any other address every private call answers 10010.
        expired: Whether the key has expired: every private call answers 33004.
        created_ms: When the key was made (epoch ms).
        note: The key's remark.
    """

    api_key: str
    uid: int
    api_secret: str | None = field(default=None, repr=False)
    rsa_public_key: str | None = field(default=None, repr=False)
    read_only: bool = False
    contract_trade: tuple[str, ...] = CONTRACT_TRADE
    ips: tuple[str, ...] = ()
    expired: bool = False
    created_ms: int = field(factory=lambda: int(time.time() * 1000))
    note: str = ""

    @property
    def may_set_leverage(self) -> bool:
        """Whether set-leverage is allowed (read-write with ``Position``)."""
        return not self.read_only and "Position" in self.contract_trade

    def allows_ip(self, address: str) -> bool:
        """Whether a request from ``address`` may use the key."""
        return not self.ips or "*" in self.ips or address in self.ips

    def expires_at(self) -> datetime | None:
        """When the key expires (keys bound to IPs never do)."""
        if self.ips:
            return None
        created = datetime.fromtimestamp(self.created_ms / 1000, UTC)
        return created + UNBOUND_KEY_LIFETIME


def make_key_text(rng: random.Random, length: int) -> str:
    """Return a key or secret of upper-case letters and digits."""
    return "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=length))


@define
class SimAccount:
    """One simulated account (UID): its keys, account settings and symbols.

    State for a symbol is created on first use with the default leverage (10,
    or the symbol's maximum when that is lower), one-way mode and no position.

    Attributes:
        uid: The account id.
        keys: The account's API keys; the first is its primary key.
        parent_uid: The master account's UID for a sub-account, else ``None``.
    """

    uid: int
    _universe: Universe = field(repr=False, alias="universe")
    keys: list[SimKey] = field(factory=list)
    _margin_mode: MarginMode = field(
        default=MarginMode.CROSS, alias="margin_mode", converter=MarginMode
    )
    _unified_status: int = field(default=5, alias="unified_status")
    parent_uid: int | None = None
    updated_ms: int = field(factory=lambda: int(time.time() * 1000))
    _symbols: dict[str, SymbolState] = field(factory=dict, repr=False, init=False)

    def __attrs_post_init__(self) -> None:
        self.set_unified_status(self._unified_status)

    # -- keys -----------------------------------------------------------------

    @property
    def key(self) -> SimKey:
        """The primary (first) API key (every account is made with one)."""
        return self.keys[0]

    @property
    def api_key(self) -> str:
        """The primary key's public part."""
        return self.key.api_key

    @property
    def api_secret(self) -> str | None:
        """The primary key's HMAC secret (``None`` for an RSA key)."""
        return self.key.api_secret

    @property
    def rsa_public_key(self) -> str | None:
        """The primary key's RSA public key (PEM), for RSA keys."""
        return self.key.rsa_public_key

    # -- account settings ----------------------------------------------------------

    @property
    def margin_mode(self) -> MarginMode:
        """The account's margin mode (cross, ``REGULAR_MARGIN``, by default)."""
        return self._margin_mode

    def set_margin_mode(self, mode: MarginMode | str) -> None:
        """Switch the whole account's margin mode.

        Raises:
            ValueError: For an unknown mode.
        """
        self._margin_mode = MarginMode(mode)
        self.updated_ms = int(time.time() * 1000)

    @property
    def unified_status(self) -> int:
        """``unifiedMarginStatus``: 1 classic, 3/4 UTA 1.0 (pro), 5/6 UTA 2.0 (pro)."""
        return self._unified_status

    def set_unified_status(self, status: int) -> None:
        """Set ``unifiedMarginStatus``.

        Raises:
            ValueError: For a value Bybit does not use.
        """
        if status not in UNIFIED_STATUSES:
            raise ValueError(
                f"unified status must be one of {sorted(UNIFIED_STATUSES)}, "
                f"got {status}"
            )
        self._unified_status = status

    # -- symbols ------------------------------------------------------------------

    def instrument(self, symbol: str) -> SimInstrument:
        """Return the listed instrument ``symbol``.

        Raises:
            KeyError: If the symbol is not listed.
        """
        found = self._universe.by_symbol.get(symbol)
        if found is None:
            raise KeyError(f"symbol {symbol!r} is not listed")
        return found

    def state(self, symbol: str) -> SymbolState:
        """Return (creating on first use) this account's state for ``symbol``.

        Raises:
            KeyError: If the symbol is not listed.
        """
        found = self._symbols.get(symbol)
        if found is None:
            rule = self.instrument(symbol).instrument.leverage_filter
            default = min(DEFAULT_LEVERAGE, rule.max_leverage)
            found = self._symbols[symbol] = SymbolState(default, default)
        return found

    def open_positions(self) -> Iterable[str]:
        """Symbols with an open position, in symbol order."""
        return sorted(s for s, st in self._symbols.items() if st.position_value > 0)

    def leverage(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Return the ``(buy, sell)`` leverage on ``symbol``."""
        state = self.state(symbol)
        return state.buy, state.sell

    def set_leverage_state(
        self, symbol: str, buy: Decimal | int | str, sell: Decimal | int | str
    ) -> None:
        """Set the leverage directly, bypassing every exchange rule (test setup)."""
        state = self.state(symbol)
        state.buy, state.sell = Decimal(buy), Decimal(sell)

    def is_hedge(self, symbol: str) -> bool:
        """Whether ``symbol`` is in hedge (two-way) mode for this account."""
        return self.state(symbol).hedge

    def set_position_mode(self, symbol: str, *, hedge: bool = True) -> None:
        """Put ``symbol`` in hedge mode (``hedge=True``) or one-way mode.

        Raises:
            KeyError: If the symbol is not listed.
            ValueError: For hedge mode on anything but a USDT perpetual.
        """
        if hedge and not self.instrument(symbol).hedge_capable:
            raise ValueError(f"hedge mode exists only for USDT perpetuals: {symbol}")
        self.state(symbol).hedge = hedge

    def position_value(self, symbol: str) -> Decimal:
        """Return the position value (USD) on ``symbol``; 0 means no position."""
        return self.state(symbol).position_value

    def set_position_value(
        self, symbol: str, value: Decimal | int | str, *, side: str = "Buy"
    ) -> None:
        """Open (or with 0, close) a position worth ``value``; it selects the risk tier.

        Raises:
            ValueError: For a negative value or a side other than Buy or Sell.
        """
        number = Decimal(value)
        if number < 0:
            raise ValueError(f"position value must be >= 0, got {number}")
        if side not in ("Buy", "Sell"):
            raise ValueError(f"side must be Buy or Sell, got {side!r}")
        state = self.state(symbol)
        state.position_value, state.side = number, side

    def position_size(self, symbol: str) -> Decimal:
        """The open position's size: value / mark price, on the lot step."""
        listed = self.instrument(symbol)
        value = self.state(symbol).position_value
        if not value:
            return Decimal(0)
        step = listed.qty_step
        lots = (value / listed.mark_price / step).to_integral_value(ROUND_FLOOR)
        return max(lots, Decimal(1)) * step

    def set_reduce_only(self, symbol: str, reduce_only: bool = True) -> None:
        """Mark the position reduce-only (``isReduceOnly``) or clear the mark."""
        self.state(symbol).reduce_only = reduce_only

    def lower_leverage(
        self, symbol: str, leverage: Decimal | int | str, *, at_ms: int | None = None
    ) -> None:
        """Lower the leverage as Bybit's risk system does when it cuts a risk limit.

        Both sides above ``leverage`` come down to it, and the position rows
        carry ``leverageSysUpdatedTime`` = ``at_ms`` (now by default).

        Raises:
            ValueError: For a leverage outside the symbol's filter.
        """
        value = Decimal(leverage)
        rule = self.instrument(symbol).instrument.leverage_filter
        if not rule.min_leverage <= value <= rule.max_leverage:
            raise ValueError(
                f"leverage {value} is outside [{rule.min_leverage}, "
                f"{rule.max_leverage}] for {symbol}"
            )
        state = self.state(symbol)
        state.buy, state.sell = min(state.buy, value), min(state.sell, value)
        state.sys_updated_ms = int(time.time() * 1000) if at_ms is None else at_ms

    def max_leverage(self, symbol: str) -> Decimal:
        """Return the highest leverage the symbol's current risk tier allows."""
        return self.instrument(symbol).tier_max(self.position_value(symbol))
