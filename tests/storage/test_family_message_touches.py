"""A family message written in a chat moves its member's last relay (silent copies in a
burst, bot/domain/relay.py) and its family's last contact (the coach's agenda) to its time,
in the database (migration 0013), never back; an answer to a reminder (no chat) moves
neither, as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import Database
from storage.models import Family, FamilyMessage, Member
from storage.repos import messages
from tests.caseload import family_with_member
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def _family(db: Database) -> tuple[int, int]:
    return await family_with_member(db, NOW - timedelta(days=30))


async def _write(db: Database, family_id: int, member_id: int, at: datetime,
                 chat_id: int | None = 501) -> list[str]:
    async with db.transaction() as session:
        statements = await recorded(session)
        await messages.add(session, FamilyMessage(
            family_id=family_id, member_id=member_id, chat_id=chat_id,
            telegram_message_id=7 if chat_id else None, kind="text", body="hoi",
            urgent=False, received_at=at, status="delivered"))
        return statements


async def _marks(db: Database, family_id: int, member_id: int
                 ) -> tuple[datetime | None, datetime | None]:
    async with db.transaction() as session:
        relay = await session.scalar(select(Member.last_relay_at).where(Member.id == member_id))
        contact = await session.scalar(select(Family.last_contact_at)
                                       .where(Family.id == family_id))
    return relay, contact


async def test_a_message_in_the_chat_moves_the_last_relay_and_contact_in_its_insert(
        db: Database) -> None:
    family_id, member_id = await _family(db)
    assert await _marks(db, family_id, member_id) == (None, None)
    statements = await _write(db, family_id, member_id, NOW)
    # The INSERT alone (after the family's key, read here as the relay reads it with the
    # member): no UPDATE of the member or the family.
    assert [s.split()[0] for s in statements if "key_id" not in s] == ["INSERT"], statements
    assert await _marks(db, family_id, member_id) == (NOW, NOW)
    await _write(db, family_id, member_id, NOW + timedelta(minutes=2))
    assert await _marks(db, family_id, member_id) == (NOW + timedelta(minutes=2),) * 2


async def test_an_earlier_message_moves_nothing_back(db: Database) -> None:
    """(Rows copied in by a restore of a backup come in any order.)"""
    family_id, member_id = await _family(db)
    await _write(db, family_id, member_id, NOW)
    await _write(db, family_id, member_id, NOW - timedelta(days=3))
    assert await _marks(db, family_id, member_id) == (NOW, NOW)


async def test_an_answer_to_a_reminder_moves_neither(db: Database) -> None:
    family_id, member_id = await _family(db)
    await _write(db, family_id, member_id, NOW, chat_id=None)
    assert await _marks(db, family_id, member_id) == (None, None)
