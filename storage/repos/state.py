"""The bot's own state (the bot_state table): small values by key, and the buttons already
pressed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import BigInteger, cast, delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import Setting

# Used buttons: keys f"tap:{chat}:{message}:{hash of the data}", valued with the UTC time of the
# press in a form that sorts as text (the retention purge compares it).
PRESSED = "tap:"


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(Setting, key)
    return row.value if row else None


async def put_state(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


async def raise_to(session: AsyncSession, dialect: str, key: str, value: int) -> bool:
    """Set a whole-number value, never lowering it (the polling offset: an instance whose late
    answer arrives after another polled on must not move it back). One statement where reading
    and then writing the value took three, for every batch of updates stored. False when the
    value was `value` or more already."""
    insert = upsert_insert(dialect)
    statement = insert(Setting).values(key=key, value=str(value))
    result = await session.execute(statement.on_conflict_do_update(
        index_elements=[Setting.key], set_={"value": statement.excluded.value},
        where=cast(Setting.value, BigInteger) < cast(statement.excluded.value, BigInteger)))
    return bool(getattr(result, "rowcount", 1))


def _press_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def first_press(session: AsyncSession, chat_id: int, message_id: int, data: str,
                      now: datetime) -> bool:
    """True the first time this button (this data, on this message, in this chat) is pressed;
    recorded in the caller's transaction, so it holds across restarts and instances."""
    digest = hashlib.sha256(data.encode()).hexdigest()[:6]
    key = f"{PRESSED}{chat_id}:{message_id}:{digest}"[:40]
    if await get_state(session, key) is not None:
        return False
    await put_state(session, key, _press_stamp(now))
    return True


async def forget_presses(session: AsyncSession, chat_id: int | None = None,
                         before: datetime | None = None) -> None:
    """Forget the used buttons of one chat, or those pressed before a moment."""
    prefix = PRESSED if chat_id is None else f"{PRESSED}{chat_id}:"
    query = delete(Setting).where(Setting.key.startswith(prefix))
    if before is not None:
        query = query.where(Setting.value < _press_stamp(before))
    await session.execute(query)
