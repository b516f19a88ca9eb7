"""Is there work? Several planners' questions in one statement, read on a connection of its
own and not committed (it writes nothing): the dispatcher asks before every planner pass, and
the planners whose work is not there are not run. An idle pass was two UPDATEs and two claims
that found nothing, three commits, twice a second (issue 16); now it is this one SELECT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from storage.db import Database


async def which_due(db: Database, probes: Sequence[Any]) -> list[bool]:
    """For each probe (an EXISTS of a repo: outbox.expiry_due, messages.held_due,
    reminders.due), whether its work is there now."""
    if not probes:
        return []
    async with db.engine.connect() as connection:
        found = (await connection.execute(select(*probes))).one()
    return [bool(each) for each in found]
