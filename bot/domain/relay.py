"""The line between a family and its coach: what can be passed on, and in which pieces.

Pure: no Telegram objects, no database. Lengths are counted in UTF-16 code units, the unit
Telegram counts in, so an emoji-rich text never crosses the limit by surprise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# Kinds the bot passes on with copyMessage; the value says whether the kind carries a caption.
COPYABLE: dict[str, bool] = {
    "photo": True,
    "video": True,
    "document": True,
    "audio": True,
    "voice": True,
    "animation": True,
    "sticker": False,
    "video_note": False,
    "location": False,
    "venue": False,
    "contact": False,
}
# PRODUCT.md §2.2: polls, dice and service messages are answered politely, not passed on.
UNCOPYABLE = ("poll", "dice", "game", "invoice", "story", "paid_media", "giveaway", "checklist")

# A burst from one member: only the first copy rings the coach's phone.
BURST_WINDOW = timedelta(minutes=2)
RECEIPT_QUIET = timedelta(minutes=2)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_kind(message: Mapping[str, Any]) -> str:
    """'text', one of COPYABLE, one of UNCOPYABLE, or 'other' (service messages and the unknown)."""
    if message.get("text") is not None:
        return "text"
    # venue messages also carry a location: the venue is the richer kind.
    for kind in ("venue", *COPYABLE, *UNCOPYABLE):
        if message.get(kind):
            return kind
    return "other"


def header_line(alias: str, first_name: str, role: str, clock_time: str) -> str:
    """`Gezin J. · Marieke (moeder) · 14:02` — PRODUCT.md §2.2."""
    who = f"{first_name} ({role})" if role else first_name
    return f"{alias} · {who} · {clock_time}"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a paragraph, line or word boundary
    where one exists: never dropping a character."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at > cut // 3:  # a boundary that leaves a reasonably full piece
                cut = at + len(separator)
                break
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in characters) whose UTF-16 length is within limit."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


@dataclass(frozen=True)
class TextPiece:
    text: str
    bold_units: int  # how many leading UTF-16 units are the header (shown bold)


def with_header(header: str, body: str, limit: int = TEXT_LIMIT) -> list[TextPiece]:
    """The header on its own line above the body; a long body continues in further messages,
    each marked with the header and its number so nothing looks cut off."""
    first = f"{header}\n{body}" if body else header
    if utf16_len(first) <= limit:
        return [TextPiece(first, utf16_len(header))]
    # Leave room for "header (2/3)\n" on every piece.
    marker_room = utf16_len(header) + len(" (99/99)\n")
    chunks = split_text(body, limit - marker_room)
    total = len(chunks)
    pieces = []
    for number, chunk in enumerate(chunks, start=1):
        head = f"{header} ({number}/{total})"
        pieces.append(TextPiece(f"{head}\n{chunk}", utf16_len(head)))
    return pieces


def caption_with_header(header: str, caption: str | None) -> tuple[str, str | None]:
    """(caption for the copy, overflow text sent after it) within the caption limit."""
    full = f"{header}\n{caption}" if caption else header
    if utf16_len(full) <= CAPTION_LIMIT:
        return full, None
    return header, caption


def silent_copy(last_relay_at: datetime | None, now: datetime) -> bool:
    """Flood control: inside a burst, copies arrive without a notification sound."""
    return last_relay_at is not None and now - last_relay_at < BURST_WINDOW


def receipt_due(last_receipt_at: datetime | None, now: datetime) -> bool:
    """One receipt per burst: a parent sending five photos hears 'doorgestuurd' once."""
    return last_receipt_at is None or now - last_receipt_at >= RECEIPT_QUIET
