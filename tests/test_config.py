"""Settings are checked when made: a client that was built can work."""

from __future__ import annotations

import math

import pytest

import bybit_leverage as bl
from bybit_leverage._hosts import host_label


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": math.nan},
        {"timeout": math.inf},
        {"timeout": -1},
        {"retry_deadline": -1},
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"recv_window": 1.5},
        {"cache_ttl": 0},
        {"ip_limit": 0},
        {"time_resync_interval": math.nan},
        {"api_key": 123, "api_secret": "s"},
        {"api_key": "k", "api_secret": 123},
        {"api_key": "k", "private_key": 7},
        {"base_url": None},
        {"base_url": "https://api.bybit.com:99999"},
    ],
)
def test_unusable_settings_are_a_configuration_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(bl.ConfigurationError):
        bl.BybitClient(**kwargs)  # type: ignore[arg-type]


def test_grouped_settings() -> None:
    assert bl.Limits(ip_budget=None, pace_endpoints=False) == bl.Limits.OFF
    assert bl.Retries().max_attempts == 5
    with pytest.raises(bl.ConfigurationError, match="deadline"):
        bl.Retries(deadline=math.nan)
    with pytest.raises(bl.ConfigurationError, match="ip_budget"):
        bl.Limits(ip_budget=-5)
    # Both spellings build a client; the grouped one wins when both are given.
    bl.BybitClient(limits=bl.Limits.OFF, retries=bl.Retries(max_attempts=2))
    bl.BybitClient(ip_limit=None, pace_endpoints=False, max_attempts=2)


def test_an_encrypted_rsa_key_is_a_configuration_error(
    rsa_pem: tuple[bytes, bytes],
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(rsa_pem[0], password=None)
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(bl.ConfigurationError, match="unusable credentials"):
        bl.BybitClient(api_key="k", private_key=locked)


@pytest.mark.parametrize(
    ("url", "label"),
    [
        (bl.MAINNET, "mainnet"),
        (bl.MAINNET_BYTICK + "/", "mainnet"),
        (bl.TESTNET, "testnet"),
        (bl.DEMO, "demo"),
        (bl.REGIONAL_HOSTS["eu"], "mainnet (eu)"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_hosts_are_named_as_operators_know_them(url: str, label: str) -> None:
    assert host_label(url) == label
