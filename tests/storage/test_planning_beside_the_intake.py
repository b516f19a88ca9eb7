"""The instance that takes in the families' messages leaves the planners to the others while
another instance lives (Dispatcher._leaves_planning): the evening's 20,000 reminders written
beside the handlers held them at 150-430 ms a message, and the families' copies waited up to
18 s (bench/README.md). Alone, or when it does not take in, it plans as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.outbox.dispatcher import Dispatcher
from storage.db import Database, Session

NOW = datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC)


async def _passes(db: Database, instances: int | None, takes_in: bool) -> int:
    """How often the running main loop's planning starts its planner in one look."""
    dispatcher = Dispatcher(db, bot=None, clock=ManualClock(NOW))  # type: ignore[arg-type]
    dispatcher._instances = instances  # as share_the_limit counts them (None: SQLite)
    dispatcher.takes_in = lambda: takes_in
    ran: list[datetime] = []

    async def planner(session: Session, now: datetime) -> int:
        ran.append(now)
        return 0

    dispatcher.planners.append(planner)
    dispatcher._start_planning(NOW)
    if dispatcher._planning is not None:
        await dispatcher._planning
    return len(ran)


@pytest.mark.parametrize(("instances", "takes_in", "plans"), [
    (2, True, 0),  # it takes in the messages, another instance plans
    (2, False, 1),  # the other instance: it plans
    (1, True, 1),  # alone: it plans
    (None, True, 1),  # SQLite: one instance by construction
    (3, True, 0),
])
async def test_the_instance_that_takes_in_leaves_planning_to_the_others(
        db: Database, instances: int | None, takes_in: bool, plans: int) -> None:
    assert await _passes(db, instances, takes_in) == plans
