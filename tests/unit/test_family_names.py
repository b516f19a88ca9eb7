"""Families found as coaches name them (storage/repos/families.py match_alias): any word of the
alias, case and accents aside, a unique beginning of a word; the full alias wins."""

from __future__ import annotations

import pytest

from storage.models import Family
from storage.repos.families import alias_words, close_aliases, match_alias, split_alias

CASELOAD = ("Gezin Jansen", "Gezin El-Amrani", "Gezin Özdemir", "Gezin B.", "Gezin Bakker",
            "Familie de Vries")


def _caseload(*aliases: str) -> list[Family]:
    return [Family(id=number, alias=alias) for number, alias in enumerate(aliases, start=1)]


def _aliases(found: list[Family]) -> list[str]:
    return [f.alias for f in found]


@pytest.mark.parametrize(("typed", "found"), [
    # A word of the alias, in any case.
    ("jansen", ["Gezin Jansen"]),
    ("Jansen", ["Gezin Jansen"]),
    ("JANSEN", ["Gezin Jansen"]),
    ("  jansen ", ["Gezin Jansen"]),
    ("amrani", ["Gezin El-Amrani"]),
    ("el amrani", ["Gezin El-Amrani"]),
    ("El-Amrani", ["Gezin El-Amrani"]),
    ("vries", ["Familie de Vries"]),
    # Accents do not matter, either way.
    ("ozdemir", ["Gezin Özdemir"]),
    ("Özdemir", ["Gezin Özdemir"]),
    ("Öz", ["Gezin Özdemir"]),
    # The beginning of a word, when only one family has a word beginning so.
    ("j", ["Gezin Jansen"]),
    ("jan", ["Gezin Jansen"]),
    ("am", ["Gezin El-Amrani"]),
    ("gezin jan", ["Gezin Jansen"]),
    ("jansen gezin", ["Gezin Jansen"]),  # the words in any order
    # Several begin so: all of them (the coach is asked which one).
    ("b", ["Gezin B.", "Gezin Bakker"]),
    ("gezin", ["Gezin Jansen", "Gezin El-Amrani", "Gezin Özdemir", "Gezin B.", "Gezin Bakker"]),
    # The full alias wins over beginnings, with or without its full stop.
    ("Gezin B.", ["Gezin B."]),
    ("gezin b", ["Gezin B."]),
    ("GEZIN  B.", ["Gezin B."]),
    # The whole alias's beginning (as before).
    ("gezin ö", ["Gezin Özdemir"]),
    # Nothing.
    ("", []),
    ("   ", []),
    ("pietersen", []),
    ("jansens", []),  # longer than the word
    ("ansen", []),  # a word's middle, not its beginning
    ("jansen bakker", []),  # every typed word must fit
])
def test_match_alias(typed: str, found: list[str]) -> None:
    assert _aliases(match_alias(_caseload(*CASELOAD), typed)) == found


def test_two_families_with_the_same_word_are_both_found() -> None:
    caseload = _caseload("Gezin Jansen", "Jansen (Utrecht)", "Gezin Janssen")
    assert _aliases(match_alias(caseload, "jansen")) == ["Gezin Jansen", "Jansen (Utrecht)"]
    assert _aliases(match_alias(caseload, "jans")) == _aliases(caseload)
    assert _aliases(match_alias(caseload, "jansen utrecht")) == ["Jansen (Utrecht)"]
    assert _aliases(match_alias(caseload, "janss")) == ["Gezin Janssen"]


def test_an_exact_alias_wins_even_when_it_begins_another() -> None:
    caseload = _caseload("Gezin J.", "Gezin Jansen", "Gezin J. (oma)")
    assert _aliases(match_alias(caseload, "Gezin J.")) == ["Gezin J."]
    assert _aliases(match_alias(caseload, "gezin j")) == ["Gezin J."]
    assert _aliases(match_alias(caseload, "j")) == _aliases(caseload)


def test_aliases_without_letters_still_match_as_typed() -> None:
    caseload = _caseload("🌻", "🌻🌻", "Gezin 7")
    assert _aliases(match_alias(caseload, "🌻")) == ["🌻"]
    assert _aliases(match_alias(caseload, "7")) == ["Gezin 7"]


def test_alias_words() -> None:
    assert alias_words("Gezin El-Amrani") == ["gezin", "el", "amrani"]
    assert alias_words("Gezin J.") == ["gezin", "j"]
    assert alias_words("Família Çelik_Öz") == ["familia", "celik", "oz"]
    assert alias_words("…") == []


# A name typed with a slip (found by hand: "peters" for Gezin Peeters, "jansn"): only the
# families it is close to are offered, to tap; never taken as one without asking.
@pytest.mark.parametrize(("typed", "offered"), [
    ("jansn", ["Gezin Jansen"]),
    ("jnasen", ["Gezin Jansen"]),
    ("gezin jansn", ["Gezin Jansen"]),  # "gezin" fits all, "jansn" one
    ("ozdemit", ["Gezin Özdemir"]),
    ("el amrami", ["Gezin El-Amrani"]),
    ("de fries", ["Familie de Vries"]),
    ("baker", ["Gezin Bakker"]),
    # Nothing close: all are offered, as before.
    ("pietersen", []),
    ("x", []),  # one letter is close to nothing
    ("jansen bakker", []),  # every typed word must be close to a word of the one alias
])
def test_close_aliases(typed: str, offered: list[str]) -> None:
    assert _aliases(close_aliases(_caseload(*CASELOAD), typed)) == offered


def test_close_aliases_offers_each_family_a_slip_fits() -> None:
    caseload = _caseload("Gezin Peeters", "Gezin Peters-Claes", "Gezin Dubois")
    assert _aliases(close_aliases(caseload, "peeter")) == ["Gezin Peeters", "Gezin Peters-Claes"]
    assert _aliases(close_aliases(caseload, "dubios")) == ["Gezin Dubois"]


# A command's line typed without `|`: the longest first words that name a family, and the rest.
@pytest.mark.parametrize(("typed", "split"), [
    ("jansen wekelijks", ("jansen", "wekelijks")),
    ("gezin jansen elke maand", ("gezin jansen", "elke maand")),
    ("amrani pieter", ("amrani", "pieter")),
    ("de vries 3", ("de vries", "3")),
    ("gezin b. pieter", ("gezin b.", "pieter")),
    ("Gezin Jansen", None),  # the whole line is an alias
    ("gezin", None),
    ("pietersen wekelijks", None),  # no family's words first
    ("jansen | wekelijks", None),  # fields given already
    # Found by the authorization test: a family the coach does not have is not "Gezin" with
    # a name; generic words alone name no family.
    ("Gezin W.", None),
    ("gezin pietersen", None),
    ("familie de wekelijks", None),
    ("de vries wekelijks", ("de vries", "wekelijks")),
])
def test_split_alias(typed: str, split: tuple[str, str] | None) -> None:
    assert split_alias(_caseload(*CASELOAD), typed) == split
