"""Command-line interface: ``bybit-leverage`` (and ``python -m bybit_leverage``).

A thin layer over the public API: it reads targets and keys, calls the client,
and prints. Exit codes: 0 all done, 1 some symbols failed or were rejected,
2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

from bybit_leverage.cli._main import main, run_command

__all__ = ["main", "run_command"]
