"""pybit (Bybit's official SDK) against ``python -m bybit_leverage.simulator``.

pybit is synchronous (requests), so these are plain sync tests against a
simulator in a child process: no event loop to block.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP

from bybit_leverage.simulator import Banner

from .sim_admin import leverage_of, linear_symbols, set_leverage_codes


@pytest.fixture
def session(spawned: Banner) -> Iterator[Any]:
    session = HTTP(api_key=spawned.api_key, api_secret=spawned.api_secret)
    # pybit builds https://{subdomain}.{domain}.{tld} into `endpoint` on init; every
    # call prefixes its path with it, so replacing it points pybit at the simulator.
    session.endpoint = spawned.url
    try:
        yield session
    finally:
        session.client.close()  # the requests.Session and its pooled socket


def test_instruments_info_pages_with_the_cursor_pybit_sends(
    session: Any, spawned: Banner
) -> None:
    pages: list[list[str]] = []
    cursors: list[str] = []
    cursor = ""
    while True:
        query: dict[str, Any] = {"category": "linear", "limit": 20}
        if cursor:
            query["cursor"] = cursor
        answer = session.get_instruments_info(**query)
        assert answer["retCode"] == 0
        pages.append([item["symbol"] for item in answer["result"]["list"]])
        cursor = answer["result"]["nextPageCursor"]
        if not cursor:
            break
        cursors.append(cursor)
        assert len(pages) < 10, "the cursor never ends"
    # Bybit's cursors come percent-encoded; pybit sends them back verbatim.
    assert all(c.endswith("%3D%3D") for c in cursors)
    assert len(pages) >= 3
    assert all(len(page) == 20 for page in pages[:-1])
    paged = [symbol for page in pages for symbol in page]
    assert paged == linear_symbols(spawned.url)  # no gap, no repeat, same order


def test_set_leverage_then_110043_for_the_same_value(
    session: Any, spawned: Banner
) -> None:
    assert leverage_of(spawned.url, "ETHUSDT") == ("10", "10")
    request = {
        "category": "linear",
        "symbol": "ETHUSDT",
        "buyLeverage": "15",
        "sellLeverage": "15",
    }
    answer = session.set_leverage(**request)
    assert (answer["retCode"], answer["retMsg"]) == (0, "OK")
    assert leverage_of(spawned.url, "ETHUSDT") == ("15", "15")

    # pybit raises InvalidRequestError for any non-zero retCode that is not in its
    # retry_codes; it carries the retCode as `status_code` (an int).
    with pytest.raises(InvalidRequestError) as again:
        session.set_leverage(**request)
    assert again.value.status_code == 110043
    assert again.value.message == "leverage not modified"
    # Answered once, not retried: 110043 is not among pybit's retry codes.
    assert set_leverage_codes(spawned.url) == {"0": 1, "110043": 1}
