"""What the local Bot API server records: calls, messages in chats, files, and the faults it
injects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA_KINDS = ("photo", "document", "voice", "audio", "video", "video_note", "animation", "sticker")
OTHER_KINDS = ("location", "venue", "contact", "poll", "dice")
# Animation before document and venue before location: such messages carry both.
KINDS = ("animation", *MEDIA_KINDS, "venue", "location", "contact", "poll", "dice")
# The fields of a stored payload that appear in the Message object Telegram returns.
MESSAGE_FIELDS = frozenset(
    {
        "text",
        "entities",
        "caption",
        "caption_entities",
        "reply_to_message",
        "forward_origin",
        "edit_date",
        "media_group_id",
        "has_protected_content",
        *MEDIA_KINDS,
        *OTHER_KINDS,
    }
)


class BotApiError(Exception):
    """A failed Bot API call, answered as Telegram does: {"ok": false, "error_code", …}."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(problem: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {problem}")


@dataclass
class StoredFile:
    """A file Telegram keeps: sent by a person (stand-in bytes) or uploaded by the bot."""

    file_id: str
    kind: str
    json: Any  # what a Message carries for it (a list of sizes for a photo)
    content: bytes
    file_name: str | None = None


@dataclass
class ApiCall:
    """One request that reached the server, and how it was answered."""

    method: str  # canonical spelling (as in the Bot API) when the method exists
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    description: str | None
    at: float
    result: Any = None


@dataclass
class ChatMessage:
    """A message in some chat, as Telegram holds it: from a person or from the bot."""

    chat_id: int
    message_id: int
    from_bot: bool
    payload: dict[str, Any]
    at: float
    sender_id: int | None = None  # the person who wrote it (None for the bot)
    copied_from: tuple[int, int] | None = None  # (chat_id, message_id) of the original
    deleted: bool = False
    date: int = 0  # the Message's date: Unix time from the server's `now` (maybe simulated)

    @property
    def text(self) -> str:
        return str(self.payload.get("text") or self.payload.get("caption") or "")

    @property
    def kind(self) -> str:
        return next((kind for kind in KINDS if kind in self.payload), "text")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, and reply-keyboard buttons (those carry only a text to send)."""
        markup = self.payload.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [
            button if isinstance(button, dict) else {"text": str(button)}
            for row in rows
            if isinstance(row, list)
            for button in row
        ]

    @property
    def button_texts(self) -> list[str]:
        return [str(button.get("text", "")) for button in self.buttons]

    @property
    def reply_to_message_id(self) -> int | None:
        parameters = self.payload.get("reply_parameters")
        if isinstance(parameters, dict) and "message_id" in parameters:
            return int(parameters["message_id"])
        if self.payload.get("reply_to_message_id") is not None:
            return int(self.payload["reply_to_message_id"])
        replied = self.payload.get("reply_to_message")
        if isinstance(replied, dict) and "message_id" in replied:
            return int(replied["message_id"])
        return None

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        return (
            f"ChatMessage(chat {self.chat_id} #{self.message_id} from {who}, {self.kind}: "
            f"{self.text[:60]!r})"
        )


@dataclass
class Trap:
    """Do something (SIGKILL the bot, cut its database…) when the server receives the `nth`
    call of `method` that `match` accepts, counted from when the trap is set.

    Before (`after=False`): the call is not handled at all, and its connection is closed
    unanswered (for a send: not delivered). After (`after=True`): the call is handled (a send is
    delivered, getUpdates hands its updates out) and recorded, then the answer is withheld and
    the connection closed: the window between a send and the bot recording it.
    `match(params, result)` sees the result only after handling (None before). With
    `hangup=False` the call goes on as usual after the action (e.g. cut the bot's database the
    moment a send is delivered)."""

    method: str
    action: Callable[[], None]
    nth: int = 1
    after: bool = False
    match: Callable[[dict[str, Any], Any], bool] | None = None
    hangup: bool = True
    seen: int = 0
    fired: bool = False
    call: ApiCall | None = None  # the call it fired on (recorded, as dropped when before)

    def hit(self, method: str, params: dict[str, Any], result: Any, after: bool) -> bool:
        if self.fired or after != self.after or method.lower() != self.method.lower():
            return False
        if self.match is not None and not self.match(params, result):
            return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        self.fired = True
        return True


@dataclass
class Faults:
    """Ways the server misbehaves on send-type calls, switched on by tests and the demo."""

    retry_after: int = 0  # the next send gets 429 with this retry_after; the window holds after
    server_errors: int = 0  # answer the next N sends with `server_error_code`
    server_error_code: int = 502
    timeouts: int = 0  # deliver the next N sends but answer only after `timeout_delay` seconds
    timeout_delay: float = 6.0
    drop_connections: int = 0  # close the next N sends' connections unanswered, not delivered
    seen_429: int = 0  # every 429 answered
    early_retries: int = 0  # sends that came back while a retry_after window was still open
    blocked_until: float = field(default=0.0, repr=False)
    traps: list[Trap] = field(default_factory=list)  # see Trap; each fires once
    # Per-chat outages (fail_chat): chat id → (until, in real Unix time; the 5xx answered).
    chat_outages: dict[int, tuple[float, int]] = field(default_factory=dict)
    outage_refusals: int = 0  # sends refused by a chat's outage

    def fail_chat(self, chat_id: int, seconds: float, code: int = 502) -> None:
        """For `seconds` of real time, answer every send to this chat (its `chat_id`) with
        `code`, while other chats go on as usual: the way to one chat fails, not Telegram."""
        self.chat_outages[int(chat_id)] = (time.time() + seconds, code)

    def outage_code(self, chat_id: Any) -> int | None:
        """The 5xx a send to this chat gets now, None when its chat has no outage."""
        try:
            chat = int(str(chat_id))
        except ValueError:
            return None
        until, code = self.chat_outages.get(chat, (0.0, 0))
        return code if time.time() < until else None
