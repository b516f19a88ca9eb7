"""Shared by all handlers: the unit of work, who is asking, and their translator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import metrics, outbox
from bot.domain.relay import message_kind
from bot.i18n import Translator
from bot.outbox import Outgoing, together
from bot.outbox.dispatcher import RecordsNotCarried
from bot.services import Services
from bot.unit import Unit
from storage.models import Family, Member, Staff
from storage.repos import families, people
from storage.repos import outbox as outbox_rows
from storage.repos.families import StaffAround

Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    found: Services = context.bot_data["services"]
    return found


def kind_of(message: Message) -> str:
    """bot/domain/relay.message_kind of a message, its fields read only as asked: to_dict()
    builds every field's dict first, 2 % of a relayed message's CPU (bench/README.md)."""
    return message_kind(_Fields(message))


class _Fields(Mapping[str, Any]):
    """A message's fields by their Bot API names, as to_dict() would give them: absent or
    empty ones are not there; the ones this python-telegram-bot does not know are in its
    api_kwargs."""

    def __init__(self, message: Message) -> None:
        self._message = message

    def __getitem__(self, name: str) -> Any:
        value = getattr(self._message, name, None)
        if value is None:
            value = self._message.api_kwargs.get(name)
        if value is None or value == ():
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._message.to_dict())

    def __len__(self) -> int:
        return len(self._message.to_dict())


class RetryLater(Exception):
    """Raised by a handler when the update is fine but must wait a moment (its unit of work is
    rolled back; the intake handles it again shortly, without counting an attempt)."""


@dataclass
class Who:
    chat_id: int
    member: Member | None
    family: Family | None
    staff: Staff | None
    telegram_language: str | None
    # A member's: everyone their messages may go to, read with them (families.MemberAt).
    around: StaffAround | None = None

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def is_coach(self) -> bool:
        return self.staff is not None and self.staff.is_coach

    @property
    def is_coordinator(self) -> bool:
        return self.staff is not None and self.staff.is_coordinator

    @property
    def is_stranger(self) -> bool:
        return self.member is None and self.staff is None


@dataclass
class Work(Unit):
    """One update's unit of work (bot/unit.py), and who is asking."""

    # The message a command came in (router.command): what a command shows back or sends on
    # of what was typed after its fields refers to it.
    command_message_id: int | None = None

    async def who(self, update: Update) -> Who:
        chat = update.effective_chat
        user = update.effective_user
        chat_id = chat.id if chat else (user.id if user else 0)
        found = await families.member_and_family(self.session, chat_id, self.now)
        member, family = (found.member, found.family) if found else (None, None)
        around = found.around if found else None
        staff = None if member else await people.staff_by_chat(self.session, chat_id)
        if (member is not None and member.blocked_at is not None) or (
                staff is not None and staff.blocked_at is not None):
            # Writing to the bot again: they can be reached, what waited for them may go.
            await people.clear_blocked(self.session, chat_id)
            await outbox_rows.unpark(self.session, chat_id)
            self.session.expire_all()
            around = None  # expired with the rest: read again when needed
            member = await people.member_by_chat(self.session, chat_id)
            staff = None if member else await people.staff_by_chat(self.session, chat_id)
        return Who(chat_id, member, family, staff, user.language_code if user else None,
                   around)

    def tr(self, who: Who) -> Translator:
        return self.tr_for(who.member, who.family, who.staff, who.telegram_language)

    def answer(self, who: Who, text: str, **kwargs: Any) -> None:
        self.out.text(who.chat_id, text, **kwargs)


@asynccontextmanager
async def work(context: Context) -> AsyncIterator[Work]:
    """One transaction for the whole update; the outbox rows are written inside it, and the
    dispatcher is woken only after the commit. The records of sends made meanwhile go in the
    same commit (Dispatcher.carrier). Where the intake handles several fetched updates
    together, the unit joins their transaction instead (bot/outbox/together.py)."""
    svc = services(context)
    now = svc.clock.now()
    out = Outgoing()
    shared = together.current(svc.db)
    if shared is not None:  # its transaction is the one the unit joins: its end waits
        async with metrics.timed(svc), svc.db.transaction() as session:
            unit = Work(session, out, now, svc)
            yield unit
            shared.commit.add(await outbox.write(session, out.sends, now), bool(out),
                              unit.after_commit)
        return
    commit = together.OutboxCommit(svc)
    try:
        async with metrics.timed(svc), svc.db.transaction() as session:
            unit = Work(session, out, now, svc)
            yield unit
            commit.add(await outbox.write(session, out.sends, now), bool(out),
                       unit.after_commit)
            try:
                await commit.before_commit(session, now)
            except RecordsNotCarried as error:  # tried again in a moment, uncounted
                raise RetryLater(str(error)) from error
    except BaseException:
        commit.rolled_back()
        raise
    await commit.committed(session)
