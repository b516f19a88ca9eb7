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

CHUNK = 500  # families per query when re-keying many
# Every model sealed with a family key, and the column naming its family.
SEALED_MODELS: tuple[Any, ...] = (Member, Invite, FamilyMessage, Outbox, Appointment, ActionItem)


async def rekey(session: AsyncSession, family: Family) -> str | None:
    """Seal everything the family still has with a new key; returns the old key, to destroy
    once this transaction has committed (Database.erase_traces). Whatever was erased in this
    transaction is in no row any more, so with the old key gone no older copy of it can be
    read, not in a backup either."""
    return (await rekey_many(session, [family]))[0]


async def rekey_many(session: AsyncSession, families: Sequence[Family]) -> list[str | None]:
    """rekey for several families at once (start-up: families from before data keys)."""
    old = [family.key_id for family in families]
    new = await sealing.current_store().create_many(len(families))
    # The family rows first: on PostgreSQL their locks make a concurrent writer of these
    # families' rows wait, then seal with the new key (sealing._family_key reads FOR SHARE).
    for family, key_id in zip(families, new, strict=True):
        family.key_id = key_id
    await session.flush()
    for family, key_id in zip(families, new, strict=True):
        sealing.remember(session, family.id, key_id)
        flag_modified(family, "alias")
    ids = [family.id for family in families]
    for model in SEALED_MODELS:
        family_column, columns = model.__sealed__
        for start in range(0, len(ids), CHUNK):
            rows: Sequence[Any] = (await session.scalars(select(model).where(
                getattr(model, family_column).in_(ids[start:start + CHUNK])))).all()
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
