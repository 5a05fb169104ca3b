"""The request core, through the public client, against a loopback fake Bybit.

Paging, the server clock, pacing, retries and the error each failure becomes.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

import bybit_leverage as bl
from bybit_leverage import _constants as c
from tests.fakebybit import API_KEY, API_SECRET, FakeBybit, instrument_item, serve

pytestmark = pytest.mark.looptime


@pytest.fixture
async def fake() -> AsyncIterator[FakeBybit]:
    async with serve(FakeBybit()) as server:
        yield server


def make_client(fake: FakeBybit, **kwargs: object) -> bl.BybitClient:
    return bl.BybitClient(
        api_key=API_KEY,
        api_secret=API_SECRET,
        base_url=fake.url,
        rand=lambda: 0.5,
        **kwargs,  # type: ignore[arg-type]
    )


async def set_leverage(client: bl.BybitClient, symbol: str, value: str) -> int:
    """Set through the public API; return the sends it took, or raise its error."""
    result = await client.set_leverage(symbol, value, raise_on_failure=True)
    return result.attempts


def list_symbols(fake: FakeBybit, count: int) -> list[str]:
    symbols = [f"S{i}USDT" for i in range(count)]
    fake.trading = [instrument_item(symbol) for symbol in symbols]
    return symbols


# --- instruments ------------------------------------------------------------


async def test_pages_are_followed_with_the_cursor_sent_back_verbatim(
    fake: FakeBybit,
) -> None:
    fake.trading = [instrument_item(f"COIN{i}USDT") for i in range(7)]
    fake.prelaunch = [
        instrument_item("NEWUSDT", status="PreLaunch"),
        instrument_item("COIN0USDT"),  # listed twice: must not be duplicated
    ]
    fake.page_size = 2
    async with bl.BybitClient(base_url=fake.url) as client:  # public: no keys
        instruments = await client.fetch_instruments()
    symbols = [i.symbol for i in instruments]
    assert symbols == [f"COIN{i}USDT" for i in range(7)] + ["NEWUSDT"]
    assert fake.requests[c.PATH_INSTRUMENTS] == 4 + 1  # 4 trading pages, 1 pre-launch
    assert fake.cursors_received == ["page%3D1", "page%3D2", "page%3D3"]
    assert instruments[-1].status is bl.InstrumentStatus.PRE_LAUNCH


async def test_an_empty_page_ends_the_listing_even_with_a_cursor(
    fake: FakeBybit,
) -> None:
    fake.page_size = 3
    fake.cursor_on_last_page = True
    async with bl.BybitClient(base_url=fake.url) as client:
        instruments = await client.fetch_instruments()
    assert [i.symbol for i in instruments] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    # trading: a full page, then an empty one; pre-launch: one empty page.
    assert fake.requests[c.PATH_INSTRUMENTS] == 3


async def test_hundred_concurrent_filter_reads_fetch_once(fake: FakeBybit) -> None:
    async with bl.BybitClient(base_url=fake.url) as client:
        filters = await asyncio.gather(
            *(client.get_leverage_filter("BTCUSDT") for _ in range(100))
        )
        assert {str(f) for f in filters} == {"[1, 100] in steps of 0.01"}
        assert fake.requests[c.PATH_INSTRUMENTS] == 2  # trading + pre-launch, once
        assert (await client.get_instrument("btcusdt")).symbol == "BTCUSDT"
        with pytest.raises(bl.UnknownSymbol, match=r"did you mean BTCUSDT\?") as info:
            await client.get_leverage_filter("BTCUSTD")
        assert info.value.suggestions[0] == "BTCUSDT"
        assert set(await client.get_instruments()) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
        assert fake.requests[c.PATH_INSTRUMENTS] == 2


async def test_a_failed_refresh_serves_the_stale_listing(
    fake: FakeBybit, caplog: pytest.LogCaptureFixture
) -> None:
    async with bl.BybitClient(
        base_url=fake.url, cache_ttl=60, max_attempts=1
    ) as client:
        await client.get_instruments()
        await asyncio.sleep(61)
        fake.inject(c.PATH_INSTRUMENTS, "http_503")
        with caplog.at_level(logging.WARNING, logger="bybit_leverage.cache"):
            stale = await client.get_instruments()
        assert "BTCUSDT" in stale
        assert "serving the entry cached earlier" in caplog.text


# --- time -------------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [5_000, -10_000])
async def test_skewed_server_clock_is_followed(fake: FakeBybit, skew_ms: int) -> None:
    fake.skew_ms = skew_ms
    async with make_client(fake) as client:
        assert await set_leverage(client, "BTCUSDT", "10") == 1
        assert abs(client.server_time_offset_ms - skew_ms) < 500
    assert fake.ret_codes[c.TIMESTAMP_ERROR] == 0


async def test_local_clock_ahead_is_corrected(fake: FakeBybit) -> None:
    def fast_clock() -> int:
        return time.time_ns() // 1_000_000 + 3_000

    async with make_client(fake, now_ms=fast_clock) as client:
        assert await set_leverage(client, "BTCUSDT", "10") == 1


async def test_10002_resyncs_and_retries_once(fake: FakeBybit) -> None:
    async with make_client(fake) as client:
        await set_leverage(client, "BTCUSDT", "10")
        fake.skew_ms = -20_000  # the server's clock jumps back after our sync
        assert await set_leverage(client, "BTCUSDT", "11") == 2
    assert fake.requests[c.PATH_SERVER_TIME] == 2
    assert fake.ret_codes[c.TIMESTAMP_ERROR] == 1


async def test_persistent_10002_surfaces_after_one_resync(fake: FakeBybit) -> None:
    async with make_client(fake) as client:
        fake.inject(c.PATH_SET_LEVERAGE, c.TIMESTAMP_ERROR, c.TIMESTAMP_ERROR)
        with pytest.raises(bl.TimestampError):
            await set_leverage(client, "BTCUSDT", "10")
    assert fake.requests[c.PATH_SET_LEVERAGE] == 2


async def test_offset_is_refreshed_periodically(fake: FakeBybit) -> None:
    async with make_client(fake, time_resync_interval=600) as client:
        await set_leverage(client, "BTCUSDT", "10")
        await asyncio.sleep(601)
        await set_leverage(client, "BTCUSDT", "11")
    assert fake.requests[c.PATH_SERVER_TIME] == 2


# --- pacing -----------------------------------------------------------------


async def test_fifty_concurrent_calls_at_10_per_s_take_four_seconds(
    fake: FakeBybit,
) -> None:
    loop = asyncio.get_running_loop()
    symbols = list_symbols(fake, 50)
    async with make_client(fake) as client:
        await client.get_instruments()
        await client.sync_time()
        start = loop.time()
        attempts = await asyncio.gather(
            *(set_leverage(client, symbol, "5") for symbol in symbols)
        )
        elapsed = loop.time() - start
    assert 4.0 <= elapsed <= 4.5  # (N - 10) / 10 s, plus the limiter's margin
    assert attempts == [1] * 50
    assert fake.ret_codes[c.TOO_MANY_VISITS] == 0


async def test_10006_storm_ends_in_success_with_minimal_requests(
    fake: FakeBybit,
) -> None:
    fake.rate_limit = 10
    async with make_client(fake) as client:
        await client.sync_time()
        fake.inject(c.PATH_SET_LEVERAGE, *[c.TOO_MANY_VISITS] * 3)
        assert await set_leverage(client, "BTCUSDT", "10") == 4
    assert fake.requests[c.PATH_SET_LEVERAGE] == 4


async def test_10006_from_a_foreign_consumer_waits_for_the_reset(
    fake: FakeBybit,
) -> None:
    loop = asyncio.get_running_loop()
    fake.rate_limit = 2  # the server allows fewer than the client expects
    symbols = list_symbols(fake, 6)
    async with make_client(fake) as client:
        await client.get_instruments()
        await client.sync_time()
        start = loop.time()
        attempts = await asyncio.gather(
            *(set_leverage(client, symbol, "5") for symbol in symbols)
        )
        elapsed = loop.time() - start
    # After the first answer, X-Bapi-Limit=2 is learned: at most a few 10006.
    assert sum(attempts) - 6 == fake.ret_codes[c.TOO_MANY_VISITS]
    assert fake.ret_codes[c.TOO_MANY_VISITS] <= 4
    assert elapsed >= 2.0  # 6 requests at 2/s need three windows
    assert len(fake.leverage) == 6


async def test_10006_without_reset_header_falls_back_to_a_short_wait(
    fake: FakeBybit,
) -> None:
    loop = asyncio.get_running_loop()
    fake.send_reset_header = False
    async with make_client(fake) as client:
        await client.sync_time()
        fake.inject(c.PATH_SET_LEVERAGE, c.TOO_MANY_VISITS)
        start = loop.time()
        assert await set_leverage(client, "BTCUSDT", "10") == 2
        assert 1.0 <= loop.time() - start < 1.5


async def test_an_endpoint_without_a_known_limit_is_served(fake: FakeBybit) -> None:
    async with make_client(fake) as client:
        assert await client.fetch_position_leverage() == {}
        assert fake.requests[c.PATH_SYMBOL_INFO] == 1


# --- retries and errors -----------------------------------------------------


async def test_5xx_is_retried_then_succeeds(fake: FakeBybit) -> None:
    fake.inject(c.PATH_INSTRUMENTS, "http_503", "http_503")
    async with bl.BybitClient(base_url=fake.url, rand=lambda: 0.0) as client:
        assert "BTCUSDT" in {i.symbol for i in await client.fetch_instruments()}
    assert fake.requests[c.PATH_INSTRUMENTS] == 3 + 1  # two 503s, then both listings


async def test_5xx_surfaces_as_http_status_error_after_max_attempts(
    fake: FakeBybit, caplog: pytest.LogCaptureFixture
) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, *["http_503"] * 10)
    async with make_client(fake, max_attempts=3) as client:
        with (
            caplog.at_level(logging.DEBUG, logger="bybit_leverage"),
            pytest.raises(bl.HTTPStatusError) as info,
        ):
            await set_leverage(client, "BTCUSDT", "10")
    assert info.value.status == 503
    assert fake.requests[c.PATH_SET_LEVERAGE] == 3
    assert caplog.text.count("retrying POST /v5/position/set-leverage") == 2
    assert API_SECRET not in caplog.text


async def test_timeouts_are_retried_then_surface_typed(fake: FakeBybit) -> None:
    fake.inject(c.PATH_INSTRUMENTS, *["timeout"] * 3)
    async with bl.BybitClient(base_url=fake.url, timeout=2.0, max_attempts=3) as client:
        with pytest.raises(bl.RequestTimeout) as info:
            await client.fetch_instruments()
    assert isinstance(info.value, TimeoutError)
    assert fake.requests[c.PATH_INSTRUMENTS] == 3


async def test_timeout_then_success(fake: FakeBybit) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, "timeout")
    async with make_client(fake, timeout=2.0) as client:
        assert await set_leverage(client, "BTCUSDT", "10") == 2


async def test_connection_reset_is_retried(fake: FakeBybit) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, "reset")
    async with make_client(fake) as client:
        # POST: aiohttp itself never resends it, so the retry is ours.
        assert await set_leverage(client, "BTCUSDT", "10") == 2
    assert fake.requests[c.PATH_SET_LEVERAGE] == 2


async def test_refused_connection_surfaces_as_connection_failed() -> None:
    async with bl.BybitClient(base_url="http://127.0.0.1:9", max_attempts=2) as client:
        with pytest.raises(bl.ConnectionFailed) as info:
            await client.fetch_instruments()
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_deadline_bounds_retries(fake: FakeBybit) -> None:
    fake.inject(c.PATH_INSTRUMENTS, *["http_503"] * 10)
    async with bl.BybitClient(
        base_url=fake.url, max_attempts=10, retry_deadline=1.0, rand=lambda: 0.0
    ) as client:
        with pytest.raises(bl.HTTPStatusError):
            await client.fetch_instruments()
    # 0.125 + 0.25 + 0.5 fits in 1 s; the next wait (1.0) would not.
    assert fake.requests[c.PATH_INSTRUMENTS] == 4


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("html_403", bl.IPRateLimited),
        (c.PARAM_ERROR, bl.ParameterError),
        (c.INVALID_SIGNATURE, bl.AuthenticationError),
        (c.RISK_LIMIT_EXCEEDED, bl.RiskLimitExceeded),
    ],
)
async def test_permanent_failures_are_not_retried(
    fake: FakeBybit, fault: str | int, error: type[Exception]
) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, fault)
    async with make_client(fake) as client:
        with pytest.raises(error):
            await set_leverage(client, "BTCUSDT", "10")
    assert fake.requests[c.PATH_SET_LEVERAGE] == 1


async def test_an_undecodable_body_is_retried_then_surfaces_typed(
    fake: FakeBybit,
) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, "not_json")
    async with make_client(fake) as client:
        assert await set_leverage(client, "BTCUSDT", "10") == 2
        fake.inject(c.PATH_SET_LEVERAGE, *["not_json"] * 10)
        with pytest.raises(bl.ResponseDecodeError):
            await set_leverage(client, "BTCUSDT", "11")
    assert fake.requests[c.PATH_SET_LEVERAGE] == 2 + 5  # max_attempts=5


async def test_server_error_codes_are_retried(fake: FakeBybit) -> None:
    fake.inject(c.PATH_SET_LEVERAGE, c.SERVER_ERROR, c.SERVER_TIMEOUT)
    async with make_client(fake) as client:
        assert await set_leverage(client, "BTCUSDT", "10") == 3


async def test_110043_is_unchanged_and_not_an_error(fake: FakeBybit) -> None:
    async with make_client(fake) as client:
        first = await client.set_leverage("BTCUSDT", "10")
        again = await client.set_leverage("BTCUSDT", "10")
    assert (first.outcome, again.outcome) == (bl.Outcome.SET, bl.Outcome.UNCHANGED)
    assert again.error is None
    assert fake.ret_codes[c.LEVERAGE_NOT_MODIFIED] == 1


# --- lifecycle and configuration ---------------------------------------------


async def test_borrowed_session_is_never_closed(fake: FakeBybit) -> None:
    async with aiohttp.ClientSession() as session:
        async with bl.BybitClient(base_url=fake.url, session=session) as client:
            await client.fetch_instruments()
        assert not session.closed
        assert client.closed


async def test_own_session_is_closed_once_and_use_after_close_raises(
    fake: FakeBybit,
) -> None:
    client = bl.BybitClient(base_url=fake.url)
    await client.fetch_instruments()  # opened lazily, without `async with`
    await client.aclose()
    await client.aclose()
    # An owned session left open would warn when collected (warnings are errors).
    gc.collect()
    with pytest.raises(bl.ClientClosed):
        await client.fetch_instruments()
    with pytest.raises(bl.ClientClosed):
        async with client:
            pass
    assert "closed" in repr(client)


def test_session_is_not_created_in_init(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a session was created outside the loop")

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", refuse)
    client = bl.BybitClient()  # no running loop here: must not touch aiohttp
    assert not client.closed


@pytest.mark.parametrize(
    "url",
    [
        "http://api.bybit.com",
        "http://10.0.0.1:8080",
        "ftp://127.0.0.1",
        "https://api.bybit.com?x=1",
        "not a url",
    ],
)
def test_bad_base_urls_are_refused(url: str) -> None:
    with pytest.raises(bl.ConfigurationError):
        bl.BybitClient(base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123",
        "http://127.9.9.9",
        "http://[::1]:80",
        "http://localhost/",
    ],
)
def test_loopback_http_is_allowed(url: str) -> None:
    assert bl.BybitClient(base_url=url).base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_secret": "s"},
        {"api_key": "k"},
        {"api_key": "k", "api_secret": "s", "private_key": "p"},
        {"api_key": "k", "private_key": "-----BEGIN garbage SECRETPEM"},
        {"timeout": 0},
        {"ip_limit": 0},
    ],
)
def test_inconsistent_settings_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(bl.ConfigurationError) as info:
        bl.BybitClient(**kwargs)  # type: ignore[arg-type]
    assert "SECRETPEM" not in str(info.value)


def test_repr_shows_no_secret() -> None:
    client = bl.BybitClient(api_key=API_KEY, api_secret=API_SECRET)
    assert API_SECRET not in repr(client)
    assert API_KEY not in repr(client)
