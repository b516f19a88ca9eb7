"""Translator: times written the way each language writes them, the Flemish overlay, plural
forms, and Arabic right-to-left starts."""

from __future__ import annotations

import gettext
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.i18n import (
    FAMILY_LANGUAGES,
    RLM,
    Translator,
    babel_locale,
    rtl_start,
    translator,
)

AMS = ZoneInfo("Europe/Amsterdam")
BRU = ZoneInfo("Europe/Brussels")
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
THURSDAY_2PM = datetime(2026, 11, 26, 14, 0, tzinfo=AMS)


def _po(language: str):  # type: ignore[no-untyped-def]
    from importlib import resources

    with resources.files("locales").joinpath(f"{language}/LC_MESSAGES/gezinslijn.po").open(
            "rb") as handle:
        return read_po(handle, locale=language)


# Times as PRODUCT.md §2.4 writes them --------------------------------------------------------
@pytest.mark.parametrize(("language", "region", "expected"), [
    ("nl", "NL", "morgen (donderdag 26 november) om 14:00"),
    ("nl", "BE", "morgen (donderdag 26 november) om 14u"),
    ("fr", "NL", "demain (jeudi 26 novembre) à 14:00"),
    ("fr", "BE", "demain (jeudi 26 novembre) à 14:00"),
    ("en", "NL", "tomorrow (Thursday 26 November) at 14:00"),
    ("en", "BE", "tomorrow (Thursday 26 November) at 14:00"),
])
def test_when_tomorrow(language: str, region: str, expected: str) -> None:
    tr = translator(language, region)
    assert tr.when(THURSDAY_2PM, WEDNESDAY) == expected


def test_when_further_away_names_the_day() -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=AMS)
    assert translator("nl").when(monday, WEDNESDAY) == "maandag 30 november om 09:00"
    assert translator("en").when(monday, WEDNESDAY) == "Monday 30 November at 09:00"
    assert translator("nl", "BE").when(monday.replace(tzinfo=BRU), WEDNESDAY) == (
        "maandag 30 november om 9u")


def test_flemish_writes_hours_with_u() -> None:
    tr = translator("nl", "BE")
    assert tr.time(time(10, 30)) == "10u30"
    assert tr.time(time(14, 0)) == "14u"
    assert translator("nl", "NL").time(time(10, 30)) == "10:30"


def test_times_are_in_the_family_zone_across_daylight_saving() -> None:
    tr = translator("en", "NL")
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
    assert (tr.time(summer), tr.time(winter)) == ("14:00", "13:00")


DAYS = {
    "nl": "donderdag 26 november",
    "en": "Thursday 26 November",
    "fr": "jeudi 26 novembre",
    "ar": "الخميس 26 نوفمبر",
    "tr": "26 Kasım Perşembe",
    "pl": "czwartek 26 listopada",
    "uk": "четвер 26 листопада",
}
TOMORROW = {
    "nl": "morgen", "en": "tomorrow", "fr": "demain", "ar": "غدًا", "tr": "yarın",
    "pl": "jutro", "uk": "завтра",
}


def test_every_family_language_is_covered() -> None:
    assert set(DAYS) == set(FAMILY_LANGUAGES) == set(TOMORROW)


@pytest.mark.parametrize("language", FAMILY_LANGUAGES)
def test_every_family_language_formats_dates_in_its_own_language(language: str) -> None:
    tr = translator(language)
    assert tr.day(THURSDAY_2PM) == DAYS[language]
    text = tr.when(THURSDAY_2PM, WEDNESDAY)
    assert DAYS[language] in text
    assert TOMORROW[language] in text
    assert "14:00" in text  # 24-hour clock everywhere (Arabic too: letters in NL/BE say 14:00)
    if language != "nl":
        assert "donderdag" not in text and " om " not in text


def test_babel_locales_follow_the_region() -> None:
    assert babel_locale("nl", "BE") == "nl_BE"
    assert babel_locale("en", "NL") == "en_NL"
    assert babel_locale("fr", "NL") == "fr_FR"
    assert babel_locale("fr", "BE") == "fr_BE"
    assert babel_locale("uk", "BE") == "uk"


