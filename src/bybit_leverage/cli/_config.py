"""Where the CLI connects and as whom: hosts from flags, keys from the environment."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from bybit_leverage import DEMO, MAINNET, TESTNET, BybitClient, ConfigurationError

__all__ = ["base_url", "make_client", "read_key_file"]


def read_key_file(path: str) -> dict[str, str]:
    """Read ``NAME=value`` lines (``BYBIT_API_KEY``, ``BYBIT_API_SECRET``, ...).

    Raises:
        ConfigurationError: The file cannot be read or a line is not ``NAME=value``.
    """
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
            keys and host do not make a usable client.
    """
    env = dict(os.environ)
    if args.key_file:
        env.update(read_key_file(args.key_file))
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
        base_url=base_url(args, env),
        # A Redis URL: the client makes the shared budget and closes it.
        budget=getattr(args, "redis", None) or env.get("BYBIT_LEVERAGE_REDIS"),
    )
