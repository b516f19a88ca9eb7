"""A family's data key over its life: given when the family is made (storage/sealing.py),
replaced on every erasure (re-key), destroyed after the erasure commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage import sealing
from storage.models import (
    ActionItem,
    Appointment,
    Family,
    FamilyMessage,
    Invite,
    Member,
    Outbox,
)

# Every model sealed with a family key, and the column naming its family.
SEALED_MODELS: tuple[Any, ...] = (Member, Invite, FamilyMessage, Outbox, Appointment, ActionItem)


async def rekey(session: AsyncSession, family: Family) -> str | None:
    """Seal everything the family still has with a new key; returns the old key, to destroy
    once this transaction has committed (Database.erase_traces). Whatever was erased in this
    transaction is in no row any more, so with the old key gone no older copy of it can be
    read, not in a backup either."""
    old = family.key_id
    new = await sealing.current_store().create()
    # The family row first: on PostgreSQL its lock makes a concurrent writer of this family's
    # rows wait, then seal with the new key (sealing._family_key reads it FOR SHARE).
    family.key_id = new
    await session.flush()
    sealing.remember(session, family.id, new)
    flag_modified(family, "alias")
    for model in SEALED_MODELS:
        family_column, columns = model.__sealed__
        rows: Sequence[Any] = (await session.scalars(select(model).where(
            getattr(model, family_column) == family.id))).all()
        for row in rows:
            for column in columns:
                if getattr(row, column) is not None:
                    flag_modified(row, column)
    await session.flush()
    return old


async def families_without_key(session: AsyncSession) -> Sequence[Family]:
    return (await session.scalars(select(Family).where(Family.key_id.is_(None)))).all()


async def live_key_ids(session: AsyncSession) -> set[str]:
    found = (await session.scalars(select(Family.key_id))).all()
    return {key_id for key_id in found if key_id is not None}
