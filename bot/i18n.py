"""Translations and local formatting, chosen per *recipient*.

Source strings are Dutch (the product's first language); the other languages are gettext
catalogs under `locales/`, compiled in memory at start-up from the `.po` files (no compiled
files are kept in the repository). Every date and time shown to a person goes through Babel
in their locale and time zone.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "gezinslijn"
SOURCE_LANGUAGE = "nl"
FAMILY_LANGUAGES = ("nl", "en", "fr", "ar", "tr", "pl", "uk")
STAFF_LANGUAGES = ("nl", "en", "fr")
RTL_LANGUAGES = frozenset({"ar"})
# Regional overlay catalogs: only the strings that differ from the language's own catalog (for
# nl: from the Dutch source). A string missing from an overlay falls back to the language.
OVERLAYS = {("nl", "BE"): "nl_BE"}

# Shown on the language buttons, each in its own language.
LANGUAGE_NAMES = {
    "nl": "🇳🇱 Nederlands",
    "en": "🇬🇧 English",
    "fr": "🇫🇷 Français",
    "ar": "العربية",
    "tr": "🇹🇷 Türkçe",
    "pl": "🇵🇱 Polski",
    "uk": "🇺🇦 Українська",
}

# Telegram sets a message's direction from its first strong character. An Arabic text that
# starts with a Latin name, a number or a placeholder gets a RIGHT-TO-LEFT MARK in front.
RLM = "\u200f"
_STRONG_RTL = frozenset({"R", "AL"})
_LTR_START = frozenset({"L", "EN", "AN"})


def _load(name: str) -> gettext.GNUTranslations | None:
    """`locales/<name>/LC_MESSAGES/gezinslijn.po`, compiled in memory; None when absent."""
    try:
        po = resources.files("locales").joinpath(f"{name}/LC_MESSAGES/{DOMAIN}.po")
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=name)
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def _catalog(language: str, region: str = "NL") -> gettext.NullTranslations:
    """The language's catalog (the source language needs none), under the region's overlay."""
    base: gettext.NullTranslations = gettext.NullTranslations()
    if language != SOURCE_LANGUAGE:
        base = _load(language) or base
    overlay_name = OVERLAYS.get((language, region))
    overlay = _load(overlay_name) if overlay_name else None
    if overlay is None:
        return base
    overlay.add_fallback(base)
    return overlay


def rtl_start(text: str) -> str:
    """Prefix RLM when the first strong character (or a `{placeholder}`) would make the
    message start left-to-right: a Latin name, a number, a command."""
    for char in text:
        if char == "{":
            return RLM + text
        direction = unicodedata.bidirectional(char)
        if direction in _STRONG_RTL:
            return text
        if direction in _LTR_START:
            return RLM + text
    return text


def babel_locale(language: str, region: str = "NL") -> str:
    """The Babel locale for dates: the regional variant where CLDR has one (English as written
    in the Netherlands or Belgium: 24-hour clock, day before month)."""
    if language in ("nl", "en", "fr"):
        country = "BE" if region == "BE" else ("FR" if language == "fr" else "NL")
        return f"{language}_{country}"
    return language


@cache
def _locale(language: str, region: str) -> Locale:
    """Parsed once per language and region: parsing it for every date and time written was
    a third of rendering a morning's 1,000 agendas (py-spy, bench/README.md)."""
    return Locale.parse(babel_locale(language, region))


# Formatted days and clock times, per locale: a morning's 1,000 agendas write the same few
# days and times tens of thousands of times, and Babel works each out from its pattern anew
# (bench/README.md). The texts depend on nothing else: no pattern used here shows a zone.
@lru_cache(maxsize=8192)
def _date_text(language: str, region: str, pattern: str, day: date) -> str:
    return format_date(day, pattern, locale=_locale(language, region))


@lru_cache(maxsize=8192)
def _time_text(language: str, region: str, pattern: str, clock: time) -> str:
    return format_time(clock, pattern, locale=_locale(language, region))


