"""A message's kind read from its fields as asked (handlers/common.kind_of) is the kind its
whole dict gives (bot/domain/relay.message_kind): for every kind the line knows, for service
messages, and for a kind this python-telegram-bot does not know yet."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Message

from bot.domain.relay import COPYABLE, UNCOPYABLE, message_kind
from handlers.common import kind_of

BASE: dict[str, Any] = {"message_id": 7, "date": 1764835200,
                        "chat": {"id": 42, "type": "private"},
                        "from": {"id": 42, "is_bot": False, "first_name": "Marieke"}}
FILE = {"file_id": "f", "file_unique_id": "u"}
FIELDS: dict[str, Any] = {
    "text": {"text": "hoi"},
    "empty text": {"text": ""},
    "photo": {"photo": [{**FILE, "width": 1, "height": 1}], "caption": "brief"},
    "video": {"video": {**FILE, "width": 1, "height": 1, "duration": 1}},
    "document": {"document": FILE},
    "audio": {"audio": {**FILE, "duration": 1}},
    "voice": {"voice": {**FILE, "duration": 1}},
    "animation": {"animation": {**FILE, "width": 1, "height": 1, "duration": 1}},
    "sticker": {"sticker": {**FILE, "width": 1, "height": 1, "is_animated": False,
                            "is_video": False, "type": "regular"}},
    "video_note": {"video_note": {**FILE, "length": 1, "duration": 1}},
    "venue": {"venue": {"location": {"latitude": 52.0, "longitude": 5.0}, "title": "t",
                        "address": "a"}, "location": {"latitude": 52.0, "longitude": 5.0}},
    "location": {"location": {"latitude": 52.0, "longitude": 5.0}},
    "contact": {"contact": {"phone_number": "0612345678", "first_name": "Ann"}},
    "poll": {"poll": {"id": "p", "question": "?", "options": [], "total_voter_count": 0,
                      "is_closed": False, "is_anonymous": True, "type": "regular",
                      "allows_multiple_answers": False, "allows_revoting": False,
                      "members_only": False}},
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
    "unknown to this library": {"checklist": {"title": "boodschappen", "tasks": []},
                                "some_future_kind": {"x": 1}},
    "service": {"new_chat_members": [{"id": 5, "is_bot": False, "first_name": "B"}]},
    "nothing": {},
}


@pytest.mark.parametrize("name", FIELDS)
def test_the_kind_is_the_whole_dicts(name: str) -> None:
    message = Message.de_json({**BASE, **FIELDS[name]}, Bot("1:x"))
    assert message is not None
    assert kind_of(message) == message_kind(message.to_dict())


def test_every_kind_the_line_knows_is_told_apart() -> None:
    seen = {kind_of(Message.de_json({**BASE, **fields}, Bot("1:x")))  # type: ignore[arg-type]
            for fields in FIELDS.values()}
    assert seen == {"text", "other", "poll", "dice", "checklist", *COPYABLE}
    assert "checklist" in UNCOPYABLE


def test_the_fields_are_the_dicts_even_for_a_kind_this_library_does_not_know() -> None:
    from handlers.common import _Fields

    message = Message.de_json({**BASE, **FIELDS["unknown to this library"]}, Bot("1:x"))
    assert message is not None
    fields, whole = _Fields(message), message.to_dict()
    assert fields.get("some_future_kind") == whole["some_future_kind"] == {"x": 1}
    for name in ("photo", "text", "caption", "entities", "new_chat_members"):
        assert (name in fields) == (name in whole), name  # empty tuples are not there
    assert set(fields) == set(whole) and len(fields) == len(whole)
