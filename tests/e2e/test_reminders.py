"""PRODUCT.md §2.4 end to end on the ManualClock: appointments and agreements, the family's
reminders (when, quiet hours, rustpauze, moved and cancelled appointments), the answers on
their buttons reaching the coach, tampered buttons, and `/agenda ics`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.simulator import ChatMessage, LocalUser
from storage.models import ActionItem, Appointment, FamilyMessage, Outbox, Reminder
from tests.e2e.conftest import AMS, Harness, count_rows, move_clock, since

REMINDER = "⏰ Herinnering"
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=AMS)
DIGEST = "📬 Bewaard buiten je bereikbaarheid"


def _at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A wall-clock moment in Amsterdam, November 2026 unless told otherwise."""
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


async def _step(harness: Harness, moment: datetime) -> None:
    """Move the ManualClock to `moment` and settle; then everything due by then is done: every
    reminder due handled, every outbox row due sent (the database says so)."""
    await move_clock(harness, moment)
    due = await count_rows(harness, Reminder, Reminder.status == "planned",
                           Reminder.due_at <= moment)
    due += await count_rows(harness, FamilyMessage, FamilyMessage.status == "held",
                            FamilyMessage.hold_until <= moment)
    waiting = await count_rows(harness, Outbox, Outbox.status == "pending",
                               Outbox.due_at <= moment)
    assert not due and not waiting, f"still due at {moment}: {due} reminders/held, " \
                                    f"{waiting} sends"


def _reminders(person: LocalUser, start: int = 0, what: str = "") -> list[ChatMessage]:
    return [m for m in since(person, start) if REMINDER in m.text and what in m.text]


async def _plan(harness: Harness, coach: LocalUser, line: str) -> ChatMessage:
    """`/afspraak <line>` and ✅ on the check; returns the check the coach confirmed."""
    start = len(coach.inbox())
    coach.send_text(f"/afspraak {line}")
    check = await coach.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    coach.press("✅ Klopt, opslaan", on=check)
    await coach.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=start)
    await harness.api.idle()
    return check


async def _appointments(harness: Harness) -> list[Appointment]:
    async with harness.runtime.db.transaction() as session:
        return list((await session.scalars(select(Appointment).order_by(Appointment.id))).all())


async def _reminder_rows(harness: Harness) -> list[tuple[str, datetime, str]]:
    async with harness.runtime.db.transaction() as session:
        rows = (await session.scalars(select(Reminder).order_by(Reminder.due_at,
                                                                Reminder.id))).all()
    return [(r.kind, r.due_at.astimezone(AMS), r.status) for r in rows]


async def _tuesday(harness: Harness) -> tuple[LocalUser, LocalUser, LocalUser]:
    await _step(harness, TUESDAY)
    return await harness.onboard()


