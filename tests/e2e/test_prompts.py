"""PRODUCT.md §2.5 end to end with the simulated clock: the morning agenda on working days only,
and unanswered messages nudging the coach and later the coordinator — without content."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.e2e.conftest import AMS, Harness, move_clock


async def _tick(harness: Harness, moment: datetime) -> None:
    await move_clock(harness, moment)


def _agendas(person: object, since: int) -> list[str]:
    inbox = person.inbox()  # type: ignore[attr-defined]
    return [m.text for m in inbox[since:] if m.text.startswith("📋")]


async def test_morning_agenda_on_working_days_only_for_two_weeks(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()
    start = date(2026, 12, 21)  # Monday; Christmas (Fri 25, Sat 26) and New Year (Fri 1 Jan)
    got: dict[date, int] = {}
    for offset in range(14):
        day = start + timedelta(days=offset)
        seen = len(sanne.inbox())
        await _tick(harness, datetime.combine(day, datetime.min.time(), AMS).replace(hour=8,
                                                                                   minute=59))
        assert _agendas(sanne, seen) == [], f"an agenda before the window opened on {day}"
        await _tick(harness, datetime.combine(day, datetime.min.time(), AMS).replace(hour=9,
                                                                                   minute=1))
        await _tick(harness, datetime.combine(day, datetime.min.time(), AMS).replace(hour=12))
        got[day] = len(_agendas(sanne, seen))
    expected = {day: 0 if day.weekday() >= 5 or day in (date(2026, 12, 25),
                                                         date(2027, 1, 1)) else 1
                for day in got}
    assert got == expected
    assert not any(m.text.startswith("📋") for m in carla.inbox())  # coordinators get none


async def test_unanswered_message_nudges_coach_then_coordinator(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    await _tick(harness, datetime(2026, 12, 21, 10, 0, tzinfo=AMS))
    secret = "de deurwaarder komt morgen terug"
    marieke.send_text(secret)
    await sanne.wait_for(lambda m: secret in m.text)
    seen_coach, seen_coord = len(sanne.inbox()), len(carla.inbox())
    # Monday 10:00 + 8 working hours (Monday 7, Tuesday 1) = Tuesday 10:00 (window 09-17).
    await _tick(harness, datetime(2026, 12, 22, 9, 55, tzinfo=AMS))
    assert not [m for m in sanne.inbox()[seen_coach:] if "⏳" in m.text]
    await _tick(harness, datetime(2026, 12, 22, 10, 5, tzinfo=AMS))
    nudge = await sanne.wait_for(lambda m: "⏳" in m.text, after=seen_coach, timeout=5)
    assert "Gezin J." in nudge.text and secret not in nudge.text
    assert not [m for m in carla.inbox()[seen_coord:] if "⏳" in m.text]
    # + 24 working hours: Monday 7 + Tuesday 8 + Wednesday 8 = 23 → Thursday 10:00.
    await _tick(harness, datetime(2026, 12, 24, 9, 55, tzinfo=AMS))
    assert not [m for m in carla.inbox()[seen_coord:] if "⏳" in m.text]
    await _tick(harness, datetime(2026, 12, 24, 10, 5, tzinfo=AMS))
    told = await carla.wait_for(lambda m: "⏳" in m.text, after=seen_coord, timeout=5)
    assert "Gezin J." in told.text and secret not in told.text and "Marieke" not in told.text
    # Once each: later ticks add nothing.
    await _tick(harness, datetime(2026, 12, 28, 12, 0, tzinfo=AMS))
    assert len([m for m in carla.inbox()[seen_coord:] if "⏳" in m.text]) == 1
    assert len([m for m in sanne.inbox()[seen_coach:] if "⏳" in m.text]) == 1


async def test_answered_message_raises_nothing(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    await _tick(harness, datetime(2026, 12, 21, 10, 0, tzinfo=AMS))
    marieke.send_text("kun je me bellen?")
    relayed = await sanne.wait_for(lambda m: "bellen" in m.text)
    seen = len(marieke.inbox())
    sanne.send_text("Ja, om 11 uur", reply_to=relayed)
    await marieke.wait_for(lambda m: "om 11 uur" in m.text, after=seen)
    seen_coach = len(sanne.inbox())
    await _tick(harness, datetime(2026, 12, 24, 12, 0, tzinfo=AMS))
    assert not [m for m in sanne.inbox()[seen_coach:] if "⏳" in m.text]
    assert not [m for m in carla.inbox() if "⏳" in m.text]


async def test_coordinator_overview_and_move(harness: Harness) -> None:
    carla, _sanne, marieke = await harness.onboard()
    pieter = harness.api.user("Pieter")
    await harness.join(pieter, await harness.link_from(carla, "/coachuitnodigen"))
    seen = len(carla.inbox())
    carla.send_text("/overzicht")
    overview = await carla.wait_for(lambda m: "Sanne" in m.text, after=seen)
    assert "Gezin J." in overview.text and "Pieter" in overview.text
    seen_family = len(marieke.inbox())
    carla.send_text("/verplaats Gezin J. | Pieter")
    await marieke.wait_for(lambda m: "Pieter" in m.text, after=seen_family)
    seen_pieter = len(pieter.inbox())
    marieke.send_text("hallo nieuwe coach")
    await pieter.wait_for(lambda m: "hallo nieuwe coach" in m.text, after=seen_pieter)


async def test_contact_frequency_shows_in_the_agenda(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    seen = len(sanne.inbox())
    sanne.send_text("/contact Gezin J. | wekelijks")
    await sanne.wait_for(lambda m: "wekelijks" in m.text, after=seen)
    sanne.send_text("/afstemgesprek Gezin J. | maandelijks")
    await sanne.wait_for(lambda m: "maandelijks" in m.text, after=seen)
    await _tick(harness, datetime(2027, 1, 5, 10, 0, tzinfo=AMS))
    seen = len(sanne.inbox())
    sanne.send_text("/agenda")
    agenda = await sanne.wait_for(lambda m: m.text.startswith("📋"), after=seen)
    assert "Gezin J." in agenda.text and "niet gesproken" in agenda.text
    plan = next(b for b in agenda.button_texts if "afstemgesprek" in b)
    sanne.press(plan, on=agenda)
    await sanne.wait_for(lambda m: "Wanneer" in m.text, after=seen)
    sanne.send_text("morgen 10:00")
    check = await sanne.wait_for(lambda m: "Klopt dit" in m.text, after=seen)
    sanne.press("✅ Klopt, opslaan", on=check)
    await marieke.wait_for(lambda m: "afstemgesprek" in m.text)


async def test_coordinator_deactivates_a_coach_only_without_families(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = harness.api.user("Pieter")
    await harness.join(pieter, await harness.link_from(carla, "/coachuitnodigen"))
    seen = len(carla.inbox())
    carla.send_text("/coachstop Sanne")
    refused = await carla.wait_for(lambda m: "Gezin J." in m.text, after=seen)
    assert "/verplaats" in refused.text
    carla.send_text("/verplaats Gezin J. | Pieter")
    await marieke.wait_for(lambda m: "Pieter" in m.text)
    seen_sanne = len(sanne.inbox())
    carla.send_text("/coachstop Sanne")
    await sanne.wait_for(lambda m: "geen coach meer" in m.text, after=seen_sanne)
    seen_sanne = len(sanne.inbox())
    sanne.send_text("/gezinnen")
    answer = await sanne.wait_for(lambda m: True, after=seen_sanne)
    assert "alleen voor gezinnen" in answer.text  # no longer staff: the stranger's answer
