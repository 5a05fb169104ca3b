"""The batch journal: what was planned, what went on the wire, what settled.

A batch writes its journal as it happens. When the batch is cancelled, or the
task (or the process) running it dies, the journal still says exactly which
symbols may have changed: those whose request went out and never settled, and
those that settled as changed. ``await client.reconcile(journal)`` reads them back
and returns results that state the exchange's value::

    journal = bl.BatchJournal("leverage.jsonl")   # the file is optional
    try:
        await client.set_leverage_many(targets, journal=journal)
    except asyncio.CancelledError:
        report = await client.reconcile(journal)
        raise

With a path, every event is appended to the file as one JSON line as it
happens; :meth:`BatchJournal.load` reads it back in another process.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from attrs import define

from bybit_leverage.errors import ConfigurationError
from bybit_leverage.models import Category, Outcome, format_leverage
from bybit_leverage.report import LeverageResult, PlannedChange

__all__ = ["BatchJournal", "JournalEntry", "SymbolState"]


class SymbolState(enum.StrEnum):
    """Where one symbol of a batch stands."""

    PLANNED = "planned"
    """A request will be sent; none has gone out yet."""
    SENT = "sent"
    """A request went on the wire and has not settled: it may have landed."""
    SETTLED = "settled"
    """Its result is known (and recorded)."""


@define
class JournalEntry:
    """One symbol of a batch, as far as the journal knows.

    Attributes:
        symbol: The symbol.
        category: Its category.
        target_buy: The buy leverage the batch sends.
        target_sell: The sell leverage the batch sends.
        state: Where it stands.
        sends: Requests that went on the wire for it.
        outcome: Its outcome, once settled.
        applied_buy: Buy leverage in force per its result, once settled.
        applied_sell: Sell leverage in force per its result, once settled.
        uncertain: Its result could not confirm what the exchange holds.
    """

    symbol: str
    category: Category
    target_buy: Decimal
    target_sell: Decimal
    state: SymbolState = SymbolState.PLANNED
    sends: int = 0
    outcome: Outcome | None = None
    applied_buy: Decimal | None = None
    applied_sell: Decimal | None = None
    uncertain: bool = False

    @property
    def may_have_changed(self) -> bool:
        """Whether the exchange may hold a leverage this batch set."""
        if self.state is SymbolState.SENT:
            return True
        if self.state is SymbolState.SETTLED:
            return self.outcome is Outcome.SET or self.uncertain
        return False


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format_leverage(value)


class BatchJournal:
    """A batch's record of each symbol it sends, kept as it happens.

    Args:
        path: Append every event to this file (JSON lines), so another process
            can :meth:`load` it after a crash; ``None`` keeps it in memory.

    Raises:
        ConfigurationError: The file cannot be opened for appending.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._entries: dict[str, JournalEntry] = {}
        self._file: TextIO | None = None
        if self.path is not None:
            try:
                self._file = self.path.open("a", encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot write the journal {self.path}: {exc.strerror}"
                ) from None

    # -- what the batch records ---------------------------------------------------

    def planned(self, change: PlannedChange) -> None:
        """Record that ``change`` will be sent."""
        if change.target_buy is None or change.target_sell is None:
            return
        entry = JournalEntry(
            change.symbol, change.category, change.target_buy, change.target_sell
        )
        self._entries[change.symbol] = entry
        self._write(
            "planned",
            entry.symbol,
            category=entry.category.value,
            buy=_number(entry.target_buy),
            sell=_number(entry.target_sell),
        )

    def sent(self, symbol: str) -> None:
        """Record that a request for ``symbol`` went on the wire."""
        entry = self._entries.get(symbol)
        if entry is None:
            return
        entry.sends += 1
        if entry.state is SymbolState.PLANNED:
            entry.state = SymbolState.SENT
        self._write("sent", symbol)

    def settled(self, result: LeverageResult) -> None:
        """Record ``result`` as the symbol's outcome."""
        entry = self._entries.get(result.symbol)
        if entry is None:
            return
        entry.state = SymbolState.SETTLED
        entry.outcome = result.outcome
        entry.applied_buy, entry.applied_sell = result.applied_buy, result.applied_sell
        entry.uncertain = result.uncertain
        self._write(
            "settled",
            result.symbol,
            outcome=result.outcome.value,
            applied_buy=_number(result.applied_buy),
            applied_sell=_number(result.applied_sell),
            uncertain=result.uncertain,
        )

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path else ""
        flying = len(self.in_flight)
        return f"<BatchJournal{where}: {len(self)} symbols, {flying} in flight>"

    def close(self) -> None:
        """Close the journal's file (the record in memory stays)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, event: str, symbol: str, **fields: Any) -> None:
        if self._file is None:
            return
        line = json.dumps({"event": event, "symbol": symbol, **fields})
        self._file.write(line + "\n")
        self._file.flush()  # each event is on disk before the batch goes on

    # -- what a caller reads ------------------------------------------------------

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, symbol: str) -> JournalEntry:
        """The entry of ``symbol``.

        Raises:
            KeyError: The journal holds no such symbol.
        """
        return self._entries[symbol]

    def _symbols(self, state: SymbolState) -> tuple[str, ...]:
        return tuple(e.symbol for e in self._entries.values() if e.state is state)

    @property
    def in_flight(self) -> tuple[str, ...]:
        """Symbols whose request went out and never settled: they may have landed."""
        return self._symbols(SymbolState.SENT)

    @property
    def never_sent(self) -> tuple[str, ...]:
        """Symbols planned for sending, for which nothing went out."""
        return self._symbols(SymbolState.PLANNED)

    @property
    def changed(self) -> tuple[str, ...]:
        """Symbols whose result says the exchange now holds the new leverage."""
        return tuple(
            e.symbol for e in self._entries.values() if e.outcome is Outcome.SET
        )

    @property
    def may_have_changed(self) -> tuple[str, ...]:
        """Symbols whose leverage this batch changed or may have changed."""
        return tuple(e.symbol for e in self._entries.values() if e.may_have_changed)

    @property
    def open(self) -> bool:
        """Whether some symbol is not settled (the batch stopped early)."""
        return any(e.state is not SymbolState.SETTLED for e in self._entries.values())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BatchJournal:
        """Read a journal file written by another process (or an earlier run).

        A last line cut off by a crash is ignored; it was being written.

        Raises:
            ConfigurationError: The file cannot be read or holds something else.
        """
        journal = cls()
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the journal {path}: {exc}") from None
        for number, line in enumerate(lines, start=1):
            try:
                event = json.loads(line)
                journal._replay(event)
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines):
                    break  # a torn last line
                raise ConfigurationError(
                    f"{path}, line {number}: not a journal event ({exc})"
                ) from None
        return journal

    def _replay(self, event: dict[str, Any]) -> None:
        symbol = event["symbol"]
        kind = event["event"]
        if kind == "planned":
            self._entries[symbol] = JournalEntry(
                symbol,
                Category(event["category"]),
                Decimal(event["buy"]),
                Decimal(event["sell"]),
            )
        elif kind == "sent":
            self.sent(symbol)
        elif kind == "settled":
            entry = self._entries[symbol]
            entry.state = SymbolState.SETTLED
            entry.outcome = Outcome(event["outcome"])
            entry.applied_buy = _decimal_or_none(event.get("applied_buy"))
            entry.applied_sell = _decimal_or_none(event.get("applied_sell"))
            entry.uncertain = bool(event.get("uncertain"))
        else:
            raise ValueError(f"unknown event {kind!r}")


def _decimal_or_none(value: object) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("a leverage must be a string")
    return Decimal(value)
