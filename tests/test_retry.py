from __future__ import annotations

import pytest

from bybit_leverage import _constants as c
from bybit_leverage._retry import (
    RATE_LIMIT_FALLBACK_S,
    RATE_LIMIT_MAX_WAIT_S,
    backoff_delay,
    rate_limit_delay,
    should_retry,
)
from bybit_leverage.errors import (
    ClientClosed,
    ConnectionFailed,
    HTTPStatusError,
    InvalidLeverage,
    IPRateLimited,
    MissingCredentials,
    RequestTimeout,
    ResponseDecodeError,
    error_for_ret_code,
)

P = "/v5/position/set-leverage"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionFailed(P, "reset"), True),
        (RequestTimeout(P, "slow"), True),
        (HTTPStatusError(429, P), True),
        (HTTPStatusError(500, P), True),
        (HTTPStatusError(503, P), True),
        (HTTPStatusError(599, P), True),
        (HTTPStatusError(400, P), False),
        (HTTPStatusError(401, P), False),
        (HTTPStatusError(404, P), False),
        (IPRateLimited(403, P, "<html>"), False),
        (error_for_ret_code(c.SERVER_TIMEOUT, "", P), True),
        (error_for_ret_code(c.SERVER_ERROR, "", P), True),
        (error_for_ret_code(c.TOO_MANY_VISITS, "", P), True),
        (error_for_ret_code(c.TIMESTAMP_ERROR, "", P), True),
        (error_for_ret_code(c.PARAM_ERROR, "", P), False),
        (error_for_ret_code(c.INVALID_API_KEY, "", P), False),
        (error_for_ret_code(c.INVALID_SIGNATURE, "", P), False),
        (error_for_ret_code(c.PERMISSION_DENIED, "", P), False),
        (error_for_ret_code(c.UNMATCHED_IP, "", P), False),
        (error_for_ret_code(c.RISK_LIMIT_EXCEEDED, "", P), False),
        (error_for_ret_code(110044, "", P), False),
        (error_for_ret_code(c.LEVERAGE_NOT_MODIFIED, "", P), False),
        (ResponseDecodeError(P, "html"), True),  # no usable answer: repeat it
        (ClientClosed(), False),
        (MissingCredentials("no keys"), False),
        (InvalidLeverage("0", "must be positive"), False),
        (ValueError("a bug"), False),
    ],
)
def test_should_retry(exc: BaseException, expected: bool) -> None:
    assert should_retry(exc) is expected


def test_backoff_is_capped_exponential_with_equal_jitter() -> None:
    low = [backoff_delay(n, rand=lambda: 0.0) for n in range(1, 8)]
    high = [backoff_delay(n, rand=lambda: 0.999999) for n in range(1, 8)]
    assert low == [0.125, 0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert high == pytest.approx([0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0], rel=1e-5)
    assert backoff_delay(3, base=1.0, cap=10.0, rand=lambda: 0.5) == 3.0


def test_backoff_counts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0)


@pytest.mark.parametrize(
    ("reset", "now", "expected"),
    [
        (None, 1_000, RATE_LIMIT_FALLBACK_S),
        (1_250, 1_000, 0.25),
        (900, 1_000, 0.0),
        (1_000_000, 1_000, RATE_LIMIT_MAX_WAIT_S),
    ],
)
def test_rate_limit_delay(reset: int | None, now: int, expected: float) -> None:
    assert rate_limit_delay(reset, now) == expected
