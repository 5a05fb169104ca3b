"""Command-line interface: ``bybit-leverage`` (and ``python -m bybit_leverage``).

A thin layer over the public API: it reads targets and keys, calls the client,
and prints. Exit codes: 0 all done, 1 some symbols failed or were rejected,
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TextIO

import attrs

import bybit_leverage
from bybit_leverage import _constants as c
from bybit_leverage._targets import parse_assignment, parse_target_text
from bybit_leverage.batch import (
    BatchReport,
    LeverageRequest,
    PlannedChange,
    execute_plans,
    plan_batch,
)
from bybit_leverage.client import BybitClient
from bybit_leverage.errors import (
    BybitError,
    ConfigurationError,
    DuplicateSymbol,
    TargetError,
    UnknownSymbol,
)
from bybit_leverage.leverage import SnapPolicy
from bybit_leverage.models import Category, Instrument, LeverageResult, Outcome
from bybit_leverage.models import format_leverage as fmt

__all__ = ["main", "run_command"]

EXIT_OK: Final = 0
EXIT_SOME_FAILED: Final = 1
EXIT_USAGE: Final = 2

_Handler = Callable[[argparse.Namespace, "Output"], Coroutine[Any, Any, int]]


# -- output ------------------------------------------------------------------------


class Output:
    """Tables and progress: rich when installed (the ``[cli]`` extra), else plain."""

    def __init__(self, stream: TextIO | None = None, *, plain: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self._console: Any = None
        if not plain:
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
        if self._console is not None:
            from rich.table import Table

            table = Table(title=title, title_justify="left")
            for name in header:
                table.add_column(name, overflow="fold")
            for row in rows:
                table.add_row(*row)
            self._console.print(table)
            return
        every = [tuple(header), *map(tuple, rows)]
        widths = [max(len(row[i]) for row in every) for i in range(len(header))]
        self.line(title)
        for row in every:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.line("  ".join(cells).rstrip())

    def progress(self, total: int, label: str) -> Progress:
        """A progress display for ``total`` symbols."""
        return Progress(self, total, label)


class Progress:
    """Counts finished symbols; draws a bar on a terminal, nothing otherwise."""

    def __init__(self, out: Output, total: int, label: str) -> None:
        self._bar: Any = None
        self._task: Any = None
        if out._console is not None and out.stream.isatty():
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(console=out._console, transient=True)
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


def _lev(buy: Decimal | None, sell: Decimal | None) -> str:
    if buy is None and sell is None:
        return "-"
    if buy == sell or sell is None:
        return fmt(buy) if buy is not None else "-"
    return f"{fmt(buy) if buy is not None else '-'}/{fmt(sell)}"


def _plan_rows(plans: Sequence[PlannedChange]) -> list[list[str]]:
    return [
        [
            plan.symbol,
            "set" if plan.action is Outcome.SET else plan.action.value,
            _lev(plan.requested_buy, plan.requested_sell),
            _lev(plan.target_buy, plan.target_sell),
            _lev(plan.current_buy, plan.current_sell),
            "yes" if plan.adjusted else "",
            str(plan.error) if plan.error else "",
        ]
        for plan in plans
    ]


_PLAN_HEADER: Final = (
    "symbol",
    "action",
    "requested",
    "target",
    "current",
    "adjusted",
    "note",
)
_RESULT_HEADER: Final = (
    "symbol",
    "outcome",
    "requested",
    "applied",
    "adjusted",
    "tries",
    "note",
)


def _result_rows(results: Sequence[LeverageResult]) -> list[list[str]]:
    return [
        [
            r.symbol,
            r.outcome.value,
            _lev(r.requested_buy, r.requested_sell),
            _lev(r.applied_buy, r.applied_sell),
            "yes" if r.adjusted else "",
            str(r.attempts),
            str(r.error) if r.error else "",
        ]
        for r in results
    ]


def _plan_json(plan: PlannedChange) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else fmt(value)

    return {
        "symbol": plan.symbol,
        "category": plan.category.value,
        "action": plan.action.value,
        "requested_buy": text(plan.requested_buy),
        "requested_sell": text(plan.requested_sell),
        "target_buy": text(plan.target_buy),
        "target_sell": text(plan.target_sell),
        "current_buy": text(plan.current_buy),
        "current_sell": text(plan.current_sell),
        "adjusted": plan.adjusted,
        "error": None
        if plan.error is None
        else {"type": type(plan.error).__name__, "message": str(plan.error)},
    }


def _summary(plans: Sequence[PlannedChange]) -> str:
    counts: dict[str, int] = {}
    for plan in plans:
        key = "to set" if plan.action is Outcome.SET else plan.action.value
        counts[key] = counts.get(key, 0) + 1
    adjusted = sum(plan.adjusted for plan in plans)
    parts = [f"{n} {key}" for key, n in counts.items()] + [f"{adjusted} adjusted"]
    noun = "symbol" if len(plans) == 1 else "symbols"
    return f"{len(plans)} {noun}: " + ", ".join(parts)


# -- configuration -----------------------------------------------------------------


def _read_key_file(path: str) -> dict[str, str]:
    """Read ``NAME=value`` lines (``BYBIT_API_KEY``, ``BYBIT_API_SECRET``, ...)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read key file {path}: {exc.strerror}"
        ) from None
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ConfigurationError(f"{path}, line {number}: expected NAME=value")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip(
            "'\""
        )
    return values


