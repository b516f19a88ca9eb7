"""Simulated Telegram users: what they send the bot, and what they have seen from it.

A person reaches the simulated Telegram through `Chats`, what they need of it; the server
(server.py) is the one that fits, and imports this module, not the other way round."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.simulator.model import ChatMessage
from bot.simulator.pulse import Pulse

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


class Chats(Protocol):
    """What a person needs of the simulated Telegram: chats to write in, updates to the bot,
    and what the bot put in their chat."""

    now: Callable[[], float]
    messages: list[ChatMessage]
    reply_keyboards: dict[int, ChatMessage]
    changed: Pulse
    last_update_id: int  # of the last update queued for the bot

    @property
    def bot_user_json(self) -> dict[str, Any]: ...

    def store_message(
        self, chat_id: int, payload: dict[str, Any], sender: LocalUser | None = None
    ) -> ChatMessage: ...

    def message_json(self, message: ChatMessage, nested: bool = False) -> dict[str, Any]: ...

    def push_update(self, body: dict[str, Any]) -> int: ...

    def new_file(
        self,
        kind: str,
        content: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> Any: ...

    def new_poll(self, question: str, options: tuple[str, ...] | list[str]) -> dict[str, Any]: ...

    def new_group(self, title: str) -> dict[str, Any]: ...

    def new_callback_query(self) -> str: ...


class LocalUser:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self, server: Chats, user_id: int, first_name: str, language_code: str = "nl"
    ) -> None:
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.started = False  # Telegram lets a bot write only to people who wrote to it first
        self.blocked = False
        self._read_upto = 0  # next_message's cursor into inbox()

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def user_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    @property
    def chat_json(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}

    def __repr__(self) -> str:
        return f"LocalUser({self.first_name!r}, id={self.user_id})"

    # What the person does ------------------------------------------------------------------------

    def send_raw(self, **message_fields: Any) -> ChatMessage:
        """Send a message with these Message fields (text, photo, …) to the bot."""
        if self.blocked:  # writing to a blocked bot means pressing "Restart" first
            self.unblock_bot()
        self.started = True
        message = self.server.store_message(self.chat_id, payload=dict(message_fields), sender=self)
        self.server.push_update({"message": self.server.message_json(message)})
        return message

    def send_text(self, text: str, reply_to: ChatMessage | None = None) -> ChatMessage:
        fields: dict[str, Any] = {"text": text}
        command = _COMMAND.match(text)
        if command:
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group(0))}
            ]
        if reply_to is not None:
            fields["reply_to_message"] = self.server.message_json(reply_to, nested=True)
        return self.send_raw(**fields)

    def _media(self, kind: str, caption: str | None = None, **extra: Any) -> ChatMessage:
        media = self.server.new_file(kind, **extra)
        fields: dict[str, Any] = {kind: media}
        if kind == "animation":  # Telegram also sends an animation as a document, for old clients
            fields["document"] = self.server.new_file(
                "document", file_name="animation.mp4", mime_type="video/mp4"
            )
        if caption is not None:
            fields["caption"] = caption
        return self.send_raw(**fields)

    def send_photo(self, caption: str | None = None) -> ChatMessage:
        return self._media("photo", caption)

    def send_voice(self) -> ChatMessage:
        return self._media("voice")

    def send_document(
        self, file_name: str = "brief.pdf", caption: str | None = None
    ) -> ChatMessage:
        return self._media("document", caption, file_name=file_name)

    def send_video(self, caption: str | None = None) -> ChatMessage:
        return self._media("video", caption)

    def send_audio(self) -> ChatMessage:
        return self._media("audio")

    def send_animation(self) -> ChatMessage:
        return self._media("animation")

    def send_sticker(self) -> ChatMessage:
        return self._media("sticker")

    def send_video_note(self) -> ChatMessage:
        return self._media("video_note")

    def send_location(self, latitude: float = 52.37, longitude: float = 4.89) -> ChatMessage:
        return self.send_raw(location={"latitude": latitude, "longitude": longitude})

    def send_venue(
        self,
        title: str = "Buurthuis",
        address: str = "Dorpsstraat 1",
        latitude: float = 52.37,
        longitude: float = 4.89,
    ) -> ChatMessage:
        location = {"latitude": latitude, "longitude": longitude}
        return self.send_raw(
            location=location, venue={"location": location, "title": title, "address": address}
        )

    def send_contact(self, phone: str = "+31600000000", first_name: str = "Ans") -> ChatMessage:
        return self.send_raw(contact={"phone_number": phone, "first_name": first_name})

    def send_poll(
        self, question: str = "Welke dag?", options: tuple[str, ...] = ("maandag", "dinsdag")
    ) -> ChatMessage:
        return self.send_raw(poll=self.server.new_poll(question, options))

    def send_dice(self, emoji: str = "🎲") -> ChatMessage:
        return self.send_raw(dice={"emoji": emoji, "value": 4})

    def edit(self, message: ChatMessage, text: str) -> None:
        """Edit one of this person's messages: the bot gets an edited_message update."""
        key = "caption" if message.kind != "text" else "text"
        message.payload[key] = text
        message.payload["edit_date"] = int(self.server.now())
        self.server.push_update({"edited_message": self.server.message_json(message)})

    def press(self, button_text: str, on: ChatMessage | None = None) -> None:
        """Tap a button found by its text (exact, else a case-insensitive part of it).

        An inline button sends its callback_data to the bot; a reply-keyboard button sends its
        text (or this person's contact or location, when the button asks for that).
        """
        candidates = [on] if on is not None else list(reversed(self.inbox()))
        for message in candidates:
            button = self._find_button(message, button_text)
            if button is None:
                continue
            if not _inline(message):
                self._tap_reply_button(button)
            elif "callback_data" in button:
                self.press_data(str(button["callback_data"]), message)
            else:  # url, web_app, …: these leave the chat, the bot hears nothing
                raise AssertionError(f"{self}: button {button} sends nothing to the bot")
            return
        seen = [m.button_texts for m in candidates[:5] if m.button_texts]
        raise AssertionError(f"{self}: no button like {button_text!r}; buttons seen: {seen}")

    def _find_button(self, message: ChatMessage, wanted: str) -> dict[str, Any] | None:
        if message.deleted:
            return None
        buttons = message.buttons
        if not _inline(message) and self.server.reply_keyboards.get(self.chat_id) is not message:
            buttons = []  # a reply keyboard replaced or removed since: not on screen any more
        for button in buttons:
            if button.get("text") == wanted:
                return button
        lowered = wanted.casefold()
        return next((b for b in buttons if lowered in str(b.get("text", "")).casefold()), None)

    def _tap_reply_button(self, button: dict[str, Any]) -> None:
        if button.get("request_contact"):
            self.send_raw(
                contact={
                    "phone_number": "+31611111111",
                    "first_name": self.first_name,
                    "user_id": self.user_id,
                }
            )
        elif button.get("request_location"):
            self.send_location()
        else:
            self.send_text(str(button["text"]))

    def press_data(self, data: str, on: ChatMessage) -> None:
        """A callback query with any data at all: what a forged or stale button sends."""
        query_id = self.server.new_callback_query()
        self.server.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user_json,
                    "chat_instance": str(self.chat_id),
                    "message": self.server.message_json(on),
                    "data": data,
                }
            }
        )

    def block_bot(self) -> None:
        self.blocked = True
        self._push_my_status("member", "kicked")

    def unblock_bot(self) -> None:
        self.blocked = False
        self._push_my_status("kicked", "member")

    def _push_my_status(self, old: str, new: str) -> None:
        bot = self.server.bot_user_json
        self.server.push_update(
            {
                "my_chat_member": {
                    "chat": self.chat_json,
                    "from": self.user_json,
                    "date": int(self.server.now()),
                    "old_chat_member": _member(old, bot),
                    "new_chat_member": _member(new, bot),
                }
            }
        )

    def add_bot_to_group(self, title: str = "Familie") -> int:
        """Add the bot to a new group and say something there; returns the group's chat id."""
        chat = self.server.new_group(title)
        bot = self.server.bot_user_json
        self.server.push_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": self.user_json,
                    "date": int(self.server.now()),
                    "old_chat_member": {"status": "left", "user": bot},
                    "new_chat_member": {"status": "member", "user": bot},
                }
            }
        )
        message = self.server.store_message(
            chat["id"], payload={"text": "hallo allemaal"}, sender=self
        )
        self.server.push_update({"message": self.server.message_json(message)})
        return int(chat["id"])

    # What the person has seen --------------------------------------------------------------------

    def inbox(self) -> list[ChatMessage]:
        """Every message from the bot in this person's chat, oldest first."""
        return [m for m in self.server.messages if m.chat_id == self.chat_id and m.from_bot]

    async def wait_for(
        self, predicate: Callable[[ChatMessage], bool], timeout: float = 10, after: int = 0
    ) -> ChatMessage:
        """The first message from the bot at inbox() index `after` or later that matches."""
        _index, message = await self._wait(predicate, timeout, after)
        return message

    async def next_message(self, timeout: float = 10) -> ChatMessage:
        """The next message from the bot that next_message has not returned yet."""
        index, message = await self._wait(lambda _: True, timeout, self._read_upto)
        self._read_upto = index + 1
        return message

    async def _wait(
        self, predicate: Callable[[ChatMessage], bool], timeout: float, after: int
    ) -> tuple[int, ChatMessage]:
        deadline = time.monotonic() + timeout
        while True:
            inbox = self.inbox()
            for index in range(after, len(inbox)):
                if predicate(inbox[index]):
                    return index, inbox[index]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [
                    f"{m.kind}: {m.text[:100]!r} {m.button_texts or ''}".strip()
                    for m in inbox[after:]
                ]
                raise AssertionError(
                    f"{self}: no matching message from the bot within {timeout}s "
                    f"(from inbox index {after}); saw {seen}"
                )
            await self.server.changed.wait(remaining)


def _inline(message: ChatMessage) -> bool:
    markup = message.payload.get("reply_markup")
    return isinstance(markup, dict) and "inline_keyboard" in markup


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}
