"""A stored update leaves the store in the same transaction as what handling it wrote
(bot/outbox/intake.py, storage.db.joining_first_transaction): never handled twice after a crash in
between, never lost when handling fails, and an instance that finds it handled by another rolls
its own handling back."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.outbox.intake import Intake
from storage.db import Database, database_away
from storage.migrate import upgrade_async
from storage.models import InboundUpdate, Setting


class Handler:
    """Stands in for the Application: each update writes a row, as a handler's unit of work."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.bot = None
        self.fail = False
        self.away = False  # the database is unreachable for this handler
        self.handled_elsewhere = False
        self.intake: Intake | None = None

    async def process_update(self, update: Any) -> None:
        if self.handled_elsewhere:  # another instance committed it meanwhile
            await asyncio.create_task(self._elsewhere(update.update_id),
                                      context=contextvars.Context())
        try:
            async with self.db.transaction() as session:
                session.add(Setting(key=f"handled {update.update_id}", value="1"))
                if self.fail:
                    raise RuntimeError("handler failed")
                if self.away:
                    raise OperationalError("SELECT 1", {}, ConnectionRefusedError())
        except Exception as error:  # python-telegram-bot hands it to the error handler
            assert self.intake is not None
            (self.intake.transient if database_away(error) else self.intake.failed).add(
                update.update_id)


    async def _elsewhere(self, update_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(InboundUpdate).where(
                InboundUpdate.update_id == update_id))


async def _rows(db: Database) -> tuple[list[int], list[str]]:
    async with db.transaction() as session:
        stored = list((await session.scalars(select(InboundUpdate.update_id))).all())
        written = list((await session.scalars(select(Setting.key).where(
            Setting.key.like("handled %")))).all())
    return stored, written


async def test_handled_with_its_delete_kept_when_failing_and_not_twice(db_url: str) -> None:
    await upgrade_async(db_url)
    db = Database(db_url)
    try:
        app = Handler(db)
        intake = Intake(db, app, ManualClock(datetime(2026, 11, 25, tzinfo=UTC)))  # type: ignore[arg-type]
        app.intake = intake
        await intake.store([{"update_id": 7}], advance_offset=True)

        app.fail = True
        assert await intake.process_pending() == 0
        assert await _rows(db) == ([7], [])  # kept for another attempt, nothing written

        app.fail = False
        assert await intake.process_pending() == 1
        assert await _rows(db) == ([], ["handled 7"])  # written and gone, together

        await intake.store([{"update_id": 8}], advance_offset=True)
        app.handled_elsewhere = True
        assert await intake.process_pending() == 1
        assert await _rows(db) == ([], ["handled 7"])  # its own handling rolled back
    finally:
        await db.dispose()


async def test_a_database_outage_never_uses_up_an_updates_attempts(db_url: str) -> None:
    """A family message whose handling fails because the database is away, again and again
    (more often than MAX_ATTEMPTS), is handled once the database answers: never dropped."""
    from bot.outbox.intake import MAX_ATTEMPTS

    await upgrade_async(db_url)
    db = Database(db_url)
    try:
        app = Handler(db)
        intake = Intake(db, app, ManualClock(datetime(2026, 11, 25, tzinfo=UTC)))  # type: ignore[arg-type]
        app.intake = intake
        await intake.store([{"update_id": 9}], advance_offset=True)
        app.away = True
        for _ in range(2 * MAX_ATTEMPTS):
            assert await intake.process_pending() == 0
        assert await _rows(db) == ([9], [])
        app.away = False
        assert await intake.process_pending() == 1
        assert await _rows(db) == ([], ["handled 9"])

        # A real failure of the handler still counts, and ends after MAX_ATTEMPTS.
        await intake.store([{"update_id": 10}], advance_offset=True)
        app.fail = True
        for _ in range(MAX_ATTEMPTS):
            await intake.process_pending()
        assert (await _rows(db))[0] == []
    finally:
        await db.dispose()
