"""Exchange answers: ``APIError`` and one class per retCode this package acts on.

The catalogue (:data:`RET_CODES`) maps each retCode to its class and its retry
class: what the request core may do about it. Codes and their meanings are from
Bybit's error page (https://bybit-exchange.github.io/docs/v5/error) and the
pages of the endpoints that return them. The class is chosen by code alone; a
message is only mined for numbers a caller needs (the 110013 allowed maximum),
and a result only for its documented fields (3400045's ``reasons``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final

from attrs import frozen

from bybit_leverage.errors._base import RequestFailed

__all__ = [
    "RET_CODES",
    "APIError",
    "AccountTypeMismatch",
    "ApiKeyExpired",
    "AuthenticationError",
    "CodeInfo",
    "ContractNotLive",
    "CrossMarginForbidsLeverage",
    "ExchangeServerError",
    "HedgeModeUnavailable",
    "IPNotAllowed",
    "InvalidApiKey",
    "InvalidSignature",
    "MarginCheckFailed",
    "MarginModeFailed",
    "MarginModeNotModified",
    "OpenOrdersExist",
    "ParameterError",
    "PermissionDenied",
    "PortfolioMarginUnsupported",
    "PositionExists",
    "PositionModeNotModified",
    "RateLimitError",
    "Retry",
    "RiskLimitExceeded",
    "TimestampError",
    "UnifiedAccountForbidden",
    "UnifiedAccountRequired",
    "error_for_ret_code",
    "parse_risk_limit_max",
]


class Retry(enum.Enum):
    """What may be done about an answer: its retry class."""

    NEVER = "never"
    """The same request would fail the same way: surface it."""
    BACKOFF = "backoff"
    """Transient trouble at Bybit: retry after a capped, jittered backoff."""
    RESYNC = "resync"
    """The timestamp fell outside the window: measure the clock again, retry once."""
    WAIT = "wait"
    """The rate-limit window is spent: wait for its reset, then retry."""


@frozen
class APIError(RequestFailed):
    """Bybit answered HTTP 200 with a non-zero ``retCode``."""

    retry: ClassVar[Retry] = Retry.NEVER

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

    retry: ClassVar[Retry] = Retry.RESYNC


@frozen
class ExchangeServerError(APIError):
    """10000/10016: a transient server-side failure; safe to retry."""

    retry: ClassVar[Retry] = Retry.BACKOFF


@frozen
class RateLimitError(APIError):
    """10006: the per-account rate limit of the endpoint was exceeded.

    Attributes:
        reset_at_ms: When the window resets (epoch ms), from
            ``X-Bapi-Limit-Reset-Timestamp``, if the header came.
    """

    retry: ClassVar[Retry] = Retry.WAIT

    reset_at_ms: int | None = None


@frozen
class AuthenticationError(APIError):
    """The key cannot be used here: unknown, wrongly signed, not permitted, expired.

    A batch checks its key before the first write and raises one of these
    instead of sending anything.
    """


@frozen
class InvalidApiKey(AuthenticationError):
    """10003: the host does not know this key.

    Attributes:
        host: The host that refused it, when known: keys made for mainnet,
            testnet and demo trading each work on their own host only.
    """

    host: str | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.host is not None:
            text += (
                f": {self.host} does not know this API key; mainnet, testnet and "
                "demo-trading keys each work only on the host they were made on"
            )
        return text


@frozen
class InvalidSignature(AuthenticationError):
    """10004: the signature does not match (a wrong secret, most often)."""


@frozen
class PermissionDenied(AuthenticationError):
    """10005: the key may not do this (read-only, or no position permission)."""


@frozen
class IPNotAllowed(AuthenticationError):
    """10010: the key is bound to other IP addresses."""


@frozen
class ApiKeyExpired(AuthenticationError):
    """33004: the key has expired (keys without an IP binding expire)."""


@frozen
class AccountTypeMismatch(APIError):
    """The endpoint is not for this kind of account (classic or unified)."""


@frozen
class UnifiedAccountRequired(AccountTypeMismatch):
    """10028: only unified (UTA) accounts may call this."""


@frozen
class UnifiedAccountForbidden(AccountTypeMismatch):
    """100028: unified accounts may not call this (e.g. switch-isolated on UTA 2.0)."""


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
class PositionExists(APIError):
    """110024: an open position keeps the position mode from switching."""


@frozen
class PositionModeNotModified(APIError):
    """110025: the position mode already is the one asked for."""


@frozen
class MarginModeNotModified(APIError):
    """110026: the margin mode already is the one asked for."""


@frozen
class OpenOrdersExist(APIError):
    """110028: open orders keep the position mode from switching."""


@frozen
class HedgeModeUnavailable(APIError):
    """110029: hedge mode is not available for this symbol."""


@frozen
class CrossMarginForbidsLeverage(APIError):
    """110036: cross margin mode does not allow this leverage change."""


@frozen
class PortfolioMarginUnsupported(APIError):
    """110038/110077: the account's portfolio margin mode forbids this call."""


