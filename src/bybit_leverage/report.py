"""What a batch asks, plans and gets: requests, plans, results, and their one rendering.

:class:`LeverageRequest` is a target as the caller gave it; :class:`PlannedChange`
is one symbol's decision before anything is written (a :class:`BatchPlan` holds a
batch of them); :class:`LeverageResult` is what happened (a :class:`BatchReport`
holds a batch of them). All are frozen values.

Rendering happens once (``_render``): one converter turns plans and results into
plain dicts (decimals as strings, errors as ``{type, message, ret_code}``), and
the tables, summaries and JSON documents here are all read from those dicts, so
``plan`` and ``set`` describe an error the same way wherever it is shown.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar, overload

from attrs import field, frozen

from bybit_leverage._render import (
    PLAN_COLUMNS,
    RESULT_COLUMNS,
    plan_row,
    render,
    render_table,
    result_row,
)
from bybit_leverage.errors import BatchFailed, BybitError
from bybit_leverage.leverage import LeverageLike
from bybit_leverage.models import (
    Category,
    Instrument,
    LeverageSource,
    Outcome,
    Position,
)

__all__ = [
    "PLAN_COLUMNS",
    "RESULT_COLUMNS",
    "BatchPlan",
    "BatchReport",
    "LeverageRequest",
    "LeverageResult",
    "PlannedChange",
    "Targets",
    "render_table",
]


@frozen
class LeverageRequest:
    """One symbol's target leverage, as the caller gave it.

    Give either ``leverage`` (both sides) or ``buy`` and ``sell`` (hedge mode).

    Attributes:
        symbol: The symbol, e.g. ``"BTCUSDT"``.
        leverage: The leverage for both sides.
        buy: Buy-side leverage (hedge mode).
        sell: Sell-side leverage (hedge mode).
    """

    symbol: str
    leverage: LeverageLike | None = None
    buy: LeverageLike | None = None
    sell: LeverageLike | None = None


#: A batch: ``{symbol: leverage}`` or a sequence of requests.
Targets: TypeAlias = Mapping[str, LeverageLike] | Sequence[LeverageRequest]


@frozen
class LeverageResult:
    """The outcome of setting one symbol's leverage.

    Attributes:
        symbol: The symbol.
        category: Its category.
        outcome: What happened.
        requested_buy: Buy-side leverage as asked (``None`` if it was not a number).
        requested_sell: Sell-side leverage as asked.
        applied_buy: Buy-side leverage now in force, when known.
        applied_sell: Sell-side leverage now in force, when known.
        adjusted: Whether snapping (or a risk-limit clamp) changed the value.
        error: Why it was rejected or failed; ``None`` otherwise.
        attempts: Requests sent for this symbol (0 when nothing was sent).
        elapsed: Seconds spent on this symbol.
        source: Where the applied value was read, when it was read (a skip
            after reading, or a read-back); ``None`` when it is what Bybit
            accepted.
        uncertain: A request went out and its fate is unknown, and it was not
            read back: the applied value is then ``None``, never a guess.
    """

    symbol: str
    category: Category
    outcome: Outcome
    requested_buy: Decimal | None
    requested_sell: Decimal | None
    applied_buy: Decimal | None = None
    applied_sell: Decimal | None = None
    adjusted: bool = False
    error: BybitError | None = field(default=None, eq=False)
    attempts: int = 0
    elapsed: float = field(default=0.0, eq=False)
    source: LeverageSource | None = None
    uncertain: bool = False

    @property
    def requested(self) -> Decimal | None:
        """The requested leverage (buy side; equal to sell outside hedge mode)."""
        return self.requested_buy

    @property
    def applied(self) -> Decimal | None:
        """The leverage in force afterwards (buy side), when known."""
        return self.applied_buy

    @property
    def ok(self) -> bool:
        """Whether the symbol ended at its target (``SET`` or ``UNCHANGED``)."""
        return self.outcome in (Outcome.SET, Outcome.UNCHANGED)

    def __str__(self) -> str:
        row = dict(zip(RESULT_COLUMNS, result_row(render(self)), strict=True))
        text = f"{self.symbol}: {row['outcome']}"
        if row["applied"] != "-":
            text += f" {row['applied']}"
        if row["requested"] != row["applied"]:
            text += f" (asked {row['requested']})"
        if row["note"]:
            text += f": {row['note']}"
        return text


@frozen
class PlannedChange:
    """What one symbol needs, decided before anything is written.

    ``action`` is ``SET`` (a request will be sent), ``UNCHANGED`` (already at the
    target), ``REJECTED`` (refused locally) or ``FAILED`` (the lookups it needs
    failed).

    Attributes:
        symbol: The symbol as listed (input is matched case-insensitively).
        category: Its category.
        action: What will happen.
        requested_buy: Buy side as asked (``None`` if it was not a number).
        requested_sell: Sell side as asked.
        target_buy: Buy side after snapping.
        target_sell: Sell side after snapping.
        adjusted: Whether snapping changed either side.
        clamped: Whether either side was outside the symbol's range and was
            brought to its maximum (or minimum): a typo such as ``1000`` shows
            here, apart from ordinary rounding onto the grid.
        current_buy: Buy side in force now, when it was read.
        current_sell: Sell side in force now, when it was read.
        error: Why it was rejected or failed.
        instrument: The instrument, when it was resolved.
        current_source: Where the current value was read.
        position: The symbol's open position, when it holds one: changing
            leverage moves an isolated position's liquidation price.
        notes: What else the plan saw (Bybit lowered the leverage itself, the
            position is reduce-only).
    """

    symbol: str
    category: Category
    action: Outcome
    requested_buy: Decimal | None = None
    requested_sell: Decimal | None = None
    target_buy: Decimal | None = None
    target_sell: Decimal | None = None
    adjusted: bool = False
    current_buy: Decimal | None = None
    current_sell: Decimal | None = None
    error: BybitError | None = field(default=None, eq=False)
    clamped: bool = False
    instrument: Instrument | None = field(
        default=None, repr=False, eq=False, metadata={"render": False}
    )
    current_source: LeverageSource | None = None
    position: Position | None = None
    notes: tuple[str, ...] = ()


@frozen
class BatchPlan:
    """What a batch would do, decided before anything is written.

    Show it to a person, then pass it to ``BybitClient.execute()``: exactly these
    changes are sent, nothing is planned again.

    Attributes:
        changes: One :class:`PlannedChange` per symbol asked, in input order.
        category: The batch's category.
        requests_sent: Requests the planning took (the current-leverage read).
        elapsed: Seconds the planning took.
    """

    changes: tuple[PlannedChange, ...]
    category: Category = Category.LINEAR
    requests_sent: int = 0
    elapsed: float = field(default=0.0, eq=False)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[PlannedChange]:
        return iter(self.changes)

    @overload
    def __getitem__(self, key: int) -> PlannedChange: ...
    @overload
    def __getitem__(self, key: str) -> PlannedChange: ...
    def __getitem__(self, key: int | str) -> PlannedChange:
        """The change at a position, or for a symbol (case-insensitive).

        Raises:
            KeyError: When the batch did not hold the symbol.
        """
        if isinstance(key, int):
            return self.changes[key]
        return _find(self.changes, key)

    @property
    def to_send(self) -> tuple[PlannedChange, ...]:
        """The changes that will send a request."""
        return tuple(change for change in self.changes if change.action is Outcome.SET)

    @property
    def counts(self) -> dict[Outcome, int]:
        """How many symbols have each action (actions that occur only)."""
        return dict(Counter(change.action for change in self.changes))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: decimals as strings, errors as type and message."""
        return {
            "plan": [render(change) for change in self.changes],
            "counts": {outcome.value: n for outcome, n in self.counts.items()},
            "requests_sent": self.requests_sent,
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The whole thing as one JSON document (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent)

    def rows(self) -> list[tuple[str, ...]]:
        """One table row per symbol, under :data:`PLAN_COLUMNS`."""
        return [plan_row(render(change)) for change in self.changes]

    def summary(self) -> str:
        """One line: symbols by action, and how many were adjusted."""
        parts = [
            f"{n} {'to set' if action is Outcome.SET else action.value}"
            for action, n in self.counts.items()
        ]
        parts.append(f"{sum(c.adjusted for c in self.changes)} adjusted")
        clamped = self.clamped
        if clamped:
            parts[-1] += f" ({len(clamped)} clamped to their range)"
        return f"{_count(len(self.changes), 'symbol')}: " + ", ".join(parts)

    @property
    def clamped(self) -> tuple[PlannedChange, ...]:
        """Changes whose request was outside the symbol's range (clamped to it)."""
        return tuple(c for c in self.changes if c.clamped)

    def table(self) -> str:
        """A plain-text table, one row per symbol, then the summary."""
        return render_table(PLAN_COLUMNS, self.rows()) + "\n" + self.summary()

    def __str__(self) -> str:
        return self.table()


@frozen
class BatchReport:
    """The outcome of a batch: one result per input symbol, in input order.

    Attributes:
        results: One :class:`LeverageResult` per symbol asked.
        requests_sent: HTTP requests the batch sent (set-leverage attempts plus
            the reads).
        elapsed: Seconds the batch took.
    """

    results: tuple[LeverageResult, ...]
    requests_sent: int = 0
    elapsed: float = 0.0

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[LeverageResult]:
        return iter(self.results)

    def __getitem__(self, symbol: str) -> LeverageResult:
        """Return the result for ``symbol`` (case-insensitive).

        Raises:
            KeyError: When the batch did not hold the symbol.
        """
        return _find(self.results, symbol)

    @property
    def counts(self) -> dict[Outcome, int]:
        """How many symbols ended in each outcome (outcomes that occurred only)."""
        return dict(Counter(result.outcome for result in self.results))

    @property
    def failures(self) -> tuple[LeverageResult, ...]:
        """Results that are ``REJECTED`` or ``FAILED``."""
        return tuple(result for result in self.results if not result.ok)

    @property
    def ok(self) -> bool:
        """Whether every symbol reached its target."""
        return not self.failures

    def raise_for_failures(self) -> None:
        """Raise :class:`BatchFailed` if any symbol was rejected or failed.

        Raises:
            BatchFailed: Listing each such symbol with its error.
        """
        failures = self.failures
        if failures:
            raise BatchFailed(
                tuple((result.symbol, result.error) for result in failures),
                len(self.results),
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: decimals as strings, errors as type and message."""
        return {
            "results": [render(result) for result in self.results],
            "counts": {outcome.value: n for outcome, n in self.counts.items()},
            "requests_sent": self.requests_sent,
            "elapsed": round(self.elapsed, 6),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The whole thing as one JSON document (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent)

    def rows(self) -> list[tuple[str, ...]]:
        """One table row per symbol, under :data:`RESULT_COLUMNS`."""
        return [result_row(render(result)) for result in self.results]

    def summary(self) -> str:
        """One line: symbols by outcome, requests sent and time taken."""
        counts = ", ".join(f"{n} {o.value}" for o, n in self.counts.items()) or "empty"
        return (
            f"{_count(len(self.results), 'symbol')}: {counts}; "
            f"{_count(self.requests_sent, 'request')} in {self.elapsed:.2f}s"
        )

    def table(self) -> str:
        """A plain-text table, one row per symbol, then the summary."""
        return render_table(RESULT_COLUMNS, self.rows()) + "\n" + self.summary()

    def __str__(self) -> str:
        return self.table()


_Item = TypeVar("_Item", PlannedChange, LeverageResult)


def _find(items: Sequence[_Item], symbol: str) -> _Item:
    wanted = symbol.upper()
    for item in items:
        if item.symbol.upper() == wanted:
            return item
    raise KeyError(symbol)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
