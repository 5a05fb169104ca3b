"""Running a command: parse, dispatch, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TextIO

from bybit_leverage import (
    AuthenticationError,
    BybitError,
    ConfigurationError,
    DuplicateSymbol,
    MissingCredentials,
    TargetError,
)
from bybit_leverage.cli._commands import (
    EXIT_INTERRUPTED,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
)
from bybit_leverage.cli._config import NO_KEYS
from bybit_leverage.cli._output import Output
from bybit_leverage.cli._parser import build_parser

__all__ = ["main", "run_command"]

_Handler = Callable[[argparse.Namespace, Output], Coroutine[Any, Any, int]]


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is *now*.

    A rich progress bar redirects ``sys.stderr`` while it draws, so a warning
    logged meanwhile is printed above the bar instead of tearing it.
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys.stderr


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; its exit code: 0 done, 1 some failed, 2 usage, 130 Ctrl-C."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate":
        from bybit_leverage.simulator import run_args  # aiohttp.web only when serving

        return run_args(args)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_USAGE
    # The library logs and never configures logging; the CLI is an application.
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
    out = Output(stream, plain=bool(args.json), quiet=stream is not None)
    try:
        return await handler(args, out)
    except MissingCredentials:
        print(f"error: {NO_KEYS}", file=sys.stderr)
        return EXIT_USAGE
    except (
        AuthenticationError,
        ConfigurationError,
        TargetError,
        DuplicateSymbol,
    ) as exc:  # nothing was written: a key, setting or input to fix
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BybitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
