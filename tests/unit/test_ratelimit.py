"""The overall limit in real time: never more than 28 sends in any second, a second used to the
full when sends are waiting, people before bulk, a bulk send giving way to a person behind it
in its chat, and instances sharing one bot's limit."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.outbox.ratelimit import GiveWay, RateLimiter
from tests.faults.test_rate_limits import most_in_any_window


async def _go(limiter: RateLimiter, gone: list[tuple[float, str]], label: str,
              bulk: bool) -> None:
    await limiter.acquire(None, bulk=bulk)
    gone.append((time.monotonic(), label))


COACH = 42


async def _paced_bulk_send(limiter: RateLimiter, chat: int) -> asyncio.Task[None]:
    """A coach's chat after its morning's burst: three bulk sends took all but the person's
    token of its four, and a fourth bulk send waits for the chat's next token (a second)."""
    for _ in range(3):
        await asyncio.wait_for(limiter.acquire(chat, bulk=True), 0.5)
    paced = asyncio.create_task(limiter.acquire(chat, bulk=True))
    await asyncio.sleep(0.05)
    assert not paced.done()  # paced now: the last token is not for bulk
    return paced


async def _goes_at_once(limiter: RateLimiter, chat: int) -> None:
    """A person's send to `chat` goes at once, not at the chat's or the bulk's pace."""
    started = time.monotonic()
    await asyncio.wait_for(limiter.acquire(chat, bulk=False), 0.5)
    assert time.monotonic() - started < 0.2


async def test_a_backlog_uses_the_whole_second_and_never_more() -> None:
    limiter = RateLimiter()
    gone: list[tuple[float, str]] = []
    await asyncio.gather(*(_go(limiter, gone, "bulk", True) for _ in range(75)))
    times = [at for at, _ in gone]
    assert most_in_any_window(times, 1.0) <= 28
    # Spread evenly at 28 a second: 75 sends in 74 / 28 = 2.64 s, none lost, none bunched.
    assert 2.6 < max(times) - min(times) < 2.75
    assert most_in_any_window(times, 0.1) <= 4


async def test_people_go_before_the_bulk_already_waiting() -> None:
    limiter = RateLimiter()
    gone: list[tuple[float, str]] = []
    bulk = [asyncio.create_task(_go(limiter, gone, "bulk", True)) for _ in range(40)]
    await asyncio.sleep(0.2)  # a few have gone, the rest wait
    before = len(gone)
    person = asyncio.create_task(_go(limiter, gone, "person", False))
    await asyncio.gather(person, *bulk)
    labels = [label for _, label in gone]
    assert 0 < before < 20
    assert labels.index("person") <= before + 1  # next (or the one already let go), not 41st


async def test_two_instances_take_half_each_less_a_margin() -> None:
    """28 a second for the bot: 13 each for two instances (their schedules bunch)."""
    limiter = RateLimiter()
    limiter.share(2)
    gone: list[tuple[float, str]] = []
    await asyncio.gather(*(_go(limiter, gone, "bulk", True) for _ in range(30)))
    times = [at for at, _ in gone]
    assert most_in_any_window(times, 1.0) <= 13
    assert 2.15 < max(times) - min(times) < 2.3  # 29 / 13 s: 13 a second, spread
    limiter.share(3)
    assert limiter.overall.limit == 8
    limiter.share(1)
    assert limiter.overall.limit == 28


async def test_a_send_given_up_while_waiting_does_not_hold_the_others() -> None:
    limiter = RateLimiter()
    gone: list[tuple[float, str]] = []
    first = [asyncio.create_task(_go(limiter, gone, "bulk", True)) for _ in range(29)]
    await asyncio.gather(*first)
    waiting = asyncio.create_task(_go(limiter, gone, "gives up", True))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await _go(limiter, gone, "person", False)
    assert [label for _, label in gone][-1] == "person"


async def test_bulk_leaves_a_chat_a_token_for_a_person() -> None:
    """A coach's chat during the morning: the agenda and digests take its burst but one token,
    so a family's message that arrives then goes at once (it waited a second, bench/README.md)."""
    limiter = RateLimiter()
    fourth = await _paced_bulk_send(limiter, COACH)
    await _goes_at_once(limiter, COACH)  # the person's token was there
    await fourth


async def test_a_bulk_send_that_a_person_waits_behind_goes_as_people() -> None:
    """A coach's digest waits at the limiter behind an evening's worth of bulk sends; a
    family's message is queued behind it in the coach's lane (one send at a time per chat).
    Hurried, the digest goes next instead of after all the others."""
    limiter = RateLimiter()
    gone: list[tuple[float, str]] = []

    async def go(chat: int, label: str) -> None:
        await limiter.acquire(chat, bulk=True)
        gone.append((time.monotonic(), label))

    others = [asyncio.create_task(go(1000 + n, "bulk")) for n in range(60)]
    await asyncio.sleep(0.2)  # a few have gone, the rest wait
    digest = asyncio.create_task(go(42, "digest"))
    await asyncio.sleep(0.05)
    before = len(gone)
    limiter.hurry(42)
    await asyncio.gather(digest, *others)
    labels = [label for _, label in gone]
    assert labels.index("digest") <= before + 1, labels.index("digest")  # next, not ~60th


async def test_a_bulk_send_waiting_for_the_limit_gives_way_to_a_person_behind_it() -> None:
    """The busiest evening: a coach's nudge waits behind other bulk sends; the family's copy
    comes behind it in the coach's lane. The nudge steps back (the copy goes first) instead of
    joining the people's queue, which held more than a second of sends then."""
    limiter = RateLimiter()
    gone: list[tuple[float, str]] = []
    others = [asyncio.create_task(_go(limiter, gone, "bulk", True)) for _ in range(28)]
    await asyncio.sleep(0)
    nudge = asyncio.create_task(limiter.acquire(42, bulk=True))
    await asyncio.sleep(0.05)
    assert not nudge.done()
    limiter.hurry(42, give_way=True)
    with pytest.raises(GiveWay):
        await asyncio.wait_for(nudge, 0.1)  # at once, not at its turn
    await _goes_at_once(limiter, 42)  # the person's: people first
    # The nudge again, after the person's: bulk again, no longer giving way.
    again = asyncio.create_task(_go(limiter, gone, "nudge", True))
    await asyncio.gather(again, *others)
    assert [label for _, label in gone][-1] == "nudge"


async def test_a_bulk_send_waiting_for_its_chats_token_gives_way_at_once() -> None:
    limiter = RateLimiter()
    agenda = await _paced_bulk_send(limiter, COACH)
    limiter.hurry(COACH, give_way=True)
    with pytest.raises(GiveWay):
        await asyncio.wait_for(agenda, 0.2)
    await _goes_at_once(limiter, COACH)  # the person's token was there
    # What gave way goes after it, at the chat's pace, and does not give way again.
    await asyncio.wait_for(limiter.acquire(COACH, bulk=True), 3)


async def test_a_bulk_send_already_let_go_is_not_stopped_by_giving_way() -> None:
    """Hurried after its send left: nothing to step back from; the next bulk send of another
    chat is not touched, and the person's send clears the chat's mark."""
    limiter = RateLimiter()
    await asyncio.wait_for(limiter.acquire(42, bulk=True), 0.5)
    limiter.hurry(42, give_way=True)
    await asyncio.wait_for(limiter.acquire(7, bulk=True), 0.5)
    await asyncio.wait_for(limiter.acquire(42, bulk=False), 0.5)
    await asyncio.wait_for(limiter.acquire(42, bulk=True), 0.5)  # no GiveWay left behind
