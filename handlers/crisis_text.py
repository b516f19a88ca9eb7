"""Crisis numbers as a family reads them: 112 first, then what is open now."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Translator


def lines(tr: Translator, region: str, now: datetime) -> str:
    return tr.gettext("Bij direct gevaar: bel 112.")