@frozen
class MarginCheckFailed(APIError):
    """110044/110045/110046: margin, balance or liquidation risk refuses the change."""


@frozen
class MarginModeFailed(APIError):
    """110073/3400045: the margin mode could not be set.

    Attributes:
        reasons: ``(reasonCode, reasonMsg)`` pairs from 3400045's
            ``result.reasons``.
    """

    reasons: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        text = super().__str__()
        if self.reasons:
            text += ": " + "; ".join(f"{code} {msg}" for code, msg in self.reasons)
        return text


@frozen
class ContractNotLive(APIError):
    """110074: the contract is not live (pre-launch, delivering or closed)."""


@frozen
class CodeInfo:
    """One catalogue entry: what a retCode means to this package.

    Attributes:
        meaning: Bybit's wording, shortened.
        error: The class raised for it, or ``None`` for a success (110043).
        retry: What may be done about it.
    """

    meaning: str
    error: type[APIError] | None
    retry: Retry


def _entry(meaning: str, error: type[APIError] | None) -> CodeInfo:
    return CodeInfo(meaning, error, Retry.NEVER if error is None else error.retry)


#: Every retCode this package gives a meaning to.
RET_CODES: Final[Mapping[int, CodeInfo]] = MappingProxyType(
    {
        10000: _entry("server timeout", ExchangeServerError),
        10001: _entry("request parameter error", ParameterError),
        10002: _entry("timestamp outside the receive window", TimestampError),
        10003: _entry("API key is invalid", InvalidApiKey),
        10004: _entry("error sign", InvalidSignature),
        10005: _entry("permission denied", PermissionDenied),
        10006: _entry("too many visits", RateLimitError),
        10010: _entry("unmatched IP", IPNotAllowed),
        10016: _entry("internal system error", ExchangeServerError),
        10028: _entry("only for unified accounts", UnifiedAccountRequired),
        33004: _entry("API key expired", ApiKeyExpired),
        100028: _entry("not for unified accounts", UnifiedAccountForbidden),
        110013: _entry("leverage above the risk limit", RiskLimitExceeded),
        110024: _entry("position exists: mode cannot switch", PositionExists),
        110025: _entry("position mode not modified", PositionModeNotModified),
        110026: _entry("margin mode not modified", MarginModeNotModified),
        110028: _entry("open orders: mode cannot switch", OpenOrdersExist),
        110029: _entry("hedge mode not available", HedgeModeUnavailable),
        110036: _entry("cross margin forbids the change", CrossMarginForbidsLeverage),
        110038: _entry(
            "portfolio margin forbids the change", PortfolioMarginUnsupported
        ),
        110043: _entry("leverage not modified (a success)", None),
        110044: _entry("insufficient available margin", MarginCheckFailed),
        110045: _entry("insufficient wallet balance", MarginCheckFailed),
        110046: _entry("would trigger immediate liquidation", MarginCheckFailed),
        110073: _entry("set margin mode failed", MarginModeFailed),
        110074: _entry("contract not live", ContractNotLive),
        110077: _entry("portfolio margin unsupported", PortfolioMarginUnsupported),
        3400045: _entry("set margin mode failed (with reasons)", MarginModeFailed),
    }
)


def parse_risk_limit_max(ret_msg: str) -> Decimal | None:
    """Return the allowed maximum leverage carried by a 110013 message, if any.

    Bybit writes leverage x 100: ``... gt maxLeverage [2000] by risk limit`` is 20x.
    """
    match = _RISK_LIMIT_RE.search(ret_msg)
    if match is None:
        return None
    return Decimal(match.group(1)) / 100


def _reasons(result: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    found = (result or {}).get("reasons")
    if not isinstance(found, list):
        return ()
    return tuple(
        (str(item.get("reasonCode", "")), str(item.get("reasonMsg", "")))
        for item in found
        if isinstance(item, dict)
    )


def error_for_ret_code(
    ret_code: int,
    ret_msg: str,
    path: str,
    *,
    reset_at_ms: int | None = None,
    result: Mapping[str, Any] | None = None,
) -> APIError:
    """Build the most specific :class:`APIError` for a non-zero ``retCode``.

    Args:
        ret_code: The answer's ``retCode``.
        ret_msg: Its ``retMsg``.
        path: The endpoint path.
        reset_at_ms: ``X-Bapi-Limit-Reset-Timestamp``, for a 10006.
        result: The answer's ``result``, for codes that carry details there.
    """
    info = RET_CODES.get(ret_code)
    cls = APIError if info is None or info.error is None else info.error
    if cls is RiskLimitExceeded:
        return RiskLimitExceeded(ret_code, ret_msg, path, parse_risk_limit_max(ret_msg))
    if cls is RateLimitError:
        return RateLimitError(ret_code, ret_msg, path, reset_at_ms)
    if cls is MarginModeFailed:
        return MarginModeFailed(ret_code, ret_msg, path, _reasons(result))
    return cls(ret_code, ret_msg, path)
