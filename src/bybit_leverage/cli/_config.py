"""Where the CLI connects and as whom: hosts from flags, keys from the environment.

Keys come from ``BYBIT_API_KEY`` / ``BYBIT_API_SECRET`` (or
``BYBIT_PRIVATE_KEY_FILE`` for an RSA key, with ``BYBIT_PRIVATE_KEY_PASSPHRASE``
if it is encrypted), from the environment or a ``--key-file`` of ``NAME=value``
lines (``export NAME=value`` too: the simulator's banner is such a file). The
host comes from ``--base-url``, ``--testnet``, ``--demo``, then
``BYBIT_BASE_URL``; mainnet otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from bybit_leverage import (
    DEMO,
    MAINNET,
    TESTNET,
    BybitClient,
    ConfigurationError,
)

__all__ = ["NO_KEYS", "base_url", "make_client", "read_key_file", "read_text_file"]

logger = logging.getLogger(__name__)

#: What to say when a write is asked for without keys, in the CLI's own terms.
NO_KEYS: Final = (
    "no API key: set BYBIT_API_KEY and BYBIT_API_SECRET (or BYBIT_PRIVATE_KEY_FILE "
    "for an RSA key), or pass --key-file FILE"
)
#: The largest key or target file the CLI reads (bytes).
MAX_FILE_BYTES: Final = 8 * 1024 * 1024


def read_text_file(path: str, what: str) -> str:
    """Read a small UTF-8 text file (a byte-order mark is allowed).

    Raises:
        ConfigurationError: The file cannot be read, is too large, or is not
            UTF-8; the message names the file and says what it looks like.
    """
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigurationError(
                f"{what} {path} is {size} bytes; the limit is {MAX_FILE_BYTES}"
            )
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigurationError(
            f"{what} {path} is UTF-16; save it as UTF-8 (Excel: CSV UTF-8)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{what} {path} is not UTF-8 (byte {exc.start}: {data[exc.start]:#04x}); "
            "save it as UTF-8"
        ) from None


def _warn_if_readable_by_others(path: str) -> None:
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning(
            "key file %s is readable by other users; run: chmod 600 %s", path, path
        )


def read_key_file(path: str) -> dict[str, str]:
    """Read ``NAME=value`` lines (``export NAME=value`` too; ``#`` starts a comment).

    Raises:
        ConfigurationError: The file cannot be read or a line is not ``NAME=value``.
    """
    text = read_text_file(path, "key file")
    _warn_if_readable_by_others(path)
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ConfigurationError(f"{path}, line {number}: expected NAME=value")
        name = name.strip().removeprefix("export ").strip()
        values[name] = value.strip().strip("'\"")
    return values


def base_url(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The host from the flags, else ``BYBIT_BASE_URL``, else mainnet."""
    if args.base_url:
        return str(args.base_url)
    if args.testnet:
        return TESTNET
    if args.demo_host:
        return DEMO
    return env.get("BYBIT_BASE_URL") or MAINNET


def make_client(args: argparse.Namespace) -> BybitClient:
    """Build the client from the command line and the environment.

    Raises:
        ConfigurationError: A key file or RSA key file cannot be read, or the
            keys and host do not make a usable client (said in CLI terms).
    """
    env = dict(os.environ)
    if args.key_file:
        env.update(read_key_file(args.key_file))
    private_key = None
    passphrase = env.get("BYBIT_PRIVATE_KEY_PASSPHRASE") or None
    if env.get("BYBIT_PRIVATE_KEY_FILE"):
        key_path = env["BYBIT_PRIVATE_KEY_FILE"]
        private_key = read_text_file(key_path, "RSA private key")
        _warn_if_readable_by_others(key_path)
        # PEM says so in its header ("ENCRYPTED PRIVATE KEY", "Proc-Type: 4,ENCRYPTED").
        if passphrase is None and "ENCRYPTED" in private_key:
            raise ConfigurationError(
                f"the RSA private key {key_path} is encrypted: set "
                "BYBIT_PRIVATE_KEY_PASSPHRASE to its passphrase"
            )
    return BybitClient(
        api_key=env.get("BYBIT_API_KEY") or None,
        api_secret=None if private_key else (env.get("BYBIT_API_SECRET") or None),
        private_key=private_key,
        private_key_password=passphrase,
        base_url=base_url(args, env),
        # A Redis URL: the client makes the shared budget and closes it.
        budget=getattr(args, "redis", None) or env.get("BYBIT_LEVERAGE_REDIS"),
    )
