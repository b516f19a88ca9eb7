"""PRODUCT.md §2.4 and §4, with the installed command in its own process: a reminder survives a
SIGKILL and comes exactly once, on time; two instances on one PostgreSQL send each reminder
exactly once.

The bot runs as `python -m bot.cli run` (what `gezinslijn run` starts), configured only through
the environment, against a local Bot API server in this test process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot.simulator import ApiCall, LocalBotApi, LocalUser
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Appointment, Family, Member, Outbox, Reminder
from tests.conftest import TEST_KEY
from tests.e2e.conftest import AMS, FACTS, LINK, Harness

ROOT = Path(__file__).resolve().parents[2]
REMINDER = "⏰ Herinnering"


def _env(api: LocalBotApi, db_url: str, tmp_path: Path, clock_start: datetime,
         speed: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEZINSLIJN_")}
    env.update({
        "GEZINSLIJN_TELEGRAM_TOKEN": api.token,
        "GEZINSLIJN_TELEGRAM_API_URL": api.base_url,
        "GEZINSLIJN_DATABASE_URL": db_url,
        "GEZINSLIJN_ENCRYPTION_KEY": TEST_KEY,
        "GEZINSLIJN_KEY_FILE": str(tmp_path / "unused.key"),
        "GEZINSLIJN_CLOCK_START": clock_start.isoformat(),
        "GEZINSLIJN_CLOCK_SPEED": str(speed),
        "GEZINSLIJN_LOG_LEVEL": "WARNING",
    })
    return env


class Bots:
    """`gezinslijn run` processes started by one test; whatever still runs is killed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[asyncio.subprocess.Process] = []
        self.logs: list[Path] = []

    async def start(self, env: dict[str, str]) -> asyncio.subprocess.Process:
        log = self.tmp_path / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
                stdout=sink, stderr=sink)
        self.running.append(process)
        return process

    def output(self) -> str:
        """The processes' logs, for a failing assertion."""
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in self.logs if p.exists())

    async def stop_all(self) -> None:
        for process in self.running:
            if process.returncode is None:
                process.kill()
            await process.wait()


@pytest.fixture
async def bots(tmp_path: Path) -> AsyncIterator[Bots]:
    started = Bots(tmp_path)
    try:
        yield started
    finally:
        await started.stop_all()


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(facts=FACTS)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
    assert not api.violations, f"calls Telegram would refuse: {api.violations}"


