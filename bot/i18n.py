"""Translations and local formatting, chosen per *recipient*.

Source strings are Dutch (the product's first language); the other languages are gettext
catalogs under `locales/`, compiled in memory at start-up from the `.po` files (no compiled
files are kept in the repository). Every date and time shown to a person goes through Babel
in their locale and time zone.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
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

# Unicode isolation marks keep Latin names and numbers in place inside Arabic text.
RLM = "\u200f"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    try:
        po = resources.files("locales").joinpath(f"{language}/LC_MESSAGES/{DOMAIN}.po")
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    except (FileNotFoundError, ModuleNotFoundError):
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def babel_locale(language: str, region: str = "NL") -> str:
    if language == "nl":
        return "nl_BE" if region == "BE" else "nl_NL"
    if language == "fr":
        return "fr_BE" if region == "BE" else "fr_FR"
    return language


@dataclass(frozen=True)
class Translator:
    """Everything needed to speak to one person: language, region and time zone."""

    language: str = SOURCE_LANGUAGE
    region: str = "NL"
    zone: str = "Europe/Amsterdam"
    _tr: gettext.NullTranslations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tr", _catalog(self.language))

    # Text -------------------------------------------------------------------------------
    def gettext(self, message: str) -> str:
        return self._tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._tr.ngettext(singular, plural, n)

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    # Dates and times -------------------------------------------------------------------
    @property
    def locale(self) -> Locale:
        return Locale.parse(babel_locale(self.language, self.region))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.zone))

    def time(self, moment: datetime | time) -> str:
        value = self.local(moment) if isinstance(moment, datetime) else moment
        if self.language == "nl" and self.region == "BE":
            # Flemish writes 10u30 (and 9u for the full hour).
            return f"{value.hour}u{value.minute:02d}" if value.minute else f"{value.hour}u"
        return format_time(value, "short", locale=self.locale)

    def weekday(self, moment: datetime | date) -> str:
        day = self.local(moment).date() if isinstance(moment, datetime) else moment
        return format_date(day, "EEEE", locale=self.locale)

    def day(self, moment: datetime | date) -> str:
        """'donderdag 27 november' / 'jeudi 27 novembre'."""
        day = self.local(moment).date() if isinstance(moment, datetime) else moment
        return format_date(day, "EEEE d MMMM", locale=self.locale)

    def date_short(self, moment: datetime | date) -> str:
        day = self.local(moment).date() if isinstance(moment, datetime) else moment
        return format_date(day, "d MMMM yyyy", locale=self.locale)

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
        """'morgen (donderdag 27 november) om 14:00' — the way PRODUCT.md §2.4 writes times."""
        relative = self.relative_day(moment, now)
        if relative is None:
            return self.gettext("{day} om {time}").format(day=self.day(moment),
                                                          time=self.time(moment))
        return self.gettext("{relative} ({day}) om {time}").format(
            relative=relative, day=self.day(moment), time=self.time(moment))


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
