"""One argument parser for both command lines: a usage error is one line, exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import Final, NoReturn

__all__ = ["EXIT_USAGE", "OneLineParser"]

EXIT_USAGE: Final = 2


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit code 2.

    argparse prints the whole usage block before an error; an operator reading a
    failed run (or a log) wants the flag and the problem, and ``--help`` for more.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see --help)`` and exit with status 2."""
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)
