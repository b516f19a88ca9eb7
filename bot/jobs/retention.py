"""The retention purge (PRODUCT.md §5): contents older than the retention setting are removed;
what the agenda needs (that a message came, when, from which family) stays. At most every ten
minutes of the bot's clock."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.jobs.pace import Pace
from storage.db import Session
from storage.repos import privacy

log = logging.getLogger(__name__)


class RetentionPurge:
    def __init__(self, retention_days: int, every: timedelta = timedelta(minutes=10)) -> None:
        self.retention = timedelta(days=retention_days)
        self.pace = Pace(every)

    async def __call__(self, session: Session, now: datetime) -> int:
        if not self.pace.due(now):
            return 0
        purged = await privacy.purge_before(session, now - self.retention, now)
        if purged:
            log.info("retention purge removed the contents of %s messages", purged)
        return 0  # bookkeeping only: never counts as "busy" for the dispatcher
