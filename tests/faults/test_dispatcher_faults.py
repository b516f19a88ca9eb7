"""The dispatcher against the local Bot API server's fault modes (ARCHITECTURE.md: 429 waits
retry_after; 5xx, time-outs and refused connections retry with backoff; 403 marks the
recipient and tells whoever should know).

The bot runs in this process as `gezinslijn run` builds it (rate limiter on), on a clock that
runs 60 times faster than real time: backoff and retry_after are real time all the same, since
the Bot API server lives in real time. On SQLite only: this is the dispatcher's handling of Bot
API answers, the same SQL on both databases; PostgreSQL's own paths (claims under SKIP LOCKED,
liveness after a crash, the database going away) are in test_database_away.py and
test_sigkill.py."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.simulator import LocalBotApi
from storage.models import Outbox
from tests.e2e.conftest import AMS, WEDNESDAY_MORNING
from tests.faults.common import (
    Line,
    RunningClock,
    alive,
    containing,
    describe,
    member_row,
    query,
    running_bot,
    seed_line,
    sends,
    settled,
    unrecorded,
    wait_until,
)

SPEED = 60.0
FAMILY = [("Gezin J.", "Sanne", ["Marieke"])]


async def _line(api: LocalBotApi, db_url: str, now: datetime = WEDNESDAY_MORNING) -> Line:
    return await seed_line(db_url, api, FAMILY, now)


@pytest.mark.parametrize("paced", [True, False], ids=["paced", "unpaced"])
async def test_429_waits_exactly_retry_after(api: LocalBotApi, sqlite_url: str, tmp_path: Path,
                                             paced: bool) -> None:
    """Also with pacing switched off (as the end-to-end harness runs): a 429 is an order."""
    line = await _line(api, sqlite_url)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    clock = RunningClock(WEDNESDAY_MORNING, SPEED)
    async with running_bot(api, sqlite_url, tmp_path, clock, paced=paced):
        await api.idle()
        mark = len(api.calls)
        api.faults.retry_after = 2
        marieke.send_text("m1 met een 429")
        await sanne.wait_for(lambda m: "m1 met een 429" in m.text, timeout=10)
        await settled(api, sqlite_url)

    calls = sends(api, since=mark)
    refused = [c for c in calls if c.error_code == 429]
    first = refused[0]
    # Unpaced, a send already on its way when the 429 came meets the window too: nothing the
    # bot could have known. Every send that *started* after it waited the whole window.
    on_their_way = [c for c in refused[1:] if c.at - first.at < 0.1]
    assert refused == [first, *on_their_way], [(c.method, c.error_code) for c in calls]
    assert api.faults.early_retries == len(on_their_way)
    if paced:
        assert not on_their_way
    waited = min(c.at for c in calls if c.at - first.at >= 0.1) - first.at
    assert 2.0 <= waited < 2.0 + 1.5, waited
    assert len(containing(sanne, "m1 met een 429")) == 1
    assert not await unrecorded(api, sqlite_url)


@pytest.mark.parametrize("code", [500, 502])
async def test_server_errors_are_retried_with_real_backoff_and_delivered_once(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path, code: int) -> None:
    line = await _line(api, sqlite_url)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, sqlite_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        mark = len(api.calls)
        api.faults.server_errors, api.faults.server_error_code = 2, code
        marieke.send_text("m2 na twee fouten")
        await sanne.wait_for(lambda m: "m2 na twee fouten" in m.text, timeout=15)
        await settled(api, sqlite_url)

    failed = [c for c in sends(api, since=mark) if c.error_code == code]
    assert len(failed) == 2
    # Each failed row waits its backoff in real seconds: 1 s, then 2 s (not 1/60 of that).
    for call in failed:
        again = [c for c in sends(api, since=mark) if c.at > call.at and c.params == call.params]
        assert again, f"{call.method} to {call.params['chat_id']} was not tried again"
        assert again[0].at - call.at >= 0.9, again[0].at - call.at
    assert len(containing(sanne, "m2 na twee fouten")) == 1
    assert not await unrecorded(api, sqlite_url)


async def test_a_time_out_is_retried_and_its_duplicate_is_the_only_one(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    """The server delivers the send but answers after the bot stopped waiting: the bot cannot
    know it arrived and sends again. That one duplicate is the known window; nothing else."""
    line = await _line(api, sqlite_url)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    clock = RunningClock(WEDNESDAY_MORNING, SPEED)
    async with running_bot(api, sqlite_url, tmp_path, clock, read_timeout=1.0):
        await api.idle()
        mark = len(api.calls)
        api.faults.timeouts, api.faults.timeout_delay = 1, 2.5
        marieke.send_text("m3 met een time-out")
        await sanne.wait_for(lambda m: "m3 met een time-out" in m.text, timeout=15)
        await wait_until(lambda: api.faults.timeouts == 0, 5, "the time-out was used")
        await settled(api, sqlite_url)

    late = next(c for c in sends(api, since=mark) if c.ok)  # the first send got the time-out
    found = await unrecorded(api, sqlite_url)
    print(f"\nduplicates after one time-out: {len(found)}: {describe(found)}")
    assert found == [late]
    assert not await query(sqlite_url, select(Outbox.id).where(Outbox.status != "sent"))
    # The send that timed out may be the copy, or another one (the receipt, Sanne's agenda
    # of this morning, which the copy may pass): only the one that timed out comes twice.
    relayed = len(containing(sanne, "m3 met een time-out"))
    assert relayed == (2 if "m3 met een time-out" in str(late.params.get("text")) else 1)


async def test_dropped_connections_are_retried_and_delivered_once(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    line = await _line(api, sqlite_url)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, sqlite_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        mark = len(api.calls)
        api.faults.drop_connections = 2
        marieke.send_text("m4 na verbroken verbindingen")
        await sanne.wait_for(lambda m: "m4 na verbroken verbindingen" in m.text, timeout=15)
        await settled(api, sqlite_url)
    assert sum(1 for c in sends(api, since=mark) if c.error_code == 0) == 2
    assert not await query(sqlite_url, select(Outbox.id).where(Outbox.status != "sent"))
    assert len(containing(sanne, "m4 na verbroken verbindingen")) == 1
    assert not await unrecorded(api, sqlite_url)


async def test_a_digest_due_while_the_server_refuses_connections_goes_after(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    """Held overnight; at 09:00 the Bot API server is down (connection refused) for a few
    seconds. The bot keeps going and the digest arrives once, when the server is back."""
    evening = datetime(2026, 11, 25, 20, 0, tzinfo=AMS)
    line = await _line(api, sqlite_url, evening)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    clock = RunningClock(evening, SPEED)
    port = int(api.base_url.rsplit(":", 1)[1].split("/", 1)[0])
    async with running_bot(api, sqlite_url, tmp_path, clock) as runtime:
        await api.idle()
        marieke.send_text("m5 's avonds")
        await marieke.wait_for(lambda m: "bewaard" in m.text)
        await api.idle()
        assert not containing(sanne, "m5 's avonds")

        await api.stop()
        clock.set(datetime(2026, 11, 26, 9, 0, 30, tzinfo=AMS))
        runtime.dispatcher.wake()
        await _refused_for(sqlite_url, seconds=2.0)
        assert alive(runtime)
        await api.start(port=port)
        await sanne.wait_for(lambda m: "m5 's avonds" in m.text, timeout=20)
        await settled(api, sqlite_url)
        assert alive(runtime)
    assert len(containing(sanne, "m5 's avonds")) == 1
    assert len([m for m in sanne.inbox() if m.text.startswith("📬")]) == 1
    assert not await unrecorded(api, sqlite_url)


async def _refused_for(db_url: str, seconds: float) -> None:
    """Wait while the server is down, and check the digest was tried and postponed meanwhile."""
    await asyncio.sleep(seconds)
    rows = await query(db_url, select(Outbox.attempts, Outbox.last_error).where(
        Outbox.purpose == "digest", Outbox.status == "pending"))
    assert rows, "the digest was not planned while the server was down"
    assert any((error or "").startswith("network") for _, error in rows), rows


async def test_a_member_who_blocked_the_bot_is_marked_and_the_coach_told_once(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    """403: no retries, the member marked, Sanne told once however often she writes; one send
    attempt in all (what follows waits behind it: no retry storm). Unblocking delivers every
    answer that waited, in order, once each."""
    line = await _line(api, sqlite_url)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with running_bot(api, sqlite_url, tmp_path, RunningClock(WEDNESDAY_MORNING, SPEED)):
        await api.idle()
        original = marieke.send_text("m6 vraag")
        copy = await sanne.wait_for(lambda m: "m6 vraag" in m.text)
        await marieke.wait_for(lambda m: "Doorgestuurd" in m.text)  # after the copy arrived
        await settled(api, sqlite_url)
        marieke.block_bot()
        api.drop_pending_updates()  # the bot learns it only from the 403s
        mark = len(api.calls)
        for n in range(3):
            sanne.send_text(f"antwoord {n}", reply_to=copy)
            await api.idle()
        await wait_until(lambda: any("geblokkeerd" in m.text for m in sanne.inbox()), 10,
                         "Sanne was told")
        with contextlib.suppress(AssertionError):  # a retry storm never goes quiet
            await api.idle(quiet=1.5, timeout=6)  # room for retries to show, if any
        to_marieke = sends(api, marieke.chat_id, since=mark)
        assert [c.error_code for c in to_marieke] == [403], to_marieke
        assert len([m for m in sanne.inbox() if "geblokkeerd" in m.text]) == 1
        assert (await member_row(sqlite_url, marieke.chat_id)).blocked_at is not None
        rows = await query(sqlite_url, select(Outbox.status).where(
            Outbox.chat_id == marieke.chat_id, Outbox.status != "sent").order_by(Outbox.id))
        assert [r[0] for r in rows] == ["parked", "pending", "pending"], rows

        marieke.unblock_bot()  # Telegram tells the bot (my_chat_member)
        await wait_until(lambda: len(containing(marieke, "antwoord")) == 3, 10,
                         "the answers arrived")
        await settled(api, sqlite_url)
    assert original.chat_id == marieke.chat_id
    assert [m.text.rsplit("\n", 1)[-1] for m in containing(marieke, "antwoord")] == [
        "antwoord 0", "antwoord 1", "antwoord 2"]
    assert (await member_row(sqlite_url, marieke.chat_id)).blocked_at is None
    assert not await unrecorded(api, sqlite_url)
