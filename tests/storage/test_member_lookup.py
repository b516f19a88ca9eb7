"""Who writes: a member, their family and the staff around it read in one query
(handlers/common.py `who`, storage/repos/families.py `member_and_family`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import sealing
from storage.db import Database
from storage.models import Absence
from storage.repos import families
from tests.caseload import joined_member, joined_staff
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_a_member_their_family_and_its_staff_come_in_one_query(db: Database) -> None:
    async with db.transaction() as session:
        family = await families.add_family(session, "Gezin Jansen", "NL", "Europe/Amsterdam",
                                           NOW)
        other = await families.add_family(session, "Gezin Amrani", "NL", "Europe/Amsterdam",
                                           NOW)
        family.oncall_agreed = True
        session.add(joined_member(family.id, 501, "Marieke", "moeder", NOW))
        session.add(joined_member(other.id, 502, "Yasmina", "moeder", NOW))
        sanne = joined_staff(601, "Sanne", NOW, coach=True)
        ahmed = joined_staff(602, "Ahmed", NOW, coach=True)
        joris = joined_staff(603, "Joris", NOW, coach=True)
        carla = joined_staff(604, "Carla", NOW, coordinator=True)
        duty = joined_staff(605, "Dienst", NOW)
        duty.is_oncall = True
        gone = joined_staff(606, "Oud", NOW, coach=True)
        gone.active = False
        session.add_all([sanne, ahmed, joris, carla, duty, gone])
        await session.flush()
        families.add_coach(session, family.id, ahmed.id, NOW - timedelta(days=9))
        families.add_coach(session, family.id, sanne.id, NOW - timedelta(days=2))
        families.add_coach(session, family.id, gone.id, NOW - timedelta(days=20))
        families.add_coach(session, other.id, joris.id, NOW)
        session.add_all([
            Absence(staff_id=sanne.id, starts_at=NOW - timedelta(days=1),
                    ends_at=NOW + timedelta(days=3), created_at=NOW),
            Absence(staff_id=sanne.id, starts_at=NOW + timedelta(days=10),
                    ends_at=NOW + timedelta(days=12), created_at=NOW),
            Absence(staff_id=sanne.id, starts_at=NOW - timedelta(days=9),
                    ends_at=NOW - timedelta(days=2), created_at=NOW),  # over: not read
            Absence(staff_id=joris.id, starts_at=NOW, ends_at=NOW + timedelta(days=5),
                    created_at=NOW)])  # another family's coach: not read
    async with db.transaction() as session:
        statements = await recorded(session)
        found = await families.member_and_family(session, 501, NOW)
        assert found is not None
        assert len(statements) == 1
        assert (found.member.first_name, found.family.alias) == ("Marieke", "Gezin Jansen")
        # What this transaction seals for the family uses the key read with it.
        assert found.family.key_id is not None
        assert session.info[sealing.FAMILY_KEYS][found.family.id] == found.family.key_id
        # As staff_around reads them.
        assert found.around == await families.staff_around(session, found.family.id, True,
                                                           NOW)
        assert [s.display_name for s in found.around.coaches] == ["Ahmed", "Sanne"]
        assert [s.display_name for s in found.around.coordinators] == ["Carla"]
        assert [s.display_name for s in found.around.oncall] == ["Dienst"]
        assert sorted((a.ends_at - NOW).days for a in found.around.absences) == [3, 12]

        yasmina = await families.member_and_family(session, 502, NOW)
        assert yasmina is not None  # no on-call agreed
        assert yasmina.around == await families.staff_around(session, other.id, False, NOW)
        assert [s.display_name for s in yasmina.around.coaches] == ["Joris"]
        assert yasmina.around.oncall == []
        assert await families.member_and_family(session, 999, NOW) is None


async def test_a_member_whose_family_has_nobody_around_it_is_found(db: Database) -> None:
    async with db.transaction() as session:
        family = await families.add_family(session, "Gezin Jansen", "NL", "Europe/Amsterdam",
                                           NOW)
        session.add(joined_member(family.id, 501, "Marieke", "moeder", NOW))
    async with db.transaction() as session:
        found = await families.member_and_family(session, 501, NOW)
    assert found is not None and found.member.first_name == "Marieke"
    assert (found.around.coaches, found.around.coordinators, found.around.oncall,
            found.around.absences) == ([], [], [], [])
