"""/contact and /afstemgesprek (PRODUCT.md §2.5): how often a coach means to speak with a
family, and how often to hold an *afstemgesprek*; the agenda reminds them when one is due.

Step by step (handlers/flow.py): the family (coach.resolve_family), then how often (buttons);
"Klopt dit?" only when an agreed frequency changes into another one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.agenda_text import FREQUENCY_NAMES
from bot.domain.agenda import CONTACT_FREQUENCIES, REVIEW_FREQUENCIES, Frequency
from bot.domain.text import compare_key
from bot.i18n import N_, Translator
from handlers import flow, picks
from handlers.coach import authorized_family, fields, free_fields, resolve_family
from handlers.common import Who, Work
from storage.models import Family

FREQUENCY_WORDS = {
    "dagelijks": Frequency.DAILY, "daily": Frequency.DAILY, "elke dag": Frequency.DAILY,
    "wekelijks": Frequency.WEEKLY, "weekly": Frequency.WEEKLY, "elke week": Frequency.WEEKLY,
    "tweewekelijks": Frequency.BIWEEKLY, "om de twee weken": Frequency.BIWEEKLY,
    "biweekly": Frequency.BIWEEKLY, "every two weeks": Frequency.BIWEEKLY,
    "maandelijks": Frequency.MONTHLY, "monthly": Frequency.MONTHLY,
    "elke maand": Frequency.MONTHLY,
    "elke 3 maanden": Frequency.QUARTERLY, "driemaandelijks": Frequency.QUARTERLY,
    "kwartaal": Frequency.QUARTERLY, "quarterly": Frequency.QUARTERLY,
    "elke 6 maanden": Frequency.HALFYEARLY, "halfjaarlijks": Frequency.HALFYEARLY,
    "halfyearly": Frequency.HALFYEARLY,
    "nooit": Frequency.NEVER, "never": Frequency.NEVER, "geen": Frequency.NEVER,
    "uit": Frequency.NEVER,
}


@dataclass(frozen=True)
class Kind:
    """What /contact and /afstemgesprek each set: their words, their values, their steps."""

    command: str  # its Dutch name, to run it again for a tapped family
    allowed: Sequence[Frequency]
    pick: str  # the pending step: how often?
    check: str  # the pending step: Klopt dit?
    question: str  # N_()
    done: str  # N_()
    change: str  # N_()


CONTACT = Kind("contact", CONTACT_FREQUENCIES, "contact_freq", "contact_ok",
               N_("Hoe vaak wil je contact met {alias}? Tik op een keuze."),
               N_("Afgesproken contact met {alias}: {freq}."),
               N_("Afgesproken contact met {alias}: van {old} naar {new}."))
REVIEW = Kind("afstemgesprek", REVIEW_FREQUENCIES, "review_freq", "review_ok",
              N_("Hoe vaak wil je een afstemgesprek met {alias}? Tik op een keuze."),
              N_("Afstemgesprek met {alias}: {freq}."),
              N_("Afstemgesprek met {alias}: van {old} naar {new}."))
KINDS = {k.command: k for k in (CONTACT, REVIEW)}
CONTACT_STEPS = (CONTACT.pick, CONTACT.check)
REVIEW_STEPS = (REVIEW.pick, REVIEW.check)


def _frequency(text: str, allowed: Sequence[Frequency]) -> Frequency | None:
    found = FREQUENCY_WORDS.get(compare_key(text))
    return found if found in allowed else None


async def contact(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, CONTACT)


async def review(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, REVIEW)


async def _set_frequency(w: Work, who: Who, text: str, kind: Kind) -> None:
    tr = w.tr(who)
    text = await free_fields(w, who, text)
    parts = fields(text) if text.strip() else []
    typed = parts[1] if len(parts) > 1 else ""
    family = await resolve_family(w, who, tr, parts[0] if parts else "",
                                  retry=(kind.command, f" | {typed}" if typed else ""))
    if family is not None:
        await _read_frequency(w, who, tr, family, kind, typed)


async def continue_step(w: Work, who: Who, action: str, data: dict[str, object],
                        text: str) -> bool:
    """The answer to "how often?" or to "Klopt dit?", typed or tapped."""
    kind = next((k for k in KINDS.values() if action in (k.pick, k.check)), None)
    family = await authorized_family(w, who, int(str(data.get("family_id", 0))))
    if kind is None or family is None:
        return False
    tr = w.tr(who)
    if action == kind.pick:
        await _read_frequency(w, who, tr, family, kind, text)
        return True
    answer = await picks.confirmed(w, who, action, data, text)
    if answer is None:
        return False
    if answer:
        _save(w, who, tr, family, kind, Frequency(str(data["freq"])))
    return True


async def _read_frequency(w: Work, who: Who, tr: Translator, family: Family, kind: Kind,
                          text: str) -> None:
    frequency = _frequency(text, kind.allowed) if text else None
    if frequency is None:
        await _ask(w, who, tr, family, kind, text)
        return
    current = _current(family, kind)
    if current is not None and current is not frequency:
        # A frequency that was agreed changes into another: one look before it does.
        await picks.confirm(w, who, kind.check, {"family_id": family.id,
                                                 "freq": frequency.value}, [
            tr.gettext(kind.change).format(alias=family.alias,
                                           old=tr.gettext(FREQUENCY_NAMES[current]),
                                           new=tr.gettext(FREQUENCY_NAMES[frequency]))])
        return
    _save(w, who, tr, family, kind, frequency)


async def _ask(w: Work, who: Who, tr: Translator, family: Family, kind: Kind,
               typed: str) -> None:
    lines = []
    if typed:
        lines.append(tr.gettext("'{typed}' ken ik niet als keuze.").format(typed=typed[:64]))
    current = _current(family, kind)
    if current is not None:
        lines.append(tr.gettext("Nu: {freq}.").format(freq=tr.gettext(FREQUENCY_NAMES[current])))
    lines.append(tr.gettext(kind.question).format(alias=family.alias))
    choices = [(tr.gettext(FREQUENCY_NAMES[f]), f.value) for f in kind.allowed]
    await flow.ask(w, who, kind.pick, {"family_id": family.id}, "\n".join(lines),
                   [choices[i:i + 2] for i in range(0, len(choices), 2)])


def _current(family: Family, kind: Kind) -> Frequency | None:
    """The frequency agreed so far; None when nothing was agreed yet."""
    if kind is CONTACT:
        return Frequency(family.contact_frequency) if family.contact_frequency else None
    value = Frequency(family.review_frequency or Frequency.NEVER.value)
    return None if value is Frequency.NEVER else value


def _save(w: Work, who: Who, tr: Translator, family: Family, kind: Kind,
          frequency: Frequency) -> None:
    if kind is CONTACT:
        family.contact_frequency = None if frequency is Frequency.NEVER else frequency.value
    else:
        family.review_frequency = frequency.value
    w.answer(who, tr.gettext(kind.done).format(alias=family.alias,
                                               freq=tr.gettext(FREQUENCY_NAMES[frequency])))
