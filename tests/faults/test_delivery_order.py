"""Each chat is a lane: its outbox rows go first-in-first-out whatever happens (5xx, 429, a
coach who blocked the bot, two instances), and one chat being paced holds up no other. A
family's receipt (a 👍 on their message, or "Doorgestuurd naar Sanne ✓") is sent only once the
copy reached the coach; when it cannot reach her, the family is told in plain words instead.

The bot runs in this process as `gezinslijn run` builds it (rate limiter on unless a test says
otherwise), on a clock that runs 60 times faster than real time, during office hours, so a
family message goes straight to the coach. Faults and pacing are real time all the same."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.simulator import LocalBotApi, LocalUser
from bot.simulator.model import ApiCall, ChatMessage
from storage.models import Outbox
from tests.e2e.conftest import WEDNESDAY_MORNING
from tests.faults.common import (
    RunningClock,
    containing,
    describe,
    query,
    queue_texts,
    running_bot,
    seed_line,
    sends,
    settled,
    unrecorded,
    wait_until,
)

SPEED = 60.0
FAMILY = [("Gezin J.", "Sanne", ["Marieke"])]
TWO_FAMILIES = [("Gezin J.", "Sanne", ["Marieke"]), ("Gezin K.", "Tom", ["Fatima"])]
NUMBERED = re.compile(r"\bbericht (\d+)\s*$")
COPIES = frozenset({"sendMessage", "copyMessage"})


def numbered(text: str) -> int | None:
    """N of a relayed "bericht N" (the coach's copy carries a header line above it)."""
    found = NUMBERED.search(text)
    return int(found.group(1)) if found else None


def relayed(coach: LocalUser) -> list[int]:
    """The numbers of the "bericht N" copies in the coach's chat, in the order of her inbox."""
    return [n for n in (numbered(m.text) for m in coach.inbox()) if n is not None]


def first_copies(api: LocalBotApi, coach: LocalUser, since: int) -> dict[int, ApiCall]:
    """For each N, the first send of "bericht N" to the coach that succeeded."""
    found: dict[int, ApiCall] = {}
    for call in sends(api, coach.chat_id, since):
        if call.ok and call.method in COPIES:
            n = numbered(str(call.params.get("text") or call.params.get("caption") or ""))
            if n is not None:
                found.setdefault(n, call)
    return found


def receipts(api: LocalBotApi, member: LocalUser, since: int) -> list[ApiCall]:
    """Receipts that reached the member: a reaction on one of her messages, or a text with ✓."""
    return [c for c in sends(api, member.chat_id, since) if c.ok and (
        (c.method == "setMessageReaction" and c.params.get("reaction"))
        or (c.method == "sendMessage" and "✓" in str(c.params.get("text", ""))))]


def texts(person: LocalUser) -> list[str]:
    return [m.text[:60] for m in person.inbox()]


async def test_an_outage_of_the_coachs_chat_keeps_order_and_receipts_honest(
        api: LocalBotApi, db_url: str, tmp_path: Path) -> None:
    """Sanne's chat answers 502 for 25 s while Marieke writes ten messages: Sanne gets all ten
    once each, in order, and no receipt tells Marieke a message arrived before it did."""
    line = await seed_line(db_url, api, FAMILY, WEDNESDAY_MORNING)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, db_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        mark = len(api.calls)
        api.faults.fail_chat(sanne.chat_id, 25.0, code=502)
        originals: dict[int, ChatMessage] = {}
        for n in range(1, 11):
            originals[n] = marieke.send_text(f"bericht {n}")
            await asyncio.sleep(0.3)  # a mother typing, not a wait for the bot
        with contextlib.suppress(AssertionError):  # the assertion below says what arrived
            await wait_until(lambda: len(relayed(sanne)) >= 10, 50, "ten copies reached Sanne")
        assert relayed(sanne) == list(range(1, 11)), relayed(sanne)
        await settled(api, db_url, timeout=30)

    assert relayed(sanne) == list(range(1, 11)), relayed(sanne)  # and no duplicate after
    assert api.faults.outage_refusals > 0, "the outage was never met"
    copies = first_copies(api, sanne, mark)
    assert sorted(copies) == list(range(1, 11))
    answered = receipts(api, marieke, mark)
    assert len(answered) <= 10, describe(answered)
    first_copy = min(c.at for c in copies.values())
    early = [c for c in answered if c.at <= first_copy]
    assert not early, f"{len(early)} receipts before any copy reached Sanne: {describe(early)}"
    # Each receipt answers its own message, sent after that copy: the k-th receipt comes
    # after at least k copies.
    copy_times = sorted(c.at for c in copies.values())
    for k, receipt in enumerate(sorted(answered, key=lambda c: c.at)):
        assert receipt.at > copy_times[k], (k, receipt.method, receipt.at - copy_times[k])
    # A reaction names its message: it comes after the copy of that very message.
    number_of = {m.message_id: n for n, m in originals.items()}
    for reaction in (c for c in answered if c.method == "setMessageReaction"):
        n = number_of[int(reaction.params["message_id"])]
        assert reaction.at > copies[n].at, f"👍 on bericht {n} before its copy arrived"
    assert not await unrecorded(api, db_url)


async def test_a_long_429_keeps_order(api: LocalBotApi, sqlite_url: str,
                                      tmp_path: Path) -> None:
    """retry_after 6 on the first send while Marieke writes five messages: all five reach
    Sanne in order, once each, and nothing is sent before the window ends."""
    line = await seed_line(sqlite_url, api, FAMILY, WEDNESDAY_MORNING)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, sqlite_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED),
                           paced=True):
        await api.idle()
        mark = len(api.calls)
        api.faults.retry_after = 6
        for n in range(1, 6):
            marieke.send_text(f"bericht {n}")
        with contextlib.suppress(AssertionError):  # the assertion below says what arrived
            await wait_until(lambda: len(relayed(sanne)) >= 5, 30, "five copies reached Sanne")
        assert relayed(sanne) == list(range(1, 6)), relayed(sanne)
        await settled(api, sqlite_url, timeout=30)

    assert relayed(sanne) == list(range(1, 6)), relayed(sanne)
    refused = [c for c in sends(api, since=mark) if c.error_code == 429]
    assert refused, "the 429 was never met"
    assert api.faults.early_retries == 0, api.faults.early_retries
    later = [c for c in api.calls[mark:] if c.at > refused[0].at and c.method in COPIES]
    assert min(c.at for c in later) - refused[0].at >= 6.0
    assert not await unrecorded(api, sqlite_url)


