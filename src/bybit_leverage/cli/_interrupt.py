"""Ctrl-C during ``set``: stop sending, read back what was in flight, say it all.

The first Ctrl-C cancels the batch (nothing new goes out), then reads back,
within :data:`READ_BACK_S`, every symbol whose request was on the wire and never
settled. A second Ctrl-C skips that read: those symbols are then named as
unknown. Either way the operator gets every symbol that changed, every symbol
still unknown, and what was never sent.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, Final

from attrs import frozen

from bybit_leverage import BatchJournal, BatchReport, BybitClient, BybitError, Outcome

__all__ = ["READ_BACK_S", "Interruption", "run_interruptibly"]

#: The longest the read-back after Ctrl-C may take before it gives up.
READ_BACK_S: Final = 15.0


@frozen
class Interruption:
    """What a Ctrl-C left: each symbol of the batch in one of four lists."""

    changed: tuple[str, ...]
    unknown: tuple[str, ...]
    not_changed: tuple[str, ...]
    never_sent: tuple[str, ...]
    report: BatchReport | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with the read-back results, when there are some)."""
        found: dict[str, Any] = {
            "interrupted": True,
            "changed": list(self.changed),
            "unknown": list(self.unknown),
            "not_changed": list(self.not_changed),
            "never_sent": list(self.never_sent),
        }
        if self.report is not None:
            found.update(self.report.to_dict())
        return found

    def lines(self) -> list[str]:
        """The same, as lines for a person."""
        found = []
        for label, symbols in (
            ("changed", self.changed),
            ("unknown (sent, not read back: check them)", self.unknown),
            ("not changed", self.not_changed),
            ("never sent", self.never_sent),
        ):
            if symbols:
                found.append(f"{label} ({len(symbols)}): {', '.join(symbols)}")
        return found


def _sorted_out(journal: BatchJournal, report: BatchReport | None) -> Interruption:
    if report is None:  # the read-back was skipped: trust only settled results
        changed = journal.changed
        unknown = tuple(
            e.symbol
            for e in journal
            if e.symbol in journal.in_flight
            or (e.uncertain and e.symbol not in changed)
        )
        not_changed = tuple(
            e.symbol
            for e in journal
            if e.symbol not in changed
            and e.symbol not in unknown
            and e.symbol not in journal.never_sent
        )
        return Interruption(changed, unknown, not_changed, journal.never_sent, None)
    changed = tuple(r.symbol for r in report if r.outcome is Outcome.SET)
    unknown = tuple(r.symbol for r in report if r.uncertain)
    never = tuple(s for s in journal.never_sent if s not in changed)
    not_changed = tuple(
        r.symbol
        for r in report
        if r.symbol not in changed and r.symbol not in unknown and r.symbol not in never
    )
    return Interruption(changed, unknown, not_changed, never, report)


async def run_interruptibly(
    client: BybitClient,
    start: Callable[[BatchJournal], Coroutine[Any, Any, BatchReport]],
    *,
    notice: Callable[[str], object],
) -> BatchReport | Interruption:
    """Run ``start(journal)``; on Ctrl-C stop it and account for every symbol.

    Args:
        client: The client the batch runs on (for the read-back).
        start: Starts the batch with the journal it must keep.
        notice: Prints one line to the operator (on stderr).
    """
    loop = asyncio.get_running_loop()
    journal = BatchJournal()
    batch = asyncio.ensure_future(start(journal))
    presses = 0
    reading: asyncio.Future[BatchReport] | None = None

    def on_interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            batch.cancel()
        elif reading is not None:
            reading.cancel()

    handled = _handle_sigint(loop, on_interrupt)
    try:
        try:
            return await batch
        except asyncio.CancelledError:
            if not batch.cancelled() or presses == 0:
                raise  # cancelled from outside: not ours to account for
        flying = len(journal.in_flight)
        notice(
            f"interrupted: nothing more is sent; reading back {flying} symbols "
            "that were in flight (Ctrl-C again to skip)"
        )
        report: BatchReport | None = None
        if presses == 1:
            reading = asyncio.ensure_future(client.reconcile(journal))
            try:
                async with asyncio.timeout(READ_BACK_S):
                    report = await reading
            except asyncio.CancelledError:
                if presses < 2:
                    raise
                notice("read-back skipped (Ctrl-C)")
            except TimeoutError:
                notice(f"read-back gave up after {READ_BACK_S:.0f}s")
            except BybitError as exc:
                notice(f"read-back failed: {exc}")
        return _sorted_out(journal, report)
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)


def _handle_sigint(
    loop: asyncio.AbstractEventLoop, handler: Callable[[], None]
) -> bool:
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
        return False
    return True
