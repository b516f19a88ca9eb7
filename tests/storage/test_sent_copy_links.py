"""A row linked to a family that is marked sent links the message it became to that family in
the database (migration 0014), so a *reply* to it finds the member: the mark is the record's
one statement, no INSERT of the bot's after it. A digest's title (no reply to it can be
answered), a row sent without a message id (a reaction) and a row of no family link nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from storage.db import Database
from storage.models import FamilyMessage, Outbox, RelayLink
from storage.repos import messages
from storage.repos import outbox as rows
from tests.caseload import family_with_member
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ME = "instance-a"
COACH = 900


async def _family(db: Database) -> tuple[int, int, int]:
    family_id, member_id = await family_with_member(db, NOW - timedelta(days=30))
    async with db.transaction() as session:
        message = FamilyMessage(
            family_id=family_id, member_id=member_id, chat_id=501, telegram_message_id=7,
            kind="text", body="hoi", urgent=False, received_at=NOW, status="delivered")
        await messages.add(session, message)
        return family_id, member_id, message.id


async def _claimed(db: Database, purpose: str, family_id: int | None, member_id: int | None,
                   message_id: int | None) -> int:
    async with db.transaction() as session:
        row = rows.add_pending(session, chat_id=COACH, method="sendMessage",
                               payload={"p": {"text": "x"}}, purpose=purpose, due_at=NOW,
                               created_at=NOW, link_family_id=family_id,
                               link_member_id=member_id, link_message_id=message_id)
        await session.flush()
        await session.execute(update(Outbox).where(Outbox.id == row.id)
                              .values(claimed_by=ME, claimed_until=NOW + timedelta(minutes=1)))
        return row.id


async def _links(db: Database) -> list[tuple[int, int, int, int | None, int | None, datetime]]:
    async with db.transaction() as session:
        found = await session.execute(select(
            RelayLink.chat_id, RelayLink.message_id, RelayLink.family_id, RelayLink.member_id,
            RelayLink.family_message_id, RelayLink.created_at).order_by(RelayLink.message_id))
        return [(a, b, c, d, e, f.replace(tzinfo=UTC)) for a, b, c, d, e, f in found]


async def test_a_copy_marked_sent_links_its_message_to_the_member(db: Database) -> None:
    family_id, member_id, message_id = await _family(db)
    row_id = await _claimed(db, "relay", family_id, member_id, message_id)
    async with db.transaction() as session:
        assert set(await rows.mark_sent(session, row_id, ME, NOW, 4001, 1)) == {row_id}
    assert await _links(db) == [(COACH, 4001, family_id, member_id, message_id, NOW)]


async def test_rows_marked_together_link_each_its_own_message(db: Database) -> None:
    family_id, member_id, message_id = await _family(db)
    first = await _claimed(db, "relay", family_id, member_id, message_id)
    second = await _claimed(db, "answer", family_id, member_id, None)
    async with db.transaction() as session:
        assert set(await rows.mark_all_sent(session, [(first, 4001), (second, 4002)], ME,
                                            NOW)) == {first, second}
    assert await _links(db) == [(COACH, 4001, family_id, member_id, message_id, NOW),
                                (COACH, 4002, family_id, member_id, None, NOW)]


async def test_a_title_a_reaction_and_a_row_of_no_family_link_nothing(db: Database) -> None:
    family_id, member_id, message_id = await _family(db)
    title = await _claimed(db, "digest", family_id, None, None)
    reaction = await _claimed(db, "receipt", family_id, member_id, message_id)
    plain = await _claimed(db, "answer", None, None, None)
    async with db.transaction() as session:
        await rows.mark_sent(session, title, ME, NOW, 4001, 1)
        await rows.mark_sent(session, reaction, ME, NOW, None, 1)
        await rows.mark_sent(session, plain, ME, NOW, 4003, 1)
    assert await _links(db) == []


async def test_a_row_no_longer_ours_links_nothing(db: Database) -> None:
    family_id, member_id, message_id = await _family(db)
    row_id = await _claimed(db, "relay", family_id, member_id, message_id)
    async with db.transaction() as session:
        assert await rows.mark_sent(session, row_id, "instance-b", NOW, 4001, 1) == {}
    assert await _links(db) == []


async def test_the_dispatchers_record_of_a_copy_is_its_mark_alone(db: Database) -> None:
    family_id, member_id, message_id = await _family(db)
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    async with db.transaction() as session:
        rows.add_pending(session, chat_id=COACH, method="sendMessage",
                         payload={"p": {"text": "x"}}, purpose="relay", due_at=NOW,
                         created_at=NOW, link_family_id=family_id, link_member_id=member_id,
                         link_message_id=message_id)
    [row] = await dispatcher.claim(NOW, 1)
    with Listened(db) as listened:
        await dispatcher._record(row, {"message_id": 4001})
    assert not [s for s in listened.statements if s.lstrip().upper().startswith("INSERT")], \
        listened.statements
    assert await _links(db) == [(COACH, 4001, family_id, member_id, message_id, NOW)]
