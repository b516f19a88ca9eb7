"""The line's pure rules: message kinds, header, splitting, flood control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.relay import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    caption_with_header,
    header_line,
    message_kind,
    receipt_due,
    silent_copy,
    split_text,
    utf16_len,
    with_header,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("message", "kind"), [
    ({"text": "hoi"}, "text"),
    ({"photo": [{"file_id": "x"}], "caption": "brief"}, "photo"),
    ({"voice": {"file_id": "v"}}, "voice"),
    ({"document": {"file_id": "d"}}, "document"),
    ({"venue": {"title": "t"}, "location": {"latitude": 1}}, "venue"),
    ({"location": {"latitude": 1}}, "location"),
    ({"contact": {"phone_number": "1"}}, "contact"),
    ({"sticker": {"file_id": "s"}}, "sticker"),
    ({"poll": {"id": "p"}}, "poll"),
    ({"dice": {"emoji": "🎲"}}, "dice"),
    ({"new_chat_members": [{}]}, "other"),
    ({}, "other"),
])
def test_message_kind(message: dict[str, object], kind: str) -> None:
    assert message_kind(message) == kind


@pytest.mark.parametrize(("role", "expected"), [
    ("moeder", "Gezin J. · Marieke (moeder) · 14:02"),
    ("", "Gezin J. · Marieke · 14:02"),
])
def test_header_line(role: str, expected: str) -> None:
    assert header_line("Gezin J.", "Marieke", role, "14:02") == expected


@pytest.mark.parametrize("text", [
    "kort",
    " ".join(f"woord{i}" for i in range(2000)),
    "x" * 9000,                                   # no boundary at all
    "😀" * 5000,                                  # two UTF-16 units each
    "\n\n".join("alinea " * 100 for _ in range(30)),
    "",
])
def test_split_never_loses_or_exceeds(text: str) -> None:
    pieces = split_text(text, 1000)
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= 1000 for p in pieces)


def test_split_prefers_word_boundaries() -> None:
    pieces = split_text(" ".join(["woord"] * 500), 100)
    assert all(p.endswith(" ") for p in pieces[:-1])


def test_with_header_short_and_long() -> None:
    assert [p.text for p in with_header("H", "body")] == ["H\nbody"]
    long = " ".join(f"woord{i}" for i in range(1500))
    pieces = with_header("Gezin J. · Marieke · 14:02", long)
    assert len(pieces) == 4  # about 13,400 characters
    assert all(utf16_len(p.text) <= TEXT_LIMIT for p in pieces)
    assert pieces[0].text.startswith("Gezin J. · Marieke · 14:02 (1/4)\n")
    assert pieces[3].text.startswith("Gezin J. · Marieke · 14:02 (4/4)\n")
    rebuilt = "".join(p.text.split("\n", 1)[1] for p in pieces)
    assert rebuilt == long


def test_caption_overflow_goes_to_a_text() -> None:
    assert caption_with_header("H", "kort") == ("H\nkort", None)
    assert caption_with_header("H", None) == ("H", None)
    long = "a" * CAPTION_LIMIT
    assert caption_with_header("H", long) == ("H", long)


@pytest.mark.parametrize(("last", "silent"), [
    (None, False),
    (NOW - timedelta(seconds=30), True),
    (NOW - timedelta(minutes=5), False),
])
def test_flood_control(last: datetime | None, silent: bool) -> None:
    assert silent_copy(last, NOW) is silent
    assert receipt_due(last, NOW) is (not silent)
