"""Gathering what a plan needs: instruments, the account, the leverage in force.

The planner reads (through the instrument cache, the account cache and the
leverage reader) and hands the facts to the pure ``_plan`` functions; it writes
nothing. One batch costs one instruments listing (cached), the account profile
(cached), one current-leverage read (or the per-symbol fallback) and one
open-positions listing per settle coin.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Final

from bybit_leverage._account import AccountCache
from bybit_leverage._http import Tally
from bybit_leverage._plan import (
    Facts,
    checked_request,
    plan_symbol,
    refuse_duplicates,
    target_items,
)
from bybit_leverage._reads import LeverageReader, Reading
from bybit_leverage._slices import breathe
from bybit_leverage.cache import InstrumentCache
from bybit_leverage.errors import AuthenticationError, BybitError
from bybit_leverage.leverage import SnapPolicy
from bybit_leverage.models import (
    AccountProfile,
    Category,
    Instrument,
    Position,
    PositionLeverage,
)
from bybit_leverage.report import BatchPlan, LeverageRequest, PlannedChange, Targets

__all__ = ["POSITION_MODE_TTL", "Planner"]

logger = logging.getLogger(__name__)

#: How long a symbol's position mode (one-way or hedge) is trusted once read.
POSITION_MODE_TTL: Final = 300.0


class Planner:
    """Plans single symbols and batches from what the exchange says now.

    Args:
        instruments: The instrument cache.
        account: The account cache (``None`` for a client without keys).
        reader: Reads the leverage in force and open positions.
    """

    def __init__(
        self,
        instruments: InstrumentCache,
        account: AccountCache | None,
        reader: LeverageReader,
    ) -> None:
        self._instruments = instruments
        self._account = account
        self._reader = reader
        self._modes: dict[tuple[Category, str], tuple[float, PositionLeverage]] = {}

    async def profile(
        self, *, refresh: bool = False, tally: Tally | None = None
    ) -> AccountProfile | None:
        """The account profile, or ``None`` without keys or after a transient failure.

        Args:
            refresh: Read it again (a hedge target depends on the margin mode,
                which may have changed since it was cached).
            tally: Counts the requests, when some are sent.

        Raises:
            AuthenticationError: The key cannot be used (never papered over).
        """
        if self._account is None:
            return None
        try:
            return await self._account.get(refresh=refresh, tally=tally)
        except AuthenticationError:
            raise
        except BybitError as exc:
            logger.warning("could not read the account (%s); going on without", exc)
            return None

    async def read(
        self, category: Category, symbols: Sequence[str], tally: Tally | None = None
    ) -> Reading:
        """Read the leverage in force and remember each symbol's position mode."""
        reading = await self._reader.read(category, symbols, tally)
        now = asyncio.get_running_loop().time()
        for index, (name, current) in enumerate(reading.values.items()):
            self._modes[category, name] = (now, current)
            await breathe(index)
        return reading

    async def position_mode(
        self, symbol: str, category: Category
    ) -> PositionLeverage | None:
        """A symbol's leverage and position mode, read at most every few minutes."""
        cached = self._modes.get((category, symbol))
        now = asyncio.get_running_loop().time()
        if cached is not None and now - cached[0] < POSITION_MODE_TTL:
            return cached[1]
        return (await self.read(category, [symbol])).values.get(symbol)

    async def _instrument(
        self, symbol: str, category: Category
    ) -> Instrument | BybitError:
        try:
            return await self._instruments.lookup(symbol, category)
        except BybitError as exc:
            return exc

    async def plan_one(
        self, request: LeverageRequest, category: Category, policy: SnapPolicy
    ) -> PlannedChange:
        """Plan one symbol; its position mode is read only for a buy != sell target."""
        profile = await self.profile(refresh=_hedge_sides(request))
        facts = Facts(
            await self._instrument(request.symbol, category),
            margin_mode=profile.margin_mode if profile else None,
        )
        plan = plan_symbol(
            request, facts, category=category, policy=policy, skip_at_target=False
        )
        hedge_target = plan.target_buy != plan.target_sell
        if not hedge_target or not isinstance(facts.instrument, Instrument):
            return plan
        try:  # hedge: the position mode decides whether the sides may differ
            current = await self.position_mode(plan.symbol, category)
        except AuthenticationError:
            raise
        except BybitError as exc:
            logger.debug("%s: position mode unknown (%s)", plan.symbol, exc)
            return plan
        return plan_symbol(
            request,
            Facts(facts.instrument, current, None, facts.margin_mode),
            category=category,
            policy=policy,
            skip_at_target=False,
        )

    async def plan_many(
        self,
        targets: Targets,
        *,
        category: Category,
        policy: SnapPolicy,
        read_current: bool,
        only_flat: bool = False,
        clamp: bool = True,
    ) -> BatchPlan:
        """Plan a batch: the listing and the account, then one read, then decide.

        Raises:
            DuplicateSymbol: A symbol appears twice.
            TargetError: ``targets`` is not a mapping or a list of requests.
            AuthenticationError: The key cannot be used (nothing is planned).
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        items, pairs = target_items(targets)
        requests = []
        for index, item in enumerate(items):
            requests.append(checked_request(index, item, pair=pairs))
            await breathe(index)
        refuse_duplicates(requests)
        if not requests:
            return BatchPlan((), category)
        tally = Tally()
        hedge = any(_hedge_sides(request) for request in requests)
        profile = await self.profile(refresh=hedge, tally=tally)
        mode = profile.margin_mode if profile else None
        try:  # one listing for the batch: if it fails, no symbol retries it alone
            await self._instruments.get(category)
        except BybitError as exc:
            logger.warning("cannot list %s instruments: %s", category.value, exc)
            return BatchPlan(
                tuple(
                    plan_symbol(
                        r,
                        Facts(exc),
                        category=category,
                        policy=policy,
                        skip_at_target=False,
                    )
                    for r in requests
                ),
                category,
                tally.sent,
                loop.time() - started,
            )
        instruments: list[Instrument | BybitError] = []
        for index, request in enumerate(requests):
            instruments.append(self._instruments.find(request.symbol, category))
            await breathe(index)
        # Every tradable symbol asked for is read: one read covers the category.
        candidates = list(
            {
                i.symbol: i
                for i in instruments
                if isinstance(i, Instrument) and i.is_tradable
            }.values()
        )
        reading, positions, unread = await self._gather(
            category, candidates, tally, read_current=read_current
        )
        changes = []
        for index, (request, instrument) in enumerate(
            zip(requests, instruments, strict=True)
        ):
            await breathe(index)
            name = getattr(instrument, "symbol", request.symbol)
            facts = Facts(
                instrument,
                reading.values.get(name),
                reading.source,
                mode,
                positions.get(name),
                unread,
            )
            changes.append(
                plan_symbol(
                    request,
                    facts,
                    category=category,
                    policy=policy,
                    skip_at_target=reading.source is not None,
                    only_flat=only_flat,
                    clamp=clamp,
                )
            )
        return BatchPlan(tuple(changes), category, tally.sent, loop.time() - started)

    async def _gather(
        self,
        category: Category,
        candidates: Sequence[Instrument | BybitError],
        tally: Tally,
        *,
        read_current: bool,
    ) -> tuple[Reading, Mapping[str, Position], BybitError | None]:
        """Read the leverage in force and the open positions of the candidates."""
        listed = [i for i in candidates if isinstance(i, Instrument)]
        if self._account is None or not listed:
            return Reading({}, None), {}, None
        symbols = [i.symbol for i in listed]
        coins = {i.settle_coin for i in listed}
        try:
            async with asyncio.TaskGroup() as group:
                reading = group.create_task(
                    self.read(category, symbols, tally)
                    if read_current
                    else _nothing_read()
                )
                positions = group.create_task(self._open(category, coins, tally))
        except ExceptionGroup as failed:  # a key problem: say it once, plainly
            raise failed.exceptions[0] from None
        found = positions.result()
        if isinstance(found, BybitError):
            return reading.result(), {}, found
        return reading.result(), found, None

    async def _open(
        self, category: Category, coins: set[str], tally: Tally
    ) -> dict[str, Position] | BybitError:
        try:
            return await self._reader.open_positions(category, coins, tally)
        except AuthenticationError:
            raise
        except BybitError as exc:
            logger.warning("could not read open positions (%s)", exc)
            return exc


def _hedge_sides(request: LeverageRequest) -> bool:
    """Whether ``request`` asks for different buy and sell sides."""
    if request.leverage is not None or request.buy is None or request.sell is None:
        return False
    try:
        return bool(request.buy != request.sell)
    except ArithmeticError:  # a signaling NaN: refused later, for its symbol
        return False


async def _nothing_read() -> Reading:
    return Reading({}, None)