async def test_a_paced_chat_does_not_hold_up_another(api: LocalBotApi, db_url: str,
                                                     tmp_path: Path) -> None:
    """40 messages queued for Carla go out at one a second; meanwhile Fatima's message reaches
    her coach Tom within 2 s."""
    line = await seed_line(db_url, api, TWO_FAMILIES, WEDNESDAY_MORNING)
    carla, fatima, tom = line.coordinator, line.member("Fatima"), line.coaches["Tom"]
    queued = [f"rij {n:02d}" for n in range(40)]
    clock = RunningClock(WEDNESDAY_MORNING, SPEED)
    async with running_bot(api, db_url, tmp_path, clock, paced=True) as runtime:
        await api.idle()
        await queue_texts(db_url, carla.chat_id, queued, clock.now())
        runtime.dispatcher.wake()

        def to_carla() -> list[str]:
            return [m.text for m in carla.inbox() if m.text.startswith("rij ")]

        # Past the chat's burst: from here Carla's lane is paced at one a second.
        await wait_until(lambda: len(to_carla()) >= 6, 15, "Carla's rows are being sent")
        started = time.monotonic()
        fatima.send_text("vraag van Fatima")
        await tom.wait_for(lambda m: "vraag van Fatima" in m.text, timeout=15)
        took = time.monotonic() - started
        so_far = to_carla()
        assert took < 2.0, f"Fatima's message took {took:.1f}s behind Carla's queue"
        assert len(so_far) < 40, "Carla's queue was done already: nothing was held up"
        assert so_far == queued[:len(so_far)], so_far


