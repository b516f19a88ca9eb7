"""Dates and times measured on a corpus of coach phrasings (tests/unit/when_corpus.py), per
language: nl, Flemish (nl-BE), fr, en.

A phrase that should be understood is *understood* (exactly the expected moment), *refused*
(the bot asks again: a lost phrasing, annoying but safe) or *wrong* (another moment: the bot
would plan the wrong appointment). A phrase that should be asked is right when refused and
wrong when any moment is accepted. Thresholds: 0 wrong, at least 95% understood per language.
`pytest -s` prints the table.

Read the understood rate with care: the grammar was extended on these very phrases, so it is
an in-sample figure. Add a missed phrasing here first, then the rule for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest

from bot.domain.when import When, WhenError, parse_day, parse_when
from tests.unit.when_corpus import CORPUS, NOW, ZONES, Case

MIN_UNDERSTOOD = 0.95
MIN_PHRASES = 200


@dataclass
class Tally:
    understood: int = 0
    refused: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    asked: int = 0
    should_ask: int = 0

    @property
    def should_understand(self) -> int:
        return (
            self.understood
            + len(self.refused)
            + sum(1 for w in self.wrong if not w.startswith("ask:"))
        )


def _read(case: Case, zone: str) -> str | WhenError:
    if case.due:
        day = parse_day(case.text, NOW, zone)
        return day if isinstance(day, WhenError) else day.isoformat()
    result = parse_when(case.text, NOW, zone)
    if isinstance(result, WhenError):
        return result
    assert isinstance(result, When)
    return result.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _tally(language: str) -> Tally:
    tally = Tally()
    zone = ZONES[language]
    for case in CORPUS[language]:
        got = _read(case, zone)
        if case.expected is None:
            tally.should_ask += 1
            if not isinstance(got, WhenError):
                tally.wrong.append(f"ask: {case.text!r} → {got}")
            elif case.reason is not None and got.reason != case.reason:
                tally.wrong.append(f"ask: {case.text!r} → {got.reason}, not {case.reason}")
            else:
                tally.asked += 1
        elif isinstance(got, WhenError):
            tally.refused.append(f"{case.text!r} ({got.reason})")
        elif got != case.expected:
            tally.wrong.append(f"{case.text!r} → {got}, not {case.expected}")
        else:
            tally.understood += 1
    return tally


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    found = {language: _tally(language) for language in CORPUS}
    print("\nlanguage  understood        refused  wrong  asked (should ask)")
    for language, t in found.items():
        share = t.understood / t.should_understand
        print(
            f"{language:8}  {t.understood:3}/{t.should_understand:3} {share:6.1%}"
            f"  {len(t.refused):7}  {len(t.wrong):5}  {t.asked:3}/{t.should_ask}"
        )
        for line in t.refused:
            print(f"   refused: {line}")
        for line in t.wrong:
            print(f"   WRONG:   {line}")
    return found


def test_the_corpus_is_large_enough() -> None:
    assert sum(len(cases) for cases in CORPUS.values()) >= MIN_PHRASES
    assert all(len(cases) >= 40 for cases in CORPUS.values())


def test_texts_are_unique_per_language() -> None:
    for cases in CORPUS.values():
        keys = [(c.text, c.due) for c in cases]
        assert len(keys) == len(set(keys))


@pytest.mark.parametrize("language", list(CORPUS))
def test_never_wrong(tallies: dict[str, Tally], language: str) -> None:
    assert tallies[language].wrong == []


@pytest.mark.parametrize("language", list(CORPUS))
def test_understood(tallies: dict[str, Tally], language: str) -> None:
    tally = tallies[language]
    assert tally.understood / tally.should_understand >= MIN_UNDERSTOOD, tally.refused
