"""How often a job that looks over the whole database runs: at most once per interval of the
bot's clock, however often the dispatcher wakes it. A clock that went back runs it again."""

from __future__ import annotations

from datetime import datetime, timedelta


class Pace:
    def __init__(self, every: timedelta) -> None:
        self.every = every
        self.last: datetime | None = None
        self._before: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True (and counted as a run) when the interval has passed since the last run."""
        if self.last is not None and timedelta(0) <= now - self.last < self.every:
            return False
        self._before, self.last = self.last, now
        return True

    def failed(self) -> None:
        """The run that due() allowed did not commit (the database went away): it is due
        again at the next pass, not an interval later."""
        self.last = self._before
