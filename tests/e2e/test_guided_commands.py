"""Issue 14, "coaches are guided, never stuck": /afwezig, /contact, /afstemgesprek, /pauze, /duo,
/verplaats and /coachstop given without (all) their arguments ask for the rest one question at
a time, with buttons; every question carries ✖ Annuleren, which leaves nothing saved; the
one-line forms still work. Everything here is done the way a person does it: by typing and by
tapping the buttons the bot sent. The clock is the harness's: Wednesday 25 November 2026, 10:00."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from bot.simulator import ChatMessage, LocalUser
from storage.models import Absence, Family, FamilyCoach, Staff
from tests.e2e.conftest import Harness, add_coach, count_rows, family_named

CANCEL = "✖ Annuleren"
YES = "✅ Klopt, opslaan"
STOPPED = "Gestopt. Er is niets veranderd."
NO_SUBSTITUTE = "Geen vervanger: de coördinator leest mee"


# Doing what a person does ----------------------------------------------------------------------
async def send(person: LocalUser, text: str, expect: str) -> ChatMessage:
    """Type `text`; the bot's answer that contains `expect`."""
    start = len(person.inbox())
    person.send_text(text)
    return await person.wait_for(lambda m: expect in m.text, after=start)


async def tap(person: LocalUser, label: str, on: ChatMessage, expect: str) -> ChatMessage:
    """Tap the button `label` under `on`; the bot's answer that contains `expect`."""
    start = len(person.inbox())
    person.press(label, on=on)
    return await person.wait_for(lambda m: expect in m.text, after=start)


async def pick_family(person: LocalUser, command: str, alias: str, expect: str) -> ChatMessage:
    """A command without a family: the family buttons come (coach.resolve_family); tap one."""
    start = len(person.inbox())
    person.send_text(command)
    asked = await person.wait_for(lambda m: alias in m.button_texts, after=start)
    return await tap(person, alias, asked, expect)


async def cancelled(person: LocalUser, question: ChatMessage) -> None:
    """✖ Annuleren under `question`: stopped, said so, and its buttons are gone."""
    assert CANCEL in question.button_texts, question.button_texts
    await tap(person, CANCEL, question, STOPPED)


def asks(question: ChatMessage, *labels: str) -> None:
    """The question offers these buttons (in this order, among others) and ✖ Annuleren last."""
    buttons = question.button_texts
    assert buttons and buttons[-1] == CANCEL, buttons
    found = [b for b in buttons if b in labels]
    assert found == list(labels), (labels, buttons)


# What was saved ----------------------------------------------------------------------------------
async def family_row(harness: Harness, alias: str = "Gezin J.") -> Family:
    async with harness.runtime.db.transaction() as session:
        found = await family_named(session, alias)
    assert found is not None
    return found


async def coaches_of(harness: Harness, alias: str = "Gezin J.") -> list[str]:
    async with harness.runtime.db.transaction() as session:
        family = await family_named(session, alias)
        rows = await session.scalars(
            select(Staff.display_name).join(FamilyCoach, FamilyCoach.staff_id == Staff.id)
            .where(FamilyCoach.family_id == family.id).order_by(Staff.display_name))
        return list(rows.all())


async def absences(harness: Harness) -> list[tuple[datetime, datetime, int | None]]:
    async with harness.runtime.db.transaction() as session:
        rows = (await session.scalars(select(Absence).order_by(Absence.starts_at))).all()
        return [(r.starts_at, r.ends_at, r.substitute_id) for r in rows]


async def staff_id(harness: Harness, name: str) -> int:
    async with harness.runtime.db.transaction() as session:
        found = await session.scalar(select(Staff.id).where(Staff.display_name == name))
    assert found is not None
    return int(found)


def texts(person: LocalUser, start: int) -> Sequence[str]:
    return [m.text for m in person.inbox()[start:]]


