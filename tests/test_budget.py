"""The budget seam: keys, what a client tells its budget, the in-process budget."""

from __future__ import annotations

import asyncio
import random

import pytest

from bybit_leverage import InProcessBudget, RateBudget
from bybit_leverage import _constants as c
from bybit_leverage._budget import Sighting, account_label, budget_key
from bybit_leverage._ratelimit import RateLimits, Ticket

PATH = c.PATH_SET_LEVERAGE


class Recorder:
    """A budget that books nothing and keeps what it is told."""

    def __init__(self) -> None:
        self.reserved: list[tuple[str, int, float]] = []
        self.blocked: list[tuple[str, float]] = []
        self.sightings: list[tuple[str, Sighting]] = []

    async def reserve(self, key: str, limit: int, window: float) -> float:
        self.reserved.append((key, limit, window))
        return 0.0

    async def block(self, key: str, seconds: float) -> None:
        self.blocked.append((key, seconds))

    def observe(self, key: str, sighting: Sighting) -> None:
        self.sightings.append((key, sighting))

    def others(self) -> list[int | None]:
        return [s.others for _, s in self.sightings]


def headers(
    remaining: int, limit: int = 10, reset: int | None = None
) -> dict[str, str]:
    found = {"x-bapi-limit": str(limit), "x-bapi-limit-status": str(remaining)}
    if reset is not None:
        found["x-bapi-limit-reset-timestamp"] = str(reset)
    return found


def test_both_budgets_are_rate_budgets() -> None:
    assert isinstance(InProcessBudget(), RateBudget)
    assert isinstance(Recorder(), RateBudget)


def test_keys_name_environment_account_and_path_never_a_secret() -> None:
    limits = RateLimits(environment="mainnet", api_key="PUBLICKEY")
    digest = account_label(None, "PUBLICKEY")
    assert limits.key(PATH) == f"mainnet|{digest}|{PATH}"
    assert "PUBLICKEY" not in limits.key(PATH)
    limits.set_account(None)  # no UID (the demo host): still the key's name
    assert limits.key(PATH) == budget_key("mainnet", digest, PATH)
    limits.set_account(100001)  # two keys of one UID share this name
    assert limits.key(PATH) == f"mainnet|uid:100001|{PATH}"
    assert account_label(None, None) == "public"


@pytest.mark.looptime
async def test_a_client_alone_never_counts_itself_as_another() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None)
    tickets = [await limits.acquire(PATH, private=True) for _ in range(10)]
    assert budget.reserved == [(limits.key(PATH), 10, 1.0)] * 10
    # The ten went together; the exchange counted them in another order.
    arrival = list(range(10))
    random.Random(3).shuffle(arrival)
    for count, index in enumerate(arrival, start=1):
        limits.learn(PATH, headers(remaining=10 - count), 0, tickets[index])
    assert budget.others() == [0] * 10


@pytest.mark.looptime
async def test_others_are_what_the_account_used_beyond_ours() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None)
    first = await limits.acquire(PATH, private=True)
    await asyncio.sleep(0.6)
    second = await limits.acquire(PATH, private=True)
    limits.learn(PATH, headers(remaining=7), 0, first)  # 3 used, 1 ours
    limits.learn(PATH, headers(remaining=2), 0, second)  # 8 used, 2 ours
    await asyncio.sleep(0.5)  # the first leaves our count of the window
    third = await limits.acquire(PATH, private=True)
    limits.learn(PATH, headers(remaining=4), 0, third)  # 6 used, 2 ours
    assert budget.others() == [2, 6, 4]
    assert [s.at for _, s in budget.sightings] == [0.0, 0.6, 1.1]


@pytest.mark.looptime
async def test_a_refused_request_is_nobodys_and_the_reset_is_passed_on() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None)
    taken = await limits.acquire(PATH, private=True)
    refused = await limits.acquire(PATH, private=True)
    limits.learn(PATH, headers(remaining=0, reset=5_400), 5_000, refused, refused=True)
    limits.learn(PATH, headers(remaining=0, reset=5_400), 5_000, taken)
    (_, first), (_, second) = budget.sightings
    assert (first.others, first.refused, first.reset_in) == (9, True, 0.4)
    assert (second.others, second.refused) == (9, False)  # the refused one is gone


@pytest.mark.looptime
async def test_without_listening_nobody_else_is_counted() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None, listen=False)
    ticket = await limits.acquire(PATH, private=True)
    limits.learn(PATH, headers(remaining=1), 0, ticket)
    assert budget.others() == [0]


@pytest.mark.looptime
async def test_what_else_reaches_the_budget() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None)
    ticket = await limits.acquire(PATH, private=True)
    limits.answered(PATH, ticket)  # an answer without counts, or none at all
    await limits.block(PATH, 2.5)
    limits.learn(PATH, headers(remaining=3), 0)  # no ticket: nothing is ours
    assert budget.sightings[0][1] == Sighting(0.0, None)
    assert budget.blocked == [(limits.key(PATH), 2.5)]
    assert budget.sightings[1][1].others == 0
    public = await limits.acquire("/v5/market/time", private=False)
    assert public == Ticket(0.0, 0.0)
    assert len(budget.reserved) == 1  # public requests only meet the IP guard


@pytest.mark.looptime
async def test_unpaced_clients_tell_their_budget_nothing() -> None:
    budget = Recorder()
    limits = RateLimits(budget=budget, ip_limit=None, pace_endpoints=False)
    ticket = await limits.acquire(PATH, private=True)
    limits.learn(PATH, headers(remaining=3, limit=20), 0, ticket)
    limits.answered(PATH, ticket)
    await limits.block(PATH, 1.0)
    assert (budget.reserved, budget.blocked, budget.sightings) == ([], [], [])
    assert limits.limit(PATH) == 20  # the limit is still learned


@pytest.mark.looptime
async def test_the_in_process_budget_waits_once_and_shares_by_key() -> None:
    loop = asyncio.get_running_loop()
    budget = InProcessBudget(listen=False)
    one = RateLimits(budget=budget, ip_limit=None, environment="e", api_key="A")
    two = RateLimits(budget=budget, ip_limit=None, environment="e", api_key="B")
    for limits in (one, two):
        limits.set_account(7)  # two keys of one UID
    tickets = [await limits.acquire(PATH, private=True) for limits in [one, two] * 6]
    assert [t.waited for t in tickets] == [0.0] * 10 + [pytest.approx(1.05), 0.0]
    other = RateLimits(budget=budget, ip_limit=None, environment="e", api_key="C")
    assert (await other.acquire(PATH, private=True)).waited == 0.0  # its own UID
    await budget.block(other.key(PATH), 3.0)
    await budget.block("never used", 3.0)  # nothing to block: ignored
    budget.observe("never used", Sighting(0.0, 5))
    started = loop.time()
    await other.acquire(PATH, private=True)
    assert loop.time() - started == pytest.approx(3.0)
