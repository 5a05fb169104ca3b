"""Exchange constants: paths, limits and the retCodes this package acts on.

Hosts live in ``_hosts``.

Every number here comes from Bybit's V5 documentation
(https://bybit-exchange.github.io/docs/v5/intro): the rate-limit page for limits,
the error-code page for retCodes.
"""

from __future__ import annotations

from typing import Final

RECV_WINDOW_MS: Final = 5000
#: The server refuses a timestamp this far (ms) or more ahead of its own clock.
MAX_CLOCK_AHEAD_MS: Final = 1000

PATH_SERVER_TIME: Final = "/v5/market/time"
PATH_INSTRUMENTS: Final = "/v5/market/instruments-info"
PATH_SET_LEVERAGE: Final = "/v5/position/set-leverage"
PATH_SYMBOL_INFO: Final = "/v5/position/symbol-info"
PATH_POSITION_LIST: Final = "/v5/position/list"
PATH_ACCOUNT_INFO: Final = "/v5/account/info"
PATH_KEY_INFO: Final = "/v5/user/query-api"

#: Position list page size: the documented maximum.
POSITIONS_PAGE_LIMIT: Final = 200

#: Instruments Info page size: the documented maximum. A page of 1,000 is about
#: 800 KB, decoded a slice at a time (``_wire.decode_json_in_steps``), so a
#: listing never holds an engine's event loop long; about 650 linear perpetuals
#: are one request.
INSTRUMENTS_PAGE_LIMIT: Final = 1000

#: Per-account (UID) requests per rolling second, per endpoint.
SET_LEVERAGE_LIMIT_PER_S: Final = 10
POSITION_LIST_LIMIT_PER_S: Final = 50
ACCOUNT_INFO_LIMIT_PER_S: Final = 50
#: Per-IP limit across all endpoints: this many requests per IP_WINDOW_S seconds.
IP_LIMIT: Final = 600
IP_WINDOW_S: Final = 5

# retCodes. Success is exactly OK; everything else is a business answer.
OK: Final = 0
SERVER_TIMEOUT: Final = 10000
PARAM_ERROR: Final = 10001
TIMESTAMP_ERROR: Final = 10002
INVALID_API_KEY: Final = 10003
INVALID_SIGNATURE: Final = 10004
PERMISSION_DENIED: Final = 10005
TOO_MANY_VISITS: Final = 10006
UNMATCHED_IP: Final = 10010
API_KEY_EXPIRED: Final = 33004
SERVER_ERROR: Final = 10016
RISK_LIMIT_EXCEEDED: Final = 110013
PORTFOLIO_MARGIN_FORBIDS: Final = 110038
LEVERAGE_NOT_MODIFIED: Final = 110043
CONTRACT_NOT_LIVE: Final = 110074
PORTFOLIO_MARGIN_UNSUPPORTED: Final = 110077
