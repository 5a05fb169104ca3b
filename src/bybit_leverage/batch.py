"""Setting leverage: plan each symbol locally, then send only what must change.

Every symbol goes through two steps. :func:`plan_one` decides, without writing
anything, what the symbol needs: it resolves the instrument (cached), snaps the
requested value under the policy, checks the position mode and compares with the
leverage already in force. :func:`send_one` then sends ``set-leverage`` for the
symbols that need it and turns the answer into a :class:`LeverageResult`.

:func:`set_leverage_many` runs both over a batch with bounded, structured
concurrency and returns a :class:`BatchReport` holding exactly one result per
input symbol, in input order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from attrs import evolve, field, frozen

from bybit_leverage import _constants as c
from bybit_leverage._http import Tally
from bybit_leverage.errors import (
    BatchFailed,
    BybitError,
    DuplicateSymbol,
    InvalidLeverage,
    PositionModeMismatch,
    RiskLimitExceeded,
    SymbolNotTradable,
)
from bybit_leverage.leverage import (
    LeverageLike,
    SnapPolicy,
    snap,
    snap_leverage,
    to_leverage,
)
from bybit_leverage.models import (
    Category,
    Instrument,
    LeverageResult,
    Outcome,
    PositionLeverage,
    format_leverage,
)

if TYPE_CHECKING:
    from bybit_leverage.client import BybitClient

__all__ = [
    "BatchReport",
    "LeverageRequest",
    "OnRiskLimit",
    "PlannedChange",
    "ProgressCallback",
    "Targets",
    "execute_plans",
    "plan_batch",
]

logger = logging.getLogger(__name__)

#: What to do when Bybit answers 110013 (above the risk tier's maximum).
OnRiskLimit: TypeAlias = Literal["fail", "clamp"]
#: Called after each symbol finishes: ``(result, done, total)``.
ProgressCallback: TypeAlias = Callable[[LeverageResult, int, int], object]

_NOT_MODIFIED: Final = frozenset({c.LEVERAGE_NOT_MODIFIED})


@frozen
class LeverageRequest:
    """One symbol's target leverage.

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

    def sides(self) -> tuple[LeverageLike, LeverageLike]:
        """Return the requested ``(buy, sell)`` values.

        Raises:
            InvalidLeverage: When the request gives both forms, or neither, or only
                one side.
        """
        if self.leverage is not None:
            if self.buy is not None or self.sell is not None:
                raise InvalidLeverage(
                    repr(self.leverage),
                    "give either leverage or buy/sell, not both",
                    self.symbol,
                )
            return self.leverage, self.leverage
        if self.buy is None or self.sell is None:
            raise InvalidLeverage(
                repr(self.buy if self.sell is None else self.sell),
                "give leverage, or both buy and sell",
                self.symbol,
            )
        return self.buy, self.sell


#: A batch: ``{symbol: leverage}`` or a sequence of requests.
Targets: TypeAlias = Mapping[str, LeverageLike] | Sequence[LeverageRequest]


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
        current_buy: Buy side in force now, when it was read.
        current_sell: Sell side in force now, when it was read.
        error: Why it was rejected or failed.
        instrument: The instrument, when it was resolved.
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
    instrument: Instrument | None = field(default=None, repr=False, eq=False)

    def result(self, *, elapsed: float = 0.0) -> LeverageResult:
        """The result of this plan when nothing is sent for it."""
        applied = self.action is Outcome.UNCHANGED
        return LeverageResult(
            self.symbol,
            self.category,
            self.action,
            self.requested_buy,
            self.requested_sell,
            self.target_buy if applied else None,
            self.target_sell if applied else None,
            adjusted=self.adjusted,
            error=self.error,
            attempts=0,
            elapsed=elapsed,
        )


def normalize_targets(targets: Targets) -> list[LeverageRequest]:
    """Turn a mapping or a sequence of targets into requests, in input order.

    Raises:
        DuplicateSymbol: When a symbol appears twice (compared case-insensitively).
        TypeError: When an item is neither a mapping entry nor a request.
    """
    if isinstance(targets, Mapping):
        requests = [LeverageRequest(symbol, value) for symbol, value in targets.items()]
    else:
        requests = list(targets)
        for item in requests:
            if not isinstance(item, LeverageRequest):
                raise TypeError(
                    f"expected LeverageRequest items, got {type(item).__name__}"
                )
    seen: Counter[str] = Counter(request.symbol.upper() for request in requests)
    repeated = tuple(symbol for symbol, count in seen.items() if count > 1)
    if repeated:
        raise DuplicateSymbol(repeated)
    return requests


