"""A family's own crisis service (/crisisdienst) end to end, and a command whose alias matched no
family continuing after the coach taps one (nothing typed is lost)."""

from __future__ import annotations

from datetime import datetime

from storage.models import FamilyService
from tests.e2e.conftest import AMS, Harness, count_rows, move_clock

HAP = "Huisartsenpost Zaanstreek: 088 0030600"
EVENINGS = "ma-vr 17:00-24:00 00:00-08:00; za,zo 00:00-24:00"


async def test_a_local_service_is_shown_only_while_it_is_open(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    m_start = len(marieke.inbox())
    start = len(sanne.inbox())
    sanne.send_text(f"/crisisdienst Gezin J. | Huisartsenpost Zaanstreek | 088 0030600 | "
                    f"{EVENINGS}")
    listing = await sanne.wait_for(lambda m: HAP in m.text, after=start)
    assert "Eigen crisisdiensten van Gezin J.:" in listing.text
    # The family hears of it at once, with 112.
    told = await marieke.wait_for(lambda m: HAP in m.text, after=m_start)
    assert "Sanne heeft een nummer voor je toegevoegd" in told.text and "112" in told.text
    assert await count_rows(harness, FamilyService) == 1

    # Wednesday 10:00: the coach is reachable, the huisartsenpost closed: 🆘 does not show it.
    begin = len(marieke.inbox())
    marieke.send_text("🆘 Nu hulp nodig")
    help_now = await marieke.wait_for(lambda m: "112" in m.text, after=begin)
    assert "088 0030600" not in help_now.text

    # Friday 22:00: out of hours, the huisartsenpost answers now and is named.
    await move_clock(harness, datetime(2026, 11, 27, 22, 0, tzinfo=AMS))
    begin = len(marieke.inbox())
    marieke.send_text("De kleine heeft hoge koorts")
    answer = await marieke.wait_for(lambda m: "is nu niet bereikbaar" in m.text, after=begin)
    local = [line for line in answer.text.split("\n") if "088 0030600" in line]
    # Open from Friday 17:00 without a break until Monday 08:00.
    assert local == ["☎️ Huisartsenpost Zaanstreek 088 0030600 (open tot 08:00)"]
    assert answer.text.index("112") < answer.text.index(local[0])
    begin = len(marieke.inbox())
    marieke.send_text("/bereikbaar")
    reach = await marieke.wait_for(lambda m: "Vaste tijden" in m.text, after=begin)
    assert "088 0030600" in reach.text

    # Removed by name: the family is told, and it is no longer shown.
    start, begin = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("/crisisdienst Gezin J. | weg | huisarts")
    await sanne.wait_for(lambda m: "heeft geen eigen crisisdienst" in m.text, after=start)
    gone = await marieke.wait_for(lambda m: "uit je lijst gehaald" in m.text, after=begin)
    assert "088 0030600" in gone.text
    begin = len(marieke.inbox())
    marieke.send_text("🆘 Nu hulp nodig")
    help_now = await marieke.wait_for(lambda m: "112" in m.text, after=begin)
    assert "088 0030600" not in help_now.text
    assert await count_rows(harness, FamilyService) == 0
    del carla


async def test_bad_numbers_and_hours_are_refused_with_an_example(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    m_start = len(marieke.inbox())
    for bad, problem in (("Dokter | geen nummer", "Geef een naam en een telefoonnummer."),
                         ("Dokter | 088 0030600 | elke nacht", "Die tijden kan ik niet lezen.")):
        start = len(sanne.inbox())
        sanne.send_text(f"/crisisdienst Gezin J. | {bad}")
        refusal = await sanne.wait_for(lambda m, p=problem: p in m.text, after=start)
        assert "/crisisdienst Gezin J. | Huisartsenpost" in refusal.text
    await harness.api.idle()
    assert await count_rows(harness, FamilyService) == 0
    assert len(marieke.inbox()) == m_start  # nothing reached the family


async def test_another_coach_cannot_touch_a_family_that_is_not_theirs(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()
    from tests.e2e.conftest import add_coach

    pieter = await add_coach(harness, carla, "Pieter")
    await harness.link_from(pieter, "/nieuwgezin Gezin P.")
    start = len(pieter.inbox())
    pieter.send_text("/crisisdienst Gezin J. | Dokter | 088 0030600")
    asked = await pieter.wait_for(lambda m: bool(m.buttons), after=start)
    # Only his own family is offered; nothing says whether a "Gezin J." exists.
    assert asked.button_texts == ["Gezin P.", "✖ Annuleren"]
    assert "Gezin J." in asked.text  # it repeats what he typed, nothing more
    await harness.api.idle()
    assert await count_rows(harness, FamilyService) == 0
    del sanne


async def test_tapping_a_family_runs_the_command_with_what_was_typed(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    start = len(sanne.inbox())
    sanne.send_text("/contact Gezin | wekelijks")  # a prefix of both aliases
    asked = await sanne.wait_for(lambda m: "Welk gezin bedoel je?" in m.text, after=start)
    assert sorted(asked.button_texts) == ["Gezin J.", "Gezin K.", "✖ Annuleren"]
    sanne.press("Gezin K.", on=asked)
    done = await sanne.wait_for(lambda m: "Afgesproken contact met Gezin K." in m.text,
                                after=start)
    assert "wekelijks" in done.text

    start = len(sanne.inbox())
    sanne.send_text("/pauze Gezin 3")
    asked = await sanne.wait_for(lambda m: "Welk gezin bedoel je?" in m.text, after=start)
    sanne.press("Gezin J.", on=asked)
    await sanne.wait_for(lambda m: "3 dagen" in m.text, after=start)
