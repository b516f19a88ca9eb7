"""A lane's run claim where no bulk row waits in its chat (storage/repos/outbox.py claim_heads
`without_bulk`, the lighter statement first), on SQLite and PostgreSQL: it takes what the whole
claim takes, in one statement; where a bulk row waits it takes nothing of the chat and the
whole claim answers, people first as ever; and a lane goes by it only after a run claim that
saw no bulk row in its chat (bot/outbox/dispatcher.py)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from bot.clock import ManualClock
from bot.outbox.dispatcher import RUN_ROWS, Dispatcher
from storage.db import Database
from storage.models import Outbox
from storage.repos import outbox as rows
from tests.storage import test_lane_runs as lane_runs
from tests.storage.statements import Listened

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
COACH, FAMILY = 1001, 1002


async def add(db: Database, chat: int, purpose: str = "relay", awaited: int | None = None,
              status: str = "pending") -> int:
    return await lane_runs.add(db, chat, purpose, purpose=purpose, awaited=awaited,
                               status=status)


async def lane_claim(db: Database, without_bulk: bool, bulk: bool | None = None,
                     seen: set[int] | None = None) -> tuple[list[int], list[str]]:
    """The claim a lane's record makes (people first: a bulk lane is free), and the claim
    statements it ran."""
    with Listened(db) as listened:
        async with db.transaction() as session:
            until = rows.lease_until(db.dialect, NOW, 60, LEASE)
            found = await rows.claim_heads(session, db.dialect, NOW, 1, "me", until, COACH,
                                           bulk=bulk, run=8, without_bulk=without_bulk,
                                           bulk_seen=seen)
    return [r.id for r in found], listened.claims()


def lighter(statement: str) -> bool:
    """The lighter claim: none of the whole one's rules for bulk rows that pass others."""
    return "waiting_person" not in statement and "lone_bulk" in statement


async def test_without_bulk_rows_the_lighter_claim_answers_alone(db: Database) -> None:
    copies = [await add(db, COACH) for _ in range(3)]
    receipts = [await add(db, FAMILY, "receipt", awaited=c) for c in copies]
    seen: set[int] = set()
    claimed, statements = await lane_claim(db, without_bulk=True, seen=seen)
    assert claimed == [*copies, *receipts]  # (by id)
    assert len(statements) == 1 and lighter(statements[0])
    assert seen == set()


async def test_a_run_claim_says_where_a_bulk_row_waits(db: Database) -> None:
    first = await add(db, COACH)
    await add(db, COACH, "reminder")
    seen: set[int] = set()
    claimed, statements = await lane_claim(db, without_bulk=False, seen=seen)
    assert claimed == [first]
    assert len(statements) == 1 and not lighter(statements[0])
    assert seen == {COACH}


async def test_a_reminder_before_a_person_keeps_its_place_behind_them(db: Database) -> None:
    """A reminder waits first in the chat, a person's row behind it: the people go first,
    past it. The lighter claim alone would have taken the reminder, the first row it sees."""
    await add(db, COACH, "reminder")
    person = await add(db, COACH)
    seen: set[int] = set()
    claimed, statements = await lane_claim(db, without_bulk=True, seen=seen)
    assert claimed == [person]
    assert len(statements) == 2 and lighter(statements[0]) and not lighter(statements[1])
    assert seen == {COACH}


async def test_a_parked_bulk_row_sends_the_claim_to_the_whole_statement(db: Database) -> None:
    await add(db, COACH, "agenda", status="parked")
    await add(db, COACH)
    claimed, statements = await lane_claim(db, without_bulk=True)
    assert claimed == []  # a parked row holds up its chat, whatever it is
    assert len(statements) == 2


async def test_either_way_the_same_rows(db: Database) -> None:
    """Chats with and without bulk rows, as lanes find them: each claim's rows, by either
    statement, rolled back in between."""
    states = [
        ["relay", "relay", "answer"],
        ["relay", "agenda", "relay"],
        ["digest", "relay", "relay"],
        ["relay", "nudge"],
        ["answer", "reminder", "relay", "relay"],
    ]
    for purposes in states:
        async with db.transaction() as session:
            await session.execute(delete(Outbox))
        for purpose in purposes:
            await add(db, COACH, purpose)
        for kind in (None, False):
            whole, _ = await lane_claim(db, without_bulk=False, bulk=kind)
            async with db.transaction() as session:
                await rows.release_claims(session, whole)
            light, _ = await lane_claim(db, without_bulk=True, bulk=kind)
            async with db.transaction() as session:
                await rows.release_claims(session, light)
            assert light == whole, (purposes, kind)


async def test_a_lane_goes_by_the_lighter_claim_after_a_run_without_bulk_rows(
        db: Database) -> None:
    """The lane's record claims its chat's next run: the whole statement first; the lighter
    one after a run that saw no bulk row; the whole one again once a reminder came, which
    goes after the copies before it."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    dispatcher._running = True
    copies = 3 * (1 + RUN_ROWS) + 1  # the first, and three runs of a head and RUN_ROWS
    for _ in range(copies):
        await add(db, COACH)
    [first] = await dispatcher.claim(NOW, 1, COACH)
    queue: deque[Outbox] = deque([first])
    dispatcher._lanes[COACH] = queue
    kinds: list[bool] = []
    sent: list[int] = []
    reminder = 0
    while queue:
        row = queue.popleft()
        with Listened(db) as listened:
            await dispatcher._record(row, {"message_id": row.id})
        sent.append(row.id)
        kinds += [lighter(statement) for statement in listened.claims()]
        queue.extend(dispatcher._next.pop(COACH, []))
        if kinds.count(True) == 2 and not reminder:  # as the last run goes out
            reminder = await add(db, COACH, "reminder")
    # The first run's claim, two lighter ones; then the lighter one finds the reminder and
    # the whole one takes the last copy's run with it; after the reminder, the whole one.
    assert kinds[:5] == [False, True, True, True, False] and not any(kinds[5:])
    assert sent == sorted(sent) and sent[-1] == reminder and len(sent) == copies + 1
    assert COACH not in dispatcher._without_bulk
