"""Small pieces of wording that handlers, delivery and jobs all use."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.i18n import Translator
from storage.models import Staff

_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def names(tr: Translator, people: Sequence[str]) -> str:
    """'Sanne', 'Sanne en Pieter', 'Anna, Sanne en Pieter' in the reader's language."""
    if not people:
        return ""
    if len(people) == 1:
        return people[0]
    return tr.gettext("{first} en {last}").format(first=", ".join(people[:-1]),
                                                  last=people[-1])


def sentence(text: str) -> str:
    """One full stop where an alias ending in one ("Gezin J.") closes a sentence: never
    "Gezin J..", and an ellipsis stays as it is."""
    return _DOUBLE_STOP.sub(".", text)


def coach_names(tr: Translator, coaches: Sequence[Staff]) -> str:
    return names(tr, [c.display_name for c in coaches]) or tr.gettext("je coach")