def _requested(value: LeverageLike) -> Decimal | None:
    try:
        return to_leverage(value)
    except InvalidLeverage:
        return None


async def plan_one(
    client: BybitClient,
    request: LeverageRequest,
    *,
    category: Category,
    policy: SnapPolicy,
    positions: Mapping[str, PositionLeverage] | None,
) -> PlannedChange:
    """Decide what one symbol needs without writing anything.

    Args:
        client: The client whose instrument cache and position reads are used.
        request: The target.
        category: The symbol's category.
        policy: How off-grid or out-of-range values are treated.
        positions: Leverage in force per symbol, when already read for a batch;
            ``None`` means "not read" (nothing is skipped, and the position mode is
            read only if buy and sell differ).
    """
    symbol = request.symbol
    try:
        raw_buy, raw_sell = request.sides()
    except InvalidLeverage as exc:
        return PlannedChange(symbol, category, Outcome.REJECTED, error=exc)
    asked_buy, asked_sell = _requested(raw_buy), _requested(raw_sell)

    def refused(name: str, error: BybitError, outcome: Outcome) -> PlannedChange:
        return PlannedChange(
            name, category, outcome, asked_buy, asked_sell, error=error
        )

    try:
        instrument = await client.get_instrument(symbol, category)
    except BybitError as exc:
        unknown = isinstance(exc, LookupError)  # an unknown symbol is refused locally
        return refused(symbol, exc, Outcome.REJECTED if unknown else Outcome.FAILED)
    symbol = instrument.symbol
    if not instrument.is_tradable:
        status = instrument.status.value
        return refused(symbol, SymbolNotTradable(symbol, status), Outcome.REJECTED)
    rule = instrument.leverage_filter
    try:
        buy = snap(raw_buy, rule, policy, symbol=symbol)
        sell = snap(raw_sell, rule, policy, symbol=symbol)
    except InvalidLeverage as exc:
        return refused(symbol, exc, Outcome.REJECTED)
    plan = PlannedChange(
        symbol,
        category,
        Outcome.SET,
        buy.requested,
        sell.requested,
        buy.value,
        sell.value,
        adjusted=buy.adjusted or sell.adjusted,
        instrument=instrument,
    )
    current = positions.get(symbol) if positions is not None else None
    if buy.value != sell.value:
        if current is None:
            try:
                current = await client.get_position_leverage(symbol, category)
            except BybitError as exc:
                logger.debug(
                    "%s: position mode unknown (%s); sending as asked", symbol, exc
                )
        if current is not None and not current.hedge:
            mismatch = PositionModeMismatch(
                symbol, buy.value, sell.value, "the symbol is in one-way mode"
            )
            return evolve(plan, action=Outcome.REJECTED, error=mismatch)
    if current is None:
        return plan
    plan = evolve(plan, current_buy=current.buy, current_sell=current.sell)
    if positions is not None and (current.buy, current.sell) == (buy.value, sell.value):
        return evolve(plan, action=Outcome.UNCHANGED)
    return plan


async def send_one(
    client: BybitClient, plan: PlannedChange, *, on_risk_limit: OnRiskLimit = "fail"
) -> LeverageResult:
    """Send ``set-leverage`` for a planned change and report what happened.

    110043 ("not modified") is ``UNCHANGED``. With ``on_risk_limit="clamp"``, a
    110013 answer is retried once at the tier's maximum (snapped down onto the grid)
    and reported with ``adjusted=True``. Exchange and transport errors become a
    ``FAILED`` result; nothing is raised for them.
    """
    if plan.action is not Outcome.SET:
        return plan.result()
    instrument, buy, sell = plan.instrument, plan.target_buy, plan.target_sell
    if instrument is None or buy is None or sell is None:
        raise ValueError(f"{plan.symbol}: a SET plan needs its instrument and targets")
    loop = asyncio.get_running_loop()
    started = loop.time()
    adjusted, attempts, clamped_once = plan.adjusted, 0, False
    while True:
        body = {
            "category": plan.category.value,
            "symbol": plan.symbol,
            "buyLeverage": format_leverage(buy),
            "sellLeverage": format_leverage(sell),
        }
        tally = Tally()
        try:
            response = await client._request(
                "POST",
                c.PATH_SET_LEVERAGE,
                body,
                signed=True,
                accept=_NOT_MODIFIED,
                tally=tally,
            )
        except RiskLimitExceeded as exc:
            attempts += tally.sent
            cap = exc.allowed_max
            if on_risk_limit != "clamp" or cap is None or clamped_once:
                return _failed(plan, exc, attempts, loop.time() - started)
            try:
                limit = snap_leverage(cap, instrument.leverage_filter)
            except InvalidLeverage:
                return _failed(plan, exc, attempts, loop.time() - started)
            buy, sell = min(buy, limit), min(sell, limit)
            adjusted, clamped_once = True, True
            logger.info(
                "%s: risk limit allows %s; retrying at %s", plan.symbol, cap, limit
            )
            continue
        except BybitError as exc:
            attempts += tally.sent
            return _failed(plan, exc, attempts, loop.time() - started)
        attempts += tally.sent
        outcome = Outcome.SET if response.envelope.ok else Outcome.UNCHANGED
        if outcome is Outcome.UNCHANGED and tally.sent > 1 and _moved(plan, buy, sell):
            # "Not modified" after a retry, where the read said the value was
            # different: an earlier attempt landed and only its answer was lost.
            outcome = Outcome.SET
        return LeverageResult(
            plan.symbol,
            plan.category,
            outcome,
            plan.requested_buy,
            plan.requested_sell,
            buy,
            sell,
            adjusted=adjusted,
            attempts=attempts,
            elapsed=loop.time() - started,
        )


