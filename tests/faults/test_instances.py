"""One bot, several instances. On PostgreSQL one instance at a time polls Telegram (the one
holding the poller lock; Telegram ends a getUpdates call with 409 Conflict when another starts),
and another takes over within seconds when it stops or loses its database connection. On SQLite
a second instance on the same file refuses to start, with one sentence."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import outbox
from bot.app import Runtime
from bot.outbox.ratelimit import RateLimiter
from bot.settings import SettingsError
from bot.simulator import LocalBotApi, LocalUser
from storage.db import Database
from storage.repos.inbound import POLLER_KEY, POLLER_NAMESPACE
from tests.conftest import TEST_KEY
from tests.e2e.conftest import WEDNESDAY_MORNING
from tests.faults.common import (
    RunningClock,
    containing,
    people_who_wrote,
    queue_sends,
    running_bot,
    seed_line,
    settings_for,
    settled,
    wait_until,
)
from tests.faults.test_rate_limits import most_in_any_window

ROOT = Path(__file__).resolve().parents[2]
TAKE_OVER = 8.0  # seconds: the standby tries every 2 s
CHATS = 90  # sends at once: three seconds' worth for one bot



def _runtime(api: LocalBotApi, url: str, tmp_path: Path, clock: RunningClock) -> Runtime:
    """As tests/faults/common.py `running_bot` builds it, started and stopped by the test."""
    return Runtime(settings_for(api, url, tmp_path), clock, limiter=RateLimiter(enabled=False),
                   poll_timeout=1, dispatcher_poll=0.05)


def _polling(bots: list[Runtime]) -> list[Runtime]:
    return [bot for bot in bots if bot.intake.polling]


def _conflicts(api: LocalBotApi, since: int = 0) -> int:
    return sum(1 for c in api.calls[since:] if c.method == "getUpdates" and c.error_code == 409)


async def _relayed_once(member: LocalUser, coach: LocalUser, texts: list[str]) -> None:
    for message in texts:
        member.send_text(message)
    for message in texts:
        await coach.wait_for(lambda m, t=message: t in m.text, timeout=15)  # type: ignore[misc]
    for message in texts:
        assert len(containing(coach, message)) == 1, message


async def _end_lock_session(url: str) -> None:
    """The server ends the session holding the poller lock (as a network cut would)."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            pids = (await session.scalars(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns "
                "AND objid = :key AND granted AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"),
                {"ns": POLLER_NAMESPACE, "key": POLLER_KEY}
            )).all()
            assert len(pids) == 1, pids
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def _two_instances(api: LocalBotApi, pg_url: str, tmp_path: Path
                         ) -> AsyncIterator[tuple[list[Runtime], list[Runtime]]]:
    """Two instances of one bot, started; those still running (`started`: a test that stops
    one removes it) are stopped afterwards."""
    clock = RunningClock(WEDNESDAY_MORNING, 60)
    bots = [_runtime(api, pg_url, tmp_path, clock), _runtime(api, pg_url, tmp_path, clock)]
    started: list[Runtime] = []
    try:
        for bot in bots:
            await bot.start()
            started.append(bot)
        yield bots, started
    finally:
        for bot in started:
            await bot.stop()


async def test_one_instance_polls_and_another_takes_over(
        api: LocalBotApi, pg_url: str, tmp_path: Path) -> None:
    line = await seed_line(pg_url, api, [("Gezin J.", "Sanne", ["Marieke"])], WEDNESDAY_MORNING)
    marieke, sanne = line.member("Marieke"), line.coaches["Sanne"]
    async with _two_instances(api, pg_url, tmp_path) as (bots, started):
        await wait_until(lambda: len(_polling(bots)) == 1, TAKE_OVER, "one instance polls")
        [poller] = _polling(bots)
        [standby] = [bot for bot in bots if bot is not poller]

        # Both run a while, side by side: the standby never calls getUpdates, so Telegram
        # never ends a call with 409; each message is handled once.
        mark, standby_polls = len(api.calls), standby.intake.polls
        await _relayed_once(marieke, sanne, [f"eerst {n}" for n in range(4)])
        await asyncio.sleep(3)  # several poll cycles (1 s each) and standby tries (2 s)
        assert standby.intake.polls == standby_polls and not standby.intake.polling
        assert _conflicts(api, mark) == 0
        assert poller.intake.polls > 2

        # The poller's lock connection ends: it stops polling, the standby takes over.
        await api.wait_for_call(lambda c: c.method == "getUpdates", after=len(api.calls))
        await _end_lock_session(pg_url)
        await wait_until(lambda: _polling(bots) == [standby], TAKE_OVER,
                         "the standby polls, and only it")
        before = poller.intake.polls
        await _relayed_once(marieke, sanne, [f"daarna {n}" for n in range(3)])
        assert poller.intake.polls == before and not poller.intake.polling

        # The one polling now stops: the first takes over again.
        await standby.stop()
        started.remove(standby)
        began = time.monotonic()
        await wait_until(lambda: poller.intake.polling, TAKE_OVER, "the other polls again")
        print(f"\ntaken over {time.monotonic() - began:.1f}s after the poller stopped")
        await _relayed_once(marieke, sanne, [f"tot slot {n}" for n in range(3)])


