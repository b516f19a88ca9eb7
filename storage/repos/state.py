"""The bot's own state (the bot_state table): small values by key, and the buttons already
pressed."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast, delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.db import table_of, upsert_insert
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
    return bool((await direct.execute(session, _raise_statement(dialect),
                                      {"s_key": key, "s_value": str(value)})).rowcount)


async def move_on(session: AsyncSession, dialect: str, key: str, start: int, value: int
                  ) -> bool:
    """Raise a whole-number value to `value` only where it is at most `start` (or not set):
    the offset past several updates handled together, from the first of them. False when it
    was past `start` already (another instance handled at least the first of them)."""
    return bool((await direct.execute(session, _raise_statement(dialect, since=True),
                                      {"s_key": key, "s_value": str(value),
                                       "s_start": start})).rowcount)


@functools.cache
def _raise_statement(dialect: str, since: bool = False) -> Any:
    """Built once per dialect, on the table: it runs for every update handled (an ORM
    statement built afresh cost more CPU than the database's work, bench/README.md)."""
    table = table_of(Setting)
    statement = upsert_insert(dialect)(table).values(
        key=bindparam("s_key", type_=table.c.key.type),
        value=bindparam("s_value", type_=table.c.value.type))
    current = cast(table.c.value, BigInteger)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key], set_={"value": statement.excluded.value},
        where=current <= bindparam("s_start", type_=BigInteger()) if since
        else current < cast(statement.excluded.value, BigInteger))


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