def _base_url(args: argparse.Namespace) -> str:
    if args.base_url:
        return str(args.base_url)
    if args.testnet:
        return c.TESTNET
    if args.demo_host:
        return c.DEMO
    return c.MAINNET


def make_client(args: argparse.Namespace) -> BybitClient:
    """Build the client from the command line and the environment."""
    env = dict(os.environ)
    if args.key_file:
        env.update(_read_key_file(args.key_file))
    private_key = None
    if env.get("BYBIT_PRIVATE_KEY_FILE"):
        try:
            private_key = Path(env["BYBIT_PRIVATE_KEY_FILE"]).read_text()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the RSA private key: {exc.strerror}"
            ) from None
    return BybitClient(
        api_key=env.get("BYBIT_API_KEY") or None,
        api_secret=None if private_key else (env.get("BYBIT_API_SECRET") or None),
        private_key=private_key,
        base_url=_base_url(args),
    )


def _read_targets_file(path: str) -> list[LeverageRequest]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TargetError(path, exc.strerror or "cannot read") from None
    return parse_target_text(text, source=path)


async def _targets(
    args: argparse.Namespace, client: BybitClient
) -> list[LeverageRequest]:
    requests = [parse_assignment(text) for text in args.targets]
    if args.file:  # a small local file: reading it inline does not stall anything
        requests += _read_targets_file(args.file)
    if args.all is not None:
        instruments = await client.get_instruments(args.category)
        requests += [
            LeverageRequest(symbol, args.all)
            for symbol, instrument in sorted(instruments.items())
            if instrument.is_tradable
        ]
    if not requests:
        raise TargetError(
            "targets", "give SYMBOL=LEVERAGE arguments, --all LEV or --file"
        )
    return requests


# -- commands ----------------------------------------------------------------------


def _limit_row(instrument: Instrument) -> list[str]:
    rule = instrument.leverage_filter
    return [
        instrument.symbol,
        instrument.status.value,
        fmt(rule.min_leverage),
        fmt(rule.max_leverage),
        fmt(rule.leverage_step),
    ]


async def cmd_limits(args: argparse.Namespace, out: Output) -> int:
    """Print the leverage filter of the given symbols (or of every listed one)."""
    async with make_client(args) as client:
        code = EXIT_OK
        if args.symbols:
            found = []
            for symbol in args.symbols:
                try:
                    found.append(await client.get_instrument(symbol, args.category))
                except UnknownSymbol as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    code = EXIT_SOME_FAILED
        else:
            found = sorted(
                (await client.get_instruments(args.category)).values(),
                key=lambda i: i.symbol,
            )
    if args.json:
        header = ("symbol", "status", "min_leverage", "max_leverage", "leverage_step")
        rows = [dict(zip(header, _limit_row(i), strict=True)) for i in found]
        out.line(json.dumps(rows))
    else:
        out.table(
            f"{args.category.value} leverage filters",
            ("symbol", "status", "min", "max", "step"),
            [_limit_row(i) for i in found],
        )
    return code


async def _plan(
    args: argparse.Namespace, client: BybitClient
) -> tuple[list[PlannedChange], int]:
    requests = await _targets(args, client)
    return await plan_batch(
        client,
        requests,
        category=args.category,
        policy=args.policy,
        read_current=client.has_credentials and not args.no_skip_unchanged,
    )


