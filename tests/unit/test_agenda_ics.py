"""`/agenda ics` (PRODUCT.md §2.4): the coach's appointments as an iCalendar file that any
calendar program imports — checked by parsing it back with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from handlers.agenda import calendar
from storage.models import Appointment

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _appointment(id_: int, starts_at: datetime, what: str, place: str | None = None
                 ) -> Appointment:
    return Appointment(id=id_, family_id=1, starts_at=starts_at, what=what, place=place,
                       status="planned", created_at=NOW, updated_at=NOW)


def _events(data: bytes) -> list[Any]:
    parsed = Calendar.from_ical(data)
    assert parsed.get("version") == "2.0"
    assert parsed.get("prodid")
    return list(parsed.walk("VEVENT"))


def _instant(value: object) -> datetime:
    """A DTSTART/DTEND value as an aware instant: UTC (`…Z`) or with a zone, never floating."""
    moment = getattr(value, "dt", value)
    assert isinstance(moment, datetime), f"not a date-time: {moment!r}"
    assert moment.tzinfo is not None and moment.utcoffset() is not None, "floating time"
    return moment


def test_one_event_per_appointment_with_start_summary_and_location() -> None:
    visit = _appointment(1, datetime(2026, 11, 26, 13, 0, tzinfo=UTC), "huisbezoek")
    school = _appointment(2, datetime(2026, 11, 27, 8, 30, tzinfo=UTC), "gesprek met school",
                          "Basisschool De Linde")
    data = calendar([(visit, "Gezin J."), (school, "Gezin K.")], NOW)

    events = _events(data)
    assert len(events) == 2
    by_summary = {str(e.get("summary")): e for e in events}
    assert set(by_summary) == {"Gezin J.: huisbezoek", "Gezin K.: gesprek met school"}

    first = by_summary["Gezin J.: huisbezoek"]
    assert _instant(first.get("dtstart")) == datetime(2026, 11, 26, 14, 0, tzinfo=AMS)
    assert _instant(first.get("dtend")) > _instant(first.get("dtstart"))
    assert first.get("location") is None

    second = by_summary["Gezin K.: gesprek met school"]
    assert _instant(second.get("dtstart")) == datetime(2026, 11, 27, 9, 30, tzinfo=AMS)
    assert str(second.get("location")) == "Basisschool De Linde"

    # Every event can be re-imported without duplicates: a stable, distinct UID and a DTSTAMP.
    uids = [str(e.get("uid")) for e in events]
    assert len(set(uids)) == 2 and all(uids)
    assert all(e.get("dtstamp") is not None for e in events)
    again = _events(calendar([(visit, "Gezin J."), (school, "Gezin K.")], NOW + timedelta(1)))
    assert sorted(str(e.get("uid")) for e in again) == sorted(uids)


def test_start_keeps_the_instant_from_a_zone_aware_time_across_dst() -> None:
    # Summer time (UTC+2) and winter time (UTC+1): the wall-clock time must come back right.
    summer = _appointment(3, datetime(2026, 7, 1, 14, 0, tzinfo=AMS), "afstemgesprek")
    winter = _appointment(4, datetime(2026, 12, 1, 14, 0, tzinfo=AMS), "afstemgesprek")
    events = _events(calendar([(summer, "Gezin J."), (winter, "Gezin J.")], NOW))
    starts = sorted(_instant(e.get("dtstart")) for e in events)
    assert starts == [datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
                      datetime(2026, 12, 1, 13, 0, tzinfo=UTC)]


def test_text_with_ical_special_characters_comes_back_unchanged() -> None:
    tricky = _appointment(5, datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
                          "schuldhulp; map meenemen, en de brieven\nvan de bank",
                          "Stadhuis, loket 3; ingang Markt — 2e étage")
    events = _events(calendar([(tricky, "Gezin Ö.")], NOW))
    assert len(events) == 1
    event = events[0]
    assert str(event.get("summary")) == ("Gezin Ö.: schuldhulp; map meenemen, en de brieven\n"
                                         "van de bank")
    assert str(event.get("location")) == "Stadhuis, loket 3; ingang Markt — 2e étage"


def test_no_appointments_is_still_a_valid_calendar() -> None:
    data = calendar([], NOW)
    assert data.startswith(b"BEGIN:VCALENDAR")
    assert _events(data) == []
