"""The outbox's lanes (storage/repos/outbox.py) on SQLite and PostgreSQL: one chat's rows go
first in, first out whatever happens to the first; other chats never wait for it; receipts
wait for their copy; results are recorded only by the claim's holder."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
A, B = 1001, 1002


async def add(db: Database, chat: int, text: str, *, due: datetime = NOW,
              awaited: int | None = None, expires: datetime | None = None) -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": text}}, purpose="relay", due_at=due,
                               created_at=NOW, link_family_id=None, link_member_id=None,
                               link_message_id=None, expires_at=expires)
        row.waits_for = awaited
        await session.flush()
        return row.id


async def claim(db: Database, instance: str = "me", chat: int | None = None,
                now: datetime = NOW) -> list[int]:
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, now, 60, LEASE)
        found = await rows.claim_heads(session, db.dialect, now, 100, instance, until, chat)
        return [r.id for r in found]


async def sent(db: Database, row_id: int, instance: str = "me") -> bool:
    async with db.transaction() as session:
        return await rows.mark_sent(session, row_id, instance, NOW, row_id, 1)


async def status(db: Database) -> dict[int, str]:
    async with db.transaction() as session:
        return {i: s for i, s in (await session.execute(select(Outbox.id, Outbox.status))).all()}


async def test_one_row_per_lane_and_the_next_only_after_it(db: Database) -> None:
    a1, a2, b1 = await add(db, A, "a1"), await add(db, A, "a2"), await add(db, B, "b1")
    assert sorted(await claim(db)) == [a1, b1]
    assert await claim(db) == []  # a2 waits for a1, held or not
    assert await sent(db, a1)
    assert await claim(db) == [a2]


async def test_a_retry_keeps_its_place_and_holds_up_only_its_chat(db: Database) -> None:
    a1, a2, b1 = await add(db, A, "a1"), await add(db, A, "a2"), await add(db, B, "b1")
    assert sorted(await claim(db)) == [a1, b1]
    async with db.transaction() as session:
        assert await rows.postpone(session, a1, "me", NOW + timedelta(seconds=30), 1, "5xx")
    assert await sent(db, b1)
    b2 = await add(db, B, "b2")
    assert await claim(db) == [b2]  # B goes on; a2 never overtakes a1
    assert await claim(db, now=NOW + timedelta(seconds=31)) == [a1]
    assert await sent(db, a1)
    assert await claim(db, now=NOW + timedelta(seconds=31)) == [a2]


async def test_a_parked_row_holds_its_chat_until_unparked(db: Database) -> None:
    a1, a2 = await add(db, A, "a1"), await add(db, A, "a2")
    assert await claim(db) == [a1]
    async with db.transaction() as session:
        assert await rows.mark_failed(session, a1, "me", 1, "forbidden", "parked")
    assert await claim(db) == []
    async with db.transaction() as session:
        assert await rows.unpark(session, A) == 1
    assert await claim(db) == [a1]
    assert await sent(db, a1)
    assert await claim(db) == [a2]


async def test_a_receipt_waits_for_its_copy_and_holds_up_nobody(db: Database) -> None:
    copy = await add(db, B, "copy to the coach")
    receipt = await add(db, A, "✓", awaited=copy)
    later = await add(db, A, "a crisis answer")
    assert sorted(await claim(db)) == [copy, later]  # the family's lane goes on meanwhile
    assert await sent(db, later)
    assert await claim(db) == []
    assert await sent(db, copy)
    assert await claim(db) == [receipt]


async def test_a_receipt_whose_copy_failed_is_cancelled(db: Database) -> None:
    copy = await add(db, B, "copy")
    receipt = await add(db, A, "✓", awaited=copy)
    assert await claim(db) == [copy]
    async with db.transaction() as session:
        assert await rows.mark_failed(session, copy, "me", 1, "bad request")
        await rows.expire_and_cancel(session, db.dialect, NOW)
    assert (await status(db))[receipt] == "cancelled"
    assert await claim(db) == []


async def test_an_expired_row_lets_its_lane_go_on(db: Database) -> None:
    reminder = await add(db, A, "reminder", expires=NOW + timedelta(hours=1))
    after = await add(db, A, "later")
    assert await claim(db) == [reminder]
    async with db.transaction() as session:
        await rows.postpone(session, reminder, "me", NOW + timedelta(hours=2), 3, "network")
    later = NOW + timedelta(hours=1, minutes=1)
    async with db.transaction() as session:
        assert await rows.expire_and_cancel(session, db.dialect, later) == 1
    assert (await status(db))[reminder] == "expired"
    assert await claim(db, now=later) == [after]


async def test_only_the_holder_records(db: Database) -> None:
    a1 = await add(db, A, "a1")
    assert await claim(db, "first") == [a1]
    async with db.transaction() as session:  # its lease ran out, another instance took it
        await rows.release_claims(session, [a1])
    assert await claim(db, "second") == [a1]
    assert not await sent(db, a1, "first")
    async with db.transaction() as session:
        assert not await rows.postpone(session, a1, "first", NOW, 1, "late")
        assert not await rows.mark_failed(session, a1, "first", 1, "late")
    assert await sent(db, a1, "second")
    assert (await status(db))[a1] == "sent"


async def test_concurrent_claims_never_share_a_lane(db: Database) -> None:
    """Two claimers at once (two instances on PostgreSQL, a lane and the main loop in one
    process): every row claimed once, never two rows of one chat at a time."""
    for chat in range(10):
        for n in range(3):
            await add(db, 2000 + chat, f"{chat}-{n}")
    claimed: list[list[int]] = await asyncio.gather(*(claim(db, f"i{n}") for n in range(4)))
    flat = [row for found in claimed for row in found]
    assert len(flat) == len(set(flat)) == 10
    async with db.transaction() as session:
        chats = (await session.scalars(select(Outbox.chat_id).where(
            Outbox.id.in_(flat)))).all()
    assert len(set(chats)) == 10


async def test_a_clock_jump_never_makes_an_own_claim_look_abandoned(db: Database) -> None:
    a1 = await add(db, A, "a1")
    assert await claim(db, "me") == [a1]
    hours_later = NOW + timedelta(hours=3)  # the bot's clock jumped (SQLite reads leases by it)
    assert await claim(db, "me", now=hours_later) == []  # still being sent by this instance
    if db.dialect == "sqlite":  # another instance (PostgreSQL reads leases by its own clock)
        assert await claim(db, "other", now=hours_later) == [a1]
