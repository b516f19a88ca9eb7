"""Fresh planner statistics for the outbox.

Autovacuum analyzes a table once about a tenth of it changed, but only on its next round (a
minute by default; never, where autovacuum is off). An evening's reminders are planned in
seconds and claimed at once: with the statistics from before, PostgreSQL took the outbox for a
few rows and planned each claim as a nested loop over all of it (the claims grew to 1.4 s each
and the busiest evening sent 8 messages a second instead of 27, bench/README.md). So the
dispatcher analyzes the outbox itself, by the same rule as autovacuum, as soon as the rows it
planned or claimed reach it. SQLite's statistics are fixed instead, written at start-up
(storage/sqlite_statistics.py): there an ANALYZE reached only the connection that ran it.
"""

from __future__ import annotations

from storage.db import Database
from storage.repos import outbox as outbox_rows

# Analyze once this many rows were planned or claimed since the last time, and at least this
# share of the rows counted then (autovacuum's rule: 50 rows and a tenth of the table).
REFRESH_ROWS = 500
REFRESH_SHARE = 0.1


class OutboxStatistics:
    def __init__(self, db: Database) -> None:
        self.db = db
        # A starting instance analyzes at its first planner pass: the statistics may be from
        # any time before (a restart with a day's rows pending).
        self._changed = REFRESH_ROWS
        self._counted = 0.0  # rows in the outbox at the last ANALYZE
        self.refreshed = 0  # how often this instance analyzed (tests, the bench)

    def changed(self, rows: int) -> None:
        """Rows written or claimed."""
        self._changed += rows

    def due(self) -> bool:
        return self._changed >= max(REFRESH_ROWS, REFRESH_SHARE * self._counted)

    async def refresh_if_due(self) -> bool:
        if self.db.dialect != "postgresql" or not self.due():
            return False
        self._changed = 0
        async with self.db.transaction() as session:
            self._counted = await outbox_rows.refresh_statistics(session)
        self.refreshed += 1
        return True
