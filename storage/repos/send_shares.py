"""The instances' parts of Telegram's limit (PostgreSQL, several instances of one bot): each
reports what it has to send and the part it took, and takes its part in turn, under a lock,
so that the parts together stay within the limit (bot/outbox/ratelimit.fair_part)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, extract, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SendShare

# Not the liveness locks' namespace: those are counted as the live instances.
SHARE_NAMESPACE = 0x73686172
# A report older than this is of an instance that stopped (or is stuck): its part is free.
FRESH_SECONDS = 3.0
# Reports of instances gone this long are deleted.
FORGET_SECONDS = 600.0


def _db_now() -> ColumnElement[Any]:
    """The database's clock, in seconds since 1970: the instances' clocks may differ."""
    return extract("epoch", func.now())


async def take_turn(session: AsyncSession) -> None:
    """The instances take their parts one at a time: until this transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(SHARE_NAMESPACE, 0)))


async def others(session: AsyncSession, instance: str) -> list[tuple[int, int, int]]:
    """(people, bulk, part) of every other instance that reported lately."""
    rows = await session.execute(
        select(SendShare.people, SendShare.bulk, SendShare.part)
        .where(SendShare.instance != instance,
               SendShare.seen >= _db_now() - FRESH_SECONDS))
    return [(people, bulk, part) for people, bulk, part in rows]


async def report(session: AsyncSession, instance: str, people: int, bulk: int,
                 part: int) -> None:
    """This instance's demand and the part it takes now."""
    values = {"instance": instance, "people": people, "bulk": bulk, "part": part,
              "seen": _db_now()}
    await session.execute(
        insert(SendShare).values(values).on_conflict_do_update(
            index_elements=[SendShare.instance],
            set_={k: v for k, v in values.items() if k != "instance"}))


async def forget_gone(session: AsyncSession) -> None:
    """The reports of instances gone this long (they died without deleting theirs)."""
    await session.execute(delete(SendShare).where(
        SendShare.seen < _db_now() - FORGET_SECONDS))


async def forget(session: AsyncSession, instance: str) -> None:
    """This instance stops sending: its part is free at once."""
    await session.execute(delete(SendShare).where(SendShare.instance == instance))
