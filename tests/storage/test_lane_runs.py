"""A lane's run (storage/repos/outbox.py claim_heads `run`), on SQLite and PostgreSQL: a chat's
next people's rows claimed together with their receipts, never past a row that keeps them
back, never behind a row another instance holds or has locked, in the chat's order."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
COACH, FAMILY = 1001, 1002
# Each run claimed as a lane claims after a run without bulk rows (claim_heads
# `without_bulk`, the lighter statement first), and without: the same rows either way.
WITHOUT_BULK = False


@pytest.fixture(autouse=True, params=[False, True], ids=["whole", "without-bulk"])
def without_bulk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(sys.modules[__name__], "WITHOUT_BULK", request.param)
    return bool(request.param)


async def add(db: Database, chat: int, text_: str, *, purpose: str = "relay",
              awaited: int | None = None, status: str = "pending") -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=chat, method="sendMessage",
                               payload={"p": {"text": text_}}, purpose=purpose, due_at=NOW,
                               created_at=NOW, link_family_id=None, link_member_id=None,
                               link_message_id=None)
        row.waits_for = awaited
        row.status = status
        await session.flush()
        return row.id


async def run(db: Database, chat: int = COACH, instance: str = "me", size: int = 8,
              then: int | None = None) -> list[int]:
    """The claim a lane's record makes: its chat's first row and the run behind it."""
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        found = await rows.claim_heads(session, db.dialect, NOW, 1, instance, until, chat,
                                       bulk=False, then=then, run=size,
                                       without_bulk=WITHOUT_BULK)
        return [r.id for r in found]


async def heads(db: Database, instance: str, chat: int | None = None) -> list[int]:
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        found = await rows.claim_heads(session, db.dialect, NOW, 100, instance, until, chat)
        return [r.id for r in found]


async def sent(db: Database, row_id: int, instance: str = "me") -> None:
    async with db.transaction() as session:
        assert await rows.mark_sent(session, row_id, instance, NOW, row_id, 1)


async def holders(db: Database) -> dict[int, str | None]:
    async with db.transaction() as session:
        found = await session.execute(select(Outbox.id, Outbox.claimed_by))
        return {row_id: holder for row_id, holder in found.all()}


async def test_a_run_takes_the_chats_next_rows_in_order_up_to_its_size(db: Database) -> None:
    ids = [await add(db, COACH, f"copy {n}") for n in range(5)]
    assert await run(db, size=2) == ids[:3]  # the first, and two behind it
    assert await heads(db, "other") == []  # no other instance takes the rest
    # This one does, behind the rows it holds in the chat's lane (which sends them in order).
    assert await run(db) == ids[3:]


async def test_a_run_takes_each_copys_receipt_and_the_receipt_its_record_freed(
        db: Database) -> None:
    c1 = await add(db, COACH, "copy 1")
    r1 = await add(db, FAMILY, "receipt 1", awaited=c1)
    copies = [await add(db, COACH, f"copy {n}") for n in (2, 3)]
    receipts = [await add(db, FAMILY, f"receipt {n}", awaited=c)
                for n, c in zip((2, 3), copies, strict=True)]
    # Each receipt waits for its copy, which is not sent: it goes right after it.
    assert await run(db) == [c1, r1, *copies, *receipts]
    for row_id in [c1, *copies]:
        await sent(db, row_id)
    assert await holders(db) == {c1: None, r1: "me", copies[0]: None, copies[1]: None,
                                 receipts[0]: "me", receipts[1]: "me"}


async def test_a_record_frees_its_receipt_and_takes_the_next_copies_with_theirs(
        db: Database) -> None:
    c1 = await add(db, COACH, "copy 1")
    r1 = await add(db, FAMILY, "receipt 1", awaited=c1)
    assert await heads(db, "me") == [c1]  # its receipt waits for it
    c2 = await add(db, COACH, "copy 2")
    r2 = await add(db, FAMILY, "receipt 2", awaited=c2)
    c3 = await add(db, COACH, "copy 3")
    r3 = await add(db, FAMILY, "receipt 3", awaited=c3)
    async with db.transaction() as session:
        assert await rows.mark_sent(session, c1, "me", NOW, 1, 1)
        until = rows.lease_until(db.dialect, NOW, 60, LEASE)
        # As the record of c1 claims: what it freed (r1), the next copies and their receipts.
        found = await rows.claim_heads(session, db.dialect, NOW, 1, "me", until, COACH,
                                       bulk=False, then=c1, run=8,
                                       without_bulk=WITHOUT_BULK)
    assert [r.id for r in found] == [r1, c2, r2, c3, r3]
    # Without the freed receipt in the claim, the next receipts wait behind it.
    async with db.transaction() as session:
        await rows.release_claims(session, [r.id for r in found])
    assert await run(db) == [c2, c3]


async def test_a_run_stops_at_a_bulk_row_a_parked_row_and_a_row_tried_again_later(
        db: Database) -> None:
    a1, a2 = await add(db, COACH, "copy 1"), await add(db, COACH, "copy 2")
    await add(db, COACH, "agenda", purpose="agenda")
    await add(db, COACH, "copy 3")
    assert await run(db) == [a1, a2]

    b1, b2 = await add(db, FAMILY, "answer 1"), await add(db, FAMILY, "answer 2")
    await add(db, FAMILY, "answer 3")
    assert await run(db, FAMILY, size=1) == [b1, b2]
    async with db.transaction() as session:
        assert await rows.postpone(session, b2, "me", NOW + timedelta(seconds=30), 1, "5xx")
        assert await rows.mark_failed(session, b1, "me", 1, "forbidden", "parked")
    assert await run(db, FAMILY) == []


async def test_a_run_takes_nothing_behind_a_row_another_instance_holds(db: Database) -> None:
    c1 = await add(db, COACH, "copy 1")
    c2, c3 = await add(db, COACH, "copy 2"), await add(db, COACH, "copy 3")
    assert await heads(db, "other") == [c1]
    assert await run(db) == []
    await sent(db, c1, "other")
    assert await run(db) == [c2, c3]


async def test_a_receipt_goes_with_a_run_only_past_the_receipts_it_takes(db: Database) -> None:
    """A row this instance holds in the family's own lane (an answer not sent yet) keeps the
    run's receipts back: that lane may send it after them."""
    answer = await add(db, FAMILY, "answer")
    assert await heads(db, "me", FAMILY) == [answer]
    c1 = await add(db, COACH, "copy 1")
    await add(db, FAMILY, "receipt 1", awaited=c1)
    c2 = await add(db, COACH, "copy 2")
    await add(db, FAMILY, "receipt 2", awaited=c2)
    assert await run(db) == [c1, c2]  # the copies only


async def test_a_run_takes_nothing_behind_a_first_row_another_claim_has_locked(
        db: Database) -> None:
    """PostgreSQL, two instances: another instance's claim has the chat's first row locked
    (SKIP LOCKED passes it by) and reads it as free; the rows behind it are not taken, or
    they could go before it."""
    if db.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite has one writer)")
    c1 = await add(db, COACH, "copy 1")
    c2, c3 = await add(db, COACH, "copy 2"), await add(db, COACH, "copy 3")
    locked, release = asyncio.Event(), asyncio.Event()

    async def other_claim() -> None:
        async with db.engine.connect() as connection, connection.begin():
            await connection.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"),
                                     {"id": c1})
            locked.set()
            await release.wait()

    other = asyncio.create_task(other_claim())
    await locked.wait()
    try:
        assert await run(db) == []
    finally:
        release.set()
        await other
    assert await run(db) == [c1, c2, c3]
