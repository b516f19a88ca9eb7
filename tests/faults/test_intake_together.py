"""Fetched updates handled together (bot/outbox/intake.py `_handle_together`, on PostgreSQL by
default; here on both databases): several updates' handling and the offset past them in one
transaction; in order; where one fails, or the commit does, nothing of that transaction stays
and they are handled one at a time, each once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.outbox import intake as intake_module
from bot.outbox.intake import Intake
from storage.db import Database, Shared, sharing
from storage.repos import state
from tests.faults.common import Seconds
from tests.faults.test_intake import (
    CHAT_A,
    CHAT_B,
    Handler,
    _offset,
    _order,
    _rows,
    _store_seen_empty,
    _stored,
    message,
    rig,
)

__all__ = ["rig"]  # the fixture, used by name

Rig = tuple[Database, Handler, Intake, Seconds]


@contextmanager
def _commits(db: Database) -> Iterator[list[int]]:
    counted: list[int] = []

    def commit(*_args: Any) -> None:
        counted.append(1)

    event.listen(db.engine.sync_engine, "commit", commit)
    try:
        yield counted
    finally:
        event.remove(db.engine.sync_engine, "commit", commit)


def _three() -> list[dict[str, Any]]:
    return [message(1, CHAT_A), message(2, CHAT_B), message(3, CHAT_A)]


async def _three_handled_once(db: Database) -> None:
    """The three updates of `_three` handled once each, in order, and the offset past them."""
    assert await _order(db) == [1, 2, 3]
    assert await _rows(db) == ([], ["handled 1", "handled 2", "handled 3"])
    assert await _offset(db) == 4


@pytest.fixture
def together(rig: Rig) -> Rig:
    rig[2].together = 10
    return rig


def test_postgresql_handles_fetched_updates_together_and_sqlite_one_at_a_time(
        rig: Rig) -> None:
    db, _app, intake, _seconds = rig
    assert intake.together_at_most() == (
        intake_module.TOGETHER if db.dialect == "postgresql" else 1)
    assert intake_module.TOGETHER > 1


async def test_fetched_updates_and_their_offset_share_one_commit(together: Rig) -> None:
    db, _app, intake, _seconds = together
    await _store_seen_empty(intake)
    with _commits(db) as commits:
        await intake.receive(_three())
    assert len(commits) == 1
    await _three_handled_once(db)


async def test_a_long_poll_goes_in_transactions_of_at_most_together_in_order(
        together: Rig) -> None:
    db, _app, intake, _seconds = together
    await _store_seen_empty(intake)
    with _commits(db) as commits:
        await intake.receive([message(n, CHAT_A if n % 2 else CHAT_B) for n in range(1, 26)])
    assert len(commits) == 3  # 10 + 10 + 5
    assert await _order(db) == list(range(1, 26))
    assert await _offset(db) == 26


async def test_one_that_fails_leaves_nothing_of_the_others_and_they_go_one_at_a_time(
        together: Rig) -> None:
    db, app, intake, seconds = together
    await _store_seen_empty(intake)
    app.poison = {3}
    await intake.receive([message(n, CHAT_A if n != 4 else CHAT_B) for n in range(1, 6)])
    # 1 and 2 handled once (their first handling rolled back with the rest), 3 and those after
    # it stored in order, its failure counted once (not for the try together).
    assert await _order(db) == [1, 2]
    assert await _rows(db) == ([3, 4, 5], ["handled 1", "handled 2"])
    assert (await _stored(db, 3)).attempts == 1
    assert await _offset(db) == 6
    # 3 failed first in the group (router.on_error logs that at info), then alone (an error).
    assert [seen for seen in app.in_group if seen[0] == 3] == [(3, True), (3, False)]
    assert not intake.tried_together(3)
    assert await intake.process_pending() == 1  # chat B goes on; A waits behind 3
    app.poison = set()
    seconds.now += 1
    assert await intake.process_pending() == 2
    assert await _order(db) == [1, 2, 4, 3, 5]


async def test_a_commit_that_fails_leaves_each_handled_once(
        together: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    db, _app, intake, _seconds = together
    await _store_seen_empty(intake)
    original = state.move_on

    async def away(*args: Any, **kwargs: Any) -> bool:
        monkeypatch.setattr(state, "move_on", original)
        raise OperationalError("UPDATE", {}, ConnectionResetError())

    monkeypatch.setattr(state, "move_on", away)
    await intake.receive(_three())
    await _three_handled_once(db)


async def test_updates_another_instance_handled_in_part_are_not_handled_again(
        together: Rig) -> None:
    db, _app, intake, _seconds = together
    await _store_seen_empty(intake)
    await intake.receive([message(1, CHAT_A)])  # the offset stands at 2
    async with db.transaction() as session:  # another instance handled 2 and 3 meanwhile
        await state.raise_to(session, db.dialect, intake_module.OFFSET_KEY, 4)
    await intake.receive([message(2, CHAT_A), message(3, CHAT_B), message(4, CHAT_A)])
    assert await _order(db) == [1, 4]
    assert await _offset(db) == 5


async def test_the_offset_moves_on_from_where_it_stands_only(db_url: str) -> None:
    from storage.migrate import upgrade_async
    await upgrade_async(db_url)
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            assert await state.move_on(session, db.dialect, "k", 5, 8)  # not set yet
            assert not await state.move_on(session, db.dialect, "k", 5, 9)  # 8 is past 5
            assert await state.move_on(session, db.dialect, "k", 8, 10)  # from 8 itself
            assert await state.get_state(session, "k") == "10"
    finally:
        await db.dispose()


async def test_only_the_sharing_task_joins_the_transaction(db_url: str) -> None:
    """A task started while updates are handled together (it inherits the context) opens a
    transaction of its own: it would use the session beside its owner, or after its end."""
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            shared = Shared(db, session)
            with sharing(shared):
                async with db.transaction() as joined:
                    assert joined is session

                async def elsewhere() -> bool:
                    async with db.transaction() as own:
                        return own is session

                assert not await asyncio.create_task(elsewhere())
            assert shared.units == 1
    finally:
        await db.dispose()
