"""The in-process limiter: its queue, and how it shares a window with others."""

from __future__ import annotations

import asyncio

import pytest

from bybit_leverage._budget import Sighting
from bybit_leverage._window import (
    MIN_MARGIN_S,
    PROBE_TIMEOUT_S,
    SLACK_DECAY_S,
    WINDOW_MARGIN_S,
    SlidingWindowLimiter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def listening(clock: FakeClock, share: float = 1.0) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(
        10, 1.0, clock=clock, margin=0.0, listen=True, rand=lambda: 0.5, share=share
    )


def starts(limiter: SlidingWindowLimiter, clock: FakeClock, count: int) -> list[float]:
    return [round(clock.now + limiter.reserve(), 6) for _ in range(count)]


def take_turns(
    limiter: SlidingWindowLimiter, count: int, tg: asyncio.TaskGroup
) -> list[float]:
    """Start ``count`` tasks that each take a turn; the times they went, in order."""
    loop = asyncio.get_running_loop()
    gone: list[float] = []

    async def one() -> None:
        await limiter.take()
        gone.append(loop.time())

    for _ in range(count):
        tg.create_task(one())
    return gone


def test_slots_others_hold_are_left_to_them_and_ours_are_spread() -> None:
    clock = FakeClock()
    limiter = listening(clock)
    limiter.heard(Sighting(100.0, others=6))
    # 10 - 6 - 1 (their next may be on its way) = 3 of ours, a third apart;
    # at 101.0 the others' requests have left the window.
    assert starts(limiter, clock, 4) == pytest.approx(
        [100.0, 100.0 + 1 / 3, 100.0 + 2 / 3, 101.0]
    )


def test_without_listening_counts_change_nothing() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, 1.0, clock=clock, margin=0.0)
    limiter.heard(Sighting(100.0, others=6))
    assert starts(limiter, clock, 11) == [100.0] * 10 + [101.0]


def test_alone_it_bursts_as_before() -> None:
    clock = FakeClock()
    limiter = listening(clock)
    limiter.heard(Sighting(100.0, others=0))
    assert starts(limiter, clock, 11) == [100.0] * 10 + [101.0]


def test_the_highest_count_that_still_holds_rules() -> None:
    clock = FakeClock()
    limiter = listening(clock)
    limiter.heard(Sighting(100.0, others=5))  # holds until 101.0
    clock.now = 100.5
    limiter.heard(Sighting(100.5, others=2))  # lower, and later: rules after 101.0
    # Until 101.0: 10 - 5 - 1 = 4 of ours, a quarter apart. With only the latest
    # count (2: seven of ours) the third would go at 100.75 + 1/7.
    assert starts(limiter, clock, 3) == pytest.approx([100.5, 100.75, 101.0])


def test_a_late_lower_count_does_not_hide_a_higher_one() -> None:
    clock = FakeClock()
    limiter = listening(clock)
    clock.now = 100.5
    limiter.heard(Sighting(100.5, others=4))
    limiter.heard(Sighting(100.2, others=7))  # news from an older request
    limiter.heard(Sighting(100.1, others=1))  # older and lower: outweighed
    # 7 others until 101.2: two of ours, then four until 101.5.
    assert starts(limiter, clock, 3) == pytest.approx([100.5, 101.0, 101.2])


def test_a_refusal_returns_its_slot_and_the_retry_waits_past_the_reset() -> None:
    clock = FakeClock()
    limiter = listening(clock)
    assert limiter.reserve() == 0.0  # our one request, at 100.0 ...
    clock.now = 100.02
    # ... refused: the window is full of others' until a slot frees in 0.4 s.
    limiter.heard(Sighting(100.0, others=10, reset_in=0.4, refused=True))
    # It used no slot. The retry goes at the reset plus half a beat (rand 0.5 of
    # 1/10 s), where one slot is free; the next once the others' have left.
    assert starts(limiter, clock, 2) == pytest.approx([100.47, 101.0])


def test_unexpected_refusals_leave_more_to_the_others_for_a_while() -> None:
    def ours_in_a_window(refused: bool, pause: float) -> int:
        """Requests of ours in the window after others were counted at 4."""
        clock = FakeClock()
        limiter = listening(clock)
        limiter.heard(Sighting(100.0, others=4))
        if refused:  # we thought we had room
            clock.now = 100.1
            limiter.reserve()
            limiter.heard(Sighting(100.1, others=4, refused=True))
        clock.now += pause
        limiter.heard(Sighting(clock.now, others=4))
        first = clock.now
        return sum(t < first + 1.0 for t in starts(limiter, clock, 10))

    assert ours_in_a_window(refused=False, pause=1.0) == 5  # 10 - 4 - 1
    assert ours_in_a_window(refused=True, pause=1.0) == 4  # one more left to them
    assert ours_in_a_window(refused=True, pause=SLACK_DECAY_S) == 5  # for a while


