"""The in-process sliding-window limiter, and how it shares a window with others.

Bybit counts requests in a *rolling* window (one second per endpoint and account,
five seconds per IP). A token bucket refills continuously, so after a burst it
lets a request through every ``1/rate`` seconds and the rolling window overflows
(11 requests inside one second at 10/s). A sliding-window log cannot overflow: a
request may start only once the request ``limit`` places before it is a full
window old.

Waiting is a turn in a queue, not a poll: the request at the head computes the
earliest start the window allows and sleeps once until then, waking early only
when what it knows changes (a 10006, a count from the exchange).

Sharing a window with processes it cannot see: ``X-Bapi-Limit-Status`` counts
what the whole account (UID) has left, whichever process sent the requests.
``_ratelimit.RateLimits`` knows which requests of the window were its own, so the
difference is what others used (a :class:`~bybit_leverage._budget.Sighting`).
With ``listen`` on, the limiter then

- leaves the slots others hold to them, for as long as those requests can stay
  in the window, counting the highest count that still holds, plus a slack of
  one (their next request may be on its way) that grows by one with each
  refusal we did not expect and shrinks again over time;
- spreads its requests evenly over the window while others are about, so that
  a collision costs one request, not a burst of ten;
- after a silence of a window, lets one request go first and the rest wait for
  its answer: a process that joins an account already at its limit learns that
  from one refusal, not ten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Final

from bybit_leverage._budget import Sighting

__all__ = ["WINDOW_MARGIN_S", "SlidingWindowLimiter"]

logger = logging.getLogger(__name__)

#: Extra spacing added to every window: network jitter can bring two requests
#: closer together on arrival than they were when sent. This is the margin
#: until round trips have been seen, and the most a learned margin may be.
WINDOW_MARGIN_S: Final = 0.05
#: The least margin a learned one may be (clock ticks, scheduling).
MIN_MARGIN_S: Final = 0.005
#: Round trips remembered to learn the margin from.
_RTT_SAMPLES: Final = 32
#: Never park an endpoint longer than this on the word of one header.
MAX_BLOCK_S: Final = 10.0
#: After others were seen on the account, spread requests out for this long.
SHARED_HOLD_S: Final = 5.0
#: How long the first request after a silence may keep the others waiting for
#: its answer (one that never comes, or comes without headers).
PROBE_TIMEOUT_S: Final = 1.0
#: Every unexpected refusal leaves one more slot to the others; one less every
#: this many seconds.
SLACK_DECAY_S: Final = 3.0
#: Starts closer than this to now are now (a clock that counts in ticks would
#: never reach 8.540000000000001 from 8.54).
_TICK_S: Final = 1e-6


class SlidingWindowLimiter:
    """At most ``limit`` starts in any ``window`` seconds, first come first served.

    Two ways to wait. :meth:`reserve` books a start now and says how long to
    sleep until it (the IP guard, which nobody else shares). :meth:`take` waits
    for its turn in a queue and decides when it arrives, with what is known
    then: a 10006 or a header that shows others on the account moves the start
    of the request at the head, not of one booked a second earlier.

    With ``listen`` on, the exchange's counts are followed (:meth:`heard`):

    - slots others hold are left to them for the rest of that window;
    - after others were seen, requests are spread evenly over the window
      instead of sent in bursts, so a collision costs one request, not ten;
    - when nothing was heard for a window, one request goes first and the
      rest wait for its answer (or :data:`PROBE_TIMEOUT_S`).

    Args:
        limit: Requests allowed per window.
        window: The window in seconds (the margin is added on top).
        clock: Monotonic seconds; defaults to the running loop's ``time()``.
        margin: Extra seconds added to each window, at most. With ``learn``,
            the margin becomes the spread of the round trips seen lately
            (slowest less fastest, at least :data:`MIN_MARGIN_S`): two
            requests can reach the exchange closer together than they were
            sent by at most how much more one waited on the way than the
            other, and the spread of round trips bounds that.
        learn: Learn the margin from round trips (see ``margin``).
        listen: Follow what :meth:`heard` reports.
        rand: Random source for the spread of retries after a refusal.
        share: The part of ``limit`` this limiter may use itself, at most
            (others' counts are taken from the whole ``limit``).
    """

    __slots__ = (
        "_blocked_until",
        "_cap",
        "_changed",
        "_clock",
        "_learn",
        "_limit",
        "_listen",
        "_margin",
        "_missed_at",
        "_misses",
        "_others",
        "_probe_at",
        "_rand",
        "_rtts",
        "_share",
        "_shared_until",
        "_sighted_at",
        "_slots",
        "_span",
        "_turn",
        "_window",
    )

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] | None = None,
        margin: float = WINDOW_MARGIN_S,
        learn: bool = False,
        listen: bool = False,
        rand: Callable[[], float] = random.random,
        share: float = 1.0,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got {limit}/{window}")
        self._limit = limit
        self._share = share
        self._cap = max(1, math.floor(limit * share))
        self._window = window
        self._margin = margin
        self._span = window + margin
        self._learn = learn and margin > MIN_MARGIN_S
        self._rtts: deque[float] = deque(maxlen=_RTT_SAMPLES)
        self._clock = clock
        self._listen = listen
        self._rand = rand
        # Start times of the last `limit` requests, oldest first (non-decreasing).
        self._slots: deque[float] = deque(maxlen=limit)
        self._blocked_until = 0.0
        # (until, others): counts of others' requests the exchange gave, each
        # holding until a moment; soonest first, with strictly falling counts.
        self._others: deque[tuple[float, int]] = deque()
        self._shared_until = -math.inf  # spread requests out until then
        self._misses = 1  # slots left beside the others' count ...
        self._missed_at = 0.0  # ... since our last refusal
        self._sighted_at: float | None = None  # when the exchange last counted
        self._probe_at: float | None = None  # an unanswered first request
        self._turn: asyncio.Lock | None = None  # made lazily, inside the loop
        self._changed: asyncio.Event | None = None

    @property
    def limit(self) -> int:
        """Requests allowed per window."""
        return self._limit

    @property
    def span(self) -> float:
        """The window plus its margin, in seconds."""
        return self._span

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    def _signal(self) -> None:
        """Wake the request at the head of the queue: what it knows changed."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def set_limit(self, limit: int) -> None:
        """Change the limit (as learned from ``X-Bapi-Limit``), keeping history."""
        if limit < 1 or limit == self._limit:
            return
        logger.debug("rate limit changed from %d to %d", self._limit, limit)
        self._limit = limit
        self._cap = max(1, math.floor(limit * self._share))
        self._slots = deque(self._slots, maxlen=limit)
        self._signal()

    def block_for(self, seconds: float) -> None:
        """Start nothing for ``seconds`` (the server said the window is spent)."""
        if seconds > 0:
            self._blocked_until = max(self._blocked_until, self._now() + seconds)
            self._signal()

    def _sighted(self, others: int, at: float, *, hold: float | None = None) -> None:
        """The exchange counted ``others`` requests not ours, for one started at ``at``.

        The count holds for a window after ``at`` (the others' requests leave
        the window by then). If the exchange said the window is full and named
        the moment it frees a slot (``hold`` seconds from now), the count is
        lowered from then on just enough to let one request of ours in. While
        several counts hold, the highest rules: taking the highest, not the
        latest, keeps two processes from each counting the other low at once
        and both filling the same gap.
        """
        now = self._now()
        self._sighted_at = now
        probed, self._probe_at = self._probe_at is not None, None
        if others > 0:
            self._shared_until = now + SHARED_HOLD_S
            counts = [*self._others, (at + self._span, others)]
            if hold is not None and now + hold < at + self._span:
                # A full window frees a slot at the reset: room for one request
                # of ours then (past the one-request allowance in _allows).
                counts[-1] = (at + self._span, others - 2)
                counts.append((now + hold, others))
            # Keep the counts that rule at some moment: by expiry, latest
            # first, each higher than every one that outlives it.
            ruling: list[tuple[float, int]] = []
            for item in sorted(counts, reverse=True):
                if not ruling or item[1] > ruling[-1][1]:
                    ruling.append(item)
            self._others = deque(reversed(ruling))
        if others > 0 or probed:  # else nothing the head waits on has moved
            self._signal()

    def heard(self, sighting: Sighting) -> None:
        """Take in what the answer to one of our requests said (see :class:`Sighting`).

        A refusal (10006) returns its slot and, past the reset, spreads the
        retry over one beat (others may refill each slot as it frees, on a beat
        of their own: a retry at a random point of one beat finds a gap where
        one on the reset itself could miss every time). An answer that counted
        nothing only lets the next request go, if this one went first. A window
        the exchange says is full blocks the endpoint until its reset.
        """
        if self._learn and sighting.others is not None:  # heard as it was answered
            self._timed(self._now() - sighting.at)
        refused = sighting.refused and self._listen
        if refused:
            self._unsend(sighting.at)
        if sighting.others is None:
            self._settled(sighting.at)
        elif self._listen:
            self._sighted(sighting.others, sighting.at, hold=sighting.reset_in)
        if sighting.reset_in is not None:
            pause = min(sighting.reset_in, MAX_BLOCK_S)
            if refused:
                pause += self._rand() * self._span / self._limit
            self.block_for(pause)

    def _timed(self, rtt: float) -> None:
        """Learn the margin from one more round trip (see the class)."""
        if rtt < 0:
            return
        rtts = self._rtts
        rtts.append(rtt)
        spread = max(rtts) - min(rtts) if len(rtts) > 1 else self._margin
        margin = min(self._margin, max(MIN_MARGIN_S, spread + MIN_MARGIN_S))
        span, self._span = self._span, self._window + margin
        if span - self._span > 0.001:  # the head may start sooner than it thinks
            self._signal()

    def _unsend(self, at: float) -> None:
        """Forget our latest request started by ``at``: the exchange refused it.

        A refusal while we knew of others also leaves one more slot to them for
        a while: the count they were seen at was too low (more of them, or more
        in flight).
        """
        now = self._now()
        informed = self._sighted_at is not None and now - self._sighted_at <= self._span
        if informed and self._others:  # we thought we had room: a surprise
            self._misses = min(self._slack(now) + 1, self._limit - 1)
            self._missed_at = now
        for index in range(len(self._slots) - 1, -1, -1):
            if self._slots[index] <= at + _TICK_S:
                del self._slots[index]
                self._signal()
                return

    def _settled(self, at: float) -> None:
        """The request started at ``at`` is over, its answer counting nothing.

        If it was the first after a silence, the next goes first in its place.
        """
        if self._probe_at is not None and at >= self._probe_at:
            self._probe_at = None
            self._signal()

    def _others_at(self, t: float) -> int:
        """Others' slots at time ``t``: the highest count that still holds."""
        for until, others in self._others:
            if until > t:
                return others
        return 0

    def _slack(self, now: float) -> int:
        """Slots to leave unused beside the others' count (their next requests)."""
        if self._misses <= 1:
            return 1
        decayed = int((now - self._missed_at) / SLACK_DECAY_S)
        return max(1, self._misses - decayed)

    def _allows(self, t: float, slack: int) -> bool:
        """Whether a request of ours may start at ``t`` (``t`` >= every start)."""
        slots, span = self._slots, self._span
        others = self._others_at(t)
        # More than counted: the others' next requests may be on their way.
        mine = min(self._cap, self._limit - others - (slack if others else 0))
        if mine <= 0:
            return False
        if len(slots) >= mine and slots[-mine] + span > t:
            return False
        return not (slots and t < self._shared_until and t < slots[-1] + span / mine)

    def _earliest(self, now: float) -> float:
        """The earliest start the window allows, by what is known at ``now``."""
        slots, limit, span, cap = self._slots, self._limit, self._span, self._cap
        start = max(now, self._blocked_until)
        if slots:  # first come, first served: never before an earlier start
            start = max(start, slots[-1])
            if len(slots) >= cap:
                start = max(start, slots[-cap] + span)
        if not self._listen:
            return start
        counts = self._others
        while counts and counts[0][0] <= now:
            counts.popleft()
        if counts or now < self._shared_until:
            # The answer is where the share, the pacing or a slot changes.
            slack = self._slack(now)
            moments = {start}
            moments.update(until for until, _ in counts)
            moments.update(t + span for t in slots)
            if slots:
                last = slots[-1]
                moments.update(
                    last + span / min(cap, limit - o - slack)
                    for _, o in counts
                    if o < limit - slack
                )
                moments.add(last + span / cap)
            start = next(
                t for t in sorted(moments) if t >= start and self._allows(t, slack)
            )
        if self._probe_at is not None and self._silent(now):
            start = max(start, self._probe_at + PROBE_TIMEOUT_S)
        return start

    def _silent(self, now: float) -> bool:
        """Whether nothing was heard for a window: the account may have filled up."""
        return self._sighted_at is None or now - self._sighted_at > self._span

    def reserve(self) -> float:
        """Reserve the earliest allowed start and return the seconds until it."""
        now = self._now()
        start = self._earliest(now)
        self._slots.append(start)
        return start - now

    async def acquire(self) -> float:
        """Wait until a request may start; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
            return delay
        return 0.0

    async def take(self) -> None:
        """Wait for this request's turn and start, deciding with what is known then.

        Requests are served in call order. The one at the head sleeps until the
        earliest start and wakes early to decide again whenever what it knows
        changes (a block, a new count from the exchange); nobody polls.
        """
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            while True:
                now = self._now()
                start = self._earliest(now)
                if start - now < _TICK_S:  # float noise: a sleep would not move
                    break
                if self._changed is None:
                    self._changed = asyncio.Event()
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(start - now):
                        await changed.wait()
            if self._listen and self._silent(now):
                self._probe_at = now  # the others wait for what its answer says
            self._slots.append(now)