async def test_two_dispatchers_send_200_rows_for_one_chat_once_in_order(
        api: LocalBotApi, db_url: str, tmp_path: Path) -> None:
    """Two instances on one PostgreSQL database, pacing off: 200 rows for Sanne's chat reach
    her once each, in order, and every row ends sent."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share a database on PostgreSQL only")
    line = await seed_line(db_url, api, FAMILY, WEDNESDAY_MORNING)
    sanne = line.coaches["Sanne"]
    queued = [f"r{n:03d}" for n in range(200)]
    clock = RunningClock(WEDNESDAY_MORNING, SPEED)
    async with running_bot(api, db_url, tmp_path, clock, paced=False, polling=False) as one, \
            running_bot(api, db_url, tmp_path, clock, paced=False, polling=False) as two:
        mark = len(api.calls)
        ids = await queue_texts(db_url, sanne.chat_id, queued, clock.now())
        one.dispatcher.wake()
        two.dispatcher.wake()
        with contextlib.suppress(AssertionError):  # the assertion below says what arrived
            await wait_until(lambda: len(sanne.inbox()) >= 200, 60, "200 rows reached Sanne")
        await settled(api, db_url, timeout=30)
        print(f"\nsent by the first instance: {one.dispatcher.sent}, "
              f"by the second: {two.dispatcher.sent}")

    # Her morning agenda may come in between: only the 200 rows are counted.
    received = [m.text for m in sanne.inbox() if re.fullmatch(r"r\d{3}", m.text)]
    assert len(received) == len(set(received)), "some rows reached Sanne twice"
    assert received == queued, [t for t, want in zip(received, queued, strict=False)
                                if t != want][:10]
    statuses = [status for (status,) in await query(db_url, select(Outbox.status).where(
        Outbox.id.in_(ids)))]
    assert statuses == ["sent"] * 200, sorted(set(statuses))
    assert not [c for c in sends(api, sanne.chat_id, mark) if not c.ok]
    assert not await unrecorded(api, db_url)


async def test_a_coach_who_blocked_the_bot_gets_every_message_after_unblocking(
        api: LocalBotApi, db_url: str, tmp_path: Path) -> None:
    """Sanne blocked the bot: Marieke is told her messages did not reach Sanne yet (and gets no
    receipt while they wait), Carla is told which family's coach blocked the bot, and once Sanne
    unblocks it she gets every waiting message, in order, once each; then Marieke sees each
    one arrived (a 👍 on it, only after its copy reached Sanne)."""
    line = await seed_line(db_url, api, FAMILY, WEDNESDAY_MORNING)
    marieke, sanne, carla = line.member("Marieke"), line.coaches["Sanne"], line.coordinator
    async with running_bot(api, db_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        sanne.block_bot()
        await api.idle()
        mark = len(api.calls)
        marieke.send_text("eerste")
        marieke.send_text("tweede")
        await marieke.wait_for(lambda m: "nog niet bij" in m.text, timeout=15)
        await carla.wait_for(lambda m: "Gezin J." in m.text and "geblokkeerd" in m.text,
                             timeout=15)
        # Not settled: what waits for Sanne stays queued while she has the bot blocked.
        await api.idle(quiet=1.0)
        assert not receipts(api, marieke, mark), texts(marieke)

        sanne.unblock_bot()
        with contextlib.suppress(AssertionError):  # the assertion below says what arrived
            await wait_until(lambda: containing(sanne, "tweede"), 20, "Sanne got the waiting")
        await settled(api, db_url)

    waiting = [t for m in sanne.inbox() for t in ("eerste", "tweede") if m.text.endswith(t)]
    assert waiting == ["eerste", "tweede"], texts(sanne)
    arrived = [c.at for c in sends(api, sanne.chat_id, mark) if c.ok]
    told = receipts(api, marieke, mark)
    assert len(told) == 2 and min(c.at for c in told) > min(arrived), texts(marieke)
    assert not await unrecorded(api, db_url)
