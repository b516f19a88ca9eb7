"""Who writes: a member and their family read in one query (handlers/common.py `who`)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import sealing
from storage.db import Database
from storage.repos import families
from tests.caseload import joined_member
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_a_member_and_their_family_come_in_one_query(db: Database) -> None:
    async with db.transaction() as session:
        family = await families.add_family(session, "Gezin Jansen", "NL", "Europe/Amsterdam",
                                           NOW)
        other = await families.add_family(session, "Gezin Amrani", "NL", "Europe/Amsterdam",
                                           NOW)
        session.add(joined_member(family.id, 501, "Marieke", "moeder", NOW))
        session.add(joined_member(other.id, 502, "Yasmina", "moeder", NOW))
    async with db.transaction() as session:
        statements = await recorded(session)
        found = await families.member_and_family(session, 501)
        assert found is not None
        member, family_row = found
        assert (member.first_name, family_row.alias) == ("Marieke", "Gezin Jansen")
        assert len(statements) == 1
        # What this transaction seals for the family uses the key read with it.
        assert family_row.key_id is not None
        assert session.info[sealing.FAMILY_KEYS][family_row.id] == family_row.key_id
        assert await families.member_and_family(session, 999) is None
