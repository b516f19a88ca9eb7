"""The poller lock (PostgreSQL) is looked at before a call to Telegram at most once a second:
in a burst every batch of updates paid a statement and a commit for it (issue 16). A lock that
was lost is still noticed within that second."""

from __future__ import annotations

from typing import Any, cast

from bot.outbox.intake import LOCK_CHECK_SECONDS, Intake


class FakeLock:
    def __init__(self) -> None:
        self.checks = 0
        self.lost = False
        self.released = False

    async def check(self) -> None:
        self.checks += 1
        if self.lost:
            raise ConnectionError("the lock's connection is gone")

    async def release(self) -> None:
        self.released = True


def _intake(at: list[float]) -> Intake:
    intake = Intake(cast(Any, None), cast(Any, None), cast(Any, None))
    intake.monotonic = lambda: at[0]
    return intake


async def test_a_burst_of_calls_looks_at_the_lock_once_a_second() -> None:
    at = [100.0]
    intake, lock = _intake(at), FakeLock()
    held = cast(Any, lock)
    for _ in range(20):  # twenty batches of updates within the same second
        assert await intake._hold_poller_lock(held) is held
        at[0] += LOCK_CHECK_SECONDS / 40
    assert lock.checks == 1
    at[0] += LOCK_CHECK_SECONDS
    assert await intake._hold_poller_lock(held) is held
    assert lock.checks == 2


async def test_a_lost_lock_is_noticed_within_a_second() -> None:
    at = [100.0]
    intake, lock = _intake(at), FakeLock()
    held = cast(Any, lock)
    assert await intake._hold_poller_lock(held) is held
    lock.lost = True
    at[0] += LOCK_CHECK_SECONDS
    assert await intake._hold_poller_lock(held) is None
    assert lock.released
