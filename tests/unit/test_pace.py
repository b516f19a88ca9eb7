"""A paced job (retention purge, agendas, nudges) runs at most once per interval, and a run that
did not commit is due again at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs.pace import Pace
from bot.outbox.dispatcher import planner_step

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_once_per_interval_and_again_after_a_clock_that_went_back() -> None:
    pace = Pace(timedelta(minutes=10))
    assert pace.due(T0)
    assert not pace.due(T0 + timedelta(minutes=9))
    assert pace.due(T0 + timedelta(minutes=10))
    assert pace.due(T0)  # the clock went back


class _Failing:
    def __init__(self) -> None:
        self.pace = Pace(timedelta(minutes=10))
        self.runs = 0

    async def __call__(self, _session: object, now: datetime) -> int:
        if not self.pace.due(now):
            return 0
        self.runs += 1
        raise ConnectionError("the database went away")


class _Database:
    """Only what planner_step uses: a transaction that hands out a session."""

    def transaction(self) -> _Transaction:
        return _Transaction()


class _Transaction:
    async def __aenter__(self) -> object:
        return object()

    async def __aexit__(self, *_exc: object) -> None:
        return None


async def test_a_run_that_rolled_back_is_due_again_at_the_next_pass() -> None:
    job = _Failing()
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await planner_step(_Database(), job, T0 + timedelta(seconds=1))  # type: ignore[arg-type]
    assert job.runs == 2  # not once per ten minutes
