"""What the morning job looks at every 30 s, and the coaches it then loads whole
(storage/repos/people.py `coach_schedules`, `coaches_in_chat`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage.db import Database
from storage.repos import people
from tests.caseload import joined_staff

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_only_active_coaches_in_chat_are_looked_at_and_loaded(db: Database) -> None:
    async with db.transaction() as session:
        sanne = joined_staff(701, "Sanne", NOW, coach=True)
        sanne.windows = "ma-do 08:30-16:00"
        sanne.agenda_sent_on = date(2026, 11, 24)
        ahmed = joined_staff(702, "Ahmed", NOW, coach=True)
        gone = joined_staff(703, "Joris", NOW, coach=True)
        gone.active = False
        erased = joined_staff(704, "Fleur", NOW, coach=True)
        erased.chat_id = None
        carla = joined_staff(705, "Carla", NOW, coordinator=True)
        session.add_all([sanne, ahmed, gone, erased, carla])
        await session.flush()
        ids = [s.id for s in (sanne, ahmed, gone, erased, carla)]
    async with db.transaction() as session:
        schedules = await people.coach_schedules(session)
        # A coach who left or was erased between the look and the load is left out.
        loaded = await people.coaches_in_chat(session, ids[::-1])
    assert [tuple(row) for row in schedules] == [
        (ids[0], "ma-do 08:30-16:00", date(2026, 11, 24)),
        (ids[1], ahmed.windows, None)]
    assert [s.display_name for s in loaded] == ["Sanne", "Ahmed"]
