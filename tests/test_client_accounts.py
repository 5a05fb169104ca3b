"""Right on the accounts people have: key states, modes, demo hosts, positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bybit_leverage import (
    AccountProfile,
    ApiKeyExpired,
    AuthenticationError,
    BybitClient,
    Category,
    InvalidApiKey,
    InvalidSignature,
    IPNotAllowed,
    LeverageRequest,
    LeverageSource,
    MarginMode,
    OpenPosition,
    Outcome,
    PermissionDenied,
    PositionModeMismatch,
)
from bybit_leverage.simulator import BybitSimulator
from tests.helpers import private_requests, requests_to, set_leverage_count, tradable

pytestmark = [pytest.mark.looptime, pytest.mark.bybit_sim(symbols=120, seed=3)]
D = Decimal


def client_for(sim: BybitSimulator, **kwargs: object) -> BybitClient:
    options: dict[str, object] = {
        "api_key": sim.api_key,
        "api_secret": sim.api_secret,
        "base_url": sim.url,
    }
    options.update(kwargs)
    return BybitClient(**options)  # type: ignore[arg-type]


async def test_the_account_profile_costs_two_requests_once(
    client: BybitClient, sim: BybitSimulator
) -> None:
    profile = await client.get_account()
    assert isinstance(profile, AccountProfile)
    assert profile.uid == sim.account.uid
    assert profile.margin_mode is MarginMode.REGULAR_MARGIN
    assert profile.unified_margin_status == 5
    assert profile.is_unified
    assert (profile.read_only, profile.can_set_leverage) == (False, True)
    assert profile.expires_at is not None
    assert str(profile) == f"UID {sim.account.uid}, REGULAR_MARGIN"
    assert await client.get_account() is profile
    assert requests_to(sim, "account-info") == requests_to(sim, "query-api") == 1
    await client.get_account(refresh=True)
    assert requests_to(sim, "account-info") == 2


@pytest.mark.bybit_sim(symbols=400, seed=3)
async def test_a_wrong_secret_fails_once_before_any_write(sim: BybitSimulator) -> None:
    targets = dict.fromkeys(tradable(sim, 100), 5)
    async with client_for(sim, api_secret="not-the-secret") as wrong:
        with pytest.raises(InvalidSignature):
            await wrong.set_leverage_many(targets)
    total = sum(int(e["requests"]) for e in sim.stats().values())
    assert total <= 3  # the clock, then the account read that said 10004
    assert set_leverage_count(sim) == 0


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ({"read_only": True}, PermissionDenied),
        ({"contract_trade": ("Order",)}, PermissionDenied),
        ({"ips": ("10.1.2.3",)}, IPNotAllowed),
        ({"expired": True}, ApiKeyExpired),
    ],
)
async def test_a_key_that_cannot_write_sends_nothing(
    sim: BybitSimulator, key: dict[str, object], error: type[AuthenticationError]
) -> None:
    made = sim.add_key(sim.account, **key)  # type: ignore[arg-type]
    async with client_for(sim, api_key=made.api_key, api_secret=made.api_secret) as c:
        with pytest.raises(error) as info:
            await c.set_leverage_many(dict.fromkeys(tradable(sim, 20), 5))
        with pytest.raises(error):
            await c.set_leverage("BTCUSDT", 5)
    assert isinstance(info.value, AuthenticationError)
    assert set_leverage_count(sim) == 0


async def test_an_unknown_key_names_the_host(sim: BybitSimulator) -> None:
    async with client_for(sim, api_key="NOTAKEY") as stranger:
        with pytest.raises(InvalidApiKey) as info:
            await stranger.plan_leverage_many({"BTCUSDT": 5})
    assert info.value.host == sim.url
    assert "mainnet, testnet and demo-trading keys" in str(info.value)
    assert set_leverage_count(sim) == 0


async def test_a_read_only_key_may_still_plan(sim: BybitSimulator) -> None:
    made = sim.add_key(sim.account, read_only=True)
    async with client_for(sim, api_key=made.api_key, api_secret=made.api_secret) as c:
        plan = await c.plan_leverage_many({"BTCUSDT": 10, "ETHUSDT": 5})
        assert [change.action for change in plan] == [Outcome.UNCHANGED, Outcome.SET]
        nothing_to_write = await c.plan_leverage_many({"BTCUSDT": 10})
        report = await c.execute(nothing_to_write)  # nothing to write: no check
        assert report.counts == {Outcome.UNCHANGED: 1}
        with pytest.raises(PermissionDenied, match="read-only"):
            await c.execute(plan)
    assert set_leverage_count(sim) == 0


@pytest.mark.bybit_sim(symbols=120, seed=3, hedge=("ETHUSDT", "SOLUSDT"))
async def test_hedge_sides_need_isolated_margin(
    client: BybitClient, sim: BybitSimulator
) -> None:
    targets = {"ETHUSDT": (10, 5), "XRPUSDT": (8, 4), "SOLUSDT": (6, 6)}
    requests = [LeverageRequest(s, buy=b, sell=v) for s, (b, v) in targets.items()]
    cross = await client.set_leverage_many(requests)
    eth, xrp, sol = cross.results
    assert (eth.outcome, xrp.outcome, sol.outcome) == (
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.SET,
    )
    assert isinstance(eth.error, PositionModeMismatch)
    assert "cross margin (REGULAR_MARGIN)" in str(eth.error)
    assert "one-way mode" in str(xrp.error)
    assert set_leverage_count(sim) == 1
    sim.account.set_margin_mode("ISOLATED_MARGIN")
    isolated = await client.set_leverage_many(requests[:1])  # the mode is re-read
    assert isolated.results[0].outcome is Outcome.SET
    assert sim.account.leverage("ETHUSDT") == (D(10), D(5))


async def test_inverse_contracts_are_one_way_only(client: BybitClient) -> None:
    inverse = sorted(
        i.symbol
        for i in (await client.get_instruments(Category.INVERSE)).values()
        if i.is_tradable
    )
    report = await client.set_leverage_many(
        [LeverageRequest(inverse[0], buy=5, sell=3)], category=Category.INVERSE
    )
    assert report.results[0].outcome is Outcome.REJECTED
    assert "only for USDT perpetuals" in str(report.results[0].error)


@pytest.mark.bybit_sim(symbols=120, seed=3, profile="demo")
async def test_on_a_demo_host_leverage_is_read_per_symbol_and_a_rerun_writes_nothing(
    client: BybitClient, sim: BybitSimulator
) -> None:
    symbols = tradable(sim, 12)
    targets = dict.fromkeys(symbols, "4.5")
    first = await client.set_leverage_many(targets)
    assert first.counts == {Outcome.SET: 12}
    profile = await client.get_account()
    assert profile.uid is None  # demo trading serves no key info
    assert profile.margin_mode is MarginMode.REGULAR_MARGIN
    sim.reset_stats()
    second = await client.set_leverage_many(targets)
    assert second.counts == {Outcome.UNCHANGED: 12}
    assert {r.source for r in second} == {LeverageSource.POSITION_LIST}
    assert set_leverage_count(sim) == 0
    assert "symbol-info" not in sim.stats()  # known missing: not asked again
    assert second.requests_sent == private_requests(sim)


@pytest.mark.bybit_sim(symbols=120, seed=3, margin_mode="PORTFOLIO_MARGIN")
async def test_under_portfolio_margin_reads_fall_back_too(
    client: BybitClient, sim: BybitSimulator
) -> None:
    plan = await client.plan_leverage_many({"BTCUSDT": 10})
    assert requests_to(sim, "symbol-info") == 1  # refused: 110038
    assert requests_to(sim, "position-list") >= 1
    # Portfolio margin reports no leverage ("" on position rows): read, not known.
    assert plan[0].current_source is LeverageSource.POSITION_LIST
    assert plan[0].current_buy is None
    assert plan[0].action is Outcome.SET


@pytest.fixture
def with_positions(sim: BybitSimulator) -> list[str]:
    symbols = tradable(sim, 4)
    sim.account.set_position_value(symbols[0], 25_000)
    sim.lower_leverage(symbols[1], 3)
    sim.account.set_position_value(symbols[1], 1_000)
    return symbols


async def test_the_plan_shows_open_positions_and_only_flat_leaves_them(
    client: BybitClient, sim: BybitSimulator, with_positions: list[str]
) -> None:
    held, lowered, *flat = with_positions
    targets = dict.fromkeys(with_positions, 7)
    plan = await client.plan_leverage_many(targets)
    position = plan[held].position
    assert position is not None
    assert position.size > 0
    assert plan[flat[0]].position is None
    assert any("Bybit changed this leverage itself" in n for n in plan[lowered].notes)
    assert "position" in plan.to_json()
    report = await client.set_leverage_many(targets, only_flat=True)
    assert [r.outcome for r in report] == [
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.SET,
        Outcome.SET,
    ]
    assert isinstance(report[held].error, OpenPosition)
    assert "open position" in str(report[held].error)
    assert set_leverage_count(sim) == 2
    assert sim.account.leverage(held) != (D(7), D(7))
