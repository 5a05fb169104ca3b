"""bybit-leverage: set leverage on Bybit V5 perpetuals, safely and fast.

The public names are re-exported here; import them from ``bybit_leverage``.

The face is lazy (PEP 562): ``import bybit_leverage`` loads no module until one of
its names is used, so a program that needs only the simulator or the pytest
plugin never imports the client, aiohttp or cryptography.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bybit_leverage._config import (
        Limits,
        Retries,
    )
    from bybit_leverage._hosts import (
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
    from bybit_leverage.cache import (
        InstrumentCache,
    )
    from bybit_leverage.client import (
        BybitClient,
    )
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
        RefusedLocally,
        RequestFailed,
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
        Outcome,
        PositionLeverage,
        format_leverage,
    )
    from bybit_leverage.report import (
        BatchPlan,
        BatchReport,
        LeverageRequest,
        LeverageResult,
        PlannedChange,
    )
    from bybit_leverage.transport import (
        HTTPRequest,
        HTTPResponse,
        MockTransport,
        Transport,
    )

try:
    __version__ = _metadata.version("bybit-leverage")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

# Where each public name lives; a name is imported from its home on first use.
_HOMES: dict[str, str] = {
    "DEMO": "_hosts",
    "MAINNET": "_hosts",
    "MAINNET_BYTICK": "_hosts",
    "REGIONAL_HOSTS": "_hosts",
    "TESTNET": "_hosts",
    "Credentials": "_signing",
    "auth_headers": "_signing",
    "sign_hmac": "_signing",
    "sign_rsa": "_signing",
    "signature_payload": "_signing",
    "Limits": "_config",
    "Retries": "_config",
    "BatchPlan": "report",
    "BatchReport": "report",
    "LeverageRequest": "report",
    "LeverageResult": "report",
    "PlannedChange": "report",
    "InstrumentCache": "cache",
    "BybitClient": "client",
    "HTTPRequest": "transport",
    "HTTPResponse": "transport",
    "MockTransport": "transport",
    "Transport": "transport",
    "APIError": "errors",
    "AuthenticationError": "errors",
    "BatchFailed": "errors",
    "BybitError": "errors",
    "ClientClosed": "errors",
    "ConfigurationError": "errors",
    "ConnectionFailed": "errors",
    "ContractNotLive": "errors",
    "DuplicateSymbol": "errors",
    "ExchangeServerError": "errors",
    "HTTPStatusError": "errors",
    "IPRateLimited": "errors",
    "InvalidLeverage": "errors",
    "MissingCredentials": "errors",
    "ParameterError": "errors",
    "PortfolioMarginUnsupported": "errors",
    "PositionModeMismatch": "errors",
    "RateLimitError": "errors",
    "RefusedLocally": "errors",
    "RequestFailed": "errors",
    "RequestTimeout": "errors",
    "ResponseDecodeError": "errors",
    "RiskLimitExceeded": "errors",
    "SymbolNotTradable": "errors",
    "TargetError": "errors",
    "TimestampError": "errors",
    "TransportError": "errors",
    "UnknownSymbol": "errors",
    "LeverageLike": "leverage",
    "Snap": "leverage",
    "SnapChange": "leverage",
    "SnapPolicy": "leverage",
    "snap": "leverage",
    "snap_leverage": "leverage",
    "to_leverage": "leverage",
    "Category": "models",
    "ContractType": "models",
    "Instrument": "models",
    "InstrumentStatus": "models",
    "LeverageFilter": "models",
    "Outcome": "models",
    "PositionLeverage": "models",
    "format_leverage": "models",
}

__all__ = [
    "DEMO",
    "MAINNET",
    "MAINNET_BYTICK",
    "REGIONAL_HOSTS",
    "TESTNET",
    "APIError",
    "AuthenticationError",
    "BatchFailed",
    "BatchPlan",
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
    "HTTPRequest",
    "HTTPResponse",
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
    "Limits",
    "MissingCredentials",
    "MockTransport",
    "Outcome",
    "ParameterError",
    "PlannedChange",
    "PortfolioMarginUnsupported",
    "PositionLeverage",
    "PositionModeMismatch",
    "RateLimitError",
    "RefusedLocally",
    "RequestFailed",
    "RequestTimeout",
    "ResponseDecodeError",
    "Retries",
    "RiskLimitExceeded",
    "Snap",
    "SnapChange",
    "SnapPolicy",
    "SymbolNotTradable",
    "TargetError",
    "TimestampError",
    "Transport",
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