@pytest.mark.looptime
async def test_the_head_of_the_queue_decides_when_its_turn_comes() -> None:
    limiter = SlidingWindowLimiter(1, 1.0)
    async with asyncio.TaskGroup() as tg:
        gone = take_turns(limiter, 3, tg)
        await asyncio.sleep(0.5)
        limiter.block_for(2.0)  # the second, asleep until 1.05, wakes to wait longer
        await asyncio.sleep(1.0)
        limiter.set_limit(2)  # and the third need not wait a window after it
    assert gone == pytest.approx([0.0, 2.5, 2.5])


@pytest.mark.looptime
async def test_after_a_silence_one_goes_first_and_the_rest_wait_for_its_answer() -> (
    None
):
    limiter = SlidingWindowLimiter(10, 1.0, listen=True)
    async with asyncio.TaskGroup() as tg:
        gone = take_turns(limiter, 4, tg)
        await asyncio.sleep(0.3)
        assert gone == [0.0]
        limiter.heard(Sighting(0.0, others=0))  # alone: the rest go at once
    assert gone == pytest.approx([0.0, 0.3, 0.3, 0.3])


@pytest.mark.looptime
async def test_an_answer_that_counts_nothing_lets_the_next_go_first() -> None:
    limiter = SlidingWindowLimiter(10, 1.0, listen=True)
    async with asyncio.TaskGroup() as tg:
        gone = take_turns(limiter, 3, tg)
        await asyncio.sleep(0.2)
        limiter.heard(Sighting(0.0, others=None))  # e.g. an HTTP 500
    # The second went on that answer, the third when the second's never came.
    assert gone == pytest.approx([0.0, 0.2, 0.2 + PROBE_TIMEOUT_S])


def test_a_share_caps_ours_and_others_count_against_the_whole() -> None:
    clock = FakeClock()
    limiter = listening(clock, share=0.5)
    limiter.heard(Sighting(100.0, others=0))
    assert starts(limiter, clock, 6) == [100.0] * 5 + [101.0]  # half of 10, alone
    clock.now = 101.0
    limiter.heard(Sighting(101.0, others=6))  # 10 - 6 - 1 = 3 left: fewer than 5
    # One of the three is booked already (the sixth above, at 101.0).
    assert sum(t < 102.0 for t in starts(limiter, clock, 6)) == 2
    limiter.set_limit(4)
    assert limiter.limit == 4


def test_the_margin_is_learned_from_the_spread_of_round_trips() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, 1.0, clock=clock, learn=True)
    assert limiter.span == pytest.approx(1.0 + WINDOW_MARGIN_S)  # nothing seen yet
    for rtt in (0.020, 0.022, 0.021):
        limiter.heard(Sighting(clock.now - rtt, others=0))
    # Slowest less fastest (2 ms), plus the least margin.
    assert limiter.span == pytest.approx(1.0 + 0.002 + MIN_MARGIN_S)
    assert starts(limiter, clock, 11)[-1] == pytest.approx(100.0 + 1.007)
    limiter.heard(Sighting(clock.now - 0.5, others=0))  # a slow one: never past max
    assert limiter.span == pytest.approx(1.0 + WINDOW_MARGIN_S)
    fixed = SlidingWindowLimiter(10, 1.0, clock=clock)
    fixed.heard(Sighting(clock.now - 0.02, others=0))
    fixed.heard(Sighting(clock.now - 0.02, others=0))
    assert fixed.span == pytest.approx(1.0 + WINDOW_MARGIN_S)


@pytest.mark.looptime
async def test_a_learned_margin_wakes_the_head_to_start_sooner() -> None:
    loop = asyncio.get_running_loop()
    limiter = SlidingWindowLimiter(1, 1.0, learn=True)
    await limiter.take()  # at 0.0; the next may start at 1.05 as far as known

    async def learn() -> None:
        await asyncio.sleep(0.5)
        for at in (0.48, 0.479):  # two round trips, 1 ms apart
            limiter.heard(Sighting(at, others=0))

    async with asyncio.TaskGroup() as tg:
        tg.create_task(learn())
        await limiter.take()
    assert loop.time() == pytest.approx(1.0 + 0.001 + MIN_MARGIN_S)
