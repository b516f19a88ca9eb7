"""The outbox and its claims: the statements of the writer and the dispatcher (bot/outbox/).

A row is claimed with a lease (on PostgreSQL under `FOR UPDATE SKIP LOCKED`, so several
instances never take the same row), and its result is recorded by whoever holds the claim. On
PostgreSQL each dispatcher holds a session-level advisory lock, its *liveness lock*, on a
connection of its own; the claims of an instance whose lock is free are released. These
functions never commit, except the liveness lock's own connection (`LivenessLock`), which is
not a unit of work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import Database
from storage.models import Outbox, RelayLink

# pg_advisory_lock(namespace, key): the namespace keeps these apart from any other use.
LIVENESS_NAMESPACE = 0x676C6976
LAST_ERROR_LENGTH = 200  # outbox.last_error is a String(200)


def error_may_pass(error: Exception) -> bool:
    """A database error that may pass (the connection, a lock), not one in the statement."""
    return not isinstance(error, IntegrityError | ProgrammingError | DataError)


# Writing -----------------------------------------------------------------------------------------
def add_pending(session: AsyncSession, *, chat_id: int, method: str, payload: dict[str, Any],
                purpose: str, due_at: datetime, created_at: datetime,
                link_family_id: int | None, link_member_id: int | None,
                link_message_id: int | None) -> Outbox:
    """A new row for the dispatcher, in the caller's transaction."""
    row = Outbox(
        chat_id=chat_id,
        method=method,
        payload=payload,
        purpose=purpose,
        due_at=due_at,
        created_at=created_at,
        status="pending",
        attempts=0,
        link_family_id=link_family_id,
        link_member_id=link_member_id,
        link_message_id=link_message_id,
    )
    session.add(row)
    return row


# Claims ------------------------------------------------------------------------------------------
async def claim_due(session: AsyncSession, now: datetime, limit: int, instance: str,
                    until: datetime) -> list[Outbox]:
    """Claim up to `limit` due rows that nobody holds (first due first) for `instance`."""
    query = (
        select(Outbox)
        .where(Outbox.status == "pending", Outbox.due_at <= now,
               or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now))
        .order_by(Outbox.due_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.scalars(query)).all())
    if rows:
        await session.execute(
            update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
            .values(claimed_by=instance, claimed_until=until))
    return rows


async def release_claims(session: AsyncSession, row_ids: Sequence[int]) -> None:
    """These rows go back to the queue as they are (not tried, nothing counted)."""
    await session.execute(update(Outbox).where(Outbox.id.in_(row_ids))
                          .values(claimed_by=None, claimed_until=None))


async def release_every_claim(session: AsyncSession) -> None:
    """Every pending row goes back to the queue, whoever claimed it."""
    await session.execute(
        update(Outbox).where(Outbox.status == "pending", Outbox.claimed_by.is_not(None))
        .values(claimed_by=None, claimed_until=None))


async def claimants_besides(session: AsyncSession, instance: str) -> Sequence[str | None]:
    """The other instances that hold claims on pending rows."""
    return (await session.scalars(
        select(Outbox.claimed_by).where(Outbox.status == "pending",
                                        Outbox.claimed_by.is_not(None),
                                        Outbox.claimed_by != instance)
        .distinct())).all()


async def release_claims_of(session: AsyncSession, instance: str | None) -> int:
    """The pending rows `instance` claimed go back to the queue; how many."""
    result = await session.execute(
        update(Outbox).where(Outbox.status == "pending", Outbox.claimed_by == instance)
        .values(claimed_by=None, claimed_until=None))
    return int(getattr(result, "rowcount", 0) or 0)


# Results -----------------------------------------------------------------------------------------
async def delete_row(session: AsyncSession, row_id: int) -> None:
    await session.execute(delete(Outbox).where(Outbox.id == row_id))


async def mark_sent(session: AsyncSession, row_id: int, now: datetime, message_id: int | None,
                    attempts: int) -> None:
    """Sent: the contents leave the outbox (minimal data), the claim ends."""
    await session.execute(
        update(Outbox).where(Outbox.id == row_id)
        .values(status="sent", sent_at=now, sent_message_id=message_id, payload=None,
                claimed_by=None, claimed_until=None, attempts=attempts))


def link_sent_message(session: AsyncSession, row: Outbox, message_id: int,
                      now: datetime) -> None:
    """The message this row became points at the row's family, so a reply to it finds them."""
    session.add(RelayLink(chat_id=row.chat_id, message_id=message_id,
                          family_id=row.link_family_id, member_id=row.link_member_id,
                          family_message_id=row.link_message_id, created_at=now))


async def postpone(session: AsyncSession, row_id: int, due_at: datetime, attempts: int,
                   reason: str) -> None:
    """Not sent this time: due again at `due_at`, the claim ends."""
    await session.execute(
        update(Outbox).where(Outbox.id == row_id)
        .values(due_at=due_at, claimed_by=None, claimed_until=None, attempts=attempts,
                last_error=reason[:LAST_ERROR_LENGTH]))


async def mark_failed(session: AsyncSession, row_id: int, attempts: int, reason: str) -> None:
    """Given up: the contents leave the outbox, the claim ends."""
    await session.execute(
        update(Outbox).where(Outbox.id == row_id)
        .values(status="failed", claimed_by=None, claimed_until=None, payload=None,
                attempts=attempts, last_error=reason[:LAST_ERROR_LENGTH]))


# Liveness (PostgreSQL) ---------------------------------------------------------------------------
async def liveness_lock_free(session: AsyncSession, key: int) -> bool:
    """Nobody holds this liveness lock: its instance is gone. (Taken for this transaction, to
    look: it ends at commit.)"""
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(
        LIVENESS_NAMESPACE, key))))


class LivenessLock:
    """An instance's liveness lock: a session-level advisory lock on a connection of its own,
    held for as long as the process lives (the server frees it when the connection ends)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @classmethod
    async def take(cls, db: Database, key: int | None) -> LivenessLock:
        connection = await db.engine.connect()
        try:
            await connection.execute(select(func.pg_advisory_lock(LIVENESS_NAMESPACE, key)))
            await connection.commit()  # a session lock: it stays after the commit
        except Exception:
            await connection.close()
            raise
        return cls(connection)

    async def check(self) -> None:
        """Raises when the connection (and with it the lock) was lost."""
        await self._connection.exec_driver_sql("SELECT 1")
        await self._connection.commit()

    async def discard(self) -> None:
        """A connection found lost: throw it away, without waiting for the database."""
        with contextlib.suppress(Exception):
            await self._connection.invalidate()

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self._connection.close()


async def send_in_flight(session: AsyncSession, chat_id: int) -> bool:
    """A send to this chat is claimed and not recorded yet (it may already have arrived)."""
    return bool(await session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.status == "pending", Outbox.claimed_by.is_not(None))))
