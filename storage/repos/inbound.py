"""Updates stored before Telegram is told they arrived (the intake, bot/outbox/intake.py): kept
until handled, handled in the order Telegram numbered them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundUpdate


async def store_update(session: AsyncSession, dialect: str, update_id: int,
                       payload: dict[str, Any], received_at: datetime) -> None:
    """Store an update once: one that is stored already (Telegram sent it again) is left be."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(InboundUpdate)
        .values(update_id=update_id, payload=payload, received_at=received_at, attempts=0)
        .on_conflict_do_nothing(index_elements=["update_id"]))


async def oldest_updates(session: AsyncSession, limit: int) -> Sequence[InboundUpdate]:
    return (await session.scalars(
        select(InboundUpdate).order_by(InboundUpdate.update_id).limit(limit))).all()


async def delete_update(session: AsyncSession, update_id: int) -> bool:
    """Delete a stored update; False when it was gone already (handled elsewhere)."""
    result = await session.execute(
        delete(InboundUpdate).where(InboundUpdate.update_id == update_id))
    return bool(getattr(result, "rowcount", 1))


async def set_attempts(session: AsyncSession, update_id: int, attempts: int) -> None:
    await session.execute(
        update(InboundUpdate).where(InboundUpdate.update_id == update_id)
        .values(attempts=attempts))
