"""A SQLite database file with one table and nothing else: for tests of the SQLite driver and
of its writers' turns, which need no migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text

from storage.db import Database


@asynccontextmanager
async def sqlite_with_table(path: Path, create: str) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{path}")
    async with database.transaction() as session:
        await session.execute(text(create))
    try:
        yield database
    finally:
        await database.dispose()
