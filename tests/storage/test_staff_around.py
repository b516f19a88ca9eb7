"""Everyone a family message may go to, and their absences, read in one query
(storage/repos/families.py `staff_around`, bot/delivery/recipients.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models import Absence
from storage.repos import families
from tests.caseload import joined_staff
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_coaches_coordinators_oncall_and_their_absences_come_in_one_query(
        db: Database) -> None:
    async with db.transaction() as session:
        family = await families.add_family(session, "Gezin Jansen", "NL", "Europe/Amsterdam",
                                           NOW)
        other = await families.add_family(session, "Gezin Amrani", "NL", "Europe/Amsterdam",
                                          NOW)
        sanne = joined_staff(601, "Sanne", NOW)
        ahmed = joined_staff(602, "Ahmed", NOW)
        elsewhere = joined_staff(603, "Joris", NOW)
        carla = joined_staff(604, "Carla", NOW, coordinator=True)
        duty = joined_staff(605, "Dienst", NOW)
        duty.is_oncall = True
        session.add_all([sanne, ahmed, elsewhere, carla, duty])
        await session.flush()
        # Ahmed joined first: the family's first coach, whatever the ids say.
        families.add_coach(session, family.id, ahmed.id, NOW - timedelta(days=9))
        families.add_coach(session, family.id, sanne.id, NOW - timedelta(days=2))
        families.add_coach(session, other.id, elsewhere.id, NOW)

        def away(who: int, starts: int, ends: int) -> Absence:
            return Absence(staff_id=who, starts_at=NOW + timedelta(days=starts),
                           ends_at=NOW + timedelta(days=ends), created_at=NOW)

        session.add_all([away(sanne.id, -1, 3), away(sanne.id, 10, 12),  # now and later
                         away(sanne.id, -9, -2),  # over: not read
                         away(carla.id, 1, 2), away(elsewhere.id, 0, 5)])
    async with db.transaction() as session:
        statements = await recorded(session)
        around = await families.staff_around(session, family.id, True, NOW)
        plain = await families.staff_around(session, family.id, False, NOW)
    assert len(statements) == 2
    assert [s.display_name for s in around.coaches] == ["Ahmed", "Sanne"]
    assert [s.display_name for s in around.coordinators] == ["Carla"]
    assert [s.display_name for s in around.oncall] == ["Dienst"]
    names = {s.id: s.display_name for s in [*around.coaches, *around.coordinators]}
    ahead = sorted((names[a.staff_id], (a.ends_at - NOW).days) for a in around.absences)
    assert ahead == [("Carla", 2), ("Sanne", 3), ("Sanne", 12)]
    assert plain.oncall == []
    assert [s.display_name for s in plain.coaches] == ["Ahmed", "Sanne"]