def test_unknown_language_falls_back_to_dutch() -> None:
    tr = translator("xx")
    assert tr.language == "nl"
    assert tr.gettext("vandaag") == "vandaag"


# Flemish overlay ----------------------------------------------------------------------------------
def test_flemish_overlay_applies_in_belgium_only() -> None:
    source = "Hulp nodig? Dit kun je nu doen:"
    assert translator("nl", "BE").gettext(source) == "Hulp nodig? Dit kan je nu doen:"
    assert translator("nl", "NL").gettext(source) == source
    # French in Belgium is not touched by a Dutch overlay.
    assert translator("fr", "BE").gettext(source) == translator("fr", "NL").gettext(source)


def test_flemish_overlay_falls_back_to_the_source() -> None:
    overlay = {m.id for m in _po("nl_BE") if m.id}
    assert "Bij direct gevaar: bel 112." not in overlay
    assert translator("nl", "BE").gettext("Bij direct gevaar: bel 112.") == (
        "Bij direct gevaar: bel 112.")
    n = 3
    assert translator("nl", "BE").ngettext("{n} bericht", "{n} berichten", n) == "{n} berichten"


def test_every_flemish_entry_is_used_for_belgian_families() -> None:
    tr = translator("nl", "BE")
    for message in _po("nl_BE"):
        if message.id:
            assert tr.gettext(message.id) == message.string


# Plural forms ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "forms"), [("pl", 3), ("ar", 6), ("uk", 3), ("fr", 3),
                                                 ("en", 2), ("tr", 2)])
def test_plural_forms_follow_the_language(language: str, forms: int) -> None:
    catalog = _po(language)
    assert catalog.num_plurals == forms
    choose = gettext.c2py(catalog.plural_expr)
    plurals = [m for m in catalog if m.id and isinstance(m.id, tuple) and all(m.string)]
    assert plurals, f"{language} has no plural messages to check"
    tr = translator(language)
    for message in plurals:
        for n in (0, 1, 2, 3, 5, 11, 21, 22, 25, 100, 101, 102, 111, 1_000_000):
            expected = message.string[choose(n)]
            got = tr.ngettext(message.id[0], message.id[1], n)
            assert got in (expected, RLM + expected), (language, message.id[0], n)


def test_polish_and_arabic_pick_different_words_by_number() -> None:
    polish = translator("pl")
    one, few, many = (polish.ngettext("{n} gezinslid", "{n} gezinsleden", n).format(n=n)
                      for n in (1, 3, 5))
    assert len({one.split()[1], few.split()[1], many.split()[1]}) == 3, (one, few, many)
    assert polish.ngettext("{n} gezinslid", "{n} gezinsleden", 22) == polish.ngettext(
        "{n} gezinslid", "{n} gezinsleden", 3)
    arabic = translator("ar")
    three, eleven = (arabic.ngettext("{n} gezinslid", "{n} gezinsleden", n) for n in (3, 11))
    assert three != eleven


# Arabic right-to-left ----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "marked"), [
    ("{coach} يقرأ رسالتك", True),
    ("Sanne تقرأ رسالتك", True),
    ("12 رسالة", True),
    ("📬 {n} رسائل", True),
    ("/leave للتوقف", True),
    ("🆘 أحتاج مساعدة الآن", True),  # 🆘 (SQUARED SOS) is a strong left-to-right character
    ("مرحبا Sanne", False),
    ("👍 سأحضر", False),
    ("أحتاج مساعدة الآن 🆘", False),
    ("", False),
    ("✓", False),
])
def test_rtl_start_marks_texts_that_would_start_left_to_right(text: str, marked: bool) -> None:
    assert rtl_start(text) == (RLM + text if marked else text)


