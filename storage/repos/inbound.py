"""Updates stored before Telegram is told they arrived (the intake, bot/outbox/intake.py): kept
until handled, handled in the order Telegram numbered them within each chat; one that fails
every attempt is kept aside for the operator. And the poller lock: on PostgreSQL one instance
at a time polls Telegram."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import Database, upsert_insert
from storage.models import InboundUpdate

# Advisory lock of the instance that polls Telegram: "glpl", and one key (one bot per database).
POLLER_NAMESPACE = 0x676C706C
POLLER_KEY = 1
# A session whose client vanished without a goodbye (a network cut the server did not see) would
# hold the poller lock until TCP gives up, maybe hours: the server ends it once idle this long.
# The holder itself speaks on it before every getUpdates call.
POLLER_IDLE_LIMIT = "120s"


async def store_update(session: AsyncSession, dialect: str, update_id: int,
                       payload: dict[str, Any], received_at: datetime,
                       chat_id: int | None = None) -> None:
    """Store an update once: one that is stored already (Telegram sent it again) is left be."""
    insert = upsert_insert(dialect)
    await session.execute(
        insert(InboundUpdate)
        .values(update_id=update_id, payload=payload, received_at=received_at, attempts=0,
                chat_id=chat_id)
        .on_conflict_do_nothing(index_elements=["update_id"]))


async def updates_to_handle(session: AsyncSession, limit: int,
                            waiting_chats: Collection[int] = ()) -> Sequence[InboundUpdate]:
    """The oldest updates not kept aside, leaving out the chats that wait for an earlier update
    of theirs (so a chat with many waiting updates cannot fill the batch)."""
    query = select(InboundUpdate).where(InboundUpdate.kept_aside_at.is_(None))
    if waiting_chats:
        query = query.where(or_(InboundUpdate.chat_id.is_(None),
                                InboundUpdate.chat_id.not_in(list(waiting_chats))))
    return (await session.scalars(query.order_by(InboundUpdate.update_id).limit(limit))).all()


async def delete_update(session: AsyncSession, update_id: int) -> bool:
    """Delete a stored update; False when it was gone already (handled elsewhere)."""
    result = await session.execute(
        delete(InboundUpdate).where(InboundUpdate.update_id == update_id))
    return bool(getattr(result, "rowcount", 1))


async def count_failure(session: AsyncSession, update_id: int, error: str, now: datetime,
                        max_attempts: int) -> bool:
    """Count a failed attempt (`error`: the error's kind, no content). True when it was the
    last one and the update is now kept aside: by this call only, so one instance, not two,
    tells the sender."""
    attempts = await session.scalar(
        update(InboundUpdate)
        .where(InboundUpdate.update_id == update_id, InboundUpdate.kept_aside_at.is_(None))
        .values(attempts=InboundUpdate.attempts + 1, last_error=error[:80])
        .returning(InboundUpdate.attempts))
    if attempts is None or attempts < max_attempts:
        return False
    await session.execute(update(InboundUpdate).where(InboundUpdate.update_id == update_id)
                          .values(kept_aside_at=now))
    return True


class PollerLock:
    """The right to poll Telegram (PostgreSQL): a session-level advisory lock on a connection of
    its own, held while this instance polls. The server frees it when the connection ends."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @classmethod
    async def try_take(cls, db: Database) -> PollerLock | None:
        """The lock, or None while another instance holds it."""
        connection = await db.engine.connect()
        try:
            taken = await connection.scalar(select(func.pg_try_advisory_lock(
                POLLER_NAMESPACE, POLLER_KEY)))
            await connection.commit()  # a session lock: it stays after the commit
            if not taken:
                await connection.close()
                return None
            try:
                await connection.exec_driver_sql(
                    f"SET idle_session_timeout = '{POLLER_IDLE_LIMIT}'")
                await connection.commit()
            except DBAPIError:  # a server older than PostgreSQL 14 does without
                await connection.rollback()
        except BaseException:
            await _close(connection)
            raise
        return cls(connection)

    async def check(self) -> None:
        """Raises when the connection (and with it the lock) was lost."""
        await self._connection.exec_driver_sql("SELECT 1")
        await self._connection.commit()

    async def release(self) -> None:
        """Give the lock up by closing its connection for good (back in the pool, the session
        and its lock would live on)."""
        await _close(self._connection)


async def _close(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()
