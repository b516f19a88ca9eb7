"""Shared by the fault suite and the soak: a clock that runs by itself and can jump, a line of
families and coaches written straight into the database, the bot in-process or as
`python -m bot.cli run` processes, a TCP proxy that can cut the bot off its PostgreSQL, and
the count of what reached whom (duplicates included)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot import outbox
from bot.app import Runtime
from bot.clock import utc
from bot.outbox.ratelimit import RateLimiter
from bot.settings import Settings
from bot.simulator import LocalBotApi, LocalUser
from bot.simulator.model import ApiCall, ChatMessage
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Family, FamilyCoach, FamilyMessage, Member, Outbox, Staff
from tests.caseload import joined_member, joined_staff
from tests.conftest import TEST_KEY, backlog

SEND_METHODS = frozenset({"sendMessage", "copyMessage", "setMessageReaction", "sendDocument",
                          "editMessageText", "editMessageReplyMarkup"})


class Seconds:
    """A monotonic clock (`time.monotonic`'s stand-in) moved by hand: the intake's for its
    retry pauses, the pool's for how long a connection lay idle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RunningClock:
    """The bot's clock here: it runs by itself at `speed` (so real-time waits such as backoff
    and leases behave as in production, and a fast clock shows that they stay real) and can
    jump, say to the next opening."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._start = utc(start)
        self._speed = speed
        self._origin = time.monotonic()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + self._offset + timedelta(seconds=elapsed)

    def real_seconds(self, simulated: float) -> float:
        return simulated / self._speed

    def set(self, moment: datetime) -> None:
        self._offset += utc(moment) - self.now()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


# The line: families, members and coaches, written straight into the database --------------
@dataclass
class Line:
    api: LocalBotApi
    coordinator: LocalUser
    coaches: dict[str, LocalUser]
    members: dict[str, LocalUser]
    coach_of: dict[str, LocalUser]  # member name → their coach
    alias_of: dict[str, str]  # member name → family alias
    family_ids: dict[str, int] = field(default_factory=dict)  # alias → id

    def member(self, name: str) -> LocalUser:
        return self.members[name]


async def seed_line(url: str, api: LocalBotApi, families: Sequence[tuple[str, str, list[str]]],
                    now: datetime, windows: dict[str, str] | None = None) -> Line:
    """Families (alias, coach name, member names) as onboarding would have left them, with the
    coordinator Carla. Everyone has written to the bot once (Telegram lets a bot write only to
    people who did); those hellos are dropped, they are not what the tests are about."""
    await upgrade_async(url)
    carla = api.user("Carla")
    coaches: dict[str, LocalUser] = {}
    members: dict[str, LocalUser] = {}
    coach_of: dict[str, LocalUser] = {}
    alias_of: dict[str, str] = {}
    for _alias, coach, names in families:
        if coach not in coaches:
            coaches[coach] = api.user(coach)
        for name in names:
            members[name] = api.user(name)
            coach_of[name] = coaches[coach]
            alias_of[name] = _alias
    for person in [carla, *coaches.values(), *members.values()]:
        person.send_text("hallo")
    api.drop_pending_updates()

    line = Line(api, carla, coaches, members, coach_of, alias_of)
    earlier = now - timedelta(days=30)
    db = Database(url)
    try:
        async with db.transaction() as session:
            staff: dict[str, Staff] = {}
            session.add(joined_staff(carla.chat_id, "Carla", earlier, coordinator=True))
            for name, person in coaches.items():
                staff[name] = joined_staff(person.chat_id, name, earlier, coach=True)
                session.add(staff[name])
            await session.flush()
            for alias, coach, names in families:
                family = Family(alias=alias, region="NL", timezone="Europe/Amsterdam",
                                windows=(windows or {}).get(alias), active=True,
                                created_at=earlier)
                session.add(family)
                await session.flush()
                line.family_ids[alias] = family.id
                session.add(FamilyCoach(family_id=family.id, staff_id=staff[coach].id,
                                        since=earlier))
                for name in names:
                    session.add(joined_member(family.id, members[name].chat_id, name, "ouder",
                                           earlier))
    finally:
        await db.dispose()
    return line


async def people_who_wrote(api: LocalBotApi, url: str, count: int) -> list[LocalUser]:
    """`count` people the bot may write to (each wrote once; those updates dropped), on a
    migrated database."""
    people = [api.user(f"P{n}") for n in range(count)]
    for person in people:
        person.send_text("hallo")
    api.drop_pending_updates()
    await upgrade_async(url)
    return people


async def queue_sends(url: str, out: outbox.Outgoing, now: datetime) -> None:
    """Put these sends in the outbox, as a unit of work of the bot would."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            await outbox.write(session, out.sends, now)
    finally:
        await db.dispose()


async def query(url: str, statement: Any) -> list[Any]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return list((await session.execute(statement)).all())
    finally:
        await db.dispose()


async def member_row(url: str, chat_id: int) -> Member:
    [(member,)] = await query(url, select(Member).where(Member.chat_id == chat_id))
    return member  # type: ignore[no-any-return]


async def queue_texts(url: str, chat_id: int, texts: Sequence[str], now: datetime,
                      purpose: str = "notice") -> list[int]:
    """Outbox rows for one chat, written straight into the database in one transaction (as a
    handler writes them), in this order; returns their ids. Wake the dispatcher after."""
    out = outbox.Outgoing()
    for text in texts:
        out.text(chat_id, text, purpose=purpose)
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = await outbox.write(session, out.sends, now)
            await session.flush()
            return [row.id for row in rows]
    finally:
        await db.dispose()


# The bot in this process ----------------------------------------------------------------------
WEBHOOK_SECRET = "s3cr3t-Token_for-the-fault-suite-0123"


def settings_for(api: LocalBotApi, db_url: str, tmp_path: Path) -> Settings:
    return Settings(telegram_token=api.token, telegram_api_url=api.base_url,
                    database_url=db_url, encryption_key=TEST_KEY,
                    key_file=tmp_path / "unused.key", webhook_secret=WEBHOOK_SECRET,
                    webhook_url="https://gezinslijn.example/telegram")


@contextlib.asynccontextmanager
async def running_bot(api: LocalBotApi, db_url: str, tmp_path: Path, clock: RunningClock, *,
                      paced: bool = True, read_timeout: float = 15.0, polling: bool = True
                      ) -> AsyncIterator[Runtime]:
    """`bot.app.Runtime` as `gezinslijn run` builds it (the rate limiter on unless `paced` is
    False), polling the local server (or, without `polling`, receiving by webhook)."""
    runtime = Runtime(settings_for(api, db_url, tmp_path), clock,
                      limiter=RateLimiter(enabled=paced), poll_timeout=1,
                      dispatcher_poll=0.05, read_timeout=read_timeout)
    await runtime.start(polling=polling)
    try:
        yield runtime
    finally:
        await runtime.stop()


def alive(runtime: Runtime) -> bool:
    """The intake and the dispatcher still run (none of their tasks ended or crashed)."""
    return bool(runtime.tasks) and not any(task.done() for task in runtime.tasks)


# What reached whom ----------------------------------------------------------------------------
def containing(person: LocalUser, token: str) -> list[ChatMessage]:
    """The bot's messages in this person's chat that carry `token` (a relayed text, a caption)."""
    return [m for m in person.inbox() if token in m.text]


def copies_of(person: LocalUser, original: ChatMessage) -> list[ChatMessage]:
    """Copies of a family member's message (a photo, a voice note) in this person's chat."""
    return [m for m in person.inbox()
            if m.copied_from == (original.chat_id, original.message_id)]


async def unrecorded(api: LocalBotApi, db_url: str, since: int = 0) -> list[ApiCall]:
    """Deliveries the bot did not record: each is a duplicate of a message it did record
    (once nothing is pending). A message put in a chat whose id no outbox row holds as its
    `sent_message_id` went out in an attempt whose answer the bot never stored: the send →
    record window (a kill, a time-out). Reactions are left out: setting one twice shows once."""
    recorded = {(int(chat), int(message)) for chat, message in await query(
        db_url, select(Outbox.chat_id, Outbox.sent_message_id).where(
            Outbox.status == "sent", Outbox.sent_message_id.is_not(None)))}
    found = []
    for call in api.calls[since:]:
        if not call.ok or not isinstance(call.result, dict) or "message_id" not in call.result:
            continue
        if (int(call.params["chat_id"]), int(call.result["message_id"])) not in recorded:
            found.append(call)
    return found


def describe(calls: Iterable[ApiCall]) -> list[str]:
    """Calls without their contents: method, chat and message id."""
    return [f"{c.method} to {c.params.get('chat_id')} (#"
            f"{c.result.get('message_id') if isinstance(c.result, dict) else '-'})"
            for c in calls]


def sends(api: LocalBotApi, chat_id: int | None = None, since: int = 0) -> list[ApiCall]:
    """Send calls that reached the server (answered or not), to one chat or to all."""
    return [c for c in api.calls[since:] if c.method in SEND_METHODS
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]


async def settled(api: LocalBotApi, db_url: str, timeout: float = 20) -> None:
    """Nothing left to send (no pending outbox row, no stored update) and the bot quiet."""
    deadline = time.monotonic() + timeout

    async def left(session: Any) -> str | None:
        stored, pending = await backlog(session)
        return f"still {pending} outbox rows and {stored} updates" if pending or stored else None

    await _until_found(api, db_url, left, deadline, timeout)
    await api.idle(timeout=max(deadline - time.monotonic(), 1))


async def all_held(api: LocalBotApi, db_url: str, count: int, timeout: float = 20) -> None:
    """`count` family messages stored and held, then `settled`: on a loaded machine a member's
    last message can still be on its way to the bot when the first answers came and the
    outbox is empty (a test that moved the clock then saw it handled after the move)."""
    deadline = time.monotonic() + timeout

    async def missing(session: Any) -> str | None:
        held = await session.scalar(select(func.count()).select_from(FamilyMessage)
                                    .where(FamilyMessage.status == "held"))
        return None if held == count else f"{held} family messages held, not {count}"

    await _until_found(api, db_url, missing, deadline, timeout)
    await settled(api, db_url, timeout=max(deadline - time.monotonic(), 1))


async def _until_found(api: LocalBotApi, db_url: str,
                       amiss: Callable[[Any], Awaitable[str | None]], deadline: float,
                       timeout: float) -> None:
    """Read the database with `amiss` until it finds nothing amiss, again whenever the Bot API
    server sees a call (at least every 0.2 s); past `deadline`, fail with what it found."""
    db = Database(db_url)
    try:
        while True:
            async with db.transaction() as session:
                found = await amiss(session)
            if found is None:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{found} after {timeout}s")
            await api.changed.wait(0.2)
    finally:
        await db.dispose()


async def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(step)
