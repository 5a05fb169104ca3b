"""Retry policy (pure): which failures are safe to repeat, and how long to wait.

Every request this package sends is safe to repeat: reads, and set-leverage,
which sets an absolute value (a repeat of an applied change answers 110043).
So what is retried is whatever gave no usable answer: transport errors, a
truncated or undecodable body, HTTP 429/5xx, and the retCodes 10000/10016
(server trouble), 10006 (rate limit; the wait comes from the server's reset
hint) and 10002 (timestamp; the caller resyncs its clock first). Parameter
errors (10001), authentication codes and business answers (110xxx) would only
fail the same way again; HTTP 403 only deepens an IP ban.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from bybit_leverage.errors import (
    APIError,
    HTTPStatusError,
    IPRateLimited,
    ResponseDecodeError,
    Retry,
    TransportError,
)

__all__ = ["backoff_delay", "rate_limit_delay", "should_retry"]

#: Retryable HTTP statuses besides 5xx: 429 is Bybit's "system protection, retry".
_RETRY_STATUSES: Final = frozenset({429})
#: Wait this long after a 10006 that came without a reset header (one window).
RATE_LIMIT_FALLBACK_S: Final = 1.0
#: Never trust a reset hint further out than this: a bad header must not park us.
RATE_LIMIT_MAX_WAIT_S: Final = 10.0


def should_retry(exc: BaseException) -> bool:
    """Whether repeating the request that raised ``exc`` is safe and may succeed.

    Args:
        exc: The error a single attempt raised.

    Returns:
        True for transient failures: transport errors, undecodable bodies,
        HTTP 429 and 5xx, and
        retCodes 10000, 10002, 10006 and 10016. False for everything else,
        including HTTP 403 (the IP ban only grows if we insist).
    """
    if isinstance(exc, TransportError | ResponseDecodeError):
        return True  # no usable answer: every request this package sends may repeat
    if isinstance(exc, IPRateLimited):
        return False
    if isinstance(exc, HTTPStatusError):
        return exc.status in _RETRY_STATUSES or 500 <= exc.status <= 599
    return isinstance(exc, APIError) and exc.retry is not Retry.NEVER


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.25,
    cap: float = 4.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Capped exponential backoff with "equal jitter": half of the exponential step
    is fixed and half is random, so retries spread out but never collapse to 0.

    Args:
        attempt: Which retry this is, from 1.
        base: The first step in seconds.
        cap: The largest step in seconds.
        rand: A source of floats in [0, 1); inject one for determinism.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    step = min(cap, base * 2.0 ** (attempt - 1))
    return step / 2 + rand() * step / 2


def rate_limit_delay(reset_at_ms: int | None, server_now_ms: int) -> float:
    """Seconds to wait after a 10006 before the window lets us in again.

    Args:
        reset_at_ms: ``X-Bapi-Limit-Reset-Timestamp`` (server epoch ms), if sent.
        server_now_ms: The server's current time as the client estimates it.
    """
    if reset_at_ms is None:
        return RATE_LIMIT_FALLBACK_S
    delay = (reset_at_ms - server_now_ms) / 1000
    return min(max(delay, 0.0), RATE_LIMIT_MAX_WAIT_S)
