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
    │   ├── PositionModeMismatch (ValueError)  buy != sell where the modes forbid it
    │   ├── DuplicateSymbol (ValueError)     a batch names a symbol twice
    │   ├── TargetError (ValueError)         a target argument or file row is unreadable
    │   ├── UnknownSymbol (LookupError)      not listed; carries close matches
    │   ├── SymbolNotTradable                listed, but not in Trading status
    │   └── OpenPosition                     only_flat, and the symbol holds a position
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
    │       ├── ExchangeServerError          10000, 10016
    │       ├── RateLimitError               10006
    │       ├── AuthenticationError          the key cannot be used here
    │       │   ├── InvalidApiKey            10003 (names the host)
    │       │   ├── InvalidSignature         10004
    │       │   ├── PermissionDenied         10005, or a read-only key
    │       │   ├── IPNotAllowed             10010
    │       │   └── ApiKeyExpired            33004
    │       ├── AccountTypeMismatch
    │       │   ├── UnifiedAccountRequired   10028
    │       │   └── UnifiedAccountForbidden  100028
    │       ├── RiskLimitExceeded            110013 (carries the allowed maximum)
    │       ├── PositionExists               110024
    │       ├── PositionModeNotModified      110025
    │       ├── MarginModeNotModified        110026
    │       ├── OpenOrdersExist              110028
    │       ├── HedgeModeUnavailable         110029
    │       ├── CrossMarginForbidsLeverage   110036
    │       ├── PortfolioMarginUnsupported   110038, 110077
    │       ├── MarginCheckFailed            110044, 110045, 110046
    │       ├── MarginModeFailed             110073, 3400045 (carries the reasons)
    │       └── ContractNotLive              110074
    ├── Interrupted                          the batch stopped before the symbol settled
    ├── LeverageMismatch                     read back, the exchange holds another value
    └── BatchFailed                          a batch had rejected or failed symbols

Two umbrellas answer the questions a caller asks most: ``except RequestFailed``
catches "it went to Bybit (or toward it) and failed", ``except RefusedLocally``
catches "refused here, nothing was sent".

``retCode`` 110043 ("leverage not modified") is not in the tree: it means the
leverage already has the requested value, and is reported as a success. Every
retCode the package knows is in :data:`RET_CODES` with its class and retry class.
Errors carry data as attributes; no caller ever needs to parse their text.
"""

from __future__ import annotations

from bybit_leverage.errors._api import (
    RET_CODES,
    AccountTypeMismatch,
    APIError,
    ApiKeyExpired,
    AuthenticationError,
    CodeInfo,
    ContractNotLive,
    CrossMarginForbidsLeverage,
    ExchangeServerError,
    HedgeModeUnavailable,
    InvalidApiKey,
    InvalidSignature,
    IPNotAllowed,
    MarginCheckFailed,
    MarginModeFailed,
    MarginModeNotModified,
    OpenOrdersExist,
    ParameterError,
    PermissionDenied,
    PortfolioMarginUnsupported,
    PositionExists,
    PositionModeNotModified,
    RateLimitError,
    Retry,
    RiskLimitExceeded,
    TimestampError,
    UnifiedAccountForbidden,
    UnifiedAccountRequired,
    error_for_ret_code,
    parse_risk_limit_max,
)
from bybit_leverage.errors._base import (
    BatchFailed,
    BybitError,
    ClientClosed,
    ConfigurationError,
    ConnectionFailed,
    DuplicateSymbol,
    HTTPStatusError,
    Interrupted,
    InvalidLeverage,
    IPRateLimited,
    LeverageMismatch,
    MissingCredentials,
    OpenPosition,
    PositionModeMismatch,
    RefusedLocally,
    RequestFailed,
    RequestTimeout,
    ResponseDecodeError,
    SymbolNotTradable,
    TargetError,
    TransportError,
    UnknownSymbol,
)

__all__ = [
    "RET_CODES",
    "APIError",
    "AccountTypeMismatch",
    "ApiKeyExpired",
    "AuthenticationError",
    "BatchFailed",
    "BybitError",
    "ClientClosed",
    "CodeInfo",
    "ConfigurationError",
    "ConnectionFailed",
    "ContractNotLive",
    "CrossMarginForbidsLeverage",
    "DuplicateSymbol",
    "ExchangeServerError",
    "HTTPStatusError",
    "HedgeModeUnavailable",
    "IPNotAllowed",
    "IPRateLimited",
    "Interrupted",
    "InvalidApiKey",
    "InvalidLeverage",
    "InvalidSignature",
    "LeverageMismatch",
    "MarginCheckFailed",
    "MarginModeFailed",
    "MarginModeNotModified",
    "MissingCredentials",
    "OpenOrdersExist",
    "OpenPosition",
    "ParameterError",
    "PermissionDenied",
    "PortfolioMarginUnsupported",
    "PositionExists",
    "PositionModeMismatch",
    "PositionModeNotModified",
    "RateLimitError",
    "RefusedLocally",
    "RequestFailed",
    "RequestTimeout",
    "ResponseDecodeError",
    "Retry",
    "RiskLimitExceeded",
    "SymbolNotTradable",
    "TargetError",
    "TimestampError",
    "TransportError",
    "UnifiedAccountForbidden",
    "UnifiedAccountRequired",
    "UnknownSymbol",
    "error_for_ret_code",
    "parse_risk_limit_max",
]

# Show (and pickle) every class under the public path users import it from.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
