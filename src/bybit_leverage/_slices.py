"""Long loops yield to the event loop in slices.

An engine shares its loop with this client: a 2,000-symbol batch that planned,
parsed or journalled in one go would hold that loop for tens of milliseconds,
a missed market-data tick. Every loop over a batch or a listing calls
:func:`breathe` once per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

__all__ = ["SLICE", "breathe", "fan_out"]

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Items handled between two yields to the event loop.
SLICE: Final = 50


async def breathe(index: int) -> None:
    """Yield to the event loop after every ``SLICE``-th item (0-based ``index``)."""
    if index % SLICE == SLICE - 1:
        await asyncio.sleep(0)


async def fan_out(
    items: Sequence[_T], limit: int, work: Callable[[_T], Awaitable[_R]]
) -> list[_R]:
    """``work`` on every item, at most ``limit`` at once; results in input order.

    ``limit`` workers take the items in turn: a task per item would make
    thousands of tasks in one step of the loop. The first exception cancels the
    rest and is raised as it is (not in an ``ExceptionGroup``).
    """
    results: dict[int, _R] = {}
    queue = iter(range(len(items)))

    async def worker() -> None:
        for index in queue:  # shared: each index is taken once
            results[index] = await work(items[index])

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(limit, len(items))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [results[index] for index in range(len(items))]
