"""BybitClient end to end against the loopback simulator, not the test fake.

The simulator enforces what Bybit enforces (signatures, the timestamp window,
per-UID and per-IP limits, opaque URL-encoded cursors), so these tests prove the
client's paging, single-flight cache, clock sync, retries and pacing against the
same rules the exchange applies. The loop clock is fast-forwarded (looptime):
backoffs, timeouts and TTLs cost no real time.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from decimal import Decimal

import aiohttp
import pytest
from yarl import URL

from bybit_leverage import (
    BybitClient,
    BybitError,
    Category,
    ConnectionFailed,
    HTTPStatusError,
    InstrumentStatus,
    IPRateLimited,
    Outcome,
    RequestTimeout,
    TransportError,
)
from bybit_leverage import _constants as c
from bybit_leverage.simulator import BybitSimulator, SimRequest
from bybit_leverage.simulator import _app as sim_app

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]

#: Sends per call in these tests (the client's default).
MAX_ATTEMPTS = 5
#: The client asks for this many instruments per page.
PAGE = c.INSTRUMENTS_PAGE_LIMIT


def requests_to(sim: BybitSimulator, endpoint: str) -> int:
    """How many requests reached ``endpoint`` (answered ones only)."""
    return int(sim.stats().get(endpoint, {}).get("requests", 0))


def ret_codes(sim: BybitSimulator, endpoint: str) -> dict[int, int]:
    codes: dict[int, int] = sim.stats().get(endpoint, {}).get("ret_codes", {})
    return codes


def count_code(sim: BybitSimulator, code: int) -> int:
    """How many answers carried retCode ``code``, on every endpoint."""
    return sum(entry["ret_codes"].get(code, 0) for entry in sim.stats().values())


def raw_params(request: SimRequest) -> dict[str, str]:
    """The query of a logged request, split but NOT percent-decoded."""
    return dict(pair.split("=", 1) for pair in request.raw_query.split("&") if pair)


def listed(sim: BybitSimulator, status: InstrumentStatus) -> list[str]:
    return [
        item.symbol
        for item in sim.universe.by_category[Category.LINEAR]
        if item.instrument.status is status
    ]


# --- instruments: paging and the single-flight cache ------------------------------


async def test_paging_follows_the_cursor_verbatim_across_three_pages() -> None:
    # 2,400 linear symbols: about 2,200 Trading (3 pages of 1,000) and PreLaunch.
    async with (
        BybitSimulator(symbols=2400, seed=0) as sim,
        BybitClient(base_url=sim.url) as client,
    ):
        trading = listed(sim, InstrumentStatus.TRADING)
        prelaunch = listed(sim, InstrumentStatus.PRE_LAUNCH)
        assert len(trading) > 2 * PAGE
        assert prelaunch

        instruments = await client.fetch_instruments()

        symbols = [i.symbol for i in instruments]
        assert len(symbols) == len(set(symbols))  # each one exactly once
        assert set(symbols) == {*trading, *prelaunch}
        # Every field the client kept is what the simulator lists.
        expected = {s: sim.universe.by_symbol[s].instrument for s in symbols}
        assert {i.symbol: i for i in instruments} == expected

        sent = [r for r in sim.requests if r.endpoint == "instruments-info"]
        trading_pages = math.ceil(len(trading) / PAGE)
        assert trading_pages == 3
        assert len(prelaunch) <= PAGE  # so the PreLaunch listing is one page
        pages = trading_pages + 1
        assert len(sent) == pages == requests_to(sim, "instruments-info")
        queries = [raw_params(r) for r in sent]
        assert all(q["limit"] == str(PAGE) for q in queries)
        assert [q.get("status") for q in queries] == [None] * trading_pages + [
            "PreLaunch"
        ]

        # Replay each query the client sent and read the cursor the server gave
        # back: the client's next request carries exactly those bytes.
        async with aiohttp.ClientSession() as raw:
            received: list[str] = []
            for request in sent:
                url = URL(f"{sim.url}{request.path}?{request.raw_query}", encoded=True)
                async with raw.get(url) as reply:
                    received.append((await reply.json())["result"]["nextPageCursor"])
    cursors = [q.get("cursor") for q in queries]
    assert cursors[0] is None  # each listing starts without one
    assert cursors[trading_pages] is None
    assert cursors[1:trading_pages] == received[: trading_pages - 1]
    assert received[trading_pages - 1] == "" == received[-1]  # each listing ends
    # Still percent-encoded as received: not decoded, not encoded twice.
    assert all(str(cursor).endswith("%3D%3D") for cursor in cursors[1:trading_pages])


async def test_concurrent_filter_lookups_share_one_fetch(
    client: BybitClient, sim: BybitSimulator
) -> None:
    names = listed(sim, InstrumentStatus.TRADING) + listed(
        sim, InstrumentStatus.PRE_LAUNCH
    )
    symbols = [names[i % len(names)] for i in range(100)]

    filters = await asyncio.gather(*(client.get_leverage_filter(s) for s in symbols))

    # One fetch: one Trading page and one PreLaunch page, whoever asked first.
    assert requests_to(sim, "instruments-info") == 2
    for symbol, got in zip(symbols, filters, strict=True):
        assert got == sim.universe.by_symbol[symbol].instrument.leverage_filter
    await client.get_leverage_filter(symbols[0].lower())  # cached, case-insensitive
    assert requests_to(sim, "instruments-info") == 2


async def test_a_failed_refresh_serves_the_stale_entry(
    sim: BybitSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    ttl = 5.0
    async with BybitClient(base_url=sim.url, cache_ttl=ttl) as client:
        first = await client.get_instrument("BTCUSDT")
        await asyncio.sleep(ttl + 1)
        sim.inject("instruments-info", "http_500", times=100)
        before = requests_to(sim, "instruments-info")
        with caplog.at_level(logging.WARNING, logger="bybit_leverage.cache"):
            again = await client.get_instrument("BTCUSDT")
        assert again == first
        assert "serving the entry cached earlier" in caplog.text
        # The refresh was really tried (and retried) before giving up ...
        assert requests_to(sim, "instruments-info") - before == MAX_ATTEMPTS
        # ... and is not tried again on every call while the stale entry is served.
        await client.get_leverage_filter("ETHUSDT")
        assert requests_to(sim, "instruments-info") - before == MAX_ATTEMPTS


# --- the server clock ---------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [5_000, -10_000])
async def test_a_skewed_server_clock_is_synced_before_signing(
    client: BybitClient, sim: BybitSimulator, skew_ms: int
) -> None:
    sim.set_clock_skew(skew_ms)

    positions = await client.fetch_position_leverage(symbol="BTCUSDT")
    result = await client.set_leverage("BTCUSDT", 7)

    assert positions["BTCUSDT"].buy == Decimal(10)
    assert result.outcome is Outcome.SET
    assert sim.account.leverage("BTCUSDT") == (Decimal(7), Decimal(7))
    assert count_code(sim, c.TIMESTAMP_ERROR) == 0
    assert requests_to(sim, "time") == 1
    # Measured at the end of a loopback round trip: a little behind, never ahead.
    assert skew_ms - 1_000 < client.server_time_offset_ms <= skew_ms + 1


@pytest.mark.parametrize("skew_ms", [10_000, -10_000])
async def test_a_clock_jump_after_sync_costs_one_10002_and_a_resync(
    client: BybitClient, sim: BybitSimulator, skew_ms: int
) -> None:
    await client.fetch_position_leverage(symbol="BTCUSDT")
    await client.get_account()  # cached: set-leverage is the next signed request
    assert requests_to(sim, "time") == 1
    sim.set_clock_skew(skew_ms)

    result = await client.set_leverage("BTCUSDT", 8)

    assert result.outcome is Outcome.SET
    assert result.attempts == 2
    assert ret_codes(sim, "set-leverage") == {c.TIMESTAMP_ERROR: 1, c.OK: 1}
    assert count_code(sim, c.TIMESTAMP_ERROR) == 1
    assert requests_to(sim, "time") == 2
    assert abs(client.server_time_offset_ms - skew_ms) < 1_000


# --- retries and typed errors ---------------------------------------------------------


@pytest.mark.parametrize("storm", [1, 4, 9])
async def test_a_10006_storm_ends_in_success_without_extra_requests(
    client: BybitClient, sim: BybitSimulator, storm: int
) -> None:
    sim.inject("set-leverage", "ret_10006", times=storm)

    result = await client.set_leverage("ETHUSDT", 12)

    assert result.outcome is Outcome.SET
    assert result.attempts == storm + 1
    assert requests_to(sim, "set-leverage") == storm + 1
    assert ret_codes(sim, "set-leverage") == {c.TOO_MANY_VISITS: storm, c.OK: 1}
    assert sim.account.leverage("ETHUSDT") == (Decimal(12), Decimal(12))


TRANSIENT = [
    pytest.param("http_500", HTTPStatusError, id="http_500"),
    pytest.param("http_502", HTTPStatusError, id="http_502"),
    pytest.param("http_503", HTTPStatusError, id="http_503"),
    pytest.param("hang", RequestTimeout, id="hang"),
    pytest.param("reset", ConnectionFailed, id="reset"),
]


def timeout_client(sim: BybitSimulator) -> BybitClient:
    # 2 s of loop time per attempt, so a hang costs nothing in real time.
    return BybitClient(
        api_key=sim.api_key,
        api_secret=sim.api_secret,
        base_url=sim.url,
        timeout=2.0,
        rand=lambda: 0.5,
    )


@pytest.mark.parametrize(("fault", "error"), TRANSIENT)
async def test_transient_failures_are_retried_to_success(
    fault: str, error: type[BybitError]
) -> None:
    del error  # only the persistent case surfaces it
    async with BybitSimulator(symbols=20) as sim:
        async with timeout_client(sim) as client:
            await client.get_instruments()  # warm the cache and the clock first
            await client.sync_time()
            sim.inject("set-leverage", fault, times=MAX_ATTEMPTS - 1)
            result = await client.set_leverage("BTCUSDT", 3)
        assert result.outcome is Outcome.SET
        assert result.attempts == MAX_ATTEMPTS
        assert sim.account.leverage("BTCUSDT") == (Decimal(3), Decimal(3))
    # Hung requests are logged when the simulator releases them, at shutdown.
    assert requests_to(sim, "set-leverage") == MAX_ATTEMPTS


@pytest.mark.parametrize(("fault", "error"), TRANSIENT)
async def test_persistent_failures_surface_typed_after_max_attempts(
    fault: str, error: type[BybitError]
) -> None:
    async with BybitSimulator(symbols=20) as sim, timeout_client(sim) as client:
        await client.get_instruments()
        await client.sync_time()
        sim.inject("set-leverage", fault, times=MAX_ATTEMPTS + 5)
        result = await client.set_leverage("BTCUSDT", 3)
        with pytest.raises(error) as info:
            await client.set_leverage("BTCUSDT", 4, raise_on_failure=True)
    assert result.outcome is Outcome.FAILED
    assert result.attempts == MAX_ATTEMPTS
    assert isinstance(result.error, error)
    failure = info.value
    assert isinstance(failure, HTTPStatusError | TransportError)
    assert failure.path == c.PATH_SET_LEVERAGE
    if isinstance(failure, HTTPStatusError):
        assert failure.status == int(fault.removeprefix("http_"))
    if fault == "hang":
        assert isinstance(failure, TimeoutError)
    # Two calls, each stopped after exactly MAX_ATTEMPTS sends; nothing applied.
    assert requests_to(sim, "set-leverage") == 2 * MAX_ATTEMPTS
    assert sim.account.leverage("BTCUSDT") == (Decimal(10), Decimal(10))


async def test_a_persistent_reset_on_a_get_is_resent_by_aiohttp_too(
    client: BybitClient, sim: BybitSimulator
) -> None:
    # aiohttp resends an idempotent request once when the connection drops
    # (RFC 9112 section 9.3.1), below the client's own retries: each of the
    # client's attempts may reach the server twice. POSTs are never resent.
    await client.sync_time()
    sim.inject("symbol-info", "reset", times=2 * MAX_ATTEMPTS)
    with pytest.raises(ConnectionFailed):
        await client.fetch_position_leverage(symbol="BTCUSDT")
    assert MAX_ATTEMPTS <= requests_to(sim, "symbol-info") <= 2 * MAX_ATTEMPTS


Call = Callable[[BybitClient], Awaitable[object]]


@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        pytest.param("instruments-info", lambda c: c.fetch_instruments(), id="public"),
        pytest.param(
            "symbol-info", lambda c: c.fetch_position_leverage(), id="private"
        ),
    ],
)
async def test_a_403_html_page_is_an_ip_ban_and_never_retried(
    client: BybitClient, sim: BybitSimulator, endpoint: str, call: Call
) -> None:
    await client.sync_time()
    sim.inject(endpoint, "http_403", times=10)
    with pytest.raises(IPRateLimited) as info:
        await call(client)
    assert info.value.status == 403
    assert "403 Forbidden" in info.value.body  # the CDN's HTML page, kept
    assert requests_to(sim, endpoint) == 1


# --- RSA keys and pacing ----------------------------------------------------------


async def test_an_rsa_key_sets_leverage(
    sim: BybitSimulator, rsa_pem: tuple[bytes, bytes]
) -> None:
    private_pem, public_pem = rsa_pem
    account = sim.add_account(rsa_public_key=public_pem)
    async with BybitClient(
        api_key=account.api_key, private_key=private_pem, base_url=sim.url
    ) as client:
        result = await client.set_leverage("BTCUSDT", "33.33")
    assert result.outcome is Outcome.SET
    assert account.leverage("BTCUSDT") == (Decimal("33.33"), Decimal("33.33"))
    assert sim.account.leverage("BTCUSDT") == (Decimal(10), Decimal(10))  # untouched
    [sent] = [r for r in sim.requests if r.endpoint == "set-leverage"]
    assert (sent.uid, sent.ret_code) == (account.uid, c.OK)


async def test_the_limit_header_paces_later_calls(
    sim: BybitSimulator, client: BybitClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator's symbol-info limit is the client's default (10/s), so lower it
    # to 7/s: only a client that learned X-Bapi-Limit avoids 10006 on a burst.
    monkeypatch.setitem(sim_app.UID_LIMITS, "symbol-info", 7)
    await client.fetch_position_leverage(symbol="BTCUSDT")

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(
        *(client.fetch_position_leverage(symbol="BTCUSDT") for _ in range(20))
    )
    assert ret_codes(sim, "symbol-info") == {c.OK: 21}
    # 21 requests at 7 per rolling second need at least two more windows.
    assert loop.time() - started >= 2.0
