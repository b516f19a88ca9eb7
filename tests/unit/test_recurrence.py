"""Recurring agreements: parsing in nl/fr/en and the calendar of due days."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.recurrence import (
    Recurrence,
    RecurrenceRule,
    first_occurrence,
    next_occurrence,
    occurrences,
    parse_recurrence,
)

W, B, M, N = Recurrence.WEEKLY, Recurrence.BIWEEKLY, Recurrence.MONTHLY, Recurrence.NONE
MON, TUE, WED, THU, FRI = range(5)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # Dutch and Flemish
        ("elke week", RecurrenceRule(W)),
        ("Iedere week", RecurrenceRule(W)),
        ("wekelijks", RecurrenceRule(W)),
        ("1x per week", RecurrenceRule(W)),
        ("om de week", RecurrenceRule(B)),  # every other week, not weekly
        ("om de twee weken", RecurrenceRule(B)),
        ("elke twee weken", RecurrenceRule(B)),
        ("elke 2 weken", RecurrenceRule(B)),
        ("tweewekelijks", RecurrenceRule(B)),
        ("2-wekelijks", RecurrenceRule(B)),
        ("elke maand", RecurrenceRule(M)),
        ("maandelijks", RecurrenceRule(M)),
        ("eens per maand", RecurrenceRule(M)),
        ("eenmalig", RecurrenceRule(N)),
        ("elke maandag", RecurrenceRule(W, MON)),
        ("iedere vrijdag.", RecurrenceRule(W, FRI)),
        ("wekelijks op dinsdag", RecurrenceRule(W, TUE)),
        ("om de twee weken op woensdag", RecurrenceRule(B, WED)),
        ("om de andere donderdag", RecurrenceRule(B, THU)),
        ("'s maandags, elke week", RecurrenceRule(W, MON)),
        # English
        ("weekly", RecurrenceRule(W)),
        ("every week", RecurrenceRule(W)),
        ("every two weeks", RecurrenceRule(B)),
        ("every other week", RecurrenceRule(B)),
        ("biweekly", RecurrenceRule(B)),
        ("fortnightly", RecurrenceRule(B)),
        ("monthly", RecurrenceRule(M)),
        ("once a month", RecurrenceRule(M)),
        ("every Monday", RecurrenceRule(W, MON)),
        ("every other Friday", RecurrenceRule(B, FRI)),
        ("weekly on Thursday", RecurrenceRule(W, THU)),
        # French
        ("chaque semaine", RecurrenceRule(W)),
        ("toutes les semaines", RecurrenceRule(W)),
        ("toutes les deux semaines", RecurrenceRule(B)),
        ("une semaine sur deux", RecurrenceRule(B)),
        ("tous les quinze jours", RecurrenceRule(B)),
        ("chaque mois", RecurrenceRule(M)),
        ("tous les mois", RecurrenceRule(M)),
        ("chaque lundi", RecurrenceRule(W, MON)),
        ("tous les mardis", RecurrenceRule(W, TUE)),
        ("un vendredi sur deux", RecurrenceRule(B, FRI)),
        ("chaque semaine le jeudi", RecurrenceRule(W, THU)),
    ],
)
def test_parse_recurrence(text: str, rule: RecurrenceRule) -> None:
    assert parse_recurrence(text) == rule


@pytest.mark.parametrize(
    "text",
    ["", "maandag", "27/11", "elke dag", "every three weeks", "elke maand op maandag", "blabla"],
)
def test_parse_recurrence_refuses(text: str) -> None:
    assert parse_recurrence(text) is None


def test_recurrence_values_are_stable_strings() -> None:
    assert [r.value for r in Recurrence] == ["none", "weekly", "biweekly", "monthly"]
    assert Recurrence("biweekly") is B


@pytest.mark.parametrize(
    ("rule", "from_day", "expected"),
    [
        (RecurrenceRule(W, MON), date(2026, 11, 24), date(2026, 11, 30)),
        (RecurrenceRule(W, TUE), date(2026, 11, 24), date(2026, 11, 24)),
        (RecurrenceRule(M), date(2026, 11, 24), date(2026, 11, 24)),
    ],
)
def test_first_occurrence(rule: RecurrenceRule, from_day: date, expected: date) -> None:
    assert first_occurrence(rule, from_day) == expected


@pytest.mark.parametrize(
    ("first", "recurrence", "start", "end", "expected"),
    [
        (date(2026, 11, 24), N, date(2026, 11, 1), date(2026, 11, 30), [date(2026, 11, 24)]),
        (date(2026, 11, 24), N, date(2026, 11, 25), date(2026, 11, 30), []),
        (
            date(2026, 11, 2),
            W,
            date(2026, 11, 10),
            date(2026, 11, 30),
            [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)],
        ),
        (
            date(2020, 1, 6),  # years back: no walk from the start
            B,
            date(2026, 11, 1),
            date(2026, 12, 1),
            [date(2026, 11, 2), date(2026, 11, 16), date(2026, 11, 30)],
        ),
        (
            date(2026, 1, 31),
            M,
            date(2026, 1, 1),
            date(2026, 5, 31),
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31),
            ],
        ),
        (
            date(2027, 12, 31),
            M,
            date(2028, 2, 1),
            date(2028, 3, 1),
            [date(2028, 2, 29)],  # a leap year
        ),
        (date(2026, 11, 30), W, date(2026, 11, 1), date(2026, 11, 29), []),  # before first
        (date(2026, 11, 2), W, date(2026, 11, 30), date(2026, 11, 1), []),  # empty range
    ],
)
def test_occurrences(
    first: date, recurrence: Recurrence, start: date, end: date, expected: list[date]
) -> None:
    assert occurrences(first, recurrence, start, end) == expected


@pytest.mark.parametrize(
    ("first", "recurrence", "after", "expected"),
    [
        (date(2026, 11, 24), N, date(2026, 11, 23), date(2026, 11, 24)),
        (date(2026, 11, 24), N, date(2026, 11, 24), None),
        (date(2026, 11, 24), W, date(2026, 11, 24), date(2026, 12, 1)),
        (date(2026, 11, 24), W, date(2026, 11, 1), date(2026, 11, 24)),
        (date(2026, 11, 24), B, date(2026, 12, 1), date(2026, 12, 8)),
        (date(2026, 1, 31), M, date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 1, 31), M, date(2026, 2, 28), date(2026, 3, 31)),
    ],
)
def test_next_occurrence(
    first: date, recurrence: Recurrence, after: date, expected: date | None
) -> None:
    assert next_occurrence(first, recurrence, after) == expected


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(
    first=days,
    recurrence=st.sampled_from([W, B, M]),
    start=days,
    length=st.integers(min_value=0, max_value=400),
)
def test_occurrences_properties(
    first: date, recurrence: Recurrence, start: date, length: int
) -> None:
    end = start + timedelta(days=length)
    found = occurrences(first, recurrence, start, end)
    assert found == sorted(set(found))
    assert all(max(start, first) <= d <= end for d in found)
    if recurrence is M:
        assert all(d.day == first.day or (d + timedelta(days=1)).day == 1 for d in found)
    else:
        step = 7 if recurrence is W else 14
        assert all((d - first).days % step == 0 for d in found)
    # next_occurrence walks the same calendar.
    if found:
        assert next_occurrence(first, recurrence, found[0] - timedelta(days=1)) == found[0]
        for before, after in itertools.pairwise(found):
            assert next_occurrence(first, recurrence, before) == after
