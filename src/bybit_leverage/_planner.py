"""Gathering what a plan needs: instruments, the leverage in force, position modes.

The planner reads (through the endpoint floor and the instrument cache) and
hands the facts to the pure ``_plan`` functions; it writes nothing. One batch
costs one instruments listing (cached) and one current-leverage read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Final

from bybit_leverage._api import BybitApi
from bybit_leverage._http import Tally
from bybit_leverage._plan import normalize_targets, plan_symbol
from bybit_leverage.cache import InstrumentCache
from bybit_leverage.errors import BybitError
from bybit_leverage.leverage import SnapPolicy
from bybit_leverage.models import Category, Instrument, PositionLeverage
from bybit_leverage.report import BatchPlan, LeverageRequest, PlannedChange, Targets

__all__ = ["POSITION_MODE_TTL", "Planner"]

logger = logging.getLogger(__name__)

#: How long a symbol's position mode (one-way or hedge) is trusted once read.
POSITION_MODE_TTL: Final = 300.0


class Planner:
    """Plans single symbols and batches from what the exchange says now.

    Args:
        api: The endpoint floor (reads only).
        instruments: The instrument cache.
    """

    def __init__(self, api: BybitApi, instruments: InstrumentCache) -> None:
        self._api = api
        self._instruments = instruments
        self._positions: dict[tuple[Category, str], tuple[float, PositionLeverage]] = {}

    async def read_leverage(
        self, category: Category, symbol: str | None, tally: Tally | None = None
    ) -> dict[str, PositionLeverage]:
        """Read the leverage in force (one symbol or all) and remember the modes."""
        positions = await self._api.fetch_leverage(category, symbol, tally=tally)
        now = asyncio.get_running_loop().time()
        for name, position in positions.items():
            self._positions[category, name] = (now, position)
        return positions

    async def position(
        self, symbol: str, category: Category
    ) -> PositionLeverage | None:
        """A symbol's leverage and position mode, read at most every few minutes."""
        cached = self._positions.get((category, symbol))
        now = asyncio.get_running_loop().time()
        if cached is not None and now - cached[0] < POSITION_MODE_TTL:
            return cached[1]
        return (await self.read_leverage(category, symbol)).get(symbol)

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
        instrument = await self._instrument(request.symbol, category)
        plan = plan_symbol(
            request,
            instrument,
            None,
            category=category,
            policy=policy,
            skip_at_target=False,
        )
        if plan.target_buy == plan.target_sell:
            return plan
        try:  # hedge: the position mode decides whether the sides may differ
            current = await self.position(plan.symbol, category)
        except BybitError as exc:
            logger.debug("%s: position mode unknown (%s)", plan.symbol, exc)
            return plan
        return plan_symbol(
            request,
            instrument,
            current,
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
    ) -> BatchPlan:
        """Plan a batch: one listing, one read of the leverage in force, then decide.

        Raises:
            DuplicateSymbol: A symbol appears twice.
            TargetError: ``targets`` is not a mapping or a list of requests.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        requests = normalize_targets(targets)
        if not requests:
            return BatchPlan((), category)
        try:  # one listing for the batch: if it fails, no symbol retries it alone
            await self._instruments.get(category)
        except BybitError as exc:
            logger.warning("cannot list %s instruments: %s", category.value, exc)
            changes = [
                plan_symbol(
                    request,
                    exc,
                    None,
                    category=category,
                    policy=policy,
                    skip_at_target=False,
                )
                for request in requests
            ]
            return BatchPlan(tuple(changes), category, 0, loop.time() - started)
        tally = Tally()
        positions: Mapping[str, PositionLeverage] = {}
        if read_current:
            try:
                positions = await self.read_leverage(category, None, tally)
            except BybitError as exc:  # skipping is an optimisation: send everything
                logger.warning(
                    "could not read current leverage (%s); sending every symbol", exc
                )
                read_current = False
        changes = []
        for request in requests:
            instrument = await self._instrument(request.symbol, category)
            current = positions.get(getattr(instrument, "symbol", request.symbol))
            changes.append(
                plan_symbol(
                    request,
                    instrument,
                    current,
                    category=category,
                    policy=policy,
                    skip_at_target=read_current,
                )
            )
        return BatchPlan(tuple(changes), category, tally.sent, loop.time() - started)
