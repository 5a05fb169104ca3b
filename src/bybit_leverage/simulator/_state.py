"""Accounts (UIDs) and their per-symbol leverage, position mode and position value."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Final

from attrs import define, field

from bybit_leverage.simulator._market import SimInstrument, Universe

__all__ = ["MarginMode", "SimAccount", "SymbolState"]

#: Leverage a fresh account holds on a symbol (or the symbol's maximum, if lower).
DEFAULT_LEVERAGE: Final = Decimal(10)


class MarginMode(enum.StrEnum):
    """An account's margin mode."""

    CROSS = "cross"
    ISOLATED = "isolated"
    PORTFOLIO = "portfolio"


@define
class SymbolState:
    """One account's settings on one symbol."""

    buy: Decimal
    sell: Decimal
    hedge: bool = False
    position_value: Decimal = Decimal(0)


@define
class SimAccount:
    """One simulated account (UID) with its API key and per-symbol state.

    HMAC accounts have ``api_secret``; RSA accounts have ``rsa_public_key`` (PEM)
    and no secret. State for a symbol is created on first use with the default
    leverage (10, or the symbol's maximum when that is lower), one-way mode and
    no position.

    Attributes:
        uid: The account id.
        api_key: The public API key.
        api_secret: The HMAC secret (``None`` for an RSA key).
        rsa_public_key: The uploaded RSA public key in PEM form, for RSA keys.
    """

    uid: int
    api_key: str
    _universe: Universe = field(repr=False, alias="universe")
    api_secret: str | None = field(default=None, repr=False)
    rsa_public_key: str | None = field(default=None, repr=False)
    _margin_mode: MarginMode = field(default=MarginMode.CROSS, alias="margin_mode")
    _symbols: dict[str, SymbolState] = field(factory=dict, repr=False, init=False)

    @property
    def margin_mode(self) -> MarginMode:
        """The account's margin mode (cross by default)."""
        return self._margin_mode

    def set_margin_mode(self, mode: MarginMode | str) -> None:
        """Switch the account to ``cross``, ``isolated`` or ``portfolio`` margin.

        Raises:
            ValueError: For an unknown mode.
        """
        self._margin_mode = MarginMode(mode)

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

    def set_position_value(self, symbol: str, value: Decimal | int | str) -> None:
        """Set the position value, which selects the risk tier.

        Raises:
            ValueError: For a negative value.
        """
        number = Decimal(value)
        if number < 0:
            raise ValueError(f"position value must be >= 0, got {number}")
        self.state(symbol).position_value = number

    def max_leverage(self, symbol: str) -> Decimal:
        """Return the highest leverage the symbol's current risk tier allows."""
        return self.instrument(symbol).tier_max(self.position_value(symbol))
