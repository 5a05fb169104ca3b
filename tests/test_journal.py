"""The batch journal on its own: states as they happen, a file another process reads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bybit_leverage import (
    BatchJournal,
    Category,
    ConfigurationError,
    LeverageResult,
    Outcome,
    PlannedChange,
    SymbolState,
)

D = Decimal


def change(symbol: str, value: int = 5) -> PlannedChange:
    return PlannedChange(
        symbol, Category.LINEAR, Outcome.SET, D(value), D(value), D(value), D(value)
    )


def result(symbol: str, outcome: Outcome, **kw: object) -> LeverageResult:
    return LeverageResult(symbol, Category.LINEAR, outcome, D(5), D(5), **kw)  # type: ignore[arg-type]


def test_states_follow_the_batch() -> None:
    journal = BatchJournal()
    for symbol in ("A", "B", "C", "D"):
        journal.planned(change(symbol))
    journal.planned(PlannedChange("X", Category.LINEAR, Outcome.REJECTED))  # no target
    journal.sent("A")
    journal.sent("B")
    journal.sent("B")  # a retry
    journal.sent("Z")  # not in the batch: ignored
    journal.settled(result("A", Outcome.SET, applied_buy=D(5), applied_sell=D(5)))
    journal.settled(result("C", Outcome.FAILED, uncertain=True))
    assert len(journal) == 4
    assert journal["B"].state is SymbolState.SENT
    assert journal["B"].sends == 2
    assert journal.in_flight == ("B",)
    assert journal.never_sent == ("D",)
    assert journal.changed == ("A",)
    assert journal.may_have_changed == ("A", "B", "C")
    assert journal.open
    assert "1 in flight" in repr(journal)


def test_a_journal_file_is_read_back_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    journal = BatchJournal(path)
    journal.planned(change("A", 7))
    journal.planned(change("B", 8))
    journal.sent("A")
    journal.sent("B")
    journal.settled(result("A", Outcome.SET, applied_buy=D(7), applied_sell=D(7)))
    journal.close()
    with path.open("a") as torn:  # the process died while writing an event
        torn.write('{"event": "sett')
    again = BatchJournal.load(path)
    assert [e.symbol for e in again] == ["A", "B"]
    assert again["A"].outcome is Outcome.SET
    assert again["A"].applied_buy == D(7)
    assert again["B"].state is SymbolState.SENT
    assert again["B"].target_buy == D(8)
    assert again.in_flight == ("B",)


def test_a_damaged_journal_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event": "odd", "symbol": "A"}\n{"event": "sent"}\n')
    with pytest.raises(ConfigurationError, match="line 1"):
        BatchJournal.load(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        BatchJournal.load(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigurationError, match="cannot write"):
        BatchJournal(tmp_path / "no" / "such" / "dir.jsonl")
