"""A family's message handled while the 403 of its coach was being recorded: the handler saw
the coach as reachable and queued the copy, the dispatcher parked the coach's lane before that
copy was committed. The copy would wait behind the parked row in silence, and the family would
hear nothing until the coach unblocks. This job finds such copies, parks them with the rest and
tells the family (bot/delivery/undelivered.py), as if the 403 had come on the copy itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.delivery.undelivered import copy_not_delivered
from bot.jobs.pace import Pace
from storage.db import Session
from storage.repos import outbox as outbox_rows

# The race is rare and the check cheap (it starts from the parked rows); a family in it hears
# within this time, on the bot's clock.
EVERY = timedelta(seconds=20)
BATCH = 100


class StrayCopies:
    def __init__(self) -> None:
        self.pace = Pace(EVERY)

    async def __call__(self, session: Session, now: datetime) -> int:
        if not self.pace.due(now):
            return 0
        strays = await outbox_rows.park_strays(session, BATCH)
        for row in strays:
            await copy_not_delivered(session, row, now)
        return len(strays)
