"""A family message stored without the ORM's unit of work (storage/repos/messages.py add): one
INSERT, the body sealed with the family's key (never plain in the database), the id and the
columns' defaults on the object, which is then a stored row of the session: a later change to
it is written at the commit, as for any row; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select, text

from storage import sealing
from storage.db import Database
from storage.models import Family, FamilyMessage
from storage.repos import messages
from tests.caseload import family_with_member
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_one_insert_sealed_with_the_familys_key_and_the_row_in_the_session(
        db: Database) -> None:
    family_id, member_id = await family_with_member(db, NOW)
    async with db.transaction() as session:
        statements = await recorded(session)
        stored = FamilyMessage(family_id=family_id, member_id=member_id, chat_id=501,
                               telegram_message_id=7, kind="text", body="ik kom later",
                               received_at=NOW)
        await messages.add(session, stored)
        assert [s.split()[0] for s in statements if "key_id" not in s] == ["INSERT"]
        # The id, and what the columns' defaults gave (none of them was set here).
        assert stored.id is not None
        assert (stored.status, stored.urgent, stored.hold_until) == ("delivered", False, None)
        assert stored.body == "ik kom later"  # plain to the code above storage
        state = inspect(stored)
        assert state.persistent and stored in session and not session.dirty
        # Changed later in the same unit of work: written at the commit, as any row.
        stored.status, stored.hold_until = "held", NOW + timedelta(hours=12)

    async with db.transaction() as session:
        raw = (await session.execute(text(
            "SELECT body, status FROM family_message WHERE id = :id"),
            {"id": stored.id})).one()
        key_id = await session.scalar(select(Family.key_id).where(Family.id == family_id))
        found = await session.get(FamilyMessage, stored.id)
        assert found is not None
        assert (found.body, found.status, found.hold_until) == \
            ("ik kom later", "held", NOW + timedelta(hours=12))
    assert key_id is not None and sealing.key_of(raw.body) == key_id
    assert "ik kom later" not in raw.body and raw.status == "held"


async def test_a_message_without_text_stores_none(db: Database) -> None:
    """A photo without a caption: no body to seal."""
    family_id, member_id = await family_with_member(db, NOW)
    async with db.transaction() as session:
        stored = FamilyMessage(family_id=family_id, member_id=member_id, chat_id=501,
                               telegram_message_id=8, kind="photo", body=None,
                               urgent=True, received_at=NOW, status="delivered")
        await messages.add(session, stored)
    async with db.transaction() as session:
        raw = (await session.execute(text(
            "SELECT body, urgent FROM family_message WHERE id = :id"), {"id": stored.id})).one()
    assert raw.body is None and bool(raw.urgent) is True
