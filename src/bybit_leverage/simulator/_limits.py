"""Rolling-window rate limits on the event loop's clock.

A window admits at most ``limit`` events in any ``period`` seconds: an event at
time ``t`` frees its slot at ``t + period``. Refused attempts are not recorded,
so hammering a full window does not push its reset further away.
"""

from __future__ import annotations

from collections import deque

from attrs import define, field, frozen

__all__ = ["Decision", "RollingWindow"]


@frozen
class Decision:
    """The answer of a window to one attempt.

    Attributes:
        allowed: Whether the attempt was admitted (and recorded).
        limit: The window's capacity.
        remaining: Slots left after this attempt.
        reset_at: Loop time at which a slot frees when the window is full;
            the attempt's own time otherwise.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: float


@define
class RollingWindow:
    """At most ``limit`` events in any ``period`` seconds of loop time."""

    limit: int
    period: float
    _events: deque[float] = field(factory=deque, init=False, repr=False)

    def _expire(self, now: float) -> None:
        events = self._events
        while events and events[0] + self.period <= now:
            events.popleft()

    def acquire(self, now: float) -> Decision:
        """Try to take a slot at loop time ``now``."""
        self._expire(now)
        events = self._events
        if len(events) >= self.limit:
            return Decision(False, self.limit, 0, events[0] + self.period)
        events.append(now)
        remaining = self.limit - len(events)
        reset_at = events[0] + self.period if remaining == 0 else now
        return Decision(True, self.limit, remaining, reset_at)

    def peek(self, now: float) -> Decision:
        """Report the window's state at ``now`` without taking a slot."""
        self._expire(now)
        events = self._events
        remaining = self.limit - len(events)
        reset_at = events[0] + self.period if remaining == 0 else now
        return Decision(remaining > 0, self.limit, remaining, reset_at)
