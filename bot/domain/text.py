"""Reading what people type, one way everywhere: case and accents folded, so `Après`, `APRES`
and `apres` read the same in dates, recurrences and opening hours; and the key by which typed
words and names are compared. (bot/domain/urgency.py keeps a richer normaliser of its own:
letters across scripts, digits, spelling tricks.)"""

from __future__ import annotations

import unicodedata


def fold_accents(text: str) -> str:
    """Lower case without accents: `Één Été` → `een ete`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def compare_key(text: str) -> str:
    """How a typed word or name is compared: case-insensitive, single spaces
    (`  Gezin  J. ` → `gezin j.`)."""
    return " ".join(text.casefold().split())
