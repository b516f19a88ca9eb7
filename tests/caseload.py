"""People as onboarding leaves them (consent given, language chosen), for tests that write a
caseload straight into the database instead of taking the chat route."""

from __future__ import annotations

from datetime import date, datetime

from handlers.onboarding import CONSENT_VERSION
from storage.db import Database
from storage.models import Member, Staff
from storage.repos import families

COACH_WINDOWS = "ma-vr 09:00-17:00"  # what a coach agrees to when joining


def joined_staff(chat_id: int, name: str, since: datetime, *, coordinator: bool = False,
              coach: bool = False, agenda_sent_on: date | None = None) -> Staff:
    return Staff(chat_id=chat_id, display_name=name, language="nl",
                 is_coordinator=coordinator, is_coach=coach, active=True, consent_at=since,
                 consent_version=CONSENT_VERSION, windows=COACH_WINDOWS, policy="crisis",
                 created_at=since, agenda_sent_on=agenda_sent_on)


def joined_member(family_id: int, chat_id: int, name: str, role: str, since: datetime,
               language: str = "nl") -> Member:
    return Member(family_id=family_id, chat_id=chat_id, first_name=name, role=role,
                  language=language, consent_at=since, consent_version=CONSENT_VERSION,
                  consent_language=language, created_at=since)


async def family_with_member(db: Database, since: datetime) -> tuple[int, int]:
    """Gezin Jansen with Marieke (chat 501), joined at `since`: their ids."""
    async with db.transaction() as session:
        family = await families.add_family(session, "Gezin Jansen", "NL", "Europe/Amsterdam",
                                           since)
        member = joined_member(family.id, 501, "Marieke", "moeder", since)
        session.add(member)
        await session.flush()
        return family.id, member.id
