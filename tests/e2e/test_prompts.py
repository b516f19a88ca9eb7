"""PRODUCT.md §2.5 end to end with the simulated clock: the morning agenda on working days only,
and unanswered messages nudging the coach and later the coordinator — without content."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from storage.models import Absence
from tests.e2e.conftest import AMS, Harness, add_coach, count_rows, move_clock


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
    check = await carla.wait_for(lambda m: "Klopt dit?" in m.text, after=seen)
    carla.press("✅ Klopt, opslaan", on=check)  # one look before it moves (issue 14)
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
    # Asked where Gezin J. goes (issue 14); here it is moved on its own first. Each step is
    # looked at once ("Klopt dit?") before it is done.
    seen = len(carla.inbox())
    carla.send_text("/verplaats Gezin J. | Pieter")
    check = await carla.wait_for(lambda m: "Klopt dit?" in m.text, after=seen)
    carla.press("✅ Klopt, opslaan", on=check)
    await marieke.wait_for(lambda m: "Pieter" in m.text)
    seen, seen_sanne = len(carla.inbox()), len(sanne.inbox())
    carla.send_text("/coachstop Sanne")
    check = await carla.wait_for(lambda m: "Klopt dit?" in m.text, after=seen)
    assert "Gezin J." not in check.text  # no family left to hand over
    carla.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: "geen coach meer" in m.text, after=seen_sanne)
    seen_sanne = len(sanne.inbox())
    sanne.send_text("/gezinnen")
    answer = await sanne.wait_for(lambda m: True, after=seen_sanne)
    assert "alleen voor gezinnen" in answer.text  # no longer staff: the stranger's answer


# The person who is there (issue 14) -----------------------------------------------------------
def _nudges(person: object, since: int) -> list[str]:
    inbox = person.inbox()  # type: ignore[attr-defined]
    return [m.text for m in inbox[since:] if m.text.startswith("⏳")]


async def test_during_leave_the_substitute_is_nudged_and_named(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()  # Wednesday 25 November, 10:00
    pieter = await add_coach(harness, carla, "Pieter")
    seen = len(sanne.inbox())
    sanne.send_text("/afwezig 25-11 04-12 | Pieter")
    said = await sanne.wait_for(lambda m: "Pieter vervangt" in m.text or "Klopt" in m.text,
                                after=seen)
    if said.buttons:  # asked to confirm first
        sanne.press(next(b for b in said.button_texts if b.startswith("✅")), on=said)
    await harness.api.idle()
    assert await count_rows(harness, Absence, Absence.substitute_id.is_not(None)) == 1
    p_start = len(pieter.inbox())
    marieke.send_text("Wie kan mij terugbellen?")
    await pieter.wait_for(lambda m: "terugbellen" in m.text, after=p_start)
    s_start, p_start, c_start = len(sanne.inbox()), len(pieter.inbox()), len(carla.inbox())
    # Wednesday 10-17 (7) + Thursday 09-10 (1) = 8 working hours.
    await _tick(harness, datetime(2026, 11, 26, 10, 5, tzinfo=AMS))
    nudge = await pieter.wait_for(lambda m: m.text.startswith("⏳"), after=p_start, timeout=5)
    assert "Gezin J." in nudge.text and "Je vervangt nu Sanne" in nudge.text
    assert "terugbellen" not in nudge.text
    # His morning agenda lists it too: he reads Gezin J.'s messages now.
    agenda = await pieter.wait_for(lambda m: m.text.startswith("📋"), after=p_start)
    assert "• Gezin J.: 1 bericht, wacht sinds woensdag 25 november om 10:00" in agenda.text
    # + Thursday (8) + Friday (8) = 24 working hours: the coordinator hears who reads it.
    await _tick(harness, datetime(2026, 11, 30, 10, 5, tzinfo=AMS))
    told = await carla.wait_for(lambda m: m.text.startswith("⏳"), after=c_start, timeout=5)
    assert "Gezin J." in told.text and "Pieter" in told.text and "Sanne" in told.text
    assert "terugbellen" not in told.text and "Marieke" not in told.text
    assert _nudges(sanne, s_start) == []
    assert len(_nudges(pieter, p_start)) == 1


async def test_an_answer_leaves_a_held_message_waiting(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await _tick(harness, datetime(2026, 11, 25, 16, 50, tzinfo=AMS))
    marieke.send_text("Eerste vraag over de huur")
    first = await sanne.wait_for(lambda m: "Eerste vraag" in m.text)
    await _tick(harness, datetime(2026, 11, 25, 17, 30, tzinfo=AMS))
    m_start = len(marieke.inbox())
    marieke.send_text("Tweede vraag over school")
    await marieke.wait_for(lambda m: "112" in m.text, after=m_start)  # held until 09:00
    sanne.send_text("Ik kijk morgen naar de huur", reply_to=first)
    await marieke.wait_for(lambda m: "Ik kijk morgen" in m.text, after=m_start)
    s_start = len(sanne.inbox())
    await _tick(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    await sanne.wait_for(lambda m: "Tweede vraag" in m.text, after=s_start)
    # Released Thursday 09:00; its 8 working hours end at 17:00, so Friday's opening nudges.
    await _tick(harness, datetime(2026, 11, 27, 9, 5, tzinfo=AMS))
    nudge = await sanne.wait_for(lambda m: m.text.startswith("⏳"), after=s_start, timeout=5)
    assert "(1 bericht," in nudge.text


async def test_the_morning_agenda_lists_what_waits_for_an_answer(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()  # Wednesday 25 November, 10:00
    marieke.send_text("Kun je naar de brief kijken?")
    await sanne.wait_for(lambda m: "naar de brief" in m.text)
    await _tick(harness, datetime(2026, 11, 25, 20, 0, tzinfo=AMS))
    m_start = len(marieke.inbox())
    marieke.send_text("En nog iets voor morgen")
    await marieke.wait_for(lambda m: "112" in m.text, after=m_start)  # held until 09:00
    seen = len(sanne.inbox())
    await _tick(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    agenda = await sanne.wait_for(lambda m: m.text.startswith("📋"), after=seen)
    assert "Niets dat op je wacht" not in agenda.text
    assert "Wachten op je antwoord:" in agenda.text
    assert "• Gezin J.: 2 berichten, wacht sinds woensdag 25 november om 10:00" in agenda.text
    assert "naar de brief" not in agenda.text
    # Answered: the next day's agenda has nothing waiting.
    copy = await sanne.wait_for(lambda m: "nog iets voor morgen" in m.text, after=seen)
    sanne.send_text("Ik bel je vanmiddag", reply_to=copy)
    await marieke.wait_for(lambda m: "vanmiddag" in m.text, after=m_start)
    seen = len(sanne.inbox())
    await _tick(harness, datetime(2026, 11, 27, 9, 0, tzinfo=AMS))
    agenda = await sanne.wait_for(lambda m: m.text.startswith("📋"), after=seen)
    assert "Wachten op je antwoord" not in agenda.text


async def _overview(carla: object) -> str:
    seen = len(carla.inbox())  # type: ignore[attr-defined]
    carla.send_text("/overzicht")  # type: ignore[attr-defined]
    found = await carla.wait_for(  # type: ignore[attr-defined]
        lambda m: m.text.startswith("📊"), after=seen)
    return str(found.text)


async def test_overview_counts_open_requests_for_help(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()  # Wednesday 25 November, 10:00
    assert "hulpvragen 0" in await _overview(carla)
    for _ in range(2):  # asked twice for the same family: one open request
        seen = len(carla.inbox())
        sanne.send_text("/coordinator Gezin J.")
        await carla.wait_for(lambda m: "vraagt je hulp bij Gezin J." in m.text, after=seen)
    assert "hulpvragen 1" in await _overview(carla)
    # The family's "Hulp nodig" on an agreement counts too.
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/actie Gezin J. | morgen | woonbonnen invullen")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await harness.api.idle()
    await _tick(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    reminder = await marieke.wait_for(lambda m: "woonbonnen" in m.text and bool(m.buttons),
                                      after=m_start)
    marieke.press("Hulp nodig", on=reminder)
    await sanne.wait_for(lambda m: "Hulp nodig" in m.text, after=start)
    assert "hulpvragen 2" in await _overview(carla)
    # Two weeks on, neither is counted as open any more.
    await _tick(harness, datetime(2026, 12, 11, 10, 0, tzinfo=AMS))
    assert "hulpvragen 0" in await _overview(carla)
