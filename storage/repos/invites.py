"""Invites: finding one by its token's hash, and using it up exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite


async def invite_by_hash(session: AsyncSession, digest: str) -> Invite | None:
    result: Invite | None = await session.scalar(select(Invite).where(Invite.token_hash == digest))
    return result


async def consume_invite(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark used exactly once, even when two people tap the same link at the same moment."""
    result = await session.execute(
        update(Invite).where(Invite.id == invite_id, Invite.used_at.is_(None),
                             Invite.revoked_at.is_(None), Invite.expires_at > now)
        .values(used_at=now))
    return bool(getattr(result, "rowcount", 0) == 1)
