"""The command line's grammar: every subcommand and its flags."""

from __future__ import annotations

import argparse

import bybit_leverage
from bybit_leverage import (
    DEMO,
    MAINNET,
    TESTNET,
    Category,
    InvalidLeverage,
    SnapPolicy,
    to_leverage,
)
from bybit_leverage._argparse import OneLineParser

__all__ = ["build_parser"]


def _add_connection(parser: argparse.ArgumentParser) -> None:
    hosts = parser.add_mutually_exclusive_group()
    hosts.add_argument("--testnet", action="store_true", help="use " + TESTNET)
    hosts.add_argument(
        "--demo",
        dest="demo_host",
        action="store_true",
        help="use demo trading, " + DEMO,
    )
    hosts.add_argument(
        "--base-url",
        help="any other host (http only on loopback); also BYBIT_BASE_URL; "
        f"default: mainnet, {MAINNET}",
    )
    parser.add_argument(
        "--key-file",
        help="file of NAME=value lines: BYBIT_API_KEY, "
        "BYBIT_API_SECRET (or BYBIT_PRIVATE_KEY_FILE for RSA)",
    )
    parser.add_argument(
        "--category",
        type=Category,
        choices=list(Category),
        default=Category.LINEAR,
        help="default: linear",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="SYMBOL=LEV",
        help="e.g. BTCUSDT=10, or ETHUSDT=10/5 for hedge buy/sell",
    )
    parser.add_argument(
        "--all",
        metavar="LEV",
        type=_leverage,
        help="every tradable symbol of the category",
    )
    parser.add_argument("--file", help="CSV (symbol,leverage) or JSON targets")
    parser.add_argument(
        "--policy",
        type=SnapPolicy,
        choices=list(SnapPolicy),
        default=SnapPolicy.DOWN,
        help="snapping policy (default: down)",
    )
    parser.add_argument(
        "--no-skip-unchanged",
        action="store_true",
        help="do not read current leverage; send every symbol",
    )
    parser.add_argument(
        "--no-clamp",
        action="store_true",
        help="refuse values outside a symbol's range instead of clamping them "
        "(values inside are still snapped onto the grid)",
    )
    parser.add_argument(
        "--only-flat",
        action="store_true",
        help="leave symbols with an open position alone",
    )


def _leverage(text: str) -> str:
    try:
        to_leverage(text)
    except InvalidLeverage as exc:
        raise argparse.ArgumentTypeError(exc.reason + f": {exc.value}") from None
    return text


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _add_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="share each account's rate budget with every process using this "
        "Redis (redis://host:port/db); also BYBIT_LEVERAGE_REDIS",
    )


def configure_simulator(parser: argparse.ArgumentParser) -> None:
    """Add ``simulate``'s flags: the simulator's own (loaded only when used)."""
    from bybit_leverage.simulator import configure_parser

    configure_parser(parser)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every subcommand."""
    from bybit_leverage.cli import _commands as cmd

    parser = OneLineParser(
        prog="bybit-leverage",
        description="Set leverage on Bybit V5 perpetuals safely and fast.",
        epilog="Keys come from BYBIT_API_KEY / BYBIT_API_SECRET or --key-file. "
        f"The host is mainnet ({MAINNET}) unless --testnet, --demo or --base-url.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {bybit_leverage.__version__}"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )

    limits = commands.add_parser("limits", help="show leverage filters")
    limits.add_argument("symbols", nargs="*", metavar="SYMBOL")
    _add_connection(limits)
    limits.set_defaults(handler=cmd.cmd_limits)

    plan = commands.add_parser("plan", help="show what would change; writes nothing")
    _add_targets(plan)
    _add_connection(plan)
    _add_budget(plan)
    plan.set_defaults(handler=cmd.cmd_plan)

    set_ = commands.add_parser("set", help="set leverage")
    _add_targets(set_)
    _add_connection(set_)
    _add_budget(set_)
    set_.add_argument(
        "--yes", "-y", action="store_true", help="do not ask for confirmation"
    )
    set_.add_argument(
        "--concurrency",
        type=_positive_int,
        default=20,
        help="requests waiting at once (default 20; pacing keeps 10/s anyway)",
    )
    set_.add_argument(
        "--on-risk-limit",
        choices=("fail", "clamp"),
        default="fail",
        help="on 110013: fail (default) or retry at the allowed maximum",
    )
    set_.add_argument(
        "--verify",
        action="store_true",
        help="read back every symbol afterwards (uncertain ones always are)",
    )
    set_.set_defaults(handler=cmd.cmd_set)

    simulate = commands.add_parser(
        "simulate", help="serve a loopback Bybit V5 simulator until Ctrl-C"
    )
    configure_simulator(simulate)

    demo = commands.add_parser("demo", help="plan and set on the built-in simulator")
    demo.add_argument(
        "--symbols", type=int, default=600, help="simulated universe size"
    )
    demo.add_argument("--batch", type=int, default=120, help="symbols in the batch")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=cmd.cmd_demo, json=False)

    return parser