# /afwezig --------------------------------------------------------------------------------------
async def test_afwezig_asks_from_until_and_substitute_then_confirms(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    p_start = len(pieter.inbox())
    first = await send(sanne, "/afwezig", "Vanaf wanneer ben je afwezig?")
    asks(first, "vandaag", "morgen", "vrijdag 27 november")
    assert "⏹ Afwezigheid stoppen" not in first.button_texts  # nothing to stop yet
    until = await tap(sanne, "morgen", first, "Tot en met welke dag?")
    assert "donderdag 26 november" in until.text
    asks(until, "donderdag 26 november", "vrijdag 27 november")
    who = await tap(sanne, "vrijdag 27 november", until, "Wie vervangt je")
    asks(who, "Pieter", NO_SUBSTITUTE)
    assert "Sanne" not in who.button_texts and "Carla" not in who.button_texts
    check = await tap(sanne, "Pieter", who, "Klopt dit?")
    assert "donderdag 26 november tot en met vrijdag 27 november" in check.text
    assert "Vervanger: Pieter" in check.text
    asks(check, YES)
    await harness.api.idle()
    assert await absences(harness) == []  # nothing saved before ✅
    await tap(sanne, YES, check, "Pieter vervangt")
    await pieter.wait_for(lambda m: "Sanne is afwezig" in m.text, after=p_start)
    assert [s for _, _, s in await absences(harness)] == [await staff_id(harness, "Pieter")]

    # Asked again, the absence is shown, and a button ends it.
    again = await send(sanne, "/afwezig", "Vanaf wanneer ben je afwezig?")
    assert "vervanger: Pieter" in again.text
    await tap(sanne, "⏹ Afwezigheid stoppen", again, "Je afwezigheid is gestopt")
    assert await absences(harness) == []


async def test_afwezig_reads_typed_ranges_names_and_the_one_line_form(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()
    await add_coach(harness, carla, "Pieter")
    who = await send(sanne, "/afwezig van 24 december tot 2 januari", "Wie vervangt je")
    assert "donderdag 24 december tot en met zaterdag 2 januari" in who.text
    # An unknown name: said so, and the coaches are offered again.
    again = await send(sanne, "Klaas", "Ik ken geen coach 'Klaas'")
    asks(again, "Pieter", NO_SUBSTITUTE)
    check = await tap(sanne, NO_SUBSTITUTE, again, "Klopt dit?")
    assert "de coördinator leest mee" in check.text
    await send(sanne, "ja", "de coördinator vervangt")
    assert [s for _, _, s in await absences(harness)] == [None]

    # The other ways of writing a range; a typed start alone asks until when.
    for line, first_day in (("28-12 t/m 30-12", "maandag 28 december"),
                            ("4-1 - 6-1", "maandag 4 januari"),
                            ("11/1 to 12/1", "maandag 11 januari")):
        check = await send(sanne, f"/afwezig {line} | Pieter", "Klopt dit?")
        assert first_day in check.text and "Vervanger: Pieter" in check.text
        await tap(sanne, YES, check, "Pieter vervangt")
    await send(sanne, "/afwezig 18-1", "Tot en met welke dag?")
    until = await send(sanne, "17-1", "De laatste dag ligt voor de eerste.")
    assert "Tot en met welke dag?" in until.text and CANCEL in until.button_texts
    who = await send(sanne, "19-1", "Wie vervangt je")
    await cancelled(sanne, who)
    await harness.api.idle()
    assert len(await absences(harness)) == 4
    # Unreadable: said so, and the question comes again.
    wrong = await send(sanne, "/afwezig ; DROP TABLE family; --", "Vanaf wanneer")
    assert "Ik kan die datum niet lezen." in wrong.text and CANCEL in wrong.button_texts


async def test_afwezig_cancel_at_every_step_saves_nothing(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()
    await add_coach(harness, carla, "Pieter")
    taps = [("morgen", "Tot en met welke dag?"), ("vrijdag 27 november", "Wie vervangt je"),
            ("Pieter", "Klopt dit?")]
    for steps in range(len(taps) + 1):
        question = await send(sanne, "/afwezig", "Vanaf wanneer ben je afwezig?")
        for label, expect in taps[:steps]:
            question = await tap(sanne, label, question, expect)
        await cancelled(sanne, question)
    # /annuleren typed in the middle works the same.
    await send(sanne, "/afwezig morgen", "Tot en met welke dag?")
    await send(sanne, "/annuleren", STOPPED)
    await harness.api.idle()
    assert await count_rows(harness, Absence) == 0


# /contact and /afstemgesprek ---------------------------------------------------------------------
async def test_contact_and_afstemgesprek_step_by_step(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    often = await pick_family(sanne, "/contact", "Gezin J.",
                              "Hoe vaak wil je contact met Gezin J.?")
    asks(often, "dagelijks", "wekelijks", "om de twee weken", "maandelijks")
    await tap(sanne, "wekelijks", often, "Afgesproken contact met Gezin J.: wekelijks.")
    assert (await family_row(harness)).contact_frequency == "weekly"

    # Changing an agreed frequency asks first; ✖ leaves it as it was, ✅ changes it.
    for answer in (CANCEL, YES):
        often = await send(sanne, "/contact Gezin J.", "Hoe vaak")
        assert "Nu: wekelijks." in often.text
        check = await tap(sanne, "maandelijks", often, "Klopt dit?")
        assert "van wekelijks naar maandelijks" in check.text
        if answer == CANCEL:
            await cancelled(sanne, check)
            assert (await family_row(harness)).contact_frequency == "weekly"
        else:
            await tap(sanne, YES, check, "Afgesproken contact met Gezin J.: maandelijks.")
    assert (await family_row(harness)).contact_frequency == "monthly"

    often = await pick_family(sanne, "/afstemgesprek", "Gezin K.", "afstemgesprek met Gezin K.")
    asks(often, "nooit", "maandelijks", "elke 3 maanden", "elke 6 maanden")
    await tap(sanne, "elke 3 maanden", often, "Afstemgesprek met Gezin K.: elke 3 maanden.")
    assert (await family_row(harness, "Gezin K.")).review_frequency == "quarterly"
    # A word it does not know: the choices again, not a syntax line.
    often = await send(sanne, "/afstemgesprek Gezin K. | soms", "'soms' ken ik niet")
    await cancelled(sanne, often)
    # The one-line form, and a typed answer to the question.
    await send(sanne, "/contact Gezin K. | om de twee weken", "Gezin K.: om de twee weken.")
    await send(sanne, "/afstemgesprek Gezin J.", "afstemgesprek met Gezin J.")
    await send(sanne, "elke 6 maanden", "Afstemgesprek met Gezin J.: elke 6 maanden.")
    assert (await family_row(harness, "Gezin K.")).contact_frequency == "biweekly"
    assert (await family_row(harness)).review_frequency == "halfyearly"


async def test_contact_cancel_at_every_step_saves_nothing(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    start = len(sanne.inbox())
    sanne.send_text("/contact")
    await sanne.wait_for(lambda m: "Gezin J." in m.button_texts, after=start)
    await send(sanne, "/annuleren", STOPPED)
    often = await pick_family(sanne, "/contact", "Gezin J.", "Hoe vaak")
    await cancelled(sanne, often)
    often = await pick_family(sanne, "/afstemgesprek", "Gezin J.", "Hoe vaak")
    await cancelled(sanne, often)
    family = await family_row(harness)
    assert family.contact_frequency is None and family.review_frequency == "never"


# /pauze ----------------------------------------------------------------------------------------
async def test_pauze_for_a_family_member_choose_days_and_stop_with_a_button(
        harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    s_start = len(sanne.inbox())
    days = await send(marieke, "/pauze", "Hoeveel dagen wil je geen herinneringen?")
    asks(days, "1 dag", "3 dagen", "7 dagen", "14 dagen")
    assert "▶️ Pauze stoppen" not in days.button_texts
    await harness.api.idle()
    assert (await family_row(harness)).paused_until is None  # no 7 days without a choice
    await tap(marieke, "3 dagen", days, "Rustpauze: 3 dagen geen herinneringen.")
    await sanne.wait_for(lambda m: "rustpauze tot zaterdag 28 november" in m.text, after=s_start)
    assert (await family_row(harness)).paused_until is not None

    days = await send(marieke, "/pauze", "Je rustpauze loopt tot zaterdag 28 november.")
    asks(days, "1 dag", "3 dagen", "7 dagen", "14 dagen", "▶️ Pauze stoppen")
    await tap(marieke, "▶️ Pauze stoppen", days, "De pauze is voorbij.")
    assert (await family_row(harness)).paused_until is None

    await cancelled(marieke, await send(marieke, "/pauze", "Hoeveel dagen"))
    assert (await family_row(harness)).paused_until is None
    # The one-line form still works.
    await send(marieke, "/pauze 7", "Rustpauze: 7 dagen")
    await send(marieke, "/pauze uit", "De pauze is voorbij.")


async def test_pauze_for_a_coach_family_first_then_days_or_stop(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    days = await pick_family(sanne, "/pauze", "Gezin J.",
                             "Hoeveel dagen krijgt Gezin J. geen herinneringen?")
    await cancelled(sanne, days)
    assert (await family_row(harness)).paused_until is None
    days = await pick_family(sanne, "/pauze", "Gezin J.", "Hoeveel dagen")
    await tap(sanne, "14 dagen", days, "Rustpauze: 14 dagen")
    assert (await family_row(harness)).paused_until is not None
    days = await send(sanne, "/pauze Gezin J.", "Gezin J. heeft een rustpauze tot")
    await tap(sanne, "▶️ Pauze stoppen", days, "De pauze is voorbij.")
    assert (await family_row(harness)).paused_until is None
    # Typed: the one-line form, and a number typed as the answer.
    await send(sanne, "/pauze Gezin K. 5", "Rustpauze: 5 dagen")
    await send(sanne, "/pauze Gezin J.", "Hoeveel dagen")
    await send(sanne, "2", "Rustpauze: 2 dagen")


# /duo --------------------------------------------------------------------------------------------
async def test_duo_family_then_second_coach_then_confirm(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    pieter = await add_coach(harness, carla, "Pieter")
    await add_coach(harness, carla, "Tom")
    second = await pick_family(sanne, "/duo", "Gezin J.", "Welke coach komt erbij voor Gezin J.?")
    asks(second, "Pieter", "Tom")
    again = await send(sanne, "Klaas", "Ik ken geen coach 'Klaas'")
    asks(again, "Pieter", "Tom")
    check = await tap(sanne, "Pieter", again, "Klopt dit?")
    assert "Pieter wordt ook coach van Gezin J." in check.text
    await cancelled(sanne, check)
    assert await coaches_of(harness) == ["Sanne"]
    await cancelled(sanne, await pick_family(sanne, "/duo", "Gezin J.", "Welke coach"))

    m_start, p_start = len(marieke.inbox()), len(pieter.inbox())
    check = await send(sanne, "/duo Gezin J. | Pieter", "Klopt dit?")  # the one-line form
    await tap(sanne, YES, check, "Pieter is nu ook coach van Gezin J.")
    await pieter.wait_for(lambda m: "samen met Sanne" in m.text, after=p_start)
    await marieke.wait_for(lambda m: "Pieter is nu ook je gezinscoach" in m.text, after=m_start)
    assert await coaches_of(harness) == ["Pieter", "Sanne"]
    # Pieter coaches it already: Tom is the one offered.
    second = await send(sanne, "/duo Gezin J.", "Welke coach komt erbij")
    assert "Pieter" not in second.button_texts and "Tom" in second.button_texts


# /verplaats ------------------------------------------------------------------------------------
async def test_verplaats_family_then_coach_then_confirm_and_the_family_is_told_warmly(
        harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    which = await send(carla, "/verplaats", "Welk gezin gaat naar een andere coach?")
    asks(which, "Gezin J.")
    to = await tap(carla, "Gezin J.", which, "Naar welke coach gaat Gezin J.?")
    assert "Coach van Gezin J. nu: Sanne." in to.text
    asks(to, "Pieter")
    assert "Sanne" not in to.button_texts  # the coach it has already
    to = await send(carla, "Sanne", "Sanne is al coach van Gezin J.")
    to = await send(carla, "Klaas", "Ik ken geen coach 'Klaas'")
    asks(to, "Pieter")
    check = await tap(carla, "Pieter", to, "Klopt dit?")
    assert "Gezin J. gaat van Sanne naar Pieter." in check.text
    await harness.api.idle()
    assert await coaches_of(harness) == ["Sanne"]

    s_start, p_start, m_start = (len(p.inbox()) for p in (sanne, pieter, marieke))
    await tap(carla, YES, check, "Gezin J. heeft nu Pieter als coach.")
    told = await marieke.wait_for(lambda m: "Pieter" in m.text, after=m_start)
    assert told.text.splitlines() == [
        "Je hebt een nieuwe gezinscoach: Pieter.",
        "Sanne draagt jullie over aan Pieter.",
        "Jullie afspraken gaan mee, en je berichten gaan vanaf nu naar Pieter.",
        "Past dit niet goed bij jullie? Zeg het gerust tegen Pieter; dan hoort de coördinator "
        "het."]
    await sanne.wait_for(lambda m: "Gezin J. heeft nu een andere coach: Pieter" in m.text,
                         after=s_start)
    await pieter.wait_for(lambda m: "Je bent nu coach van Gezin J." in m.text, after=p_start)
    assert await coaches_of(harness) == ["Pieter"]
    # The one-line form: one look, then done.
    check = await send(carla, "/verplaats Gezin J. | Sanne", "Klopt dit?")
    await tap(carla, YES, check, "Gezin J. heeft nu Sanne als coach.")
    assert await coaches_of(harness) == ["Sanne"]


async def test_verplaats_cancel_at_every_step_moves_nothing(harness: Harness) -> None:
    carla, _sanne, marieke = await harness.onboard()
    await add_coach(harness, carla, "Pieter")
    m_start = len(marieke.inbox())
    await cancelled(carla, await send(carla, "/verplaats", "Welk gezin"))
    await cancelled(carla, await send(carla, "/verplaats Gezin J.", "Naar welke coach"))
    await cancelled(carla, await send(carla, "/verplaats Gezin J. | Pieter", "Klopt dit?"))
    unknown = await send(carla, "/verplaats Gezin Q. | Pieter", "Ik ken geen gezin 'Gezin Q.'")
    check = await tap(carla, "Gezin J.", unknown, "Klopt dit?")  # Pieter was kept
    await send(carla, "/annuleren", STOPPED)
    await harness.api.idle()
    assert CANCEL in check.button_texts
    assert await coaches_of(harness) == ["Sanne"]
    assert texts(marieke, m_start) == []


# /coachstop ------------------------------------------------------------------------------------
async def test_coachstop_coach_then_who_takes_over_then_confirm(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    await add_coach(harness, carla, "Tom")
    which = await send(carla, "/coachstop", "Welke coach stopt?")
    asks(which, "Pieter", "Sanne", "Tom")
    to = await tap(carla, "Sanne", which, "Sanne heeft nog 1 gezin: Gezin J.")
    assert "Naar welke coach gaat het?" in to.text and "/verplaats" in to.text
    asks(to, "Pieter", "Tom")
    assert "Sanne" not in to.button_texts
    check = await tap(carla, "Pieter", to, "Klopt dit?")
    assert check.text.splitlines()[1:] == ["Sanne stopt als coach in Gezinslijn.",
                                           "Gezin J. gaat naar Pieter.",
                                           "Het gezin krijgt daarover een bericht."]
    await harness.api.idle()
    assert await coaches_of(harness) == ["Sanne"]

    s_start, p_start, m_start = (len(p.inbox()) for p in (sanne, pieter, marieke))
    await tap(carla, YES, check, "Sanne is geen coach meer in Gezinslijn.")
    told = await marieke.wait_for(lambda m: "Pieter" in m.text, after=m_start)
    assert "Sanne draagt jullie over aan Pieter." in told.text
    await pieter.wait_for(lambda m: "Je bent nu coach van Gezin J." in m.text, after=p_start)
    await sanne.wait_for(lambda m: "geen coach meer" in m.text, after=s_start)
    assert await coaches_of(harness) == ["Pieter"]
    async with harness.runtime.db.transaction() as session:
        gone = await session.get(Staff, await staff_id(harness, "Sanne"))
        assert gone is not None and not gone.active

    # A coach without families: the one-line form, one look.
    check = await send(carla, "/coachstop Tom", "Klopt dit?")
    assert "Tom stopt als coach in Gezinslijn." in check.text
    await tap(carla, YES, check, "Tom is geen coach meer in Gezinslijn.")


async def test_coachstop_cancel_at_every_step_changes_nothing(harness: Harness) -> None:
    carla, _sanne, marieke = await harness.onboard()
    await add_coach(harness, carla, "Pieter")
    m_start = len(marieke.inbox())
    await cancelled(carla, await send(carla, "/coachstop", "Welke coach stopt?"))
    await cancelled(carla, await send(carla, "/coachstop Sanne", "Naar welke coach"))
    await cancelled(carla, await send(carla, "/coachstop Sanne | Pieter", "Klopt dit?"))
    unknown = await send(carla, "/coachstop Klaas", "Ik ken geen coach 'Klaas'")
    to = await tap(carla, "Sanne", unknown, "Naar welke coach")
    unknown = await send(carla, "Klaas", "Ik ken geen coach 'Klaas'")
    asks(unknown, "Pieter")
    await send(carla, "/annuleren", STOPPED)
    await harness.api.idle()
    assert to is not unknown
    assert await coaches_of(harness) == ["Sanne"]
    assert texts(marieke, m_start) == []
    async with harness.runtime.db.transaction() as session:
        assert all(s.active for s in (await session.scalars(select(Staff))).all())


async def test_a_quick_choice_after_its_question_ended_does_nothing(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    first = await send(sanne, "/afwezig", "Vanaf wanneer")
    await send(sanne, "/annuleren", STOPPED)
    late = await tap(sanne, "morgen", first, "Die vraag is al voorbij")
    assert late.text.startswith("Die vraag is al voorbij")
    await harness.api.idle()
    assert await count_rows(harness, Absence) == 0