async def cmd_plan(args: argparse.Namespace, out: Output) -> int:
    """Show what ``set`` would do, writing nothing."""
    async with make_client(args) as client:
        plans, _ = await _plan(args, client)
    if args.json:
        out.line(json.dumps({"plan": [_plan_json(p) for p in plans]}))
    else:
        out.table("plan (nothing is written)", _PLAN_HEADER, _plan_rows(plans))
        out.line(_summary(plans))
    failed = any(p.action in (Outcome.REJECTED, Outcome.FAILED) for p in plans)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _confirm(count: int) -> bool:
    if not sys.stdin.isatty():
        raise ConfigurationError(
            "refusing to write without --yes: stdin is not a terminal"
        )
    answer = input(f"Set leverage on {count} symbols? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def cmd_set(args: argparse.Namespace, out: Output) -> int:
    """Plan, confirm, then set leverage; print one result per symbol."""
    loop = asyncio.get_running_loop()
    async with make_client(args) as client:
        client.require_credentials()
        started = loop.time()
        plans, reads = await _plan(args, client)
        planning = loop.time() - started  # the time spent at the prompt is not ours
        to_send = sum(p.action is Outcome.SET for p in plans)
        if not args.json:
            out.table("plan", _PLAN_HEADER, _plan_rows(plans))
            out.line(_summary(plans))
        if to_send and not args.yes and not _confirm(to_send):
            out.line("nothing was sent")
            return EXIT_USAGE
        with out.progress(len(plans), "setting leverage") as progress:
            report = await execute_plans(
                client,
                plans,
                reads=reads,
                concurrency=args.concurrency,
                on_risk_limit=args.on_risk_limit,
                on_progress=progress,
            )
    _print_report(args, out, attrs.evolve(report, elapsed=report.elapsed + planning))
    return EXIT_OK if report.ok else EXIT_SOME_FAILED


def _print_report(args: argparse.Namespace, out: Output, report: BatchReport) -> None:
    if args.json:
        out.line(report.to_json())
        return
    out.table("result", _RESULT_HEADER, _result_rows(report.results))
    out.line(report.summary())


async def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    """Run the main job against the built-in simulator."""
    from bybit_leverage._demo import run_demo

    return await run_demo(out, symbols=args.symbols, batch=args.batch, seed=args.seed)


# -- parser ------------------------------------------------------------------------


def _add_connection(parser: argparse.ArgumentParser) -> None:
    hosts = parser.add_mutually_exclusive_group()
    hosts.add_argument("--testnet", action="store_true", help="use " + c.TESTNET)
    hosts.add_argument(
        "--demo",
        dest="demo_host",
        action="store_true",
        help="use demo trading, " + c.DEMO,
    )
    hosts.add_argument("--base-url", help="any other host (http only on loopback)")
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
        "--all", metavar="LEV", help="every tradable symbol of the category"
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


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bybit-leverage",
        description="Set leverage on Bybit V5 perpetuals safely and fast.",
        epilog="Keys come from BYBIT_API_KEY / BYBIT_API_SECRET or --key-file.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {bybit_leverage.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    limits = commands.add_parser("limits", help="show leverage filters")
    limits.add_argument("symbols", nargs="*", metavar="SYMBOL")
    _add_connection(limits)
    limits.set_defaults(handler=cmd_limits)

    plan = commands.add_parser("plan", help="show what would change; writes nothing")
    _add_targets(plan)
    _add_connection(plan)
    plan.set_defaults(handler=cmd_plan)

    set_ = commands.add_parser("set", help="set leverage")
    _add_targets(set_)
    _add_connection(set_)
    set_.add_argument(
        "--yes", "-y", action="store_true", help="do not ask for confirmation"
    )
    set_.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    set_.add_argument(
        "--on-risk-limit",
        choices=("fail", "clamp"),
        default="fail",
        help="on 110013: fail (default) or retry at the allowed maximum",
    )
    set_.set_defaults(handler=cmd_set)

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

    demo = commands.add_parser("demo", help="plan and set on the built-in simulator")
    demo.add_argument(
        "--symbols", type=int, default=600, help="simulated universe size"
    )
    demo.add_argument("--batch", type=int, default=120, help="symbols in the batch")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=cmd_demo, json=False)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 done, 1 some failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate":
        from bybit_leverage.simulator import run  # aiohttp.web only when serving

        return run(
            port=args.port,
            symbols=args.symbols,
            latency_ms=args.latency_ms,
            seed=args.seed,
            rate_limit=not args.no_rate_limit,
        )
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_USAGE
    # The library logs and never configures logging; the CLI is an application.
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `bybit-leverage limits --json | head`
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SOME_FAILED


async def run_command(argv: Sequence[str], *, stream: TextIO | None = None) -> int:
    """Run one command inside an already running event loop.

    The same parsing, commands and exit codes as :func:`main`, for programs (and
    tests) that embed the CLI in their own loop. ``simulate`` is not available
    here: it owns its loop.

    Raises:
        SystemExit: For arguments argparse refuses (exit code 2), as in ``main``.
    """
    args = build_parser().parse_args(argv)
    if getattr(args, "handler", None) is None:
        print("error: give a command other than simulate", file=sys.stderr)
        return EXIT_USAGE
    return await _dispatch(args, stream)


async def _dispatch(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    handler: _Handler = args.handler
    out = Output(stream, plain=bool(args.json))
    try:
        return await handler(args, out)
    except (ConfigurationError, TargetError, DuplicateSymbol) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BybitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
