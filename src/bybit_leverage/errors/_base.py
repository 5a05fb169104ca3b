"""The exception classes that are not exchange answers, and the two umbrellas.

The whole tree, drawn, is in ``bybit_leverage.errors``' docstring.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from attrs import field, frozen

if TYPE_CHECKING:  # models never imports errors: the arrow points one way
    from bybit_leverage.models import LeverageFilter

__all__ = [
    "BatchFailed",
    "BybitError",
    "ClientClosed",
    "ConfigurationError",
    "ConnectionFailed",
    "DuplicateSymbol",
    "HTTPStatusError",
    "IPRateLimited",
    "Interrupted",
    "InvalidLeverage",
    "LeverageMismatch",
    "MissingCredentials",
    "OpenPosition",
    "PositionModeMismatch",
    "RefusedLocally",
    "RequestFailed",
    "RequestTimeout",
    "ResponseDecodeError",
    "SymbolNotTradable",
    "TargetError",
    "TransportError",
    "UnknownSymbol",
]


class BybitError(Exception):
    """Base class for every error raised by this package."""


class RefusedLocally(BybitError):
    """Refused before anything was sent: the exchange never saw this request."""


class RequestFailed(BybitError):
    """The request went to Bybit (or toward it) and failed.

    Transport failures, non-200 statuses, undecodable bodies and non-zero
    ``retCode`` answers all derive from it.
    """


@frozen
class ConfigurationError(BybitError, ValueError):
    """The client was configured in a way that cannot work."""

    message: str

    def __str__(self) -> str:
        return self.message


@frozen
class MissingCredentials(ConfigurationError):
    """A private endpoint was called on a client built without API keys."""


@frozen
class ClientClosed(BybitError, RuntimeError):
    """The client was used after ``aclose()``."""

    def __str__(self) -> str:
        return "this BybitClient is closed; create a new one"


@frozen
class InvalidLeverage(RefusedLocally, ValueError):
    """A leverage value was refused before anything was sent.

    Attributes:
        value: The value as the caller gave it (its ``repr``).
        reason: Why it was refused.
        symbol: The symbol it was meant for, when known.
        allowed: The symbol's leverage filter, when known.
    """

    value: str
    reason: str
    symbol: str | None = None
    allowed: LeverageFilter | None = None

    def __str__(self) -> str:
        where = f"{self.symbol}: " if self.symbol else ""
        rule = f"; allowed: {self.allowed}" if self.allowed is not None else ""
        return f"{where}leverage {self.value} refused: {self.reason}{rule}"


@frozen
class PositionModeMismatch(RefusedLocally, ValueError):
    """Buy and sell leverage differ where the position mode needs them equal.

    Attributes:
        symbol: The symbol.
        buy: Requested buy-side leverage.
        sell: Requested sell-side leverage.
        reason: Which rule forbids it (one-way mode, cross margin, ...).
    """

    symbol: str
    buy: Decimal
    sell: Decimal
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.symbol}: buy leverage {self.buy} != sell leverage {self.sell}, "
            f"but {self.reason}"
        )


@frozen
class DuplicateSymbol(RefusedLocally, ValueError):
    """A batch names the same symbol more than once (nothing was sent)."""

    symbols: tuple[str, ...]

    def __str__(self) -> str:
        repeated = ", ".join(self.symbols)
        return f"each symbol may appear once per batch; repeated: {repeated}"


@frozen
class TargetError(RefusedLocally, ValueError):
    """A target could not be read; ``where`` names the argument, line or item."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@frozen
class UnknownSymbol(RefusedLocally, LookupError):
    """The symbol is not listed in the category.

    Attributes:
        symbol: The symbol asked for.
        category: The category searched.
        suggestions: Listed symbols that look close, best first.
    """

    symbol: str
    category: str
    suggestions: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"unknown {self.category} symbol {self.symbol!r}"
        if self.suggestions:
            text += f"; did you mean {', '.join(self.suggestions)}?"
        return text


@frozen
class SymbolNotTradable(RefusedLocally):
    """The symbol is listed but its status does not allow setting leverage."""

    symbol: str
    status: str

    def __str__(self) -> str:
        return f"{self.symbol} is not tradable (status {self.status})"


@frozen
class OpenPosition(RefusedLocally):
    """The symbol holds an open position and the batch asked to leave those alone.

    Changing leverage moves an isolated position's liquidation price, so
    ``only_flat=True`` refuses these symbols (nothing is sent for them).
    """

    symbol: str
    size: Decimal

    def __str__(self) -> str:
        return (
            f"{self.symbol} holds an open position (size {self.size}); "
            "left alone because only flat symbols were asked for"
        )


@frozen(slots=False)  # slots would clash with OSError's layout
class TransportError(RequestFailed):
    """No usable HTTP answer: the connection failed, broke or timed out."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@frozen(slots=False)  # slots would clash with OSError's layout
class ConnectionFailed(TransportError, ConnectionError):
    """The connection could not be made or was reset."""


@frozen(slots=False)  # slots would clash with OSError's layout
class RequestTimeout(TransportError, TimeoutError):
    """The request did not complete within the client's timeout."""


@frozen
class HTTPStatusError(RequestFailed):
    """Bybit (or the CDN in front of it) answered with a non-200 HTTP status.

    Attributes:
        status: The HTTP status code.
        path: The request path.
        body: The start of the response body, for diagnosis (may be HTML).
    """

    status: int
    path: str
    body: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.path}: HTTP {self.status}"


@frozen
class IPRateLimited(HTTPStatusError):
    """HTTP 403: the IP went over 600 requests per 5 s (or the region is blocked)."""


@frozen
class ResponseDecodeError(RequestFailed):
    """The response was not the JSON envelope (or result shape) Bybit documents."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: cannot decode response: {self.reason}"


@frozen
class BatchFailed(BybitError):
    """Some symbols of a batch were rejected or failed.

    Attributes:
        failures: ``(symbol, error)`` for each symbol that did not reach its target.
        total: How many symbols the batch had.
    """

    failures: tuple[tuple[str, BybitError | None], ...]
    total: int

    def __str__(self) -> str:
        shown = "; ".join(f"{symbol}: {error}" for symbol, error in self.failures[:5])
        more = len(self.failures) - 5
        tail = f"; and {more} more" if more > 0 else ""
        return f"{len(self.failures)} of {self.total} symbols failed: {shown}{tail}"


@frozen
class Interrupted(BybitError):
    """The batch stopped (cancelled, or its task died) before this symbol settled.

    Attributes:
        symbol: The symbol.
        sent: Whether its request had gone out (it may then have landed).
    """

    symbol: str
    sent: bool

    def __str__(self) -> str:
        if self.sent:
            return f"{self.symbol}: the batch stopped while its request was in flight"
        return f"{self.symbol}: the batch stopped before it was sent"


@frozen
class LeverageMismatch(BybitError):
    """Read back after the batch, the exchange holds another leverage than the target.

    Attributes:
        symbol: The symbol.
        expected: ``(buy, sell)`` the batch meant to leave in force.
        actual: ``(buy, sell)`` the exchange holds.
    """

    symbol: str
    expected: tuple[Decimal | None, Decimal | None]
    actual: tuple[Decimal | None, Decimal | None]

    def __str__(self) -> str:
        def side(pair: tuple[Decimal | None, Decimal | None]) -> str:
            buy, sell = pair
            return str(buy) if buy == sell else f"{buy}/{sell}"

        return (
            f"{self.symbol}: read back {side(self.actual)}, "
            f"expected {side(self.expected)}"
        )
