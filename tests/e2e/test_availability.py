"""PRODUCT.md §2.3 end to end on the ManualClock: held messages and digests, urgent words, the
🆘 button, absences and substitutes, a family's own agreement, public holidays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.simulator import LocalUser
from storage.models import FamilyMessage, Staff
from tests.e2e.conftest import (
    AMS,
    Harness,
    add_coach,
    count_rows,
    move_clock,
    relayed,
    since,
)

DIGEST = "📬 Bewaard buiten je bereikbaarheid"
CLOSED = "is nu niet bereikbaar"


async def _held_until(harness: Harness) -> list[datetime | None]:
    async with harness.runtime.db.transaction() as session:
        rows = (await session.scalars(select(FamilyMessage).where(
            FamilyMessage.status == "held").order_by(FamilyMessage.id))).all()
    return [r.hold_until for r in rows]


def _texts(person: LocalUser, start: int) -> list[str]:
    return [m.text for m in since(person, start)]


async def _away(coach: LocalUser, line: str, done: str) -> None:
    """`/afwezig` in one line: the coach looks once ("Klopt dit?"), taps ✅ and it is saved
    (issue 14: nothing is saved before that)."""
    start = len(coach.inbox())
    coach.send_text(line)
    check = await coach.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    coach.press("✅ Klopt, opslaan", on=check)
    await coach.wait_for(lambda m: done in m.text, after=start)


async def test_friday_night_message_is_held_until_monday_morning(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2026, 11, 27, 22, 0, tzinfo=AMS))
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Er kwam vandaag een deurwaarder aan de deur")
    answer = await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    assert "112" in answer.text
    assert "maandag 30 november om 09:00" in answer.text
    assert "113 Zelfmoordpreventie" in answer.text  # a crisis line that answers now
    assert "0800-0432" not in answer.text  # De Kindertelefoon is closed at 22:00
    await harness.api.idle()
    assert relayed(sanne, s_start) == []
    assert await _held_until(harness) == [datetime(2026, 11, 30, 9, 0, tzinfo=AMS)]

    await move_clock(harness, datetime(2026, 11, 30, 8, 59, tzinfo=AMS))
    assert relayed(sanne, s_start) == []

    await move_clock(harness, datetime(2026, 11, 30, 9, 0, tzinfo=AMS))
    digest = await sanne.wait_for(lambda m: DIGEST in m.text, after=s_start)
    assert digest.text == f"{DIGEST}: 1 bericht van Gezin J."  # one full stop after "J."
    copy = await sanne.wait_for(lambda m: "deurwaarder" in m.text, after=s_start)
    assert copy.text == ("Gezin J. · Marieke (moeder) · 22:00\n"
                         "Er kwam vandaag een deurwaarder aan de deur")
    assert sanne.inbox().index(digest) < sanne.inbox().index(copy)
    assert await count_rows(harness, FamilyMessage, FamilyMessage.status == "held") == 0

    m_start = len(marieke.inbox())
    sanne.send_text("Goed dat je het zegt, ik bel je vanmiddag", reply_to=copy)
    await marieke.wait_for(lambda m: m.text == "Sanne\nGoed dat je het zegt, ik bel je "
                           "vanmiddag", after=m_start)
    # Released once: a later wake-up sends no second digest.
    await move_clock(harness, datetime(2026, 11, 30, 9, 5, tzinfo=AMS))
    assert sum(DIGEST in t for t in _texts(sanne, s_start)) == 1


async def test_a_burst_at_night_gets_one_answer_then_reactions(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2026, 11, 26, 23, 30, tzinfo=AMS))
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sent = [marieke.send_text(f"nachtbericht {n}") for n in range(5)]
    await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    await harness.api.idle()

    assert sum(CLOSED in t for t in _texts(marieke, m_start)) == 1
    assert len(since(marieke, m_start)) == 1
    reacted = {r["message_id"] for r in harness.api.reactions
               if r["chat_id"] == marieke.chat_id}
    assert reacted == {m.message_id for m in sent[1:]}
    assert relayed(sanne, s_start) == []

    await move_clock(harness, datetime(2026, 11, 27, 9, 0, tzinfo=AMS))
    digest = await sanne.wait_for(lambda m: DIGEST in m.text, after=s_start)
    assert "5 berichten van Gezin J." in digest.text
    await harness.api.idle()
    bodies = [t.rsplit("\n", 1)[-1] for t in _texts(sanne, s_start) if "nachtbericht" in t]
    assert bodies == [f"nachtbericht {n}" for n in range(5)]  # in order, each once


async def test_urgent_words_at_night_get_crisis_numbers_at_once(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2026, 11, 26, 2, 0, tzinfo=AMS))
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Ik kan niet slapen")
    await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    await harness.api.idle()

    await move_clock(harness, datetime(2026, 11, 26, 3, 0, tzinfo=AMS))
    for words, line in (("ik wil niet meer leven", "113 Zelfmoordpreventie"),
                        ("hij slaat me", "Veilig Thuis 0800-2000")):
        begin = len(marieke.inbox())
        marieke.send_text(words)
        # Already told about this night, but an urgent message is answered again, at once.
        answer = await marieke.wait_for(lambda m: "112" in m.text, after=begin)
        assert line in answer.text
    await harness.api.idle()
    assert relayed(sanne, s_start) == []  # the coach's boundary stands: held for her window

    await move_clock(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    digest = await sanne.wait_for(lambda m: DIGEST in m.text, after=s_start)
    assert "3 berichten" in digest.text and "🆘" in digest.text
    await harness.api.idle()
    copies = [m.text for m in relayed(sanne, s_start) if "Gezin J. ·" in m.text]
    # Urgent first, marked 🆘, in the order written; then the routine one.
    assert [c.split("\n")[0] for c in copies] == [
        "🆘 Gezin J. · Marieke (moeder) · 03:00", "🆘 Gezin J. · Marieke (moeder) · 03:00",
        "Gezin J. · Marieke (moeder) · 02:00"]
    assert [c.rsplit("\n", 1)[-1] for c in copies] == [
        "ik wil niet meer leven", "hij slaat me", "Ik kan niet slapen"]


async def test_the_help_button_works_at_any_hour_and_is_not_relayed(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    s_start = len(sanne.inbox())
    for moment in (datetime(2026, 11, 25, 10, 0, tzinfo=AMS),
                   datetime(2026, 11, 26, 3, 0, tzinfo=AMS)):
        await move_clock(harness, moment)
        begin = len(marieke.inbox())
        marieke.press("🆘 Nu hulp nodig")
        answer = await marieke.wait_for(lambda m: "112" in m.text, after=begin)
        assert "113 Zelfmoordpreventie" in answer.text and "0800-2000" in answer.text
    await harness.api.idle()
    assert relayed(sanne, s_start) == []
    assert await count_rows(harness, FamilyMessage) == 0
    await move_clock(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    assert relayed(sanne, s_start) == []


async def test_absence_with_a_substitute(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    p_start = len(pieter.inbox())
    await _away(sanne, "/afwezig 25-11 27-11 | Pieter", "Pieter vervangt")
    notice = await pieter.wait_for(lambda m: "Sanne is afwezig" in m.text, after=p_start)
    assert notice.text.endswith("Jij vervangt voor: Gezin J.")

    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Is er iemand die mij kan bellen?")
    copy = await pieter.wait_for(lambda m: "mij kan bellen" in m.text, after=p_start)
    assert copy.text.startswith("Gezin J. · Marieke (moeder) · 10:00\n")
    told = await marieke.wait_for(lambda m: "Pieter" in m.text, after=m_start)
    assert "Sanne is er nu niet" in told.text and "Pieter vervangt" in told.text

    pieter.send_text("Ik bel je om 14:00", reply_to=copy)
    await marieke.wait_for(lambda m: m.text == "Pieter\nIk bel je om 14:00", after=m_start)
    await harness.api.idle()
    assert relayed(sanne, s_start) == []
    # His caseload says for whom he stands in (he has no families of his own).
    begin = len(pieter.inbox())
    pieter.send_text("/gezinnen")
    listing = await pieter.wait_for(lambda m: bool(m.text), after=begin)
    assert listing.text == "Je vervangt nu voor: Gezin J."

    # After the absence Pieter is no longer allowed to answer for Gezin J.
    await move_clock(harness, datetime(2026, 11, 30, 10, 0, tzinfo=AMS))
    m_start, p_start = len(marieke.inbox()), len(pieter.inbox())
    pieter.send_text("Nog een laatste vraag", reply_to=copy)
    refusal = await pieter.wait_for(lambda m: bool(m.text), after=p_start)
    assert "hoort niet (meer) bij jou" in refusal.text
    # And the family's messages reach Sanne again, not Pieter.
    marieke.send_text("Sanne, ben je terug?")
    await sanne.wait_for(lambda m: "ben je terug" in m.text, after=s_start)
    await harness.api.idle()
    assert not any("laatste vraag" in t for t in _texts(marieke, m_start))
    assert not any("ben je terug" in t for t in _texts(pieter, p_start))
    begin = len(pieter.inbox())
    pieter.send_text("/gezinnen")
    listing = await pieter.wait_for(lambda m: bool(m.text), after=begin)
    assert "Gezin J." not in listing.text


async def test_absence_without_substitute_goes_to_the_coordinator(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    c_start = len(carla.inbox())
    start = len(sanne.inbox())
    sanne.send_text("/afwezig 25-11 27-11")  # no name: who stands in is asked (issue 14)
    who = await sanne.wait_for(lambda m: "Wie vervangt je" in m.text, after=start)
    sanne.press("Geen vervanger: de coördinator leest mee", on=who)
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    sanne.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: "de coördinator vervangt" in m.text, after=start)
    await carla.wait_for(lambda m: "Sanne is afwezig" in m.text, after=c_start)

    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Wie leest dit nu?")
    copy = await carla.wait_for(lambda m: "Wie leest dit nu?" in m.text, after=c_start)
    assert copy.text.startswith("Gezin J. · Marieke (moeder) · 10:00\n")
    told = await marieke.wait_for(lambda m: "vervangt" in m.text, after=m_start)
    assert "Carla" in told.text

    carla.send_text("Ik, Carla, de coördinator. Ik bel je.", reply_to=copy)
    await marieke.wait_for(lambda m: m.text == "Carla\nIk, Carla, de coördinator. Ik bel je.",
                           after=m_start)
    await harness.api.idle()
    assert relayed(sanne, s_start) == []


async def test_a_family_agreement_changes_when_messages_are_held(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/bereikbaarheid Gezin J. | ma,di,do 08:30-16:30 | crisis")
    await sanne.wait_for(lambda m: "Bereikbaarheid voor Gezin J." in m.text, after=s_start)
    told = await marieke.wait_for(lambda m: "De tijden van Sanne zijn veranderd" in m.text,
                                  after=m_start)
    assert "08:30" in told.text and "16:30" in told.text

    # Wednesday 10:00 is outside the new agreement: held until Thursday 08:30.
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Kan de afspraak van vrijdag verzet worden?")
    answer = await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    assert "morgen (donderdag 26 november) om 08:30" in answer.text and "112" in answer.text
    assert await _held_until(harness) == [datetime(2026, 11, 26, 8, 30, tzinfo=AMS)]

    begin = len(marieke.inbox())
    marieke.send_text("/bereikbaar")
    shown = await marieke.wait_for(lambda m: "Vaste tijden" in m.text, after=begin)
    assert "08:30" in shown.text and "16:30" in shown.text and "112" in shown.text
    assert CLOSED in shown.text and "morgen" in shown.text

    await move_clock(harness, datetime(2026, 11, 26, 8, 29, tzinfo=AMS))
    assert relayed(sanne, s_start) == []
    await move_clock(harness, datetime(2026, 11, 26, 8, 30, tzinfo=AMS))
    await sanne.wait_for(lambda m: DIGEST in m.text, after=s_start)
    await sanne.wait_for(lambda m: "afspraak van vrijdag" in m.text, after=s_start)


async def test_bereikbaar_in_hours(harness: Harness) -> None:
    _carla, _sanne, marieke = await harness.onboard()
    begin = len(marieke.inbox())
    marieke.send_text("/availability")
    shown = await marieke.wait_for(lambda m: "Vaste tijden" in m.text, after=begin)
    assert "Sanne is nu bereikbaar" in shown.text
    assert "09:00" in shown.text and "17:00" in shown.text and "112" in shown.text
    assert "Niet op feestdagen" in shown.text


async def test_kings_day_is_held_until_the_next_working_day(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2027, 4, 27, 10, 0, tzinfo=AMS))  # Koningsdag, a Tuesday
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Fijne Koningsdag! Vraagje over de toeslag")
    answer = await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    assert "morgen (woensdag 28 april) om 09:00" in answer.text and "112" in answer.text
    assert await _held_until(harness) == [datetime(2027, 4, 28, 9, 0, tzinfo=AMS)]
    await harness.api.idle()
    assert relayed(sanne, s_start) == []

    await move_clock(harness, datetime(2027, 4, 28, 9, 0, tzinfo=AMS))
    copy = await sanne.wait_for(lambda m: "toeslag" in m.text, after=s_start)
    assert copy.text.startswith("Gezin J. · Marieke (moeder) · 10:00\n")


async def test_held_during_an_absence_the_family_hears_who_will_read_it(
        harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    await _away(sanne, "/afwezig 25-11 27-11 | Pieter", "Pieter vervangt")
    await move_clock(harness, datetime(2026, 11, 25, 22, 0, tzinfo=AMS))
    s_start, p_start, m_start = len(sanne.inbox()), len(pieter.inbox()), len(marieke.inbox())
    marieke.send_text("Vraag voor morgen over de huur")
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    # Pieter will read it at 09:00 (Sanne is still away then): the family is told so.
    assert "Pieter vervangt en leest het morgen (donderdag 26 november) om 09:00" in answer.text

    await move_clock(harness, datetime(2026, 11, 26, 9, 0, tzinfo=AMS))
    digest = await pieter.wait_for(lambda m: DIGEST in m.text, after=p_start)
    assert "Je vervangt nu Sanne" in digest.text
    copy = await pieter.wait_for(lambda m: "over de huur" in m.text, after=p_start)
    pieter.send_text("Ik bel je vanochtend", reply_to=copy)
    await marieke.wait_for(lambda m: m.text == "Pieter\nIk bel je vanochtend", after=m_start)
    await harness.api.idle()
    assert relayed(sanne, s_start) == []


async def test_held_past_the_absence_the_family_hears_the_coach_is_back(
        harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    await _away(sanne, "/afwezig 25-11 27-11 | Pieter", "Pieter vervangt")
    await move_clock(harness, datetime(2026, 11, 27, 22, 0, tzinfo=AMS))
    s_start, p_start, m_start = len(sanne.inbox()), len(pieter.inbox()), len(marieke.inbox())
    marieke.send_text("Vraag voor maandag")
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    assert "Sanne leest het maandag 30 november om 09:00" in answer.text
    assert "Pieter" not in answer.text

    await move_clock(harness, datetime(2026, 11, 30, 9, 0, tzinfo=AMS))
    await sanne.wait_for(lambda m: "Vraag voor maandag" in m.text, after=s_start)
    await harness.api.idle()
    assert relayed(pieter, p_start) == []


async def test_urgent_words_in_hours_reach_the_coach_flagged(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Help, hij slaat me")
    copy = await sanne.wait_for(lambda m: "slaat me" in m.text, after=s_start)
    assert copy.text == "🆘 Gezin J. · Marieke (moeder) · 10:00\nHelp, hij slaat me"
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    assert "0800-2000" in answer.text
    # Where it went is said once the copy reached Sanne, after the crisis lines.
    receipt = await marieke.wait_for(lambda m: "Doorgestuurd" in m.text, after=m_start)
    assert receipt.text == "Doorgestuurd naar Sanne ✓"
    assert receipt.message_id > answer.message_id
    await harness.api.idle()
    assert sum("Doorgestuurd" in t for t in _texts(marieke, m_start)) == 1


async def test_held_messages_follow_a_changed_agreement(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2026, 11, 27, 22, 0, tzinfo=AMS))
    s_start = len(sanne.inbox())
    marieke.send_text("Weekendvraag")
    await marieke.wait_for(lambda m: "maandag 30 november om 09:00" in m.text)
    assert await _held_until(harness) == [datetime(2026, 11, 30, 9, 0, tzinfo=AMS)]

    sanne.send_text("/bereikbaarheid Gezin J. | ma,di,do 08:30-16:30")
    await sanne.wait_for(lambda m: "Bereikbaarheid voor Gezin J." in m.text, after=s_start)
    await harness.api.idle()
    assert await _held_until(harness) == [datetime(2026, 11, 30, 8, 30, tzinfo=AMS)]
    s_start = len(sanne.inbox())
    await move_clock(harness, datetime(2026, 11, 30, 8, 30, tzinfo=AMS))
    await sanne.wait_for(lambda m: "Weekendvraag" in m.text, after=s_start)


async def test_an_urgent_message_on_saturday_night_gets_its_own_answer(harness: Harness) -> None:
    """The issue's case: Saturday 22:30, "Mijn man slaat me, help". Safety first: 112 before
    any word about when the coach reads it, Veilig Thuis with its number; not the routine
    held answer."""
    _carla, sanne, marieke = await harness.onboard()
    await move_clock(harness, datetime(2026, 11, 28, 22, 30, tzinfo=AMS))
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("De brief van de gemeente is er")
    routine = await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    m_start = len(marieke.inbox())
    marieke.send_text("Mijn man slaat me, help")
    urgent = await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    text = urgent.text
    assert text != routine.text
    assert text.startswith("Wat je schrijft klinkt ernstig.")
    assert text.index("112") < text.index("leest het") < len(text)
    assert text.index("Veilig Thuis 0800-2000") < text.index("leest het")
    assert "overmorgen (maandag 30 november) om 09:00" in text
    assert routine.text.index("leest het") < routine.text.index("112")  # routine: when first
    await harness.api.idle()
    assert relayed(sanne, s_start) == []  # held: the coach did not choose "urgent at any hour"


async def test_urgent_at_any_hour_reaches_the_coach_at_once(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    sanne.send_text("/bereikbaarheid Gezin J. | spoed altijd")
    answer = await sanne.wait_for(lambda m: "Bereikbaarheid voor Gezin J." in m.text)
    assert "spoed: meteen bij de coach, ook buiten de tijden" in answer.text
    await move_clock(harness, datetime(2026, 11, 28, 22, 30, tzinfo=AMS))
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Gewoon een vraag over de brief")  # routine: still held
    await marieke.wait_for(lambda m: CLOSED in m.text, after=m_start)
    m_start = len(marieke.inbox())
    marieke.send_text("Hij heeft een mes, help")
    copy = await sanne.wait_for(lambda m: "mes" in m.text, after=s_start)
    assert copy.text == "🆘 Gezin J. · Marieke (moeder) · 22:30\nHij heeft een mes, help"
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=m_start)
    receipt = await marieke.wait_for(lambda m: "Doorgestuurd naar Sanne ✓" in m.text,
                                     after=m_start)
    assert answer.message_id < receipt.message_id
    await harness.api.idle()
    assert not any("brief" in t for t in _texts(sanne, s_start))


async def test_a_coordinator_who_asked_hears_of_urgent_held_messages(harness: Harness) -> None:
    carla, _sanne, marieke = await harness.onboard()
    carla.send_text("/spoedmelding")
    ask = await carla.wait_for(lambda m: "melding" in m.text)
    carla.press("✅ Wel een melding", ask)
    await carla.wait_for(lambda m: m.text.startswith("Goed. Bij een spoedbericht"))
    await move_clock(harness, datetime(2026, 11, 28, 22, 30, tzinfo=AMS))
    c_start = len(carla.inbox())
    marieke.send_text("Vraag over de afspraak")  # routine: no alert
    marieke.send_text("ik wil niet meer leven")
    alert = await carla.wait_for(lambda m: m.text.startswith("🆘 Gezin J."), after=c_start)
    assert alert.text == ("🆘 Gezin J. stuurde om 22:30 een bericht met een teken van nood.\n"
                          "Het wacht op Sanne tot overmorgen (maandag 30 november) om 09:00. "
                          "De inhoud zie je niet.")
    await harness.api.idle()
    texts = _texts(carla, c_start)
    assert len([t for t in texts if "Gezin J." in t]) == 1
    assert not any("leven" in t or "afspraak" in t for t in texts)


async def test_only_a_coordinator_can_switch_urgent_alerts(harness: Harness) -> None:
    """A coach or a family member pressing a (validly signed) urgent-alerts button: nothing."""
    _carla, sanne, marieke = await harness.onboard()
    sign = harness.runtime.services.signer.sign
    starts = {person: len(person.inbox()) for person in (sanne, marieke)}
    for person in (sanne, marieke):
        person.press_data(sign(person.chat_id, "urgalert", "on"), on=person.inbox()[-1])
    await harness.settle()
    assert await count_rows(harness, Staff, Staff.urgent_alerts.is_(True)) == 0
    for person, start in starts.items():
        assert not [t for t in _texts(person, start) if "melding" in t]
