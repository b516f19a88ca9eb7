"""Pending input: the step a chat is in the middle of (what its next typed line answers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingInput


async def pending(session: AsyncSession, chat_id: int, now: datetime) -> PendingInput | None:
    """The chat's step, unless it ran out (then it is forgotten)."""
    row = await session.get(PendingInput, chat_id)
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        return None
    return row


async def set_pending(session: AsyncSession, chat_id: int, action: str, data: dict[str, object],
                      expires_at: datetime) -> None:
    await clear_pending(session, chat_id)
    session.add(PendingInput(chat_id=chat_id, action=action, data=data, expires_at=expires_at))


async def clear_pending(session: AsyncSession, chat_id: int, action: str | None = None) -> None:
    """Forget the chat's step; with `action`, only when it is that step."""
    query = delete(PendingInput).where(PendingInput.chat_id == chat_id)
    if action is not None:
        query = query.where(PendingInput.action == action)
    await session.execute(query)
