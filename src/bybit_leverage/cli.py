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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    simulate = commands.add_parser(
        "simulate", help="serve a loopback Bybit V5 simulator until Ctrl-C"
    )
    simulate.add_argument("--port", type=int, default=8123, help="TCP port (0: any)")
    simulate.add_argument("--symbols", type=int, default=600, help="linear symbols")
    simulate.add_argument("--latency-ms", type=float, default=0, help="added delay")
    simulate.add_argument("--seed", type=int, default=0, help="market data seed")
    simulate.add_argument(
        "--no-rate-limit", action="store_true", help="disable UID and IP limits"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 done, 1 some failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "simulate":
        from bybit_leverage.simulator import run  # aiohttp.web only when serving

        return run(
            port=args.port,
            symbols=args.symbols,
            latency_ms=args.latency_ms,
            seed=args.seed,
            rate_limit=not args.no_rate_limit,
        )
    return 0  # pragma: no cover - every registered subcommand returns above
