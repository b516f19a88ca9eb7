"""The export a person reads (issue 15, item 8): /mijngegevens in words a worried parent
understands — no "Rol: -" when there is no role, each message named by its kind, media said to
stay in Telegram, and contents removed by the retention period said to be removed, not lost."""

from __future__ import annotations

from datetime import timedelta

from bot.simulator import LocalUser
from tests.e2e.conftest import WEDNESDAY_MORNING, Harness, move_clock

MESSAGES = "Je berichten (we bewaren de inhoud 30 dagen)"
IN_TELEGRAM = "Foto's, spraakberichten en bestanden bewaren we niet zelf. Die staan in Telegram."


async def export_of(harness: Harness, person: LocalUser) -> str:
    start = len(person.inbox())
    person.send_text("/mijngegevens")
    document = await person.wait_for(lambda m: m.kind == "document", after=start)
    assert document.text == "Dit is alles wat Gezinslijn over jou bewaart."
    return harness.api.file_content(document).decode("utf-8")


def section(text: str, title: str) -> list[str]:
    """The lines under `title`, up to the next blank line."""
    assert title in text, text
    return text.split(title + "\n", 1)[1].split("\n\n", 1)[0].splitlines()


async def test_each_message_is_named_and_purged_contents_are_said_to_be_removed(
        harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    marieke.send_text("De huur is te laat betaald")
    marieke.send_photo(caption="de brief van de woningcorporatie")
    marieke.send_voice()
    await sanne.wait_for(lambda m: m.kind == "voice", after=start)
    await harness.api.idle()

    text = await export_of(harness, marieke)
    about = section(text, "Over jou")
    assert "Rol: moeder" in about
    assert section(text, MESSAGES) == [
        IN_TELEGRAM,
        "25 november 2026 10:00 bericht: De huur is te laat betaald",
        "25 november 2026 10:00 foto (staat in Telegram): de brief van de woningcorporatie",
        "25 november 2026 10:00 spraakbericht (staat in Telegram)",
    ]

    # A month on (a Saturday), the retention purge has removed the contents; a new message
    # came since (held for the coach's Monday, and kept as any other).
    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=31))
    marieke.send_text("Het is geregeld")
    await harness.api.idle()

    text = await export_of(harness, marieke)
    assert section(text, MESSAGES) == [
        "25 november 2026 10:00 bericht — inhoud na 30 dagen verwijderd",
        "25 november 2026 10:00 foto — inhoud na 30 dagen verwijderd",
        "25 november 2026 10:00 spraakbericht — inhoud na 30 dagen verwijderd",
        "26 december 2026 10:00 bericht: Het is geregeld",
    ]
    for old in ("De huur is te laat", "woningcorporatie", "inhoud gewist", "🎤", "📷"):
        assert old not in text, old


async def test_no_role_no_role_line(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    ahmed = harness.api.user("Ahmed")
    await harness.join(ahmed, await harness.link_from(sanne, "/uitnodiging Gezin J. | Ahmed"))

    text = await export_of(harness, ahmed)
    about = section(text, "Over jou")
    assert "Naam: Ahmed" in about
    assert not [line for line in about if line.startswith("Rol:")], about
    assert "Rol: -" not in text
    assert section(text, MESSAGES) == ["Geen berichten."]
