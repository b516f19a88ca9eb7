"""Writing to the outbox: every message the bot sends starts as a row here, in the same
transaction as the decision to send it. The dispatcher (bot/outbox/dispatcher.py) does the
sending."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.domain.relay import TEXT_LIMIT, split_text, utf16_len
from storage.db import Session
from storage.models import Outbox
from storage.repos import outbox as outbox_rows


@dataclass(frozen=True)
class Link:
    """Ties the sent message to a family (and member) so that a reply to it finds them."""

    family_id: int
    member_id: int | None = None
    family_message_id: int | None = None


@dataclass
class Send:
    chat_id: int
    method: str
    params: dict[str, Any]
    purpose: str
    due_at: datetime | None = None
    link: Link | None = None
    fallback: tuple[str, dict[str, Any]] | None = None
    # Past this the send is of no use (a reminder after its appointment): it expires.
    expires_at: datetime | None = None
    # Sent only after the send at this index in the same Outgoing was (a receipt after its
    # copy reached the coach), or after this outbox row written earlier was.
    after: int | None = None
    after_row: int | None = None
    # An ephemeral send (it names someone who left) that cannot reach its reader now: this
    # text, which names no one, waits for them instead (bot/outbox/dispatcher.py).
    kept: str | None = None


@dataclass
class Outgoing:
    """What one decision wants sent; handlers fill it and `write` stores it."""

    sends: list[Send] = field(default_factory=list)

    def text(
        self,
        chat_id: int,
        text: str,
        *,
        purpose: str = "answer",
        keyboard: dict[str, Any] | None = None,
        silent: bool = False,
        bold_units: int = 0,
        link: Link | None = None,
        due_at: datetime | None = None,
        reply_to: int | None = None,
        expires_at: datetime | None = None,
        after: int | None = None,
        after_row: int | None = None,
        kept: str | None = None,
    ) -> None:
        # Every text fits Telegram: a composed one (an agenda, a long list) over the limit goes
        # out as several messages, cut at a paragraph, line or word; the buttons come with the
        # last piece, the bold header and the quoted reply with the first.
        pieces = split_text(text, TEXT_LIMIT)
        for index, piece in enumerate(pieces):
            first, last = index == 0, index == len(pieces) - 1
            params: dict[str, Any] = {"text": piece if last else piece.rstrip() or piece}
            if keyboard is not None and last:
                params["reply_markup"] = keyboard
            if silent or not first:
                params["disable_notification"] = True
            if bold_units and first:
                params["entities"] = [{"type": "bold", "offset": 0,
                                       "length": min(bold_units, utf16_len(piece))}]
            if reply_to is not None and first:
                params["reply_parameters"] = {"message_id": reply_to,
                                              "allow_sending_without_reply": True}
            self.sends.append(Send(chat_id, "sendMessage", params, purpose, due_at, link,
                                   expires_at=expires_at, after=after, after_row=after_row,
                                   kept=kept))

    def copy(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        caption: str | None = None,
        bold_units: int = 0,
        silent: bool = False,
        purpose: str = "relay",
        link: Link | None = None,
        due_at: datetime | None = None,
        fallback_text: str | None = None,
        reply_to: int | None = None,
    ) -> None:
        params: dict[str, Any] = {"from_chat_id": from_chat_id, "message_id": message_id}
        if caption is not None:
            params["caption"] = caption
            if bold_units:
                params["caption_entities"] = [{"type": "bold", "offset": 0,
                                               "length": bold_units}]
        if silent:
            params["disable_notification"] = True
        if reply_to is not None:
            params["reply_parameters"] = {"message_id": reply_to,
                                          "allow_sending_without_reply": True}
        fallback = None
        if fallback_text is not None:
            fallback = ("sendMessage", {"text": fallback_text})
        self.sends.append(Send(chat_id, "copyMessage", params, purpose, due_at, link, fallback))

    def document(self, chat_id: int, filename: str, content: bytes, caption: str,
                 purpose: str = "answer") -> None:
        upload = {"name": filename, "b64": base64.b64encode(content).decode("ascii")}
        params: dict[str, Any] = {"document": {"__upload__": upload}, "caption": caption}
        self.sends.append(Send(chat_id, "sendDocument", params, purpose))

    def edit_text(self, chat_id: int, message_id: int, text: str,
                  keyboard: dict[str, Any] | None = None) -> None:
        params: dict[str, Any] = {"message_id": message_id, "text": text}
        if keyboard is not None:
            params["reply_markup"] = keyboard
        self.sends.append(Send(chat_id, "editMessageText", params, "edit"))

    def remove_buttons(self, chat_id: int, message_id: int, purpose: str = "edit") -> None:
        self.sends.append(Send(chat_id, "editMessageReplyMarkup", {"message_id": message_id},
                               purpose))

    def react(self, chat_id: int, message_id: int, emoji: str = "👍",
              after: int | None = None) -> None:
        params = {"message_id": message_id,
                  "reaction": [{"type": "emoji", "emoji": emoji}]}
        self.sends.append(Send(chat_id, "setMessageReaction", params, "receipt", after=after))

    @property
    def last(self) -> int | None:
        """The index of the latest send (for `after=`), None when there is none."""
        return len(self.sends) - 1 if self.sends else None

    def call(self, chat_id: int, method: str, params: dict[str, Any], purpose: str) -> None:
        self.sends.append(Send(chat_id, method, params, purpose))

    def extend(self, other: Outgoing) -> None:
        offset = len(self.sends)
        self.sends.extend(
            send if send.after is None else replace(send, after=send.after + offset)
            for send in other.sends)

    def __bool__(self) -> bool:
        return bool(self.sends)


async def write(session: Session, sends: Iterable[Send], now: datetime) -> Sequence[Outbox]:
    """The sends as outbox rows, in the caller's transaction, in their order (one statement
    for all of them: storage/repos/outbox.py add_pending_rows)."""
    rows: list[outbox_rows.NewRow] = []
    for send in sends:
        payload: dict[str, Any] = {"p": send.params}
        if send.fallback is not None:
            payload["fb"] = {"m": send.fallback[0], "p": send.fallback[1]}
        if send.kept is not None:
            payload["kept"] = {"p": {"text": send.kept}}
        link = send.link
        rows.append(outbox_rows.NewRow(
            chat_id=send.chat_id, method=send.method, payload=payload, purpose=send.purpose,
            due_at=send.due_at or now, expires_at=send.expires_at,
            link_family_id=link.family_id if link else None,
            link_member_id=link.member_id if link else None,
            link_message_id=link.family_message_id if link else None,
            after=send.after, waits_for=send.after_row))
    return await outbox_rows.add_pending_rows(session, rows, now)
