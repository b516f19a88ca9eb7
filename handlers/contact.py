"""/contact and /afstemgesprek (PRODUCT.md §2.5): how often a coach means to speak with a
family, and how often to hold an *afstemgesprek*; the agenda reminds them when one is due."""

from __future__ import annotations

from collections.abc import Sequence

from bot.agenda_text import FREQUENCY_NAMES
from bot.domain.agenda import CONTACT_FREQUENCIES, REVIEW_FREQUENCIES, Frequency
from bot.domain.text import compare_key
from bot.i18n import N_
from handlers.coach import fields, resolve_family
from handlers.common import Who, Work

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


def _frequency(text: str, allowed: Sequence[Frequency]) -> Frequency | None:
    found = FREQUENCY_WORDS.get(compare_key(text))
    return found if found in allowed else None


async def contact(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, CONTACT_FREQUENCIES, "contact",
                         N_("Afgesproken contact met {alias}: {freq}."),
                         N_("Gebruik: /contact Gezin J. | wekelijks (of dagelijks, om de twee "
                            "weken, maandelijks)"))


async def review(w: Work, who: Who, text: str) -> None:
    await _set_frequency(w, who, text, REVIEW_FREQUENCIES, "review",
                         N_("Afstemgesprek met {alias}: {freq}."),
                         N_("Gebruik: /afstemgesprek Gezin J. | elke 3 maanden (of nooit, "
                            "maandelijks, elke 6 maanden)"))


async def _set_frequency(w: Work, who: Who, text: str, allowed: Sequence[Frequency], field: str,
                         done: str, usage: str) -> None:
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    if len(parts) < 2 or not parts[1]:
        w.answer(who, tr.gettext(usage))
        return
    frequency = _frequency(parts[1], allowed)
    if frequency is None:
        w.answer(who, tr.gettext(usage))
        return
    command = "contact" if field == "contact" else "afstemgesprek"
    family = await resolve_family(w, who, tr, parts[0],
                                  retry=(command, " | " + parts[1]))
    if family is None:
        return
    if field == "contact":
        family.contact_frequency = None if frequency is Frequency.NEVER else frequency.value
    else:
        family.review_frequency = frequency.value
    w.answer(who, tr.gettext(done).format(alias=family.alias,
                                          freq=tr.gettext(FREQUENCY_NAMES[frequency])))