def _moved(plan: PlannedChange, buy: Decimal, sell: Decimal) -> bool:
    """Whether the leverage read before sending differed from ``(buy, sell)``."""
    if plan.current_buy is None and plan.current_sell is None:
        return False  # never read: a retried 110043 cannot be told apart
    return (plan.current_buy, plan.current_sell) != (buy, sell)


def _failed(
    plan: PlannedChange, error: BybitError, attempts: int, elapsed: float
) -> LeverageResult:
    return LeverageResult(
        plan.symbol,
        plan.category,
        Outcome.FAILED,
        plan.requested_buy,
        plan.requested_sell,
        plan.current_buy,
        plan.current_sell,
        adjusted=plan.adjusted,
        error=error,
        attempts=attempts,
        elapsed=elapsed,
    )


@frozen
class BatchReport:
    """The outcome of a batch: one result per input symbol, in input order.

    Attributes:
        results: One :class:`LeverageResult` per symbol asked.
        requests_sent: HTTP requests the batch sent (set-leverage attempts plus
            the position read).
        elapsed: Seconds the batch took.
    """

    results: tuple[LeverageResult, ...]
    requests_sent: int = 0
    elapsed: float = 0.0

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

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[LeverageResult]:
        return iter(self.results)

    def __getitem__(self, symbol: str) -> LeverageResult:
        """Return the result for ``symbol``.

        Raises:
            KeyError: When the batch did not hold the symbol.
        """
        for result in self.results:
            if result.symbol == symbol or result.symbol.upper() == symbol.upper():
                return result
        raise KeyError(symbol)

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
            "results": [_result_to_dict(result) for result in self.results],
            "counts": {outcome.value: n for outcome, n in self.counts.items()},
            "requests_sent": self.requests_sent,
            "elapsed": round(self.elapsed, 6),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as one JSON document (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent)

    def table(self) -> str:
        """A plain-text table, one row per symbol."""
        header = ("symbol", "outcome", "requested", "applied", "adjusted", "note")
        rows = [header] + [_row(result) for result in self.results]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            for row in rows
        ]
        lines.append(self.summary())
        return "\n".join(line.rstrip() for line in lines)

    def summary(self) -> str:
        """One line: symbols by outcome, requests sent and time taken."""
        counts = ", ".join(f"{n} {o.value}" for o, n in self.counts.items()) or "empty"
        return (
            f"{_count(len(self.results), 'symbol')}: {counts}; "
            f"{_count(self.requests_sent, 'request')} in {self.elapsed:.2f}s"
        )

    def __str__(self) -> str:
        return self.table()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _side_text(buy: Decimal | None, sell: Decimal | None) -> str:
    if buy is None and sell is None:
        return "-"
    if buy == sell:
        return format_leverage(buy) if buy is not None else "-"
    left = format_leverage(buy) if buy is not None else "-"
    right = format_leverage(sell) if sell is not None else "-"
    return f"{left}/{right}"


def _row(result: LeverageResult) -> tuple[str, str, str, str, str, str]:
    return (
        result.symbol,
        result.outcome.value,
        _side_text(result.requested_buy, result.requested_sell),
        _side_text(result.applied_buy, result.applied_sell),
        "yes" if result.adjusted else "",
        str(result.error) if result.error is not None else "",
    )


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format_leverage(value)


