"""The commands: ``limits``, ``plan``, ``set`` and ``demo``, on the public API only."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bybit_leverage import (
    AuthenticationError,
    BatchPlan,
    BatchReport,
    BybitClient,
    BybitError,
    ConfigurationError,
    Instrument,
    LeverageRequest,
    Outcome,
    TargetError,
    UnknownSymbol,
    format_leverage,
    host_label,
)
from bybit_leverage.cli._config import make_client, read_text_file
from bybit_leverage.cli._interrupt import Interruption, run_interruptibly
from bybit_leverage.cli._output import Output
from bybit_leverage.cli._targets import parse_assignment, parse_target_text
from bybit_leverage.report import PLAN_COLUMNS, RESULT_COLUMNS

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SOME_FAILED",
    "EXIT_USAGE",
    "cmd_demo",
    "cmd_limits",
    "cmd_plan",
    "cmd_set",
]

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


async def _targets(
    args: argparse.Namespace, client: BybitClient
) -> list[LeverageRequest]:
    requests = [parse_assignment(text) for text in args.targets]
    if args.file:  # a small local file: reading it inline does not stall anything
        from_file = parse_target_text(
            read_text_file(args.file, "target file"), source=args.file
        )
        if not from_file:
            raise TargetError(args.file, "the file holds no targets")
        requests += from_file
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


def _limit_row(instrument: Instrument) -> list[str]:
    rule = instrument.leverage_filter
    return [
        instrument.symbol,
        instrument.status.value,
        format_leverage(rule.min_leverage),
        format_leverage(rule.max_leverage),
        format_leverage(rule.leverage_step),
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


async def _plan(args: argparse.Namespace, client: BybitClient) -> BatchPlan:
    requests = await _targets(args, client)
    return await client.plan_leverage_many(
        requests,
        category=args.category,
        policy=args.policy,
        read_current=not args.no_skip_unchanged,
        only_flat=args.only_flat,
        clamp=not args.no_clamp,
    )


async def _where(client: BybitClient) -> dict[str, Any]:
    """The host and the account, as the plan and the prompt name them."""
    where: dict[str, Any] = {"host": host_label(client.base_url), "account": None}
    if client.has_credentials:
        try:
            profile = await client.get_account()
        except AuthenticationError:
            raise
        except BybitError as exc:  # the batch will say more if it matters
            where["account_error"] = str(exc)
        else:
            where["account"] = {
                "uid": profile.uid,
                "margin_mode": profile.margin_mode,
                "unified_margin_status": profile.unified_margin_status,
                "read_only": profile.read_only,
            }
    return where


def _where_line(where: dict[str, Any]) -> str:
    account = where["account"]
    if account is None:
        who = where.get("account_error", "no API key (public data only)")
    else:
        uid = account["uid"] if account["uid"] is not None else "unknown"
        mode = account["margin_mode"] or "margin mode unknown"
        who = f"UID {uid}, {mode}"
    return f"host: {where['host']}; account: {who}"


def _print_summary(out: Output, plan: BatchPlan) -> None:
    """The plan's one-line summary, then the clamped symbols by name."""
    out.line(plan.summary())
    clamped = [change.symbol for change in plan.clamped]
    if clamped:
        out.line(
            f"clamped to their range, not just rounded ({len(clamped)}): "
            + ", ".join(clamped)
        )


def _refused(plan: BatchPlan) -> bool:
    return any(c.action in (Outcome.REJECTED, Outcome.FAILED) for c in plan)


async def cmd_plan(args: argparse.Namespace, out: Output) -> int:
    """Show what ``set`` would do, writing nothing."""
    async with make_client(args) as client:
        where = await _where(client)
        plan = await _plan(args, client)
    if args.json:
        out.line(json.dumps({**where, **plan.to_dict()}))
    else:
        out.line(_where_line(where))
        out.table("plan (nothing is written)", PLAN_COLUMNS, plan.rows())
        _print_summary(out, plan)
    return EXIT_SOME_FAILED if _refused(plan) else EXIT_OK


async def _ask(question: str) -> str:
    """Read one answer from the terminal without blocking the loop (Ctrl-C works)."""
    try:
        fd = sys.stdin.fileno()
    except (OSError, ValueError):  # a stand-in stdin: nothing to wait on
        return input(question)  # noqa: ASYNC250 - no fd: a test stand-in, answered at once
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def readable() -> None:
        if not answer.done():
            answer.set_result(sys.stdin.readline())

    sys.stdout.write(question)
    sys.stdout.flush()
    loop.add_reader(fd, readable)
    try:
        return await answer
    finally:
        loop.remove_reader(fd)


def _question(plan: BatchPlan, where: dict[str, Any]) -> str:
    count = len(plan.to_send)
    noun = "symbol" if count == 1 else "symbols"
    text = f"Set leverage on {count} {noun} on {_where_line(where)}?"
    clamped = [c.symbol for c in plan.to_send if c.clamped]
    if clamped:
        text += (
            f" {len(clamped)} asked above (or below) their range and will be "
            f"clamped to it: {', '.join(clamped)}."
        )
    return text + " [y/N] "


async def _confirm(plan: BatchPlan, where: dict[str, Any]) -> bool:
    if not sys.stdin.isatty():
        raise ConfigurationError(
            "refusing to write without --yes: stdin is not a terminal"
        )
    try:
        answer = await _ask(_question(plan, where))
    except asyncio.CancelledError:
        print("\ninterrupted at the prompt: nothing was sent", file=sys.stderr)
        raise
    return answer.strip().lower() in ("y", "yes")


async def cmd_set(args: argparse.Namespace, out: Output) -> int:
    """Plan, confirm, then set exactly that plan; print one result per symbol."""
    async with make_client(args) as client:
        client.require_credentials()
        where = await _where(client)
        plan = await _plan(args, client)
        if not args.json:
            out.line(_where_line(where))
            out.table("plan", PLAN_COLUMNS, plan.rows())
            _print_summary(out, plan)
        if plan.to_send and not args.yes and not await _confirm(plan, where):
            out.line("nothing was sent")
            return EXIT_USAGE
        with out.progress(len(plan), "setting leverage") as progress:
            outcome = await run_interruptibly(
                client,
                lambda journal: client.execute(
                    plan,
                    concurrency=args.concurrency,
                    on_risk_limit=args.on_risk_limit,
                    on_progress=progress,
                    verify=True if args.verify else None,
                    journal=journal,
                ),
                notice=lambda text: print(text, file=sys.stderr),
            )
    if isinstance(outcome, Interruption):
        if args.json:
            out.line(json.dumps({**where, **outcome.to_dict()}))
        else:
            for line in outcome.lines():
                out.line(line)
        return EXIT_INTERRUPTED
    _print_report(args, out, outcome, where)
    return EXIT_OK if outcome.ok else EXIT_SOME_FAILED


def _print_report(
    args: argparse.Namespace, out: Output, report: BatchReport, where: dict[str, Any]
) -> None:
    if args.json:
        out.line(json.dumps({**where, **report.to_dict()}))
        return
    out.table("result", RESULT_COLUMNS, report.rows())
    out.line(report.summary())


async def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    """Run the main job against the built-in simulator."""
    from bybit_leverage.cli._demo import run_demo

    return await run_demo(out, symbols=args.symbols, batch=args.batch, seed=args.seed)
