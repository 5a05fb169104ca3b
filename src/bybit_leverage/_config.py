"""Client settings, grouped the way they are tuned: retries, limits, the base URL.

Every setting is checked when it is made, so a client that was built can work:
a NaN timeout or a negative deadline is a :class:`ConfigurationError` here, not a
hang later.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

import attrs
from attrs import field, frozen

from bybit_leverage._hosts import is_loopback
from bybit_leverage._ratelimit import IP_BUDGET
from bybit_leverage._signing import Credentials
from bybit_leverage.errors import ConfigurationError

__all__ = [
    "DEFAULT_IP_BUDGET",
    "Limits",
    "Retries",
    "check_positive",
    "make_credentials",
    "validate_base_url",
]

#: The client's own per-IP budget per 5 s (see ``_ratelimit``).
DEFAULT_IP_BUDGET: Final = IP_BUDGET


def check_positive(name: str, value: object, *, integer: bool = False) -> None:
    """Refuse a setting that is not a finite positive number (an int if asked).

    Raises:
        ConfigurationError: Naming the setting and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    if integer and not isinstance(value, int):
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be finite and positive, got {value!r}")


def _positive(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    check_positive(attribute.name, value, integer=attribute.type in ("int", int))


def _positive_or_none(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_positive(attribute.name, value, integer=True)


@frozen
class Retries:
    """How hard one call tries before it gives up.

    Attributes:
        max_attempts: Sends per call for transient failures (10006 waits are
            bounded by ``deadline`` instead, since the server says how long).
        deadline: Seconds a call may spend on attempts and backoff, not counting
            time queued behind the rate limiters.
    """

    max_attempts: int = field(default=5, validator=_positive)
    deadline: float = field(default=30.0, validator=_positive)


@frozen
class Limits:
    """How the client paces itself.

    Attributes:
        ip_budget: Requests per 5 s across all endpoints (Bybit bans an IP at
            600); ``None`` turns the guard off.
        pace_endpoints: Whether private calls wait for their endpoint's
            per-account budget (10/s for set-leverage).
        listen: Whether the client reads from ``X-Bapi-Limit-Status`` how much
            of the account's window other processes used, and leaves it to
            them (see docs/fleets.md). Off, each process paces as if alone.

    ``Limits.OFF`` (both off) is only for a simulator whose own limits are off,
    e.g. to measure CPU: against Bybit it earns 10006 answers, which are then
    waited out and retried.
    """

    ip_budget: int | None = field(
        default=DEFAULT_IP_BUDGET, validator=_positive_or_none
    )
    pace_endpoints: bool = True
    listen: bool = True

    OFF: ClassVar[Limits]


Limits.OFF = Limits(ip_budget=None, pace_endpoints=False)


def validate_base_url(base_url: object) -> str:
    """Check a base URL and return it without a trailing slash.

    Raises:
        ConfigurationError: Unless the URL is ``https://``, or ``http://`` to a
            loopback host (127.0.0.0/8, ::1, localhost): plain HTTP would carry
            signed requests in the clear.
    """
    if not isinstance(base_url, str):
        raise ConfigurationError(f"base_url must be a string, got {base_url!r}")
    try:
        url = urlsplit(base_url)
        host = url.hostname
        url.port  # noqa: B018 - parses the port: "host:99999" fails here
    except ValueError as exc:
        raise ConfigurationError(f"base_url is not a URL: {exc}") from None
    if not host or url.query or url.fragment:
        raise ConfigurationError(
            f"base_url must be scheme://host[:port][/prefix], got {base_url!r}"
        )
    if url.scheme == "http":
        if not is_loopback(host):
            raise ConfigurationError(
                f"refusing plain http:// to non-loopback host {host!r}; use https://"
            )
    elif url.scheme != "https":
        raise ConfigurationError(f"base_url must use https://, got {base_url!r}")
    return base_url.rstrip("/")


def make_credentials(
    api_key: object,
    api_secret: object,
    private_key: object,
    password: object = None,
) -> Credentials | None:
    """Build the client's credentials from its keyword arguments (``None``: no keys).

    Raises:
        ConfigurationError: Keys of the wrong type, a secret without a key, both
            kinds of secret, or key material that cannot be used. The message
            never echoes the secret.
    """
    if api_key is None and api_secret is None and private_key is None:
        return None
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigurationError(
            "api_key must be a non-empty string (a secret needs its key)"
        )
    if api_secret is not None and private_key is not None:
        raise ConfigurationError(
            "pass api_secret (HMAC) or private_key (RSA), not both"
        )
    try:
        if private_key is not None:
            if not isinstance(private_key, str | bytes):
                raise ConfigurationError("private_key must be PEM text (str or bytes)")
            if password is not None and not isinstance(password, str | bytes):
                raise ConfigurationError("private_key_password must be str or bytes")
            return Credentials.rsa(api_key, private_key, password)
        if not isinstance(api_secret, str) or not api_secret:
            raise ConfigurationError(
                "api_secret must be a non-empty string (or pass private_key)"
            )
        return Credentials.hmac(api_key, api_secret)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        # The key material itself is never echoed: only what was wrong with it.
        raise ConfigurationError(f"unusable credentials: {exc}") from None