# Day patterns where a language puts the weekday elsewhere ("26 Kasım Perşembe").
_DAY_PATTERNS = {"tr": "d MMMM EEEE"}
_DAY_YEAR_PATTERNS = {"tr": "d MMMM y EEEE"}


@dataclass(frozen=True)
class Translator:
    """Everything needed to speak to one person: language, region and time zone."""

    language: str = SOURCE_LANGUAGE
    region: str = "NL"
    zone: str = "Europe/Amsterdam"
    _tr: gettext.NullTranslations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tr", _catalog(self.language, self.region))

    # Text -------------------------------------------------------------------------------
    def gettext(self, message: str) -> str:
        text = self._tr.gettext(message)
        return rtl_start(text) if self.rtl else text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        text = self._tr.ngettext(singular, plural, n)
        return rtl_start(text) if self.rtl else text

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    # Dates and times -------------------------------------------------------------------
    @property
    def locale(self) -> Locale:
        return _locale(self.language, self.region)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.zone))

    def time(self, moment: datetime | time) -> str:
        value = self.local(moment) if isinstance(moment, datetime) else moment
        if self.language == "nl" and self.region == "BE":
            # Flemish writes 10u30 (and 9u for the full hour).
            return f"{value.hour}u{value.minute:02d}" if value.minute else f"{value.hour}u"
        # Babel's Arabic short time is 12-hour ("2:00 م"); letters, clocks and timetables
        # in NL/BE say 14:00, so the family can match the two.
        pattern = "HH:mm" if self.rtl else "short"
        return _time_text(self.language, self.region, pattern,
                          time(value.hour, value.minute, value.second))

    def weekday(self, moment: datetime | date) -> str:
        return self._date(moment, "EEEE")

    def day(self, moment: datetime | date) -> str:
        """'donderdag 27 november' / 'jeudi 27 novembre'."""
        return self._date(moment, _DAY_PATTERNS.get(self.language, "EEEE d MMMM"))

    def date_short(self, moment: datetime | date) -> str:
        return self._date(moment, "d MMMM yyyy")

    def _date(self, moment: datetime | date, pattern: str) -> str:
        day = self.local(moment).date() if isinstance(moment, datetime) else moment
        return _date_text(self.language, self.region, pattern, day)

    def date_time(self, moment: datetime) -> str:
        return format_datetime(self.local(moment), "medium", tzinfo=ZoneInfo(self.zone),
                               locale=self.locale)

    def relative_day(self, moment: datetime, now: datetime) -> str | None:
        """'vandaag' / 'morgen' / 'overmorgen' in the person's language, or None."""
        delta = (self.local(moment).date() - self.local(now).date()).days
        if delta == 0:
            return self.gettext("vandaag")
        if delta == 1:
            return self.gettext("morgen")
        if delta == 2:
            return self.gettext("overmorgen")
        return None

    def when(self, moment: datetime, now: datetime) -> str:
        """'morgen (donderdag 27 november) om 14:00' — the way PRODUCT.md §2.4 writes times;
        with the year when it is not this year ('vrijdag 8 januari 2027 om 10:00')."""
        day = self.day(moment)
        if self.local(moment).year != self.local(now).year:
            pattern = _DAY_YEAR_PATTERNS.get(self.language, "EEEE d MMMM y")
            day = self._date(moment, pattern)
        relative = self.relative_day(moment, now)
        if relative is None:
            return self.gettext("{day} om {time}").format(day=day, time=self.time(moment))
        return self.gettext("{relative} ({day}) om {time}").format(
            relative=relative, day=day, time=self.time(moment))


def translator(language: str | None, region: str = "NL", zone: str | None = None) -> Translator:
    lang = language if language in FAMILY_LANGUAGES else SOURCE_LANGUAGE
    tz = zone or ("Europe/Brussels" if region == "BE" else "Europe/Amsterdam")
    return Translator(lang or SOURCE_LANGUAGE, region, tz)


def pick_language(telegram_code: str | None, allowed: tuple[str, ...]) -> str:
    """Telegram's language_code as a first guess for the language buttons' order."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in allowed else SOURCE_LANGUAGE


def N_(message: str) -> str:
    return message
