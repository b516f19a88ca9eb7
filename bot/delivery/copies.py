"""Copies between family and coach (PRODUCT.md §2.2): how a family message reads in the
coach's chat, live or in the digest of held messages, and how a coach's message reads in the
family's chats. Each copy is linked, so a *reply* to it finds its way back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.delivery import signal_text
from bot.domain.relay import (
    COPYABLE,
    caption_with_header,
    header_line,
    utf16_len,
    with_header,
)
from bot.i18n import translator
from bot.outbox import Link, Outgoing
from storage.models import Family, FamilyMessage, Member, Staff


def copy_to_coach(out: Outgoing, coach: Staff, family: Family, member: Member | None,
                  message: FamilyMessage, *, silent: bool, flag: str = "",
                  due_at: datetime | None = None, purpose: str = "relay") -> None:
    """One family message as the coach sees it: the header line, then the content. Every piece
    is linked, so a *reply* on any of them reaches the member who wrote."""
    if coach.chat_id is None:
        return
    tr = translator(coach.language, family.region, family.timezone)
    first_name = member.first_name if member else tr.gettext("(gestopt)")
    role = member.role if member else ""
    header = flag + header_line(family.alias, first_name, role, tr.time(message.received_at))
    link = Link(family.id, member.id if member else None, message.id)
    gone = tr.gettext("(Dit bericht is niet meer beschikbaar.)")
    if message.kind in ("text", signal_text.KIND):
        # A text held past the retention period lost its words: say so, not a bare header.
        body = message.body if message.body is not None else gone
        if message.kind == signal_text.KIND:
            body = signal_text.render(tr, body)
        for piece in with_header(header, body):
            out.text(coach.chat_id, piece.text, bold_units=piece.bold_units, silent=silent,
                     link=link, due_at=due_at, purpose=purpose)
        return
    if message.chat_id is None or message.telegram_message_id is None:
        out.text(coach.chat_id, f"{header}\n{gone}", bold_units=utf16_len(header),
                 silent=silent, link=link, due_at=due_at, purpose=purpose)
        return
    if COPYABLE.get(message.kind, False):
        caption, overflow = caption_with_header(header, message.body)
        out.copy(coach.chat_id, message.chat_id, message.telegram_message_id, caption=caption,
                 bold_units=utf16_len(header), silent=silent, link=link, due_at=due_at,
                 purpose=purpose, fallback_text=f"{header}\n{gone}")
        if overflow:
            for piece in with_header(header, overflow):
                out.text(coach.chat_id, piece.text, bold_units=piece.bold_units, silent=True,
                         link=link, due_at=due_at, purpose=purpose)
        return
    # Stickers, locations, contacts carry no caption: the header goes just before the copy.
    out.text(coach.chat_id, header, bold_units=utf16_len(header), silent=silent, link=link,
             due_at=due_at, purpose=purpose)
    out.copy(coach.chat_id, message.chat_id, message.telegram_message_id, silent=True,
             link=link, due_at=due_at, purpose=purpose, fallback_text=f"{header}\n{gone}")


def copy_to_members(out: Outgoing, coach: Staff, family: Family, members: Sequence[Member],
                    chat_id: int, message_id: int, kind: str, body: str | None) -> None:
    """A coach's message as the family sees it: the coach's name above it. The coach's own
    Telegram account stays hidden (copies, never forwards)."""
    header = coach.display_name
    for member in members:
        link = Link(family.id, member.id)
        if kind == "text":
            for piece in with_header(header, body or ""):
                out.text(member.chat_id, piece.text, bold_units=piece.bold_units, link=link,
                         purpose="answer")
        elif COPYABLE.get(kind, False):
            caption, overflow = caption_with_header(header, body)
            out.copy(member.chat_id, chat_id, message_id, caption=caption,
                     bold_units=utf16_len(header), link=link, purpose="answer")
            if overflow:
                for piece in with_header(header, overflow):
                    out.text(member.chat_id, piece.text, bold_units=piece.bold_units,
                             link=link, purpose="answer")
        else:
            # A sticker or a location carries no caption: a line that says who sends it comes
            # first (a bare name on its own reads like a message cut off).
            tr = translator(member.language, family.region, family.timezone)
            intro = tr.gettext("{name} stuurt:").format(name=header)
            out.text(member.chat_id, intro, link=link,
                     purpose="answer")
            out.copy(member.chat_id, chat_id, message_id, link=link, purpose="answer")