async def test_the_polling_instance_leaves_planning_to_the_other_while_it_lives(
        api: LocalBotApi, pg_url: str, tmp_path: Path) -> None:
    """The planners (the evening's reminders, the morning's agendas) run beside the handlers
    on the instance that polls only when no other instance is there to run them."""
    await seed_line(pg_url, api, [("Gezin J.", "Sanne", ["Marieke"])], WEDNESDAY_MORNING)
    async with _two_instances(api, pg_url, tmp_path) as (bots, started):
        await wait_until(lambda: len(_polling(bots)) == 1 and all(
            bot.dispatcher._instances == 2 for bot in bots), TAKE_OVER, "two, one polls")
        [poller] = _polling(bots)
        [standby] = [bot for bot in bots if bot is not poller]
        assert poller.dispatcher._leaves_planning()
        assert not standby.dispatcher._leaves_planning()
        await standby.stop()
        started.remove(standby)
        await wait_until(lambda: not poller.dispatcher._leaves_planning(), TAKE_OVER,
                         "alone, the poller plans again")


async def test_two_instances_share_one_bot_s_limit(
        api: LocalBotApi, pg_url: str, tmp_path: Path) -> None:
    """Telegram's 30 a second are per bot: two instances together stay under them."""
    people = await people_who_wrote(api, pg_url, CHATS)
    clock = RunningClock(WEDNESDAY_MORNING, 60)
    bots = [Runtime(settings_for(api, pg_url, tmp_path), clock, limiter=RateLimiter(),
                    poll_timeout=1, dispatcher_poll=0.05) for _ in range(2)]
    started: list[Runtime] = []
    try:
        for bot in bots:
            await bot.start()
            started.append(bot)
        await wait_until(lambda: all(b.dispatcher.limiter.overall.limit == 13 for b in bots),
                         TAKE_OVER, "each instance paces at its part")
        await api.idle()
        mark = len(api.calls)
        out = outbox.Outgoing()
        for person in people:
            out.text(person.chat_id, f"bericht aan {person.first_name}")
        await queue_sends(pg_url, out, clock.now())
        for bot in bots:
            bot.dispatcher.wake()
        await settled(api, pg_url, timeout=40)
        shares = [bot.dispatcher.sent for bot in bots]
    finally:
        for bot in started:
            await bot.stop()
    calls = [c for c in api.calls[mark:] if c.method == "sendMessage"]
    assert len(calls) == CHATS and all(c.ok for c in calls)
    most = most_in_any_window([c.at for c in calls], 1.0)
    print(f"\nmost sends in one second: {most}; each instance sent {shares}")
    assert most <= 30
    assert all(shares), shares  # both took part


# SQLite: one instance per file ----------------------------------------------------------------
REFUSAL = "Another Gezinslijn is already running on this database"


async def test_a_second_instance_on_one_sqlite_file_refuses(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    clock = RunningClock(WEDNESDAY_MORNING)
    async with running_bot(api, sqlite_url, tmp_path, clock) as first:
        await wait_until(lambda: first.intake.polls > 0, 10, "the first polls")
        second = _runtime(api, sqlite_url, tmp_path, clock)
        with pytest.raises(SettingsError, match=REFUSAL) as refused:
            await second.start()
        assert str(tmp_path / "test.db") in str(refused.value)
        assert "GEZINSLIJN_DATABASE_URL" in str(refused.value)
        await second.db.dispose()
    # Once the first has stopped, a new one starts.
    async with running_bot(api, sqlite_url, tmp_path, clock) as third:
        await wait_until(lambda: third.intake.polls > 0, 10, "the new one polls")


async def test_gezinslijn_run_on_a_sqlite_file_in_use_says_one_line(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEZINSLIJN_")}
    env.update({"GEZINSLIJN_TELEGRAM_TOKEN": api.token,
                "GEZINSLIJN_TELEGRAM_API_URL": api.base_url,
                "GEZINSLIJN_DATABASE_URL": sqlite_url,
                "GEZINSLIJN_ENCRYPTION_KEY": TEST_KEY,
                "GEZINSLIJN_KEY_FILE": str(tmp_path / "unused.key"),
                "GEZINSLIJN_LOG_LEVEL": "WARNING"})
    async with running_bot(api, sqlite_url, tmp_path, RunningClock(WEDNESDAY_MORNING)):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = [line for line in (out + err).decode().splitlines() if line.strip()]
    assert process.returncode not in (0, None)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"gezinslijn: {REFUSAL}"), lines
