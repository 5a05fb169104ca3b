"""Bybit's hosts and the one loopback test both the client and the simulator use (pure).

Hosts are listed on Bybit's V5 "Integration guidance" page
(https://bybit-exchange.github.io/docs/v5/guide): mainnet, testnet, demo trading
and the regional mainnet hosts.
"""

from __future__ import annotations

import ipaddress
from types import MappingProxyType
from typing import Final

__all__ = [
    "DEMO",
    "MAINNET",
    "MAINNET_BYTICK",
    "REGIONAL_HOSTS",
    "TESTNET",
    "host_label",
    "is_loopback",
]

MAINNET: Final = "https://api.bybit.com"
MAINNET_BYTICK: Final = "https://api.bytick.com"
TESTNET: Final = "https://api-testnet.bybit.com"
DEMO: Final = "https://api-demo.bybit.com"

#: Regional mainnet hosts, by the name users know them under.
REGIONAL_HOSTS: Final = MappingProxyType(
    {
        "netherlands": "https://api.bybit.nl",
        "kazakhstan": "https://api.bybit.kz",
        "uae": "https://api.bybit.ae",
        "eu": "https://api.bybit.eu",
        "indonesia": "https://api.bybit.id",
        "georgia": "https://api.bybitgeorgia.ge",
        "turkey": "https://api.bybit.tr",
    }
)

_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address; IPv6 bracketed or not) is loopback.

    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("api.bybit.com")
    (True, True, False)
    """
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_label(base_url: str) -> str:
    """Name a base URL the way an operator knows it: mainnet, testnet, demo or the URL.

    >>> host_label("https://api-testnet.bybit.com/"), host_label("http://127.0.0.1:8123")
    ('testnet', 'http://127.0.0.1:8123')
    """
    url = base_url.rstrip("/")
    if url in (MAINNET, MAINNET_BYTICK):
        return "mainnet"
    if url == TESTNET:
        return "testnet"
    if url == DEMO:
        return "demo"
    for name, host in REGIONAL_HOSTS.items():
        if url == host:
            return f"mainnet ({name})"
    return url
