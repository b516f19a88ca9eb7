"""Step by step, with a way out (PRODUCT.md §2.8). A command that misses a part asks for it,
one question at a time; every question carries ✖ Annuleren, and its quick choices (a family,
a day, a number of days) are buttons whose value goes the same way as a typed answer
(registry.answer_pressed → the command's `Steps.answer`). `/annuleren` stops whatever is under
way; a new command in the middle of another says that the earlier one stopped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot import outbox
from bot.i18n import Translator
from handlers.common import Who, Work
from storage.repos import pending

STEP_WINDOW = timedelta(minutes=30)
CANCEL = "cx"  # the ✖ Annuleren button
ANSWER = "ans"  # a quick choice: its value answers the question under way
VALUE_MAX = 24  # a choice's value travels in signed callback data (64 bytes in all)
# Steps that are not a command under way: nothing to say when another command comes (the
# question which family, coach.WHICH_FAMILY).
QUIET_STEPS = frozenset({"again"})
# A coach's message waiting for its family, then for "📨 Stuur naar …" (handlers/coach.py).
HELD_MESSAGE = frozenset({"hold", "hold_ok"})

Choice = tuple[str, str]  # (label, value)


def cancel_row(w: Work, who: Who) -> list[tuple[str, str]]:
    return [(w.tr(who).gettext("✖ Annuleren"), w.sign(who.chat_id, CANCEL))]


def choices_keyboard(w: Work, who: Who, rows: Sequence[Sequence[Choice]]) -> dict[str, object]:
    """Quick choices (each answers the question as if typed) and ✖ Annuleren below them."""
    signed = [[(label, w.sign(who.chat_id, ANSWER, value[:VALUE_MAX])) for label, value in row]
              for row in rows if row]
    return outbox.keyboard([*signed, cancel_row(w, who)])


async def ask(w: Work, who: Who, action: str, data: dict[str, object], question: str,
              rows: Sequence[Sequence[Choice]] = ()) -> None:
    """Ask the next question of a command: the typed answer, or a tapped choice, goes to the
    command's `Steps.answer` for `action`, with `data` (what was already given)."""
    await pending.set_pending(w.session, who.chat_id, action, data, w.now + STEP_WINDOW)
    w.answer(who, question, keyboard=choices_keyboard(w, who, rows))


async def cancel(w: Work, who: Who, message_id: int | None = None) -> None:
    """✖ Annuleren or /annuleren: whatever was under way stops; nothing was saved."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    await pending.clear_pending(w.session, who.chat_id)
    if message_id is not None:
        w.out.remove_buttons(who.chat_id, message_id)
    tr = w.tr(who)
    if step is None and message_id is None:
        w.answer(who, tr.gettext("Er liep niets om te stoppen. Kies in het menu wat je wilt "
                                 "doen."))
        return
    w.answer(who, tr.gettext("Gestopt. Er is niets veranderd."))


async def cancel_command(w: Work, who: Who) -> None:
    await cancel(w, who)


async def stop_earlier(w: Work, who: Who) -> None:
    """A new command while another one waited for an answer: that one stops, and the coach
    hears so (their next line would otherwise be taken for the new command's)."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    await pending.clear_pending(w.session, who.chat_id)
    if step is None or step.action in QUIET_STEPS:
        return
    tr = w.tr(who)
    if step.action in HELD_MESSAGE:
        w.answer(who, tr.gettext("Je bericht van net is niet verstuurd."))
    else:
        w.answer(who, tr.gettext("De vorige opdracht is gestopt; er is niets van opgeslagen."))


def day_choices(tr: Translator, now: datetime, days: int = 6) -> list[list[Choice]]:
    """Today, tomorrow and the next days as buttons (value: the date, dd-mm-yyyy, which every
    date field reads), two to a row."""
    today = tr.local(now).date()
    picks: list[Choice] = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        picks.append((_day_label(tr, day, offset), day.strftime("%d-%m-%Y")))
    return [picks[i:i + 2] for i in range(0, len(picks), 2)]


def _day_label(tr: Translator, day: date, offset: int) -> str:
    if offset == 0:
        return tr.gettext("vandaag")
    if offset == 1:
        return tr.gettext("morgen")
    return tr.day(day)
