"""A statement on the session's cursor (storage/direct.py) gives what SQLAlchemy gives for it:
the same rows, converted by the same column types (instants in UTC, booleans, sealed values
opened), the same row count, the same errors (SQLAlchemy's classes, the transaction rolled
back), and the same cursor events (SQLite's writer lock, the counts); on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.db import Database, table_of
from storage.models import Outbox, Setting
from storage.repos import outbox, state
from tests.caseload import family_with_member
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
C = table_of(Outbox).c

_INSERT = insert(table_of(Outbox)).values(
    chat_id=bindparam("t_chat"), method="sendMessage", payload=bindparam("t_payload"),
    purpose="reminder", due_at=bindparam("t_due"), created_at=bindparam("t_due"),
    status="pending", attempts=0, link_family_id=bindparam("t_family")).returning(
    C.id, C.payload, C.due_at, C.status)
_READ = select(C.id, C.payload, C.due_at, C.expires_at, (C.attempts == 0).label("fresh"),
               C.claimed_by).where(C.chat_id == bindparam("t_chat")).order_by(C.id)
_TOUCH = update(table_of(Outbox)).where(C.chat_id == bindparam("t_chat")) \
    .values(attempts=C.attempts + 1)


async def _both(session: AsyncSession, statement: Any, params: dict[str, Any]
                ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of `statement` run by SQLAlchemy, then directly."""
    by_sqlalchemy = [tuple(row) for row in (await session.execute(statement, params))]
    return by_sqlalchemy, (await direct.execute(session, statement, params)).rows


async def test_rows_converted_as_sqlalchemy_converts_them(db: Database) -> None:
    family_id, _member = await family_with_member(db, NOW)
    payload = {"text": "Morgen om 10:00 bij het consultatiebureau", "n": 3}
    async with db.transaction() as session:
        params = {"t_chat": 501, "t_payload": payload, "t_due": NOW, "t_family": family_id}
        ran = await direct.execute(session, _INSERT, params)
        ((row_id, returned_payload, due_at, status),) = ran.rows
        assert (returned_payload, due_at, status) == (payload, NOW, "pending")
        assert due_at.tzinfo is not None  # an aware UTC instant, as the column type gives
        assert ran.mappings()[0]["payload"] == payload
        by_sqlalchemy, directly = await _both(session, _READ, {"t_chat": 501})
        assert directly == by_sqlalchemy == [(row_id, payload, NOW, None, True, None)]
        assert directly[0][4] is True  # a boolean, on SQLite too
    async with db.transaction() as session:
        # Sealed with the master ring by the column's type: never plain in the table.
        raw = await session.scalar(select(C.payload.cast(Setting.value.type))
                                   .where(C.id == row_id))
        assert raw is not None and "consultatiebureau" not in raw


async def test_row_count_and_no_rows(db: Database) -> None:
    async with db.transaction() as session:
        ran = await direct.execute(session, _TOUCH, {"t_chat": 999})
        assert (ran.rows, ran.rowcount) == ([], 0)
        assert await state.raise_to(session, db.dialect, "offset", 10) is True
        assert await state.raise_to(session, db.dialect, "offset", 12) is True
        assert await state.raise_to(session, db.dialect, "offset", 11) is False
        assert await state.get_state(session, "offset") == "12"


async def test_an_error_is_sqlalchemys_and_the_transaction_rolls_back(db: Database) -> None:
    family_id, _member = await family_with_member(db, NOW)
    params = {"t_chat": 501, "t_payload": {"text": "x"}, "t_due": NOW, "t_family": family_id}
    with pytest.raises(exc.IntegrityError):
        async with db.transaction() as session:
            await direct.execute(session, _INSERT, params)
            await direct.execute(session, _INSERT, {**params, "t_chat": None})
    async with db.transaction() as session:
        assert (await _both(session, _READ, {"t_chat": 501})) == ([], [])


async def test_the_cursor_events_fire(db: Database) -> None:
    """What the bench and the statement budgets count, and what SQLite's writer lock
    (storage/sqlite_writer.py) takes its turn by."""
    async with db.transaction() as session:
        statements = await recorded(session)
        await state.raise_to(session, db.dialect, "offset", 5)
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT")
        connection = await session.connection()
        if db.dialect == "sqlite":
            assert "gezinslijn_writer_lock" in connection.sync_connection.info


def test_an_expanding_parameter_is_refused(db: Database) -> None:
    statement = select(C.id).where(C.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        direct.prepare(statement, db.engine.dialect)


async def test_the_record_of_sends_runs_directly_and_marks_each(db: Database) -> None:
    """mark_all_sent: each id a parameter of its own (no expanding IN), each row's message
    id in its own row."""
    family_id, _member = await family_with_member(db, NOW)
    async with db.transaction() as session:
        ids = []
        for chat in (501, 502):
            ran = await direct.execute(session, _INSERT, {
                "t_chat": chat, "t_payload": {"text": "x"}, "t_due": NOW,
                "t_family": family_id})
            ids.append(ran.rows[0][0])
        await session.execute(update(table_of(Outbox)).values(claimed_by="me"))
        marked = await outbox.mark_all_sent(session, [(ids[0], 71), (ids[1], 72)], "me", NOW)
        assert marked == {ids[0]: False, ids[1]: False}
        found = (await session.execute(select(C.id, C.status, C.sent_message_id, C.payload,
                                              C.attempts).order_by(C.id))).all()
        assert [tuple(row) for row in found] == [(ids[0], "sent", 71, None, 1),
                                                 (ids[1], "sent", 72, None, 1)]
        # Not this instance's any more: nothing marked.
        assert await outbox.mark_all_sent(session, [(ids[0], 73)], "me", NOW) == {}


def test_a_detached_row_reads_as_built_and_belongs_to_no_session() -> None:
    row = direct.detached(Outbox, {"id": 7, "chat_id": 501, "payload": {"p": {"text": "x"}},
                                   "status": "pending"})
    assert (row.id, row.chat_id, row.payload, row.status) == \
        (7, 501, {"p": {"text": "x"}}, "pending")
    assert row.claimed_by is None  # not given: as an object built by its constructor
    state = inspect(row)
    assert state.transient and state.session is None
    row.attempts = 2  # still an instrumented object: a change is tracked as any
    assert state.attrs.attempts.history.added == [2]
