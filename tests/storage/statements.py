"""Counting what a storage call costs the database (statements, not time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database


async def recorded(session: AsyncSession) -> list[str]:
    """Every statement the session's connection runs from now on, in order: the list fills
    as they run."""
    statements: list[str] = []
    connection = await session.connection()

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    return statements


class Listened:
    """Every statement the bot runs on `db` (any connection) while the block runs, as
    written, and the commits: for what a dispatcher costs across its transactions."""

    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self.commits = 0
        self._engine = db.engine.sync_engine

    def __enter__(self) -> Listened:
        event.listen(self._engine, "before_cursor_execute", self._statement)
        event.listen(self._engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements.append(" ".join(str(args[2]).split()))

    def _commit(self, *_args: Any) -> None:
        self.commits += 1

    def claims(self) -> list[str]:
        """The outbox claims among them (storage/repos/outbox.py claim_heads)."""
        return [s for s in self.statements if s.startswith("WITH picked")]
