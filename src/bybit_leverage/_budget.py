"""The rate budget seam: where "at most N per rolling window" is booked.

The request core asks a :class:`RateBudget` for a slot before each private
request and tells it what the exchange said afterwards. What a budget shares is
its choice: the in-process one (``_ratelimit.InProcessBudget``, the default)
serves the tasks of one event loop, a Redis one (``_redis_budget.RedisBudget``)
every process and host that points at the same Redis.

A budget is keyed by a string that names the environment, the account and the
endpoint (:func:`budget_key`). Bybit counts per account (UID), so two API keys of
one UID must land on the same key and a sub-account on its own. Until the UID is
known (or where it never is: the demo host does not serve ``/v5/user/query-api``),
the account is named by a digest of the API key, never by anything secret.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = ["RateBudget", "Sighting", "account_label", "budget_key"]


@runtime_checkable
class RateBudget(Protocol):
    """Books request starts under "at most ``limit`` per rolling ``window``".

    The client calls :meth:`reserve` before every private request (and sleeps
    for the answer), :meth:`block` after a 10006, and :meth:`observe` with the
    ``X-Bapi-Limit*`` headers of every answer. Implementations must be safe for
    every task of one event loop; what they share beyond it is theirs to say.
    """

    async def reserve(self, key: str, limit: int, window: float) -> float:
        """Book the earliest start the window allows and return the seconds to it.

        Args:
            key: The budget's name, from :func:`budget_key`.
            limit: Requests allowed per window (as learned from ``X-Bapi-Limit``).
            window: The exchange's window in seconds (the budget adds its margin).
        """
        ...

    async def block(self, key: str, seconds: float) -> None:
        """Start nothing on ``key`` for ``seconds`` (the exchange answered 10006)."""
        ...

    def observe(self, key: str, sighting: Sighting) -> None:
        """Take in what an answer said about the account's window on ``key``."""
        ...


@frozen
class Sighting:
    """What one answer said about the account's window.

    Attributes:
        at: Loop time at which the answered request started.
        others: Requests in the exchange's window that this client did not send
            (another process or program on the account), at least 0; ``None``
            when the request is over and its answer counted nothing (no
            headers, an error, no answer at all).
        reset_in: Seconds until the window frees a slot, when the headers said
            none is left.
        refused: Whether the answer was 10006 (the request used no slot).
    """

    at: float
    others: int | None
    reset_in: float | None = None
    refused: bool = False


def account_label(uid: int | None, api_key: str | None) -> str:
    """Name the account a budget belongs to: its UID, else a digest of its API key.

    The API key is hashed rather than written out so that budget keys (in Redis,
    in logs) carry nothing that identifies a credential; the secret never enters.

    >>> account_label(100001, "ABC")
    'uid:100001'
    >>> account_label(None, "ABC")
    'key:b5d4045c3f466fa9'
    """
    if uid is not None:
        return f"uid:{uid}"
    if api_key is None:
        return "public"
    return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def budget_key(environment: str, account: str, path: str) -> str:
    """The name of one endpoint's budget on one account of one environment.

    >>> budget_key("mainnet", "uid:100001", "/v5/position/set-leverage")
    'mainnet|uid:100001|/v5/position/set-leverage'
    """
    return f"{environment}|{account}|{path}"
