"""The route table: which path runs which handler, for each host profile.

The ``demo`` profile answers like Bybit's demo-trading host
(https://bybit-exchange.github.io/docs/v5/demo): ``/v5/position/symbol-info``,
``/v5/user/query-api`` and ``/v5/asset/coin/query-info`` are not among its
endpoints, so they answer HTTP 404 as any missing route does.
"""

from __future__ import annotations

import enum
from typing import Final

from aiohttp import web

from bybit_leverage import _constants as c
from bybit_leverage.simulator._account_handlers import (
    handle_account_info,
    handle_coin_info,
    handle_query_api,
)
from bybit_leverage.simulator._auth import UID_LIMITS
from bybit_leverage.simulator._core import Handler, SimCore
from bybit_leverage.simulator._market_handlers import handle_instruments, handle_time
from bybit_leverage.simulator._position_handlers import (
    handle_position_list,
    handle_set_leverage,
    handle_symbol_info,
)

__all__ = ["ROUTES", "UID_LIMITS", "Profile", "make_app"]


class Profile(enum.StrEnum):
    """Which Bybit host the simulator answers like."""

    MAINNET = "mainnet"
    DEMO = "demo"


#: (method, path, endpoint name, handler, private), one row per route.
ROUTES: Final[tuple[tuple[str, str, str, Handler, bool], ...]] = (
    ("GET", c.PATH_SERVER_TIME, "time", handle_time, False),
    ("GET", c.PATH_INSTRUMENTS, "instruments-info", handle_instruments, False),
    ("POST", c.PATH_SET_LEVERAGE, "set-leverage", handle_set_leverage, True),
    ("GET", c.PATH_SYMBOL_INFO, "symbol-info", handle_symbol_info, True),
    ("GET", c.PATH_POSITION_LIST, "position-list", handle_position_list, True),
    ("GET", c.PATH_ACCOUNT_INFO, "account-info", handle_account_info, True),
    ("GET", c.PATH_KEY_INFO, "query-api", handle_query_api, True),
    ("GET", "/v5/asset/coin/query-info", "coin-info", handle_coin_info, True),
)
_NOT_ON_DEMO: Final = frozenset({"symbol-info", "query-api", "coin-info"})


def make_app(
    core: SimCore,
    admin: web.Application | None = None,
    profile: Profile = Profile.MAINNET,
) -> web.Application:
    """Build the aiohttp application serving ``core`` (plus optional admin routes)."""
    app = web.Application()
    for method, path, endpoint, handler, private in ROUTES:
        if profile is Profile.DEMO and endpoint in _NOT_ON_DEMO:
            continue
        app.router.add_route(
            method, path, core.route(endpoint, handler, private=private)
        )
    if admin is not None:
        app.add_subapp("/__sim/", admin)
    return app