def _result_to_dict(result: LeverageResult) -> dict[str, Any]:
    error = None
    if result.error is not None:
        error = {"type": type(result.error).__name__, "message": str(result.error)}
        code = getattr(result.error, "ret_code", None)
        if code is not None:
            error["ret_code"] = code
    return {
        "symbol": result.symbol,
        "category": result.category.value,
        "outcome": result.outcome.value,
        "requested_buy": _decimal_text(result.requested_buy),
        "requested_sell": _decimal_text(result.requested_sell),
        "applied_buy": _decimal_text(result.applied_buy),
        "applied_sell": _decimal_text(result.applied_sell),
        "adjusted": result.adjusted,
        "attempts": result.attempts,
        "elapsed": round(result.elapsed, 6),
        "error": error,
    }


async def _read_positions(
    client: BybitClient, category: Category
) -> tuple[dict[str, PositionLeverage] | None, int]:
    """Read the leverage in force for the whole category: one request, retries aside."""
    tally = Tally()
    try:
        positions = await client.fetch_position_leverage(category, tally=tally)
    except BybitError as exc:  # skipping is an optimisation: fall back to sending
        logger.warning(
            "could not read current leverage (%s); sending every symbol", exc
        )
        return None, tally.sent
    return positions, tally.sent


def _unlisted(
    request: LeverageRequest, category: Category, error: BybitError
) -> PlannedChange:
    try:
        raw_buy, raw_sell = request.sides()
    except InvalidLeverage:
        buy = sell = None
    else:
        buy, sell = _requested(raw_buy), _requested(raw_sell)
    return PlannedChange(
        request.symbol, category, Outcome.FAILED, buy, sell, error=error
    )


async def plan_batch(
    client: BybitClient,
    targets: Targets,
    *,
    category: Category = Category.LINEAR,
    policy: SnapPolicy = SnapPolicy.DOWN,
    read_current: bool = True,
) -> tuple[list[PlannedChange], int]:
    """Plan every target without writing anything.

    Returns:
        The plans, in input order, and the number of requests the reads took.

    Raises:
        DuplicateSymbol: When a symbol appears twice; nothing is read or sent.
    """
    requests = normalize_targets(targets)
    if not requests:
        return [], 0
    try:  # one listing for the batch: if it fails, no symbol retries it on its own
        await client.get_instruments(category)
    except BybitError as exc:
        logger.warning("cannot list %s instruments: %s", category.value, exc)
        return [_unlisted(request, category, exc) for request in requests], 0
    positions, reads = (None, 0)
    if read_current:
        positions, reads = await _read_positions(client, category)
    plans = [
        await plan_one(
            client, request, category=category, policy=policy, positions=positions
        )
        for request in requests
    ]
    return plans, reads


async def execute_plans(
    client: BybitClient,
    plans: Sequence[PlannedChange],
    *,
    reads: int = 0,
    concurrency: int = 20,
    on_risk_limit: OnRiskLimit = "fail",
    on_progress: ProgressCallback | None = None,
) -> BatchReport:
    """Send set-leverage for every plan that needs it, concurrently.

    Every plan gets exactly one result, in input order, whatever fails; one
    symbol's failure never cancels another's request. The client's own pacing
    keeps the batch under Bybit's per-account limit, so ``concurrency`` only bounds
    how many requests wait at once.

    Cancelling cancels the requests not yet answered; symbols already finished
    were reported through ``on_progress``, and the cancellation is logged with
    the symbols that were sent.

    Args:
        client: The client to send with.
        plans: From :func:`plan_batch`.
        reads: Requests the planning took (counted in ``requests_sent``).
        concurrency: Requests in flight at most.
        on_risk_limit: ``"clamp"`` retries a 110013 once at the allowed maximum.
        on_progress: Called after each symbol with ``(result, done, total)``.

    Raises:
        ValueError: When ``concurrency`` is below 1.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    gate = asyncio.Semaphore(concurrency)
    finished: list[LeverageResult] = []

    async def one(plan: PlannedChange) -> LeverageResult:
        if plan.action is Outcome.SET:
            async with gate:
                result = await send_one(client, plan, on_risk_limit=on_risk_limit)
        else:
            result = plan.result()
        finished.append(result)
        if on_progress is not None:
            on_progress(result, len(finished), len(plans))
        return result

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(plan)) for plan in plans]
    except asyncio.CancelledError:
        logger.warning(
            "batch cancelled after %d of %d symbols; sent: %s",
            len(finished),
            len(plans),
            ", ".join(r.symbol for r in finished if r.attempts) or "none",
        )
        raise
    results = tuple(task.result() for task in tasks)
    sent = reads + sum(result.attempts for result in results)
    return BatchReport(results, sent, loop.time() - started)
