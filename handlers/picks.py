"""Choosing a person or confirming, inside a guided command (handlers/flow.py): coaches as
buttons, a typed name or a tapped coach read the same way, and "Klopt dit?" with ✅ / ✖.

A coach's button carries `#<id>`; a typed line is a name (an exact name wins, else a unique
start of one), always looked up among the choices offered, never among everyone."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.text import compare_key, fold_accents
from bot.i18n import Translator
from handlers import flow
from handlers.common import Who, Work
from storage.models import Staff
from storage.repos import pending

YES = "ok"  # the value of ✅ Klopt, opslaan
# A typed answer to "Klopt dit?" as coaches type it on a phone (compared by `word`).
YES_WORDS = frozenset({
    "ok", "oke", "okay", "okee", "oki", "ja", "jaa", "jep", "jup", "ja hoor", "ja klopt",
    "klopt", "dat klopt", "goed", "is goed", "prima", "top", "zeker", "opslaan", "sla op",
    "doe maar", "graag", "ja graag", "yes", "yep", "sure", "save", "correct", "right", "oui",
    "d'accord", "parfait", "c'est bon", "👍", "✅",
})
NO_WORDS = frozenset({"nee", "neen", "no", "non", "niet", "annuleren", "cancel", "stop",
                      "laat maar", "nee dank je", "nee bedankt", "no thanks", "annuler", "❌",
                      "✖"})
NAME_MAX = 64  # what is repeated of a typed name
BUTTONS_MAX = 30  # a long list of buttons is no help on a phone; typing a name still works


def coach_rows(coaches: Sequence[Staff]) -> list[list[flow.Choice]]:
    """Coaches as buttons, two to a row."""
    picks = [(c.display_name, f"#{c.id}") for c in coaches[:BUTTONS_MAX]]
    return [picks[i:i + 2] for i in range(0, len(picks), 2)]


def by_id(value: str) -> int | None:
    """The id a button carries (`#12`), or None for a typed line."""
    if value.startswith("#") and value[1:].isdigit():
        return int(value[1:])
    return None


def pick_coach(value: str, candidates: Sequence[Staff]) -> list[Staff]:
    """The coaches among `candidates` that a tapped button or a typed name means."""
    wanted = by_id(value)
    if wanted is not None:
        return [c for c in candidates if c.id == wanted]
    key = compare_key(value)
    if not key:
        return []
    exact = [c for c in candidates if compare_key(c.display_name) == key]
    return exact or [c for c in candidates if compare_key(c.display_name).startswith(key)]


def not_found(tr: Translator, typed: str, found: Sequence[Staff]) -> str:
    """Why the coaches are shown (again): several matched `typed`, or none did."""
    if found:
        return tr.gettext("Welke coach bedoel je? Kies er een:")
    return tr.gettext("Ik ken geen coach '{name}'. Kies er een:").format(name=typed[:NAME_MAX])


def word(text: str) -> str:
    """A typed word as compared: lower case, no accents, single spaces, without the
    punctuation around it ("Ja!", "ok.", "prima, ")."""
    return " ".join(fold_accents(text).replace(",", " ").split()).strip(".!?;: ")


async def confirm(w: Work, who: Who, action: str, data: dict[str, object],
                  lines: Sequence[str]) -> None:
    """The last step: what will be saved, "Klopt dit?", ✅ Klopt, opslaan and ✖ Annuleren."""
    tr = w.tr(who)
    await flow.ask(w, who, action, data, "\n".join([tr.gettext("Klopt dit?"), *lines]),
                   [[(tr.gettext("✅ Klopt, opslaan"), YES)]])


async def confirmed(w: Work, who: Who, action: str, data: dict[str, object],
                    text: str) -> bool | None:
    """The answer to `confirm`: True (✅ or a typed yes), False (a typed no: stopped, and said
    so), None (some other line: the question stays open, and the line goes its usual way —
    a coach may be writing to a family meanwhile)."""
    said = word(text)
    if text == YES or said in YES_WORDS:
        return True
    if said in NO_WORDS:
        w.answer(who, w.tr(who).gettext("Gestopt. Er is niets veranderd."))
        return False
    await pending.set_pending(w.session, who.chat_id, action, data, w.now + flow.STEP_WINDOW)
    return None
