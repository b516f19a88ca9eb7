"""SIGKILL of the bot at 24 points across the relay, out-of-hours hold, digest release and
reminder paths (tests/faults/kills.py); afterwards every family message has reached its coach,
every due reminder was sent, and duplicates are only those of a kill between a delivered send
and its record (counted and printed)."""

from __future__ import annotations

from pathlib import Path

from bot.simulator import LocalBotApi
from tests.faults.kills import SUITE, KillRun


async def test_sigkill_at_24_points_loses_nothing(api: LocalBotApi, db_url: str,
                                                   tmp_path: Path) -> None:
    assert SUITE.size >= 20
    run = KillRun(api, db_url, tmp_path, SUITE)
    try:
        report = await run.run()
    finally:
        await run.bots.stop_all()
    print(f"\n[{db_url.split(':', 1)[0]}] {report.summary()}")
    assert len(report.kill_points) == SUITE.size
