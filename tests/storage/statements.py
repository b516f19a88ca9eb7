"""Counting what a storage call costs the database (statements, not time)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


async def recorded(session: AsyncSession) -> list[str]:
    """Every statement the session's connection runs from now on, in order: the list fills
    as they run."""
    statements: list[str] = []
    connection = await session.connection()

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    return statements
