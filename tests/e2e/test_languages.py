"""PRODUCT.md §3 end to end: the same family journey (join, a reminder, a message out of hours)
in each family language shows that language's text and its way of writing dates.

The dates are written out here by hand, not computed with Babel, so a wrong locale, time zone
or pattern fails; the texts are checked against the catalog and against the Dutch source."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.i18n import FAMILY_LANGUAGES, RLM, translator
from tests.e2e.conftest import AMS, Harness
from tests.e2e.test_reminders import REMINDER, _plan, _step

# The appointment is Thursday 26 November 2026 at 14:00; the reminder comes the evening before.
# A message on Friday 27 November at 22:00 waits for Monday 30 November at 09:00.
DATES = {
    "nl": ("morgen (donderdag 26 november) om 14:00", "maandag 30 november om 09:00"),
    "en": ("tomorrow (Thursday 26 November) at 14:00", "Monday 30 November at 09:00"),
    "fr": ("demain (jeudi 26 novembre) à 14:00", "lundi 30 novembre à 09:00"),
    "ar": ("غدًا (الخميس 26 نوفمبر) الساعة 14:00", "الاثنين 30 نوفمبر الساعة 09:00"),
    "tr": ("yarın (26 Kasım Perşembe) saat 14:00", "30 Kasım Pazartesi saat 09:00"),
    "pl": ("jutro (czwartek 26 listopada) o 14:00", "poniedziałek 30 listopada o 09:00"),
    "uk": ("завтра (четвер 26 листопада) о 14:00", "понеділок 30 листопада о 09:00"),
}
SOURCE_WAIT = "Kan het niet wachten?"
# "My husband hits me, help", as a frightened parent types it in each language.
URGENT = {
    "nl": "mijn man slaat me, help",
    "en": "my husband hits me help",
    "fr": "mon mari me frappe au secours",
    "ar": "زوجي يضربني ساعدوني",
    "tr": "kocam beni dovuyor yardim edin",
    "pl": "maz mnie bije pomocy",
    "uk": "чоловік б'є мене, допоможіть",
}
# Words of the English crisis descriptions that must never show in another language.
# ("violence" and "suicide" are French words too.)
ENGLISH_WORDS = ("abuse", "helpline", "listen", "children", "emergency", "anonymous", "free",
                 "day and night", "open until", "worry", "talk about")


def test_every_family_language_has_its_dates_here() -> None:
    assert set(DATES) == set(FAMILY_LANGUAGES) == set(URGENT)


@pytest.mark.parametrize("language", FAMILY_LANGUAGES)
async def test_the_family_journey_in_each_language(harness: Harness, language: str) -> None:
    tr = translator(language, "NL", "Europe/Amsterdam")
    reminder_day, opening = DATES[language]
    _carla, sanne, marieke = await harness.onboard(language=language)
    # The family's menu is in their language.
    menus = [c for c in harness.api.calls if c.method == "setMyCommands"
             and (c.params.get("scope") or {}).get("chat_id") == marieke.chat_id]
    assert menus, "the family got no menu"
    described = {item["description"] for item in menus[-1].params["commands"]}
    assert tr.gettext("Wanneer is mijn coach bereikbaar?") in described

    start = len(marieke.inbox())
    await _plan(harness, sanne, "Gezin J. | donderdag 14:00 | huisbezoek")
    await _step(harness, datetime(2026, 11, 25, 18, 0, tzinfo=AMS))
    reminder = await marieke.wait_for(lambda m: REMINDER.split()[0] in m.text, after=start)
    assert reminder_day in reminder.text
    assert reminder.button_texts == [tr.gettext("👍 Ik ben er"), tr.gettext("✋ Lukt niet")]

    await _step(harness, datetime(2026, 11, 27, 22, 0, tzinfo=AMS))
    start = len(marieke.inbox())
    marieke.send_text("Het water is afgesloten")
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=start)
    assert opening in answer.text
    assert tr.gettext(SOURCE_WAIT) in answer.text
    if language != "nl":
        assert SOURCE_WAIT not in answer.text  # not the Dutch source left untranslated
    if language == "ar":
        # Telegram sets the direction from the first strong character: Arabic, or RLM first.
        assert answer.text.startswith(RLM) or "\u0600" <= answer.text[0] <= "\u06ff"

    # An urgent message the same night: its own answer, safety first, all in the language.
    start = len(marieke.inbox())
    marieke.send_text(URGENT[language])
    urgent = await marieke.wait_for(lambda m: "0800-2000" in m.text, after=start)
    assert urgent.text != answer.text
    assert urgent.text.index("112") < urgent.text.index(opening)
    assert tr.gettext("Wat je schrijft klinkt ernstig. Goed dat je het laat weten.") in urgent.text
    if language != "en":
        lowered = urgent.text.casefold()
        assert not [word for word in ENGLISH_WORDS if word in lowered], urgent.text