# Appointments ---------------------------------------------------------------------------------
async def test_the_evening_before_and_two_hours_before_and_nothing_more(
        harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    m_start = len(marieke.inbox())
    check = await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    assert "donderdag 26 november" in check.text and "14:00" in check.text
    notice = await marieke.wait_for(lambda m: "Nieuwe afspraak" in m.text, after=m_start)
    assert "huisbezoek" in notice.text and "14:00" in notice.text

    begin = len(marieke.inbox())
    marieke.send_text("/afspraken")
    listing = await marieke.wait_for(lambda m: "Je afspraken" in m.text, after=begin)
    assert "huisbezoek" in listing.text
    assert "donderdag 26 november" in listing.text and "14:00" in listing.text

    await _step(harness, _at(25, 17, 59))
    assert _reminders(marieke, m_start) == []

    await _step(harness, _at(25, 18, 0))
    first = await marieke.wait_for(lambda m: REMINDER in m.text, after=m_start)
    assert "14:00" in first.text and "huisbezoek" in first.text
    assert "morgen (donderdag 26 november) om 14:00" in first.text  # as the family says it
    assert first.button_texts == ["👍 Ik ben er", "✋ Lukt niet"]
    assert len(_reminders(marieke, m_start)) == 1

    await _step(harness, _at(26, 11, 59))
    assert len(_reminders(marieke, m_start)) == 1
    await _step(harness, _at(26, 12, 0))
    second = await marieke.wait_for(lambda m: REMINDER in m.text and m is not first,
                                    after=m_start)
    assert "vandaag (donderdag 26 november) om 14:00" in second.text
    assert "huisbezoek" in second.text
    assert second.button_texts == ["👍 Ik ben er", "✋ Lukt niet"]

    for later in (_at(26, 13, 59), _at(26, 14, 0), _at(26, 20, 0), _at(28, 12, 0)):
        await _step(harness, later)
    assert len(_reminders(marieke, m_start)) == 2
    assert [status for _, _, status in await _reminder_rows(harness)] == ["sent", "sent"]


async def test_step_by_step_with_buttons_and_typed_answers(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()  # Wednesday 10:00
    start = len(sanne.inbox())
    sanne.send_text("/afspraak")
    which = await sanne.wait_for(lambda m: "Gezin J." in m.button_texts, after=start)
    sanne.press("Gezin J.", on=which)
    when = await sanne.wait_for(lambda m: "Wanneer" in m.text, after=start)
    assert "Gezin J." in when.text and "Bijvoorbeeld" in when.text
    sanne.send_text("morgen 14:00")
    what = await sanne.wait_for(lambda m: "Wat is de afspraak" in m.text, after=start)
    sanne.send_text("huisbezoek")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    assert "huisbezoek" in check.text and "donderdag 26 november" in check.text
    assert check.message_id > what.message_id
    assert await count_rows(harness, Appointment) == 0  # nothing before ✅
    sanne.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=start)
    await harness.api.idle()

    [stored] = await _appointments(harness)
    assert stored.what == "huisbezoek" and stored.place is None
    assert stored.starts_at == datetime(2026, 11, 26, 14, 0, tzinfo=AMS)
    assert [(k, d) for k, d, _ in await _reminder_rows(harness)] == [
        ("evening_before", _at(25, 18)), ("hours_before", _at(26, 12))]
    # The typed answers were steps, not messages for a family.
    assert not any("huisbezoek" in m.text for m in since(sanne, start)
                   if "Gezin J. ·" in m.text)


async def test_cancel_on_the_check_stores_nothing(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/afspraak Gezin J. | morgen 14:00 | huisbezoek")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("Annuleren", on=check)
    await sanne.wait_for(lambda m: "Niet opgeslagen" in m.text, after=start)
    await harness.api.idle()
    assert await count_rows(harness, Appointment) == 0
    assert await count_rows(harness, Reminder) == 0
    assert since(marieke, m_start) == []


async def test_an_unreadable_date_gets_an_example_and_nothing_is_stored(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    _carla, sanne, marieke = await harness.onboard()
    caplog.set_level(logging.WARNING)
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/afspraak Gezin J. | blabla | huisbezoek")
    answer = await sanne.wait_for(lambda m: "Bijvoorbeeld" in m.text, after=start)
    assert "morgen 14:00" in answer.text
    assert "Traceback" not in answer.text and "Error" not in answer.text
    await harness.api.idle()
    assert await count_rows(harness, Appointment) == 0
    assert await count_rows(harness, Reminder) == 0
    assert since(marieke, m_start) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    # The next line is read as the new date; what was already said is kept.
    sanne.send_text("morgen 14:00")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    assert "huisbezoek" in check.text


async def test_can_not_come_within_hours_reaches_the_coach_at_once(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    await _step(harness, _at(25, 18, 0))
    m_start = len(marieke.inbox())
    await _step(harness, _at(26, 12, 0))  # Thursday, inside Mon–Fri 09:00–17:00
    reminder = await marieke.wait_for(lambda m: REMINDER in m.text, after=m_start)

    s_start = len(sanne.inbox())
    marieke.press("✋ Lukt niet", on=reminder)
    told = await sanne.wait_for(lambda m: "Lukt niet" in m.text, after=s_start)
    assert "huisbezoek" in told.text and "Gezin J." in told.text
    thanks = await marieke.wait_for(lambda m: "Dank je" in m.text, after=m_start)
    assert "Sanne" in thanks.text
    await harness.api.idle()
    assert reminder.buttons == []  # answered once
    [appt] = await _appointments(harness)
    assert appt.response == "cannot"

    # The coach answers with reply, as on any family message.
    m_start = len(marieke.inbox())
    sanne.send_text("Geen probleem, ik bel je om een nieuwe dag te kiezen", reply_to=told)
    await marieke.wait_for(lambda m: "nieuwe dag te kiezen" in m.text, after=m_start)


async def test_can_not_come_at_night_reaches_the_coach_at_the_next_opening(
        harness: Harness) -> None:
    carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start = len(marieke.inbox())
    await _step(harness, _at(25, 18, 0))
    reminder = await marieke.wait_for(lambda m: REMINDER in m.text, after=m_start)
    await _step(harness, _at(25, 22, 0))

    s_start, c_start = len(sanne.inbox()), len(carla.inbox())
    marieke.press("✋ Lukt niet", on=reminder)
    await marieke.wait_for(lambda m: "Dank je" in m.text, after=m_start)
    await harness.api.idle()
    assert since(sanne, s_start) == []  # not at 22:00

    await _step(harness, _at(26, 8, 59))
    assert since(sanne, s_start) == []
    await _step(harness, _at(26, 9, 0))
    await sanne.wait_for(lambda m: DIGEST in m.text, after=s_start)
    told = await sanne.wait_for(lambda m: "Lukt niet" in m.text, after=s_start)
    assert "huisbezoek" in told.text
    await harness.api.idle()
    assert sum("Lukt niet" in m.text for m in since(sanne, s_start)) == 1
    assert since(carla, c_start) == []


async def test_no_reminder_in_quiet_hours_one_that_would_falls_there_moves(
        harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    # 00:30: "two hours before" is 22:30. 09:30: "two hours before" is 07:30.
    await _plan(harness, sanne, "Gezin J. | donderdag 00:30 | gesprek met de wijkagent")
    await _plan(harness, sanne, "Gezin J. | donderdag 09:30 | huisbezoek")
    m_start = len(marieke.inbox())

    arrived: list[tuple[datetime, str]] = []
    moment = _at(25, 17, 30)
    while moment <= _at(26, 9, 0):
        before = len(marieke.inbox())
        await _step(harness, moment)
        arrived += [(moment, m.text) for m in _reminders(marieke, before)]
        moment += timedelta(minutes=30)

    for when, text in arrived:
        wall = when.timetz().replace(tzinfo=None)
        assert not (wall >= datetime(2026, 1, 1, 21).time()
                    or wall < datetime(2026, 1, 1, 8).time()), (when, text)
    late = [when for when, text in arrived if "wijkagent" in text]
    early = [when for when, text in arrived if "huisbezoek" in text]
    # 00:30: at 18:00 the evening before; 22:30 moved out of the night (not to 08:00, after
    # the appointment: back to the evening, where the 18:00 one already reminds them).
    assert late and all(_at(25, 17, 59) < when < _at(25, 21, 0) for when in late)
    # 09:30: 18:00 the evening before, and 07:30 moved to 08:00.
    assert early == [_at(25, 18, 0), _at(26, 8, 0)]
    assert len(_reminders(marieke, m_start)) == len(arrived)


async def test_a_reminder_missed_while_down_is_sent_late_only_while_it_helps(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start = len(marieke.inbox())
    caplog.set_level(logging.INFO, logger="bot.jobs.reminders")
    # Nothing ran from Wednesday 17:00 until Thursday 13:00: the evening-before reminder is
    # stale (an hour before is not "the evening before"), the two-hours-before one still helps.
    await _step(harness, _at(25, 17, 0))
    await _step(harness, _at(26, 13, 0))
    [late] = _reminders(marieke, m_start)
    assert "huisbezoek" in late.text and "14:00" in late.text
    assert sorted(s for _, _, s in await _reminder_rows(harness)) == ["dropped", "sent"]
    assert any("dropped" in r.getMessage() for r in caplog.records)
    assert not any("huisbezoek" in r.getMessage() for r in caplog.records)  # no contents


async def test_a_reminder_missed_until_the_night_waits_for_the_morning(
        harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start = len(marieke.inbox())
    await _step(harness, _at(25, 17, 0))
    await _step(harness, _at(25, 22, 0))  # 18:00 was missed; now it is night
    await _step(harness, _at(26, 7, 59))
    assert _reminders(marieke, m_start) == []
    await _step(harness, _at(26, 8, 0))
    assert len(_reminders(marieke, m_start)) == 1
    await _step(harness, _at(26, 12, 0))
    assert len(_reminders(marieke, m_start)) == 2


async def test_a_rustpauze_silences_reminders_and_raises_nothing(harness: Harness) -> None:
    carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start, s_start, c_start = len(marieke.inbox()), len(sanne.inbox()), len(carla.inbox())

    marieke.send_text("/pauze 7")
    await marieke.wait_for(lambda m: "Rustpauze: 7 dagen" in m.text, after=m_start)
    told = await sanne.wait_for(lambda m: "rustpauze" in m.text, after=s_start)
    assert "Gezin J." in told.text and "1 december" in told.text  # until Tuesday week

    for moment in (_at(25, 18, 0), _at(26, 12, 0), _at(26, 15, 0)):
        await _step(harness, moment)
    assert _reminders(marieke, m_start) == []
    assert [s for _, _, s in await _reminder_rows(harness)] == ["dropped", "dropped"]
    # The coach saw the pause once; nothing else went to her or to the coordinator.
    after = [m for m in since(sanne, s_start) if m is not told]
    assert all(m.text.startswith("📋") for m in after), [m.text for m in after]
    assert since(carla, c_start) == []

    start = len(sanne.inbox())
    sanne.send_text("/gezinnen")
    families = await sanne.wait_for(lambda m: "Gezin J." in m.text, after=start)
    assert "rustpauze" in families.text


async def test_pause_off_brings_reminders_back(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start = len(marieke.inbox())
    marieke.send_text("/pauze 7")
    await marieke.wait_for(lambda m: "Rustpauze" in m.text, after=m_start)
    await _step(harness, _at(25, 18, 0))
    assert _reminders(marieke, m_start) == []
    marieke.send_text("/pauze uit")
    await marieke.wait_for(lambda m: "pauze is voorbij" in m.text, after=m_start)
    await _step(harness, _at(26, 12, 0))
    assert len(_reminders(marieke, m_start)) == 1


async def test_a_pause_of_no_or_negative_days_asks_again(harness: Harness) -> None:
    from storage.models import Family

    _carla, sanne, marieke = await _tuesday(harness)
    for words, person in (("/pauze -5", marieke), ("/pauze 0", marieke),
                          ("/pauze een week", marieke), ("/pauze Gezin J. -5", sanne)):
        start = len(person.inbox())
        person.send_text(words)
        await person.wait_for(lambda m: "Hoeveel dagen" in m.text, after=start)
    async with harness.runtime.db.transaction() as session:
        family = await session.scalar(select(Family))
        assert family is not None and family.paused_until is None


async def test_moving_an_appointment_replans_its_reminders(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start, start = len(marieke.inbox()), len(sanne.inbox())

    sanne.send_text("/afspraak Gezin J.")
    listed = await sanne.wait_for(lambda m: "Verplaatsen" in m.button_texts, after=start)
    assert "huisbezoek" in listed.text and "Afzeggen" in listed.button_texts
    sanne.press("Verplaatsen", on=listed)
    await sanne.wait_for(lambda m: "nieuwe moment" in m.text, after=start)
    sanne.send_text("vrijdag 11:00")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    assert "vrijdag 27 november" in check.text and "huisbezoek" in check.text
    sanne.press("✅ Klopt, opslaan", on=check)
    moved = await marieke.wait_for(lambda m: "verplaatst" in m.text, after=m_start)
    assert "vrijdag 27 november" in moved.text and "11:00" in moved.text
    await harness.api.idle()

    [appt] = await _appointments(harness)
    assert appt.starts_at == datetime(2026, 11, 27, 11, 0, tzinfo=AMS)
    rows = await _reminder_rows(harness)
    assert sorted((d, s) for _, d, s in rows) == [
        (_at(25, 18), "cancelled"), (_at(26, 12), "cancelled"),
        (_at(26, 18), "planned"), (_at(27, 9), "planned")]

    for moment in (_at(25, 18, 0), _at(26, 12, 0), _at(26, 17, 59)):
        await _step(harness, moment)
    assert _reminders(marieke, m_start) == []  # nothing at the old times
    await _step(harness, _at(26, 18, 0))
    await _step(harness, _at(27, 9, 0))
    await _step(harness, _at(27, 12, 0))
    sent = _reminders(marieke, m_start)
    assert len(sent) == 2
    assert all("11:00" in m.text and "huisbezoek" in m.text for m in sent)


async def test_cancelling_tells_the_family_and_stops_its_reminders(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start, start = len(marieke.inbox()), len(sanne.inbox())
    sanne.send_text("/afspraak Gezin J.")
    listed = await sanne.wait_for(lambda m: "Afzeggen" in m.button_texts, after=start)
    sanne.press("Afzeggen", on=listed)
    told = await marieke.wait_for(lambda m: "gaat niet door" in m.text, after=m_start)
    assert "huisbezoek" in told.text
    await sanne.wait_for(lambda m: "Afgezegd" in m.text, after=start)
    await harness.api.idle()

    for moment in (_at(25, 18, 0), _at(26, 12, 0), _at(26, 14, 0)):
        await _step(harness, moment)
    assert _reminders(marieke, m_start) == []
    assert [s for _, _, s in await _reminder_rows(harness)] == ["cancelled", "cancelled"]
    begin = len(marieke.inbox())
    marieke.send_text("/afspraken")
    listing = await marieke.wait_for(lambda m: "afspraken" in m.text, after=begin)
    assert "huisbezoek" not in listing.text


# Agreements -----------------------------------------------------------------------------------
async def test_a_weekly_agreement_is_reminded_answered_and_planned_again(
        harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()  # Wednesday 25 November, 10:00
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/actie Gezin J. | elke week | woonbonnen invullen en posten")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    assert "elke week" in check.text
    sanne.press("✅ Klopt, opslaan", on=check)
    await marieke.wait_for(lambda m: "Nieuw actiepunt" in m.text, after=m_start)
    await harness.api.idle()

    # Planned at 10:00 on a Wednesday: today's 09:00 has gone, so the first reminder is a
    # Wednesday 09:00 to come, and none other before it.
    planned = [(k, d) for k, d, s in await _reminder_rows(harness) if s == "planned"]
    assert planned == [("due_day", _at(2, 9, 0, month=12))], planned
    await _step(harness, _at(2, 8, 59, month=12))
    assert not any("woonbonnen" in m.text and m.buttons for m in since(marieke, m_start))
    await _step(harness, _at(2, 9, 0, month=12))
    reminder = await marieke.wait_for(lambda m: "woonbonnen" in m.text and bool(m.buttons),
                                      after=m_start)
    assert reminder.button_texts == ["✓ Gedaan", "Hulp nodig"]
    assert "Lukt het" in reminder.text

    s_start, m_mid = len(sanne.inbox()), len(marieke.inbox())
    marieke.press("✓ Gedaan", on=reminder)
    warm = await marieke.wait_for(lambda m: "Goed gedaan" in m.text, after=m_mid)
    assert "Sanne" in warm.text
    told = await sanne.wait_for(lambda m: "Gedaan" in m.text, after=s_start)
    assert "woonbonnen" in told.text
    await harness.api.idle()

    async with harness.runtime.db.transaction() as session:
        item = await session.scalar(select(ActionItem))
    assert item is not None and item.status == "open"  # weekly: it stays, next week again
    assert [(k, d) for k, d, s in await _reminder_rows(harness) if s == "planned"] == [
        ("due_day", _at(9, 9, 0, month=12))]
    await _step(harness, _at(9, 9, 0, month=12))
    again = await marieke.wait_for(lambda m: "woonbonnen" in m.text and bool(m.buttons),
                                   after=m_mid)
    assert again.button_texts == ["✓ Gedaan", "Hulp nodig"]


async def test_help_needed_on_an_agreement_reaches_the_coach(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/actie Gezin J. | donderdag | woonbonnen invullen")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await harness.api.idle()
    await _step(harness, _at(26, 9, 0))
    reminder = await marieke.wait_for(lambda m: "woonbonnen" in m.text and bool(m.buttons),
                                      after=m_start)
    s_start = len(sanne.inbox())
    marieke.press("Hulp nodig", on=reminder)
    told = await sanne.wait_for(lambda m: "Hulp nodig" in m.text, after=s_start)
    assert "woonbonnen" in told.text
    await marieke.wait_for(lambda m: "hulp" in m.text and not m.buttons, after=m_start)


async def test_a_monthly_agreement_on_the_31st_keeps_its_day(harness: Harness) -> None:
    # Sunday 31 January 2027, before 09:00: the first reminder is today.
    await _step(harness, datetime(2027, 1, 31, 8, 0, tzinfo=AMS))
    _carla, sanne, marieke = await harness.onboard()
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/actie Gezin J. | elke maand | huur betalen")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await marieke.wait_for(lambda m: "Nieuw actiepunt" in m.text, after=m_start)

    days = []
    for month, day in ((1, 31), (2, 27), (2, 28), (3, 28), (3, 30), (3, 31), (4, 30)):
        before = len(marieke.inbox())
        await _step(harness, datetime(2027, month, day, 9, 0, tzinfo=AMS))
        if any("huur betalen" in m.text and m.buttons for m in since(marieke, before)):
            days.append((month, day))
    # 31 January → 28 February (the last day there) → back on the 31st in March, never drifting.
    assert days == [(1, 31), (2, 28), (3, 31), (4, 30)]


# Buttons that were not given to this person ---------------------------------------------------
async def test_forged_and_replayed_reminder_buttons_do_nothing(harness: Harness) -> None:
    _carla, sanne, marieke = await _tuesday(harness)
    ahmed = harness.api.user("Ahmed")
    await harness.join(ahmed, await harness.link_from(
        sanne, "/uitnodiging Gezin J. | Ahmed | vader"))
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    m_start, a_start = len(marieke.inbox()), len(ahmed.inbox())
    await _step(harness, _at(25, 18, 0))
    hers = await marieke.wait_for(lambda m: REMINDER in m.text, after=m_start)
    his = await ahmed.wait_for(lambda m: REMINDER in m.text, after=a_start)
    [appt] = await _appointments(harness)

    s_start, m_next, a_next = len(sanne.inbox()), len(marieke.inbox()), len(ahmed.inbox())
    answers = len(harness.api.callback_answers)
    marieke.press_data(f"rsp|appt|{appt.id}|coming|forged", on=hers)
    marieke.press_data(f"rsp|appt|{appt.id}|cannot", on=hers)
    coming = next(str(b["callback_data"]) for b in hers.buttons if "Ik ben er" in b["text"])
    ahmed.press_data(coming, on=his)  # Marieke's exact button, from Ahmed's chat
    await harness.api.idle()
    await _step(harness, _at(25, 18, 5))

    assert len(harness.api.callback_answers) >= answers + 3  # no spinning buttons
    assert since(sanne, s_start) == []
    assert since(marieke, m_next) == []
    assert since(ahmed, a_next) == []
    assert hers.buttons and his.buttons  # untouched
    [appt] = await _appointments(harness)
    assert appt.response is None

    # Their own buttons still work.
    ahmed.press("👍 Ik ben er", on=his)
    await ahmed.wait_for(lambda m: "Fijn" in m.text, after=a_next)


# /agenda ics ----------------------------------------------------------------------------------
async def test_agenda_ics_sends_a_calendar_file_that_parses(harness: Harness) -> None:
    _carla, sanne, _marieke = await _tuesday(harness)
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek | bij de familie thuis")
    await _plan(harness, sanne, "Gezin J. | vrijdag 10:00 | gesprek met school")
    start = len(sanne.inbox())
    sanne.send_text("/agenda ics")
    document = await sanne.wait_for(lambda m: m.kind == "document", after=start)
    assert str(document.payload["document"].get("file_name", "")).endswith(".ics")
    parsed = Calendar.from_ical(harness.api.file_content(document))
    events = {str(e.get("summary")): e for e in parsed.walk("VEVENT")}
    assert set(events) == {"Gezin J.: huisbezoek", "Gezin J.: gesprek met school"}
    visit = events["Gezin J.: huisbezoek"]
    assert visit.get("dtstart").dt == datetime(2026, 11, 26, 14, 0, tzinfo=AMS)
    assert str(visit.get("location")) == "bij de familie thuis"
    assert events["Gezin J.: gesprek met school"].get("location") is None
    assert "2" in document.text  # "2 afspraken voor je agenda."


@pytest.mark.xfail(strict=True, reason=(
    "✅/Annuleren carry no reference to their check: handlers/router.py on_button calls "
    "appointments.confirm() without arguments for apok/apno, and confirm() acts on whatever "
    "check is pending in the chat now, so ✅ on an older check saves the newer one"))
async def test_confirming_an_older_check_never_saves_a_different_appointment(
        harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    start = len(sanne.inbox())
    sanne.send_text("/afspraak Gezin J. | donderdag 14:00 | huisbezoek")
    older = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.send_text("/afspraak Gezin J. | vrijdag 10:00 | gesprek met school")
    await sanne.wait_for(lambda m: "Klopt dit?" in m.text and m is not older, after=start)
    sanne.press("✅ Klopt, opslaan", on=older)  # the coach reads "huisbezoek" and taps ✅
    await harness.api.idle()
    stored = await _appointments(harness)
    assert all(a.what == "huisbezoek" for a in stored), [a.what for a in stored]
