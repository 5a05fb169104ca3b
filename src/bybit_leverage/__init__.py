"""bybit-leverage: set leverage on Bybit V5 perpetuals, safely and fast.

The public names are re-exported here; import them from ``bybit_leverage``.
"""

from __future__ import annotations

from importlib import metadata as _metadata

from bybit_leverage._constants import (
    DEMO,
    MAINNET,
    MAINNET_BYTICK,
    REGIONAL_HOSTS,
    TESTNET,
)
from bybit_leverage._signing import (
    Credentials,
    auth_headers,
    sign_hmac,
    sign_rsa,
    signature_payload,
)
from bybit_leverage.batch import BatchReport, LeverageRequest, PlannedChange
from bybit_leverage.cache import InstrumentCache
from bybit_leverage.client import BybitClient
from bybit_leverage.errors import (
    APIError,
    AuthenticationError,
    BatchFailed,
    BybitError,
    ClientClosed,
    ConfigurationError,
    ConnectionFailed,
    ContractNotLive,
    DuplicateSymbol,
    ExchangeServerError,
    HTTPStatusError,
    InvalidLeverage,
    IPRateLimited,
    MissingCredentials,
    ParameterError,
    PortfolioMarginUnsupported,
    PositionModeMismatch,
    RateLimitError,
    RequestTimeout,
    ResponseDecodeError,
    RiskLimitExceeded,
    SymbolNotTradable,
    TargetError,
    TimestampError,
    TransportError,
    UnknownSymbol,
)
from bybit_leverage.leverage import (
    LeverageLike,
    Snap,
    SnapChange,
    SnapPolicy,
    snap,
    snap_leverage,
    to_leverage,
)
from bybit_leverage.models import (
    Category,
    ContractType,
    Instrument,
    InstrumentStatus,
    LeverageFilter,
    LeverageResult,
    Outcome,
    PositionLeverage,
    format_leverage,
)

try:
    __version__ = _metadata.version("bybit-leverage")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DEMO",
    "MAINNET",
    "MAINNET_BYTICK",
    "REGIONAL_HOSTS",
    "TESTNET",
    "APIError",
    "AuthenticationError",
    "BatchFailed",
    "BatchReport",
    "BybitClient",
    "BybitError",
    "Category",
    "ClientClosed",
    "ConfigurationError",
    "ConnectionFailed",
    "ContractNotLive",
    "ContractType",
    "Credentials",
    "DuplicateSymbol",
    "ExchangeServerError",
    "HTTPStatusError",
    "IPRateLimited",
    "Instrument",
    "InstrumentCache",
    "InstrumentStatus",
    "InvalidLeverage",
    "LeverageFilter",
    "LeverageLike",
    "LeverageRequest",
    "LeverageResult",
    "MissingCredentials",
    "Outcome",
    "ParameterError",
    "PlannedChange",
    "PortfolioMarginUnsupported",
    "PositionLeverage",
    "PositionModeMismatch",
    "RateLimitError",
    "RequestTimeout",
    "ResponseDecodeError",
    "RiskLimitExceeded",
    "Snap",
    "SnapChange",
    "SnapPolicy",
    "SymbolNotTradable",
    "TargetError",
    "TimestampError",
    "TransportError",
    "UnknownSymbol",
    "__version__",
    "auth_headers",
    "format_leverage",
    "sign_hmac",
    "sign_rsa",
    "signature_payload",
    "snap",
    "snap_leverage",
    "to_leverage",
]
