"""Family messages and their relay links: storing what a member wrote, holding and
releasing, the answers and nudges, and the copy a coach's reply answers. Never commits: the
caller's unit of work does."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, make_transient_to_detached

from storage import direct, sealing
from storage.db import table_of
from storage.models import FamilyMessage, RelayLink


async def add(session: AsyncSession, message: FamilyMessage) -> None:
    """Store a new family message, with its id (the copies link to it): one INSERT …
    RETURNING on the session's connection, the body sealed as a mapped row's is
    (storage/sealing.py); then the object joins the session as a stored row, whose later
    changes are flushed as any row's. Not through the unit of work: the flush of every
    relayed message was about a tenth of the bot's busy time in a relay burst (py-spy,
    bench/README.md), for one row."""
    given = {key: getattr(message, key) for key in _UNGIVEN if key in message.__dict__}
    sealed_columns = FamilyMessage.__sealed__[1]

    def insert_one(sync_session: Any) -> Any:
        connection = sync_session.connection()
        values = {**_UNGIVEN, **given}
        for name in sealed_columns:
            if values.get(name) is not None:
                token = sealing.seal_for_family(connection, sync_session, message.family_id,
                                                values[name])
                if token is not None:
                    values[name] = token
        ran = direct.run(connection, _INSERT_MESSAGE,
                         {f"v_{name}": value for name, value in values.items()})
        (stored,) = ran.mappings()
        return stored

    stored = await session.run_sync(insert_one)
    for name, value in stored.items():  # (sealed columns are not returned)
        if name not in given:
            setattr(message, name, value)  # the id and the columns' defaults
    make_transient_to_detached(message)
    session.add(message)


# Every column but the id a parameter (storage/direct.py runs it as it is): a column not
# given its default, as the ORM would write it (the defaults are plain values).
_UNGIVEN = {column.key: getattr(column.default, "arg", None)
            for column in table_of(FamilyMessage).columns if not column.primary_key}
if any(callable(value) for value in _UNGIVEN.values()):
    raise TypeError("family_message: a column's default is computed; give it in add()")
_INSERT_MESSAGE = insert(table_of(FamilyMessage)).values(
    {column: bindparam(f"v_{column.key}", type_=column.type)
     for column in table_of(FamilyMessage).columns if not column.primary_key}).returning(
    *(column for column in table_of(FamilyMessage).columns
      if column.key not in FamilyMessage.__sealed__[1]))


def _held_due(now: datetime) -> Any:
    return and_(FamilyMessage.status == "held", FamilyMessage.hold_until <= now)


def held_due(now: datetime) -> Any:
    """For probes.which_due: a held message's release time has come (claim_held_due)."""
    return exists().where(_held_due(now))


async def claim_held_due(session: AsyncSession, now: datetime, limit: int
                         ) -> Sequence[FamilyMessage]:
    """Held messages whose release time has come, per family in the order written, claimed
    under SKIP LOCKED (each goes to one instance)."""
    return (await session.scalars(
        select(FamilyMessage)
        .where(_held_due(now))
        .order_by(FamilyMessage.family_id, FamilyMessage.received_at, FamilyMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True))).all()


async def by_id(session: AsyncSession, message_id: int) -> FamilyMessage | None:
    return await session.get(FamilyMessage, message_id)


async def mark_arrived(session: AsyncSession, message_id: int, now: datetime) -> None:
    """A message that waited for an unreachable coach reached them now. (Run for the copies
    whose mark found their message waiting, storage/repos/outbox.py `mark_sent`: built once,
    on the table, as that mark is.)"""
    await session.execute(_arrived_statement(), {"m_id": message_id, "m_now": now})


@functools.cache
def _arrived_statement() -> Any:
    c = table_of(FamilyMessage).c
    return (update(table_of(FamilyMessage))
            .where(c.id == bindparam("m_id"), c.status == "waiting")
            .values(status="delivered", delivered_at=bindparam("m_now", type_=c.delivered_at.type)))


async def waiting_in_family(session: AsyncSession, family_id: int) -> int:
    """This family's messages that wait for a coach who cannot be reached."""
    return int(await session.scalar(select(func.count()).select_from(FamilyMessage).where(
        FamilyMessage.family_id == family_id, FamilyMessage.status == "waiting")) or 0)


async def member_was_told_of_waiting(session: AsyncSession, member_id: int,
                                     besides: int) -> bool:
    """Another message of this member waits for a coach who cannot be reached (they were told
    why when it began)."""
    return bool(await session.scalar(select(exists().where(
        FamilyMessage.member_id == member_id, FamilyMessage.status == "waiting",
        FamilyMessage.id != besides))))


async def hold_until(session: AsyncSession, family_id: int, until: datetime) -> None:
    """The family's held messages now wait until `until`."""
    await session.execute(
        update(FamilyMessage).where(FamilyMessage.family_id == family_id,
                                    FamilyMessage.status == "held")
        .values(hold_until=until))


async def claim_unanswered(session: AsyncSession, delivered_before: datetime
                           ) -> Sequence[FamilyMessage]:
    """Delivered family messages (not signals) without an answer since before
    `delivered_before` and not escalated yet, per family oldest first; claimed under SKIP
    LOCKED (each goes to one instance). Without their contents: a look reads thousands on a
    busy evening, and opening each one's body was work for nothing (bench/README.md)."""
    return (await session.scalars(
        select(FamilyMessage).options(defer(FamilyMessage.body)).where(
            FamilyMessage.status == "delivered", FamilyMessage.answered_at.is_(None),
            FamilyMessage.kind != "signal", FamilyMessage.escalated_at.is_(None),
            FamilyMessage.delivered_at.is_not(None),
            FamilyMessage.delivered_at <= delivered_before)
        .order_by(FamilyMessage.family_id, FamilyMessage.delivered_at)
        .with_for_update(skip_locked=True))).all()


async def mark_answered(session: AsyncSession, family_id: int, now: datetime) -> None:
    """A coach answered the family: what they have seen is answered — the messages delivered
    to them by `now`. A message still held (not seen yet) or waiting for a coach who cannot be
    reached stays open, so it is still nudged and listed in the agenda."""
    await session.execute(
        update(FamilyMessage).where(FamilyMessage.family_id == family_id,
                                    FamilyMessage.answered_at.is_(None),
                                    FamilyMessage.status == "delivered",
                                    FamilyMessage.delivered_at.is_not(None),
                                    FamilyMessage.delivered_at <= now)
        .values(answered_at=now))


async def relay_link(session: AsyncSession, chat_id: int, message_id: int) -> RelayLink | None:
    result: RelayLink | None = await session.scalar(
        select(RelayLink).where(RelayLink.chat_id == chat_id, RelayLink.message_id == message_id))
    return result
