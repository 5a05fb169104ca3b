"""Fault injection: make the next K requests to an endpoint fail in a chosen way."""

from __future__ import annotations

import enum
from typing import Final

from attrs import define, field

__all__ = ["ENDPOINTS", "Fault", "FaultPlan"]

#: Endpoint names used by faults, rate limits and statistics.
ENDPOINTS: Final = (
    "time",
    "instruments-info",
    "set-leverage",
    "symbol-info",
    "position-list",
    "account-info",
    "query-api",
    "coin-info",
)
#: Matches every endpoint.
ANY: Final = "*"


class Fault(enum.StrEnum):
    """What an injected fault does to a request."""

    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    HTTP_429 = "http_429"
    HTTP_403 = "http_403"
    """403 with an HTML body, as the CDN answers an IP ban."""
    RET_10016 = "ret_10016"
    """HTTP 200, retCode 10016 (transient server error)."""
    RET_10002 = "ret_10002"
    """HTTP 200, retCode 10002 (timestamp outside the window), whatever was sent."""
    RET_10006 = "ret_10006"
    """HTTP 200, retCode 10006 (too many visits) with the X-Bapi-Limit headers."""
    RET_10006_NO_RESET = "ret_10006_no_reset"
    """10006 without the ``X-Bapi-Limit-Reset-Timestamp`` header."""
    RET_10006_FAR_RESET = "ret_10006_far_reset"
    """10006 whose reset header is 60 seconds away."""
    RESET = "reset"
    """The connection is aborted with no response; the handler does not run."""
    RESET_AFTER_WRITE = "reset_after_write"
    """The handler runs and its change lands, then the connection is aborted."""
    HANG = "hang"
    """No answer for an hour of loop time (or until the simulator closes)."""
    MALFORMED_JSON = "malformed_json"
    """HTTP 200 with a broken JSON body; the handler does not run."""
    TRUNCATED = "truncated"
    """HTTP 200, the handler's real answer cut off mid-JSON (its change lands)."""

    @property
    def runs_handler(self) -> bool:
        """Whether the endpoint still runs (and its change lands) under this fault."""
        return self in (Fault.RESET_AFTER_WRITE, Fault.TRUNCATED)


@define
class _Queued:
    fault: Fault
    left: int


@define
class FaultPlan:
    """Queued faults per endpoint, consumed one per matching request, in order."""

    _queues: dict[str, list[_Queued]] = field(factory=dict, init=False)

    def inject(self, endpoint: str, fault: Fault | str, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint``.

        Raises:
            ValueError: For an unknown endpoint or fault, or ``times < 1``.
        """
        if endpoint != ANY and endpoint not in ENDPOINTS:
            raise ValueError(
                f"unknown endpoint {endpoint!r}; expected one of {(*ENDPOINTS, ANY)}"
            )
        kind = Fault(fault)
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        self._queues.setdefault(endpoint, []).append(_Queued(kind, times))

    def take(self, endpoint: str) -> Fault | None:
        """Consume and return the fault for one request to ``endpoint``, if any.

        Faults queued for the endpoint itself come before those queued for ``*``.
        """
        for key in (endpoint, ANY):
            queue = self._queues.get(key)
            if queue:
                entry = queue[0]
                entry.left -= 1
                if entry.left == 0:
                    queue.pop(0)
                return entry.fault
        return None

    def pending(self) -> dict[str, list[tuple[str, int]]]:
        """Return the queued faults as ``{endpoint: [(fault, times left), ...]}``."""
        return {
            key: [(str(entry.fault), entry.left) for entry in queue]
            for key, queue in self._queues.items()
            if queue
        }

    def clear(self) -> None:
        """Drop every queued fault."""
        self._queues.clear()
