"""Command-line interface: ``bybit-leverage`` (and ``python -m bybit_leverage``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import bybit_leverage

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bybit-leverage",
        description="Set leverage on Bybit V5 perpetuals safely and fast.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {bybit_leverage.__version__}"
    )
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 done, 1 some failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return 0  # pragma: no cover - no subcommands are registered yet
