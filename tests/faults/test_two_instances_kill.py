"""Two `gezinslijn run` instances on one PostgreSQL, one SIGKILLed in the middle of the
evening-before reminders while families write to their coaches: every reminder reaches every
member once (a duplicate only where the kill fell between a delivered send and its record),
every family's messages reach the coach in the order they were written, and the survivor takes
over receiving (polling) within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.simulator import LocalBotApi, Trap
from storage.db import Database
from storage.models import Appointment, Reminder
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import AMS, FACTS
from tests.e2e.test_restart_and_instances import Bots, _env
from tests.faults.common import containing, seed_line, settled, unrecorded, wait_until

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL")

EVENING = datetime(2026, 11, 25, 18, 0, tzinfo=AMS)  # the reminders fall due
FAMILIES = [(f"Gezin {n:02d}", "Sanne" if n % 2 else "Pieter", [f"Ouder{n:02d}a", f"Ouder{n:02d}b"])
            for n in range(12)]
OPEN_LATE = {alias: "ma-zo 08:00-22:00" for alias, _, _ in FAMILIES}
WRITERS = ["Ouder00a", "Ouder01a", "Ouder02a", "Ouder03a"]
MESSAGES = 6
REMINDER = "⏰ Herinnering"



@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(facts=FACTS)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


async def _evening_reminders(url: str, family_ids: dict[str, int]) -> None:
    """Each family has a home visit at 19:00; its reminder falls due at 18:00."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            for family_id in family_ids.values():
                visit = Appointment(family_id=family_id, starts_at=EVENING + timedelta(hours=1),
                                    what="huisbezoek", status="planned",
                                    created_at=EVENING - timedelta(days=2),
                                    updated_at=EVENING - timedelta(days=2))
                session.add(visit)
                await session.flush()
                session.add(Reminder(family_id=family_id, appointment_id=visit.id,
                                     kind="hours_before", due_at=EVENING, status="planned"))
    finally:
        await db.dispose()


async def test_one_instance_killed_during_the_evening_reminders(
        server: LocalBotApi, pg_url: str, tmp_path: Path) -> None:
    api = server
    line = await seed_line(pg_url, api, FAMILIES, EVENING - timedelta(minutes=1), OPEN_LATE)
    await _evening_reminders(pg_url, line.family_ids)
    bots = Bots(tmp_path)
    try:
        env = _env(api, pg_url, tmp_path, EVENING - timedelta(seconds=8), 1.0)
        first = await bots.start(env)
        second = await bots.start(env)
        killed_at: list[float] = []

        def kill_first() -> None:
            if first.returncode is None:
                os.kill(first.pid, signal.SIGKILL)
                killed_at.append(time.monotonic())

        # The 6th reminder delivered: the first instance dies, whatever it holds.
        api.faults.traps.append(Trap("sendMessage", kill_first, nth=6, after=True,
                                     hangup=False,
                                     match=lambda p, _r: REMINDER in str(p.get("text", ""))))
        await api.wait_for_call(lambda c: c.method == "getUpdates", timeout=30)

        async def write(name: str) -> None:
            for n in range(MESSAGES):
                line.member(name).send_text(f"{name} bericht {n}")
                await asyncio.sleep(0.4)

        await wait_until(lambda: any(REMINDER in m.text for p in line.members.values()
                                     for m in p.inbox()), 30, "the reminders began")
        await asyncio.gather(*(write(name) for name in WRITERS))
        await wait_until(lambda: bool(killed_at), 30, "the first instance was killed")
        # Written after the kill: only the survivor can receive it.
        line.member("Ouder05a").send_text("na de val")
        await wait_until(lambda: bool(containing(line.coach_of["Ouder05a"], "na de val")), 30,
                         "the survivor took over receiving")
        taken_over = time.monotonic() - killed_at[0]
        for name in WRITERS:
            await wait_until(lambda name=name: len(containing(line.coach_of[name],
                                                              f"{name} bericht")) >= MESSAGES,
                             60, f"{name}'s messages arrived")
        members = [p for p in line.members.values()]
        await wait_until(lambda: all(any(REMINDER in m.text for m in p.inbox())
                                     for p in members), 90, "every reminder arrived")
        await settled(api, pg_url, timeout=60)
        assert second.returncode is None, bots.output()

        duplicates = await unrecorded(api, pg_url)
        reminders = Counter(p.first_name for p in members for m in p.inbox()
                            if REMINDER in m.text)
        twice = {name: n for name, n in reminders.items() if n > 1}
        print(f"\ntook over receiving {taken_over:.1f}s after the kill; reminders twice: "
              f"{len(twice)}; unrecorded deliveries: {len(duplicates)}")
        assert set(reminders) == {p.first_name for p in members}
        # A duplicate only in the window of the kill: a delivery the dead instance never
        # recorded (at most what it had in flight).
        assert sum(n - 1 for n in twice.values()) <= len(duplicates)
        for name in WRITERS:
            got = [m.text.rsplit("\n", 1)[-1] for m in containing(line.coach_of[name],
                                                                 f"{name} bericht")]
            assert sorted(set(got)) == [f"{name} bericht {n}" for n in range(MESSAGES)]
            firsts = list(dict.fromkeys(got))  # order of first arrival
            assert firsts == [f"{name} bericht {n}" for n in range(MESSAGES)], firsts
        assert taken_over < 30
    finally:
        with contextlib.suppress(Exception):
            await bots.stop_all()