async def _invite_coordinator(env: dict[str, str]) -> str:
    """`gezinslijn admin invite-coordinator`: one line with the link; returns its token."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "admin", "invite-coordinator", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode(errors="replace")
    match = LINK.search(out.decode())
    assert match, out.decode()
    return match.group(1)


async def _ready(api: LocalBotApi, after: int, timeout: float = 30) -> None:
    """The bot polls: it called getUpdates (after `after` recorded calls)."""
    await api.wait_for_call(lambda c: c.method == "getUpdates", timeout=timeout, after=after)


def _to(call: ApiCall, chat_ids: set[int]) -> bool:
    return call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) in chat_ids


# SIGKILL between two reminders ----------------------------------------------------------------
SPEED = 120.0  # two simulated minutes per real second


async def test_a_reminder_after_sigkill_comes_once_and_on_time(
        server: LocalBotApi, bots: Bots, tmp_path: Path) -> None:
    api = server
    db_url = f"sqlite:///{tmp_path / 'gezinslijn.db'}"
    # Wednesday 17:20: the evening-before reminder (18:00) is 20 real seconds away.
    env = _env(api, db_url, tmp_path, datetime(2026, 11, 25, 17, 20, tzinfo=AMS), SPEED)
    token = await _invite_coordinator(env)
    mark = len(api.calls)
    first_run = await bots.start(env)
    await _ready(api, mark)

    # Only the parts of the harness that talk to the API: people joining with invite links.
    people = Harness(api, cast(Any, None), cast(Any, None))
    carla = api.user("Carla")
    await people.join(carla, token)
    sanne = api.user("Sanne")
    await people.join(sanne, await people.link_from(carla, "/coachuitnodigen"))
    marieke = api.user("Marieke")
    await people.join(marieke, await people.link_from(sanne, "/nieuwgezin Gezin J. | | moeder"))

    start = len(sanne.inbox())
    sanne.send_text("/afspraak Gezin J. | morgen 14:00 | huisbezoek")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    assert "donderdag 26 november" in check.text, bots.output()
    sanne.press("✅ Klopt, opslaan", on=check)
    await sanne.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=start)

    member = {marieke.chat_id}
    first = await marieke.wait_for(lambda m: REMINDER in m.text, timeout=40)
    assert "huisbezoek" in first.text and "14:00" in first.text
    await api.idle()  # its delivery is recorded in the database
    first_run.kill()  # SIGKILL: no shutdown, no goodbye
    assert await first_run.wait() == -9
    after_kill = len(api.calls)

    # Up again just before Thursday 12:00 ("two hours before").
    env = _env(api, db_url, tmp_path, datetime(2026, 11, 26, 11, 50, tzinfo=AMS), SPEED)
    second_run = await bots.start(env)
    second = await marieke.wait_for(lambda m: REMINDER in m.text and m is not first,
                                    timeout=30)
    assert "huisbezoek" in second.text and "14:00" in second.text
    await asyncio.sleep(3)  # six more simulated minutes: room for a duplicate to show
    await api.idle()
    second_run.terminate()
    await second_run.wait()

    reminders = [c for c in api.calls if _to(c, member) and REMINDER in c.params["text"]]
    assert len(reminders) == 2, bots.output()
    assert sum(c in reminders for c in api.calls[after_kill:]) == 1
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            rows = (await session.scalars(select(Reminder).order_by(Reminder.due_at))).all()
    finally:
        await db.dispose()
    assert [(r.kind, r.status) for r in rows] == [("evening_before", "sent"),
                                                  ("hours_before", "sent")]
    sent_at = rows[1].handled_at
    assert sent_at is not None
    # On time by the bot's own clock: at 12:00, within the planner's beat of a real second.
    due = datetime(2026, 11, 26, 12, 0, tzinfo=AMS)
    assert due <= sent_at <= due + timedelta(minutes=3), sent_at.astimezone(AMS)


# Two instances, one PostgreSQL ----------------------------------------------------------------
FAMILIES = 20
PER_FAMILY = 50  # 1,000 members, each gets one reminder



async def _due_reminders(url: str, people: list[LocalUser], due: datetime) -> None:
    """1,000 members in a few families, one appointment each family, reminders all due at
    `due`: written straight into the database, as the bot would have planned them."""
    await upgrade_async(url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            families = [Family(alias=f"Gezin {n}", region="NL", timezone="Europe/Amsterdam",
                               active=True, created_at=due - timedelta(days=1))
                        for n in range(FAMILIES)]
            session.add_all(families)
            await session.flush()
            for index, person in enumerate(people):
                session.add(Member(
                    family_id=families[index // PER_FAMILY].id, chat_id=person.chat_id,
                    first_name=person.first_name, role="ouder", language="nl",
                    consent_at=due - timedelta(days=1), consent_version="1",
                    consent_language="nl", created_at=due - timedelta(days=1)))
            for family in families:
                appointment = Appointment(
                    family_id=family.id, starts_at=due + timedelta(hours=2),
                    what=f"huisbezoek {family.alias}", status="planned",
                    created_at=due - timedelta(days=1), updated_at=due - timedelta(days=1))
                session.add(appointment)
                await session.flush()
                session.add(Reminder(family_id=family.id, appointment_id=appointment.id,
                                     kind="hours_before", due_at=due, status="planned"))
    finally:
        await db.dispose()


async def test_two_instances_on_one_postgresql_send_each_reminder_once(
        server: LocalBotApi, bots: Bots, pg_url: str, tmp_path: Path) -> None:
    api = server
    people = [api.user(f"Lid{n}") for n in range(FAMILIES * PER_FAMILY)]
    for person in people:
        person.send_text("hallo")  # Telegram lets a bot write only to people who wrote first
    api.drop_pending_updates()  # …but these hellos are not what this test is about
    due = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
    await _due_reminders(pg_url, people, due)

    # Both are up and polling well before the reminders fall due (the clocks start 10 s early).
    env = _env(api, pg_url, tmp_path, due - timedelta(seconds=10), 1.0)
    mark = len(api.calls)
    first, second = await bots.start(env), await bots.start(env)
    await api.wait_for_call(lambda c: c.method == "deleteWebhook", after=mark, timeout=30)
    started = time.monotonic()

    chat_ids = {p.chat_id for p in people}
    deadline = started + 75
    while time.monotonic() < deadline:
        if sum(1 for c in api.calls if _to(c, chat_ids)) >= len(people):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # a late duplicate would show now
    assert first.returncode is None and second.returncode is None, bots.output()
    with contextlib.suppress(AssertionError):
        await api.idle(timeout=5)

    sends = Counter(int(c.params["chat_id"]) for c in api.calls if _to(c, chat_ids))
    twice = {chat: n for chat, n in sends.items() if n > 1}
    assert not twice, f"{len(twice)} members got their reminder more than once"
    assert set(sends) == chat_ids, (
        f"{len(chat_ids - set(sends))} members got no reminder\n{bots.output()}")
    for person in people[:: PER_FAMILY]:
        [message] = [m for m in person.inbox() if REMINDER in m.text]
        assert person.first_name and "huisbezoek Gezin" in message.text

    db = Database(pg_url)
    try:
        async with db.transaction() as session:
            statuses = Counter((await session.scalars(select(Reminder.status))).all())
            outbox = Counter((await session.scalars(
                select(Outbox.status).where(Outbox.purpose == "reminder"))).all())
    finally:
        await db.dispose()
    assert statuses == {"sent": FAMILIES}
    assert outbox == {"sent": len(people)}
