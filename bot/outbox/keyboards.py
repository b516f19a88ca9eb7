"""Bot API keyboards as the outbox stores them (plain JSON): inline buttons and reply keyboards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> dict[str, Any]:
    """An inline keyboard from (text, callback_data) pairs."""
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in row]
                                for row in rows]}


def reply_keyboard(rows: Sequence[Sequence[str]]) -> dict[str, Any]:
    return {"keyboard": [[{"text": text} for text in row] for row in rows],
            "resize_keyboard": True, "is_persistent": True}


def remove_reply_keyboard() -> dict[str, Any]:
    return {"remove_keyboard": True}
