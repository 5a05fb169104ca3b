"""The simulator's command line: ``python -m bybit_leverage.simulator [flags]``.

The CLI's ``bybit-leverage simulate`` reuses it: :func:`configure_parser` adds
the flags to its sub-parser and :func:`run_args` runs them. Nothing heavy is
imported here until :func:`run_args` serves, so building a parser stays cheap.
A bad option is a usage error: one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from bybit_leverage._argparse import EXIT_USAGE, OneLineParser

__all__ = ["configure_parser", "main", "run_args"]

_MARGIN_MODES = ("REGULAR_MARGIN", "ISOLATED_MARGIN", "PORTFOLIO_MARGIN")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0..65535, got {text!r}")
    return int(text)


def _symbols(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {text!r}")
    return int(text)


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _margin_mode(text: str) -> str:
    aliases = {"CROSS": "REGULAR_MARGIN", "ISOLATED": "ISOLATED_MARGIN"}
    aliases["PORTFOLIO"] = "PORTFOLIO_MARGIN"
    mode = aliases.get(text.upper(), text.upper())
    if mode not in _MARGIN_MODES:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(_MARGIN_MODES)}, got {text!r}"
        )
    return mode


def _position(text: str) -> tuple[str, Decimal]:
    symbol, sep, value_text = text.partition("=")
    try:
        value = Decimal(value_text)
    except InvalidOperation:
        value = Decimal(-1)
    if not sep or not symbol or not value >= 0:
        raise argparse.ArgumentTypeError(f"expected SYMBOL=VALUE, got {text!r}")
    return symbol, value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags to ``parser`` (``bybit-leverage simulate`` uses it)."""
    add = parser.add_argument
    add("--port", type=_port, default=8123, help="TCP port, 0 picks one (8123)")
    add("--symbols", type=_symbols, default=600, help="linear symbols (600)")
    add("--latency-ms", type=_latency, default=0.0, help="delay per answer (0)")
    add("--seed", type=int, default=0, help="market data and key seed (0)")
    add("--no-rate-limit", action="store_true", help="disable UID and IP limits")
    add(
        "--profile",
        choices=("mainnet", "demo"),
        default="mainnet",
        help="answer like mainnet, or the demo host (no position/symbol-info)",
    )
    add(
        "--margin-mode",
        type=_margin_mode,
        default="REGULAR_MARGIN",
        help="the account's margin mode: REGULAR_MARGIN (cross, default), "
        "ISOLATED_MARGIN or PORTFOLIO_MARGIN",
    )
    add(
        "--unified-status",
        type=int,
        choices=(1, 3, 4, 5, 6),
        default=5,
        help="unifiedMarginStatus (5: UTA 2.0)",
    )
    add(
        "--hedge",
        action="append",
        default=[],
        metavar="SYMBOL",
        help="hold SYMBOL in hedge mode (repeatable; USDT perpetuals)",
    )
    add(
        "--position",
        type=_position,
        action="append",
        default=[],
        metavar="SYMBOL=VALUE",
        help="an open (buy) position worth VALUE USD (repeatable)",
    )
    add("--read-only", action="store_true", help="make the key read-only")
    add(
        "--no-position-permission",
        action="store_true",
        help="the key lacks ContractTrade 'Position' (set-leverage: 10005)",
    )
    add(
        "--bind-ip",
        action="append",
        default=[],
        metavar="IP",
        help="bind the key to IP (repeatable); other callers get 10010",
    )
    add("--expired-key", action="store_true", help="the key has expired (33004)")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "port": args.port,
        "symbols": args.symbols,
        "latency_ms": args.latency_ms,
        "seed": args.seed,
        "rate_limit": not args.no_rate_limit,
        "profile": args.profile,
        "margin_mode": args.margin_mode,
        "unified_status": args.unified_status,
        "hedge": tuple(args.hedge),
        "read_only": args.read_only,
        "contract_trade": ("Order",) if args.no_position_permission else None,
        "ips": tuple(args.bind_ip),
        "key_expired": args.expired_key,
    }


def run_args(args: argparse.Namespace) -> int:
    """Serve with the flags :func:`configure_parser` added; return the exit code.

    0 after Ctrl-C or SIGTERM; 2 (with one line on stderr) when the simulator
    cannot start: a busy port, an unlisted ``--hedge`` symbol, and so on.
    """
    from bybit_leverage.simulator._process import run

    options = {k: v for k, v in _options(args).items() if v is not None}
    positions: list[tuple[str, Decimal]] = args.position
    try:
        return run(positions=dict(positions), **options)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"cannot listen on 127.0.0.1:{args.port}: {reason}"
    except KeyError as exc:
        message = str(exc.args[0])
    except ValueError as exc:
        message = str(exc)
    sys.stderr.write(f"simulator: error: {message}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m bybit_leverage.simulator``; return the exit code."""
    parser = OneLineParser(
        prog="python -m bybit_leverage.simulator",
        description="Serve a loopback Bybit V5 simulator until Ctrl-C.",
    )
    configure_parser(parser)
    try:
        return run_args(parser.parse_args(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
