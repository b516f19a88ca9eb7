"""/taal: a person picks the language the bot speaks with them, and gets their menu in it."""

from __future__ import annotations

from typing import Any

from bot import outbox
from bot.i18n import FAMILY_LANGUAGES, LANGUAGE_NAMES, STAFF_LANGUAGES, translator
from handlers import menus, texts
from handlers.common import Who, Work


def _choices(who: Who) -> tuple[str, ...]:
    return FAMILY_LANGUAGES if who.is_member else STAFF_LANGUAGES


async def choose(w: Work, who: Who) -> None:
    buttons = [(LANGUAGE_NAMES[c], w.sign(who.chat_id, "setlang", c)) for c in _choices(who)]
    w.answer(who, w.tr(who).gettext("Kies je taal:"),
             keyboard=outbox.keyboard([buttons[i:i + 2] for i in range(0, len(buttons), 2)]))


async def set_language(w: Work, who: Who, message_id: int, language: str) -> None:
    if language not in _choices(who) or who.is_stranger:
        return
    if who.member is not None and who.family is not None:
        who.member.language = language
        tr = translator(language, who.family.region, who.family.timezone)
        menus.set_for_member(w.out, who.chat_id, tr)
        keyboard: dict[str, Any] | None = texts.family_keyboard(tr)
    elif who.staff is not None:
        who.staff.language = language
        tr = translator(language, w.svc.settings.region)
        menus.set_for_staff(w.out, who.chat_id, tr, who.staff)
        keyboard = None
    else:
        return
    w.out.edit_text(who.chat_id, message_id, f"✓ {LANGUAGE_NAMES[language]}")
    w.answer(who, tr.gettext("Ik praat nu Nederlands met je."), keyboard=keyboard)