def test_arabic_texts_start_right_to_left() -> None:
    arabic = translator("ar")
    assert arabic.rtl
    joined = arabic.gettext("{first} en {last}")
    assert joined.startswith(RLM + "{first}")
    assert joined.format(first="Sanne", last="Pieter").startswith(RLM + "Sanne")
    plural = arabic.ngettext("{n} gezinslid", "{n} gezinsleden", 4)
    assert plural.startswith(RLM)
    # Every Arabic message a family can get starts right-to-left once marked.
    for message in _po("ar"):
        if not message.id or isinstance(message.id, tuple):
            continue
        text = arabic.gettext(message.id).format_map(_Blank())
        assert text == "" or _first_strong_is_rtl(text), message.id


def test_other_languages_get_no_marks() -> None:
    for language in ("nl", "en", "fr", "tr", "pl", "uk"):
        tr = translator(language)
        assert not tr.rtl
        assert not tr.gettext("{first} en {last}").startswith(RLM)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "Sanne"


def _first_strong_is_rtl(text: str) -> bool:
    import unicodedata

    for char in text:
        if char == RLM:
            return True
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return True


def test_translator_is_chosen_per_recipient() -> None:
    assert Translator("en", "BE", "Europe/Brussels").gettext("vandaag") == "today"
    assert translator("uk", "BE").zone == "Europe/Brussels"
    assert translator("uk").zone == "Europe/Amsterdam"


# Remembered formatting -----------------------------------------------------------------------
def _babel_as_before(tr: Translator, moment: datetime) -> tuple[str, str, str, str]:
    """What time, day, weekday and date_short gave when each call asked Babel itself."""
    from babel.dates import format_date, format_time

    local = moment.astimezone(ZoneInfo(tr.zone))
    day_pattern = {"tr": "d MMMM EEEE"}.get(tr.language, "EEEE d MMMM")
    if tr.language == "nl" and tr.region == "BE":
        clock = f"{local.hour}u{local.minute:02d}" if local.minute else f"{local.hour}u"
    else:
        clock = format_time(local, "HH:mm" if tr.rtl else "short", locale=tr.locale)
    return (clock, format_date(local.date(), day_pattern, locale=tr.locale),
            format_date(local.date(), "EEEE", locale=tr.locale),
            format_date(local.date(), "d MMMM yyyy", locale=tr.locale))


@pytest.mark.parametrize("language", FAMILY_LANGUAGES)
@pytest.mark.parametrize("region", ["NL", "BE"])
def test_remembered_days_and_times_are_babel_s_own(language: str, region: str) -> None:
    """The same text as asking Babel each time: a day that changes the clocks, every 13
    minutes (with seconds), seen from two zones (the zone decides the day and the hour)."""
    base = datetime(2026, 10, 24, 22, 0, tzinfo=ZoneInfo("UTC"))  # AMS: 25 Oct, clocks back
    moments = [base + timedelta(minutes=m, seconds=m % 7) for m in range(0, 26 * 60, 13)]
    for zone in ("Europe/Amsterdam", "America/Curacao"):
        tr = Translator(language, region, zone)
        for moment in moments:
            assert (tr.time(moment), tr.day(moment), tr.weekday(moment),
                    tr.date_short(moment)) == _babel_as_before(tr, moment), (zone, moment)
    amsterdam, curacao = Translator(language, region), Translator(language, region,
                                                                  "America/Curacao")
    assert amsterdam.time(base) != curacao.time(base)
    assert amsterdam.day(base) != curacao.day(base)


def test_a_coordinator_is_not_told_to_stop_through_their_coordinator() -> None:
    """Found by hand: the first coordinator read "Stoppen kan via je coördinator"."""
    from handlers.texts import staff_explanation

    for language in ("nl", "en", "fr"):
        tr = translator(language)
        coordinator = staff_explanation(tr, "coordinator", 30)
        coach = staff_explanation(tr, "coach", 30)
        assert tr.gettext("Stoppen kan via je coördinator.") in coach
        assert tr.gettext("Stoppen kan via je coördinator.") not in coordinator
        assert tr.gettext("Stoppen kan via de beheerder van Gezinslijn.") in coordinator
