"""What the CLI prints: tables and progress, with rich when installed, else plain."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from bybit_leverage import LeverageResult
from bybit_leverage.report import render_table

__all__ = ["Output", "Progress"]


class Output:
    """Tables and progress: rich on a terminal (the ``[cli]`` extra), else plain.

    Piped or redirected output is always plain text, one row per line, so no
    cell is wrapped and the output reads the same in a file or a ``grep``.

    Args:
        stream: Where to print (standard output by default).
        plain: Never use rich (for ``--json``: one document, nothing else).
        quiet: No progress lines on stderr (tests, embedding programs).
    """

    def __init__(
        self, stream: TextIO | None = None, *, plain: bool = False, quiet: bool = False
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.quiet = quiet
        self._console: Any = None
        if not plain and self.stream.isatty():
            try:
                from rich.console import Console
            except ImportError:  # pragma: no cover - the [cli] extra is not installed
                pass
            else:
                self._console = Console(file=self.stream, highlight=False)

    def line(self, text: str = "") -> None:
        """Print one line of text."""
        if self._console is not None:
            self._console.print(text, markup=False)
        else:
            print(text, file=self.stream)

    def table(
        self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        """Print a table."""
        if self._console is None:
            self.line(title)
            self.line(render_table(header, rows))
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for name in header:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self._console.print(table)

    def progress(self, total: int, label: str) -> Progress:
        """A progress display for ``total`` symbols."""
        return Progress(self, total, label)


class Progress:
    """Counts finished symbols: a bar on a terminal, else a line on stderr.

    Without a terminal (or without rich) a plain line ``label: done/total``
    goes to stderr as the first symbol finishes, then at most once a second,
    and at the end: a log or a pipe shows the batch moving without a flood.
    """

    def __init__(self, out: Output, total: int, label: str) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._label = label
        self._printed_at: float | None = None
        self._quiet = out.quiet
        console = out._console
        if console is not None and out.stream.isatty():
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(console=console, transient=True)
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, result: LeverageResult, done: int, total: int) -> None:
        """Advance by one finished symbol (the batch's ``on_progress``)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, description=result.symbol)
            return
        if self._quiet:
            return
        now = time.monotonic()
        if self._printed_at is None or now - self._printed_at >= 1 or done == total:
            self._printed_at = now
            print(f"{self._label}: {done}/{total} done", file=sys.stderr, flush=True)
