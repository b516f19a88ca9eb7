"""Instances of one bot share Telegram's limit by what each has to send, people's sends first
(bot/outbox/ratelimit.fair_part), and never take more than the others leave."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.outbox.ratelimit import FLOOR, Demand, RateLimiter, Share, fair_part, floor_part

MOST = 28  # the limiter's sends a second for the whole bot


def _parts_in_turn(demands: list[Demand], rounds: int = 4) -> list[int]:
    """Each instance takes its part in turn, seeing the others' demands and parts, as
    Dispatcher.share_the_limit does under its lock; starting from an even split."""
    n = len(demands)
    parts = [(MOST - (n - 1)) // n] * n
    for _ in range(rounds):
        for i in range(n):
            others = [Share(demands[j], parts[j]) for j in range(n) if j != i]
            parts[i] = fair_part(MOST, n, demands[i], others)
            assert sum(parts) <= MOST - (n - 1), parts  # never beyond the limit, at any turn
    return parts


@pytest.mark.parametrize(("demands", "expected"), [
    # The poller sends every family's copy and receipt (20 a second), the other reminders:
    # the poller gets room for a quarter more people's sends (PEOPLE_HEADROOM), here all
    # the other does not keep as its floor.
    ([Demand(people=20, bulk=0), Demand(people=0, bulk=40)], [27 - FLOOR, FLOOR]),
    # A few people's sends: a quarter more for them, the bulk sends the rest.
    ([Demand(people=8, bulk=0), Demand(people=0, bulk=40)], [FLOOR + 10, 27 - 10 - FLOOR]),
    # People's sends beyond what there is: shared by them, the floor kept.
    ([Demand(people=60, bulk=0), Demand(people=20, bulk=90)], [FLOOR + 21 * 75 // 100,
                                                               FLOOR + 21 * 25 // 100]),
    # Only bulk: by each one's share of it.
    ([Demand(bulk=30), Demand(bulk=10)], [FLOOR + 21 * 30 // 40, FLOOR + 21 * 10 // 40]),
    # Nothing to send: an even split.
    ([Demand(), Demand()], [13, 13]),
    ([Demand(people=2), Demand(people=2), Demand(bulk=100)], [6, 6, 14]),
])
def test_parts_follow_the_demand(demands: list[Demand], expected: list[int]) -> None:
    assert _parts_in_turn(demands) == expected


def test_a_part_takes_only_what_the_others_leave() -> None:
    """The other still holds 20 (it has not taken its new, smaller part yet): this one grows
    only into what is free, and takes the rest at its next turn."""
    busy, idle = Demand(people=30), Demand()
    assert fair_part(MOST, 2, busy, [Share(idle, 20)]) == 27 - 20
    assert fair_part(MOST, 2, idle, [Share(busy, 7)]) == FLOOR
    assert fair_part(MOST, 2, busy, [Share(idle, FLOOR)]) == 27 - FLOOR


def test_an_instance_that_has_not_reported_keeps_its_floor() -> None:
    assert fair_part(MOST, 2, Demand(people=50), []) == 27 - FLOOR
    assert fair_part(MOST, 1, Demand(people=50), []) == MOST
    assert fair_part(MOST, 3, Demand(), []) == 26 // 3


async def test_the_demand_counts_sends_let_go_and_waiting_people_and_bulk() -> None:
    limiter = RateLimiter()
    limiter.share(1, 5)
    assert limiter.part == 5
    sends = [asyncio.create_task(limiter.acquire(chat, bulk=chat >= 100))
             for chat in [1, 2, 100, 101, 102, 103, 3, 104]]
    await asyncio.sleep(0.05)
    # 5 a second: the first goes at once, the rest wait, people first.
    demand = limiter.demand()
    assert (demand.people, demand.bulk) == (3, 5)
    for send in sends:
        send.cancel()
    await asyncio.gather(*sends, return_exceptions=True)
    assert limiter.demand() == Demand(people=1, bulk=0)  # the one let go, this second


async def test_a_part_not_taken_again_in_time_falls_to_the_floor() -> None:
    """The others stop counting a report that is no longer fresh and leave this instance its
    floor: its part holds only until then (else an instance whose reports stopped would keep
    its part while the other took the rest, and together they would pass the limit)."""
    limiter = RateLimiter()
    limiter.share(2, 20, until=time.monotonic() + 3600)
    assert limiter.part == 20
    limiter.share(2, 20, until=time.monotonic() - 0.001)  # its lease has run out
    assert limiter.part == FLOOR
    await limiter.acquire(1)  # sends go at the floor's pace from then on
    assert limiter.overall.limit == FLOOR
    limiter.share(2, 20, until=time.monotonic() + 3600)  # taken again
    assert limiter.part == 20
    limiter.share(1, 28)  # without a lease (SQLite: one instance by construction)
    assert limiter.part == 28
    assert limiter.part_until == float("inf")


def test_the_floor_is_what_the_others_leave_an_unreported_instance() -> None:
    for n in (2, 3, 10):
        taken = fair_part(MOST, n, Demand(people=50), [])
        assert taken + (n - 1) * floor_part(MOST, n) <= MOST - (n - 1)
