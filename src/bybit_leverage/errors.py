"""Every exception this package raises, in one tree.

Exchange answers (``retCode``) and HTTP status codes are separate branches: one says
what Bybit decided, the other what the HTTP layer in front of it did. Where the
meaning matches a builtin, the builtin is mixed in, so ``except ValueError`` still
catches bad leverage and ``except TimeoutError`` still catches a timeout::

    BybitError
    ├── ConfigurationError (ValueError)      bad client settings
    │   └── MissingCredentials               a private call with no keys
    ├── ClientClosed (RuntimeError)          the client was used after aclose()
    ├── RefusedLocally                       refused before sending: nothing was sent
    │   ├── InvalidLeverage (ValueError)     bad number, range, grid
    │   ├── PositionModeMismatch (ValueError)  buy != sell where the mode forbids it
    │   ├── DuplicateSymbol (ValueError)     a batch names a symbol twice
    │   ├── TargetError (ValueError)         a target argument or file row is unreadable
    │   ├── UnknownSymbol (LookupError)      not listed; carries close matches
    │   └── SymbolNotTradable                listed, but not in Trading status
    ├── RequestFailed                        the request went to Bybit and failed
    │   ├── TransportError                   no usable HTTP answer
    │   │   ├── ConnectionFailed (ConnectionError)
    │   │   └── RequestTimeout (TimeoutError)
    │   ├── HTTPStatusError                  non-200 status (429, 5xx, 404, ...)
    │   │   └── IPRateLimited                403: IP limit (or region block)
    │   ├── ResponseDecodeError              a body that is not a valid envelope
    │   └── APIError                         HTTP 200 with retCode != 0
    │       ├── ParameterError               10001
    │       ├── TimestampError               10002
    │       ├── AuthenticationError          10003, 10004, 10005, 10010
    │       ├── RateLimitError               10006
    │       ├── ExchangeServerError          10000, 10016
    │       ├── RiskLimitExceeded            110013 (carries the allowed maximum)
    │       ├── PortfolioMarginUnsupported   110038, 110077
    │       └── ContractNotLive              110074
    └── BatchFailed                          a batch had rejected or failed symbols

Two umbrellas answer the questions a caller asks most: ``except RequestFailed``
catches "it went to Bybit (or toward it) and failed", ``except RefusedLocally``
catches "refused here, nothing was sent".

``retCode`` 110043 ("leverage not modified") is not in the tree: it means the
leverage already has the requested value, and is reported as a success.
Errors carry data as attributes; no caller ever needs to parse their text.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from attrs import field, frozen

from bybit_leverage import _constants as c

if TYPE_CHECKING:  # models never imports errors: the arrow points one way
    from bybit_leverage.models import LeverageFilter

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchFailed",
    "BybitError",
    "ClientClosed",
    "ConfigurationError",
    "ConnectionFailed",
    "ContractNotLive",
    "DuplicateSymbol",
    "ExchangeServerError",
    "HTTPStatusError",
    "IPRateLimited",
    "InvalidLeverage",
    "MissingCredentials",
    "ParameterError",
    "PortfolioMarginUnsupported",
    "PositionModeMismatch",
    "RateLimitError",
    "RefusedLocally",
    "RequestFailed",
    "RequestTimeout",
    "ResponseDecodeError",
    "RiskLimitExceeded",
    "SymbolNotTradable",
    "TargetError",
    "TimestampError",
    "TransportError",
    "UnknownSymbol",
    "error_for_ret_code",
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
class APIError(RequestFailed):
    """Bybit answered HTTP 200 with a non-zero ``retCode``."""

    ret_code: int
    ret_msg: str
    path: str

    def __str__(self) -> str:
        return f"{self.path}: retCode={self.ret_code} {self.ret_msg!r}"


@frozen
class ParameterError(APIError):
    """10001: a parameter was refused (bad symbol, range or buy/sell mismatch)."""


@frozen
class TimestampError(APIError):
    """10002: the request timestamp fell outside the server's receive window."""


@frozen
class AuthenticationError(APIError):
    """10003/10004/10005/10010: bad key, bad signature, no permission or wrong IP."""


@frozen
class RateLimitError(APIError):
    """10006: the per-account rate limit of the endpoint was exceeded.

    Attributes:
        reset_at_ms: When the window resets (epoch ms), from
            ``X-Bapi-Limit-Reset-Timestamp``, if the header came.
    """

    reset_at_ms: int | None = None


@frozen
class ExchangeServerError(APIError):
    """10000/10016: a transient server-side failure; safe to retry."""


_RISK_LIMIT_RE: Final = re.compile(r"gt maxLeverage \[(\d+)\]")


@frozen
class RiskLimitExceeded(APIError):
    """110013: the leverage is above what the position's risk tier allows.

    Attributes:
        allowed_max: The highest leverage the tier allows, parsed from the
            message (Bybit writes it as leverage x 100), or ``None`` when the
            message does not carry it.
    """

    allowed_max: Decimal | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.allowed_max is not None:
            text += f" (allowed maximum {self.allowed_max})"
        return text


@frozen
class PortfolioMarginUnsupported(APIError):
    """110038/110077: the account's portfolio margin mode forbids this call."""


@frozen
class ContractNotLive(APIError):
    """110074: the contract is not live (pre-launch, delivering or closed)."""


_BY_CODE: Final[dict[int, type[APIError]]] = {
    c.SERVER_TIMEOUT: ExchangeServerError,
    c.PARAM_ERROR: ParameterError,
    c.TIMESTAMP_ERROR: TimestampError,
    c.INVALID_API_KEY: AuthenticationError,
    c.INVALID_SIGNATURE: AuthenticationError,
    c.PERMISSION_DENIED: AuthenticationError,
    c.UNMATCHED_IP: AuthenticationError,
    c.TOO_MANY_VISITS: RateLimitError,
    c.SERVER_ERROR: ExchangeServerError,
    c.PORTFOLIO_MARGIN_FORBIDS: PortfolioMarginUnsupported,
    c.PORTFOLIO_MARGIN_UNSUPPORTED: PortfolioMarginUnsupported,
    c.CONTRACT_NOT_LIVE: ContractNotLive,
}


def parse_risk_limit_max(ret_msg: str) -> Decimal | None:
    """Return the allowed maximum leverage carried by a 110013 message, if any.

    Bybit writes leverage x 100: ``... gt maxLeverage [2000] by risk limit`` is 20x.
    """
    match = _RISK_LIMIT_RE.search(ret_msg)
    if match is None:
        return None
    return Decimal(match.group(1)) / 100


def error_for_ret_code(
    ret_code: int, ret_msg: str, path: str, *, reset_at_ms: int | None = None
) -> APIError:
    """Build the most specific :class:`APIError` for a non-zero ``retCode``.

    The class is chosen by code alone; the message is only mined for the numbers
    a caller needs (the 110013 allowed maximum).
    """
    if ret_code == c.RISK_LIMIT_EXCEEDED:
        return RiskLimitExceeded(ret_code, ret_msg, path, parse_risk_limit_max(ret_msg))
    if ret_code == c.TOO_MANY_VISITS:
        return RateLimitError(ret_code, ret_msg, path, reset_at_ms)
    return _BY_CODE.get(ret_code, APIError)(ret_code, ret_msg, path)
