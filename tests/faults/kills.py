"""SIGKILL at chosen points: the engine of tests/faults/test_sigkill.py and of the soak.

The bot runs as `python -m bot.cli run` (what `gezinslijn run` starts) on a simulated clock.
Each *life* of the bot gets one kill point: the local Bot API server SIGKILLs the bot process
when it receives the n-th matching call of a method, before handling it (a send not delivered,
getUpdates not confirmed) or after handling it and before answering (a send delivered but not
recorded: the one window where a duplicate is allowed; getUpdates handed its updates out but
the bot never stored nor handled them). The next life starts on the same database, later on the
clock.
A final life without a kill point runs until nothing is left to do; then the checks:

- every message a family member sent reached their coach (relayed at once, or in a digest);
- every due reminder was sent to every member of its family;
- every family message was handled once (one stored row per Telegram message);
- duplicates only where a kill fell between a delivered send and its record: each delivery
  the bot did not record is the call a send→record kill point fired on. They are counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.simulator import LocalBotApi, LocalUser, Trap
from bot.simulator.model import ChatMessage
from storage.db import Database
from storage.models import Appointment, FamilyMessage, Outbox, Reminder
from tests.e2e.conftest import AMS
from tests.e2e.test_restart_and_instances import ROOT, Bots, _env
from tests.faults.common import (
    Line,
    copies_of,
    describe,
    query,
    seed_line,
    settled,
    unrecorded,
)

SPEED = 60.0  # one simulated minute per real second
FAMILIES = [("Gezin A", "Sanne", ["Anna", "Arend"]), ("Gezin B", "Sanne", ["Bea", "Bram"]),
            ("Gezin C", "Pieter", ["Cor", "Cato"]), ("Gezin D", "Pieter", ["Dirk", "Door"])]
# Each family's window opens at another time: four digest releases on Thursday morning.
WINDOWS = {"Gezin A": "ma-vr 09:00-17:00", "Gezin B": "ma-vr 09:30-17:00",
           "Gezin C": "ma-vr 10:00-17:00", "Gezin D": "ma-vr 10:30-17:00"}
MEMBERS = [name for _, _, names in FAMILIES for name in names]
WEDNESDAY = datetime(2026, 11, 25, tzinfo=AMS)
THURSDAY = WEDNESDAY + timedelta(days=1)
RELEASES = {"Gezin A": THURSDAY.replace(hour=9), "Gezin B": THURSDAY.replace(hour=9, minute=30),
            "Gezin C": THURSDAY.replace(hour=10), "Gezin D": THURSDAY.replace(hour=10, minute=30)}
# Half an hour apart: a life and the next one's clock never reach the next family's reminders.
REMINDERS_DUE = {"Gezin A": THURSDAY.replace(hour=12),
                 "Gezin B": THURSDAY.replace(hour=12, minute=30),
                 "Gezin C": THURSDAY.replace(hour=13),
                 "Gezin D": THURSDAY.replace(hour=13, minute=30)}
APPOINTMENTS = THURSDAY.replace(hour=15)
REMINDER = "⏰ Herinnering"
LIFE_TIMEOUT = 20.0


# `gezinslijn run` exactly (bot.cli.main(["run"])), in a process that imported the bot's modules
# while the previous life was still running: a life then costs the bot's start, not Python's
# imports. Its settings (the GEZINSLIJN_* environment) arrive on stdin when it is its turn.
WARM_START = (
    "import json, os, sys\n"
    "import alembic.command, bot.app, bot.cli, handlers.router, storage.migrate\n"
    "settings = sys.stdin.readline()\n"
    "if not settings.strip():\n"
    "    sys.exit(0)\n"
    "os.environ.update(json.loads(settings))\n"
    "sys.exit(bot.cli.main(['run']))\n"
)


class WarmBots(Bots):
    """Like the restart test's `Bots`, with the next process always started and waiting."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self._ready: asyncio.subprocess.Process | None = None
        self._ready_log: Path | None = None

    async def _spawn(self) -> None:
        log = self.tmp_path / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log)
        base = {k: v for k, v in os.environ.items() if not k.startswith("GEZINSLIJN_")}
        with log.open("wb") as sink:
            self._ready = await asyncio.create_subprocess_exec(
                sys.executable, "-c", WARM_START, cwd=ROOT, env=base,
                stdin=asyncio.subprocess.PIPE, stdout=sink, stderr=sink)
        self._ready_log = log

    async def start(self, env: dict[str, str]) -> asyncio.subprocess.Process:
        if self._ready is None:
            await self._spawn()
        process, self._ready = self._ready, None
        assert process is not None and process.stdin is not None
        settings = {k: v for k, v in env.items() if k.startswith("GEZINSLIJN_")}
        process.stdin.write((json.dumps(settings) + "\n").encode())
        await process.stdin.drain()
        self.running.append(process)
        await self._spawn()  # the next one imports while this one runs
        return process

    async def stop_all(self) -> None:
        if self._ready is not None and self._ready.stdin is not None:
            self._ready.stdin.close()  # an empty line: it ends without running
            await self._ready.wait()
            self._ready = None
        await super().stop_all()


@dataclass(frozen=True)
class KillPoint:
    """Where a life ends. `to`: whose chat the call goes to ("coach", "member" or any); `text`:
    a piece the call's text must carry (a digest title, a held message, a reminder)."""

    path: str  # relay | hold | digest | reminder
    method: str
    after: bool
    nth: int = 1
    to: str | None = None
    text: str | None = None

    @property
    def window(self) -> bool:
        """Between a delivered send and its record: a duplicate is allowed here."""
        return self.after and self.method != "getUpdates"

    def __str__(self) -> str:
        where = f" to {self.to}" if self.to else ""
        what = f" carrying {self.text!r}" if self.text else ""
        return (f"{self.path}: {'after' if self.after else 'before'} answering the "
                f"#{self.nth} {self.method}{where}{what}")


def R(method: str, after: bool, nth: int = 1, to: str | None = None,
      text: str | None = None) -> KillPoint:
    return KillPoint("relay", method, after, nth, to, text)


# The fault suite's kill points, in order: 10 relay, 4 hold, 5 digest, 5 reminder = 24.
RELAY_POINTS = [
    R("getUpdates", True),  # handed out, never handled: Telegram hands them out again
    R("sendMessage", False, 1, "coach"),
    R("sendMessage", True, 1, "coach"),
    R("copyMessage", False, 1, "coach"),
    R("copyMessage", True, 1, "coach"),
    R("sendMessage", False, 1, "member"),  # the receipt
    R("sendMessage", True, 1, "member"),
    R("setMessageReaction", True),  # the second message of a burst gets a 👍
    # The poll confirming an update: handled by the server (the update forgotten), answer
    # withheld. Only an update stored or handled before it was confirmed survives this.
    R("getUpdates", True, 1, None, "confirm"),
    R("sendMessage", True, 2, "coach"),
]
HOLD_POINTS = [
    KillPoint("hold", "sendMessage", False, 1, "member"),  # the out-of-hours answer
    KillPoint("hold", "sendMessage", True, 1, "member"),
    KillPoint("hold", "getUpdates", True),
    KillPoint("hold", "setMessageReaction", True),
]
# (release of which family, kill point); each life starts a minute before that release.
DIGEST_POINTS = [
    ("Gezin A", KillPoint("digest", "sendMessage", False, 1, "coach", "📬")),
    ("Gezin A", KillPoint("digest", "sendMessage", True, 1, "coach", "hold-")),
    ("Gezin B", KillPoint("digest", "sendMessage", True, 1, "coach", "📬")),
    ("Gezin C", KillPoint("digest", "sendMessage", False, 2, "coach", "hold-")),
    ("Gezin D", KillPoint("digest", "copyMessage", True, 1, "coach")),
]
REMINDER_POINTS = [
    ("Gezin A", KillPoint("reminder", "sendMessage", False, 1, "member", REMINDER)),
    ("Gezin A", KillPoint("reminder", "sendMessage", True, 1, "member", REMINDER)),
    ("Gezin B", KillPoint("reminder", "sendMessage", True, 2, "member", REMINDER)),
    ("Gezin C", KillPoint("reminder", "sendMessage", False, 2, "member", REMINDER)),
    ("Gezin D", KillPoint("reminder", "sendMessage", True, 1, "member", REMINDER)),
]


@dataclass
class Plan:
    relay: list[KillPoint]
    hold: list[KillPoint]
    digest: list[tuple[str, KillPoint]]
    reminder: list[tuple[str, KillPoint]]
    timer_kills: list[float] = field(default_factory=list)  # extra lives killed after s

    @property
    def size(self) -> int:
        return (len(self.relay) + len(self.hold) + len(self.digest) + len(self.reminder)
                + len(self.timer_kills))


SUITE = Plan(RELAY_POINTS, HOLD_POINTS, DIGEST_POINTS, REMINDER_POINTS)


def soak_plan(seed: int, relay: int = 40, hold: int = 12, timer_kills: int = 10) -> Plan:
    """More kill points, drawn with a seed (the same seed, the same points)."""
    rng = random.Random(seed)
    relay_kinds = [("sendMessage", False, "coach"), ("sendMessage", True, "coach"),
                   ("copyMessage", False, "coach"), ("copyMessage", True, "coach"),
                   ("sendMessage", False, "member"), ("sendMessage", True, "member"),
                   ("getUpdates", True, None), ("setMessageReaction", True, None)]
    relay_points = []
    for _ in range(relay):
        method, after, to = rng.choice(relay_kinds)
        second = method == "sendMessage" and to == "coach" and rng.random() < 0.3
        relay_points.append(R(method, after, 2 if second else 1, to))
    if rng.random() < 0.5:
        relay_points.insert(rng.randrange(len(relay_points) + 1),
                            R("getUpdates", True, 1, None, "confirm"))
    hold_kinds = [("getUpdates", True, None), ("setMessageReaction", True, None),
                  ("sendMessage", False, "member"), ("sendMessage", True, "member")]
    hold_points = [KillPoint("hold", m, a, 1, to) for m, a, to in
                   (rng.choice(hold_kinds) for _ in range(hold))]
    return Plan(relay_points, hold_points, DIGEST_POINTS, REMINDER_POINTS,
                [round(rng.uniform(0.2, 2.5), 2) for _ in range(timer_kills)])


@dataclass
class Sent:
    """A message a family member sent, and whether it is a photo."""

    member: str
    message: ChatMessage
    token: str


@dataclass
class Life:
    first_call: int  # index into the server's call log
    last_call: int
    ended: str  # the kill point, "timer …", or "stopped"
    killed: bool


@dataclass
class Report:
    kill_points: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # soak only: points a life never reached
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (kill point, call)
    family_messages: int = 0
    reminders: int = 0
    lives: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        by_path = Counter(point.split(":", 1)[0] for point, _ in self.duplicates)
        missed = f" ({len(self.missed)} drawn points not reached)" if self.missed else ""
        lines = [f"{len(self.kill_points)} kill points{missed} in {self.lives} lives, "
                 f"{self.seconds:.0f}s; {self.family_messages} family messages and "
                 f"{self.reminders} reminders all delivered; "
                 f"{len(self.duplicates)} duplicates ({dict(by_path)}):"]
        lines += [f"  duplicate: {call} <- killed at {point}" for point, call in self.duplicates]
        return "\n".join(lines)


class KillRun:
    def __init__(self, api: LocalBotApi, db_url: str, tmp_path: Path, plan: Plan,
                 speed: float = SPEED, strict: bool = True) -> None:
        """`strict`: a kill point that is not reached fails the run (the suite); else (the
        soak, whose points are drawn at random) the life is stopped and counted as missed."""
        self.strict = strict
        self.api = api
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.plan = plan
        self.speed = speed
        self.bots = WarmBots(tmp_path)
        self.line: Line | None = None
        self.sent: list[Sent] = []
        self.pid = 0
        self.fired: list[tuple[KillPoint, Trap]] = []
        self.lives: list[Life] = []
        self._running = 0
        self.clock_floor = WEDNESDAY
        self.report = Report()
        self.last_update = 0  # the update_id of the last family message
        self._count = 0

    # Lives ---------------------------------------------------------------------------------
    def _trap(self, point: KillPoint) -> Trap:
        assert self.line is not None
        coaches = {str(p.chat_id) for p in self.line.coaches.values()}
        members = {str(p.chat_id) for p in self.line.members.values()}
        chats = {"coach": coaches, "member": members}.get(point.to or "")
        before = self.last_update

        def match(params: dict[str, Any], result: Any) -> bool:
            if chats is not None and str(params.get("chat_id")) not in chats:
                return False
            if point.method == "getUpdates":
                if point.text == "confirm":  # the poll confirming an update this life stored
                    return self.last_update > before and \
                        int(params.get("offset") or 0) > self.last_update
                return bool(result) if point.after else True
            if point.text is not None:
                return point.text in str(params.get("text") or params.get("caption") or "")
            return True

        def kill() -> None:
            if self.pid:
                os.kill(self.pid, signal.SIGKILL)

        return Trap(point.method, kill, nth=point.nth, after=point.after, match=match)

    async def life(self, start: datetime, point: KillPoint | None,
                   act: Callable[[], Awaitable[None]] | None = None,
                   timer: float | None = None) -> None:
        """One run of the bot from `start` on its clock, until the kill point ends it."""
        start = max(start, self.clock_floor)
        trap = self._trap(point) if point is not None else None
        self.api.faults.traps = [trap] if trap is not None else []
        env = _env(self.api, self.db_url, self.tmp_path, start, self.speed)
        mark = len(self.api.calls)
        began = time.monotonic()
        process = await self.bots.start(env)
        self.pid = process.pid
        self.report.lives += 1
        running = False
        try:
            # The life polls, or the kill point came first: the dispatcher claims while its
            # planners run, so a row the last life left (or a reminder due at the start) may
            # go out before the first poll.
            await self.api.wait_for_call(
                lambda c: c.method == "getUpdates" or (trap is not None and trap.fired),
                timeout=30, after=mark)
            if act is not None and not (trap is not None and trap.fired):
                await act()
            if point is None and timer is None:
                running = True  # it goes on until _stop_running
                self._running = mark
                return
            if timer is not None:
                await asyncio.sleep(timer)
                if process.returncode is None:
                    process.kill()
            code = await asyncio.wait_for(process.wait(),
                                          LIFE_TIMEOUT if self.strict else 8.0)
            assert code == -signal.SIGKILL, f"the bot ended with {code}\n{self.bots.output()}"
            if trap is not None:
                assert trap.fired
                self.fired.append((point, trap))  # type: ignore[arg-type]
                self.report.kill_points.append(str(point))
            else:
                self.report.kill_points.append(f"timer: SIGKILL {timer:.2f}s after start")
        except TimeoutError:
            if self.strict:
                raise AssertionError(f"kill point not reached within {LIFE_TIMEOUT}s: "
                                     f"{point}\n{self.bots.output()}") from None
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)
            self.report.missed.append(str(point))
        finally:
            if not running:
                killed = process.returncode == -signal.SIGKILL
                ended = str(point) if point else f"timer: SIGKILL {timer}s after start"
                self.lives.append(Life(mark, len(self.api.calls), ended, killed))
                self.pid = 0
            self.api.faults.traps = []
            elapsed = time.monotonic() - began
            # The next life starts where this one's clock got to (or later): time runs on.
            self.clock_floor = start + timedelta(seconds=(elapsed + 1) * self.speed)

    # What the people do --------------------------------------------------------------------
    def _write(self, name: str, token: str, photo: bool = False) -> None:
        assert self.line is not None
        person = self.line.member(name)
        message = person.send_photo(caption=token) if photo else person.send_text(token)
        self.last_update = self.api.last_update_id
        self.sent.append(Sent(name, message, token))

    def _next_token(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count:03d}"

    def _relay_act(self, point: KillPoint, index: int) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            name = MEMBERS[index % len(MEMBERS)]
            photo = point.method == "copyMessage"
            self._write(name, self._next_token("relay-"), photo=photo)
            if point.text == "confirm":
                await asyncio.sleep(0.7)  # the confirming long poll returns with the next one
            if point.nth > 1 or point.method == "setMessageReaction" or point.text == "confirm":
                self._write(name, self._next_token("relay-"))  # a burst: the 👍 this time
        return act

    def _hold_act(self, point: KillPoint, index: int) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            # Two families' members each write; one of them with a photo.
            first = MEMBERS[(2 * index) % len(MEMBERS)]
            second = MEMBERS[(2 * index + 3) % len(MEMBERS)]
            self._write(first, self._next_token("hold-"), photo=index % 2 == 1)
            self._write(second, self._next_token("hold-"))
            if point.method == "setMessageReaction":
                self._write(first, self._next_token("hold-"))  # same quiet period: a 👍
        return act

    async def _evening_act(self) -> None:
        """Two held messages of each family, one of Gezin D's a photo (its digest copies it)."""
        for _alias, _coach, names in FAMILIES:
            self._write(names[0], self._next_token("hold-"))
            self._write(names[1], self._next_token("hold-"), photo=names[1] == "Door")

    # The run -------------------------------------------------------------------------------
    async def run(self) -> Report:
        began = time.monotonic()
        self.line = await seed_line(self.db_url, self.api, FAMILIES, WEDNESDAY, WINDOWS)
        await self._appointments()
        for index, point in enumerate(self.plan.relay):
            # From 10:30 every family's window is open: all of this is relayed at once.
            await self.life(WEDNESDAY.replace(hour=10, minute=30) + timedelta(minutes=3 * index),
                            point, self._relay_act(point, index))
        for index, delay in enumerate(self.plan.timer_kills):
            name = MEMBERS[index % len(MEMBERS)]

            async def burst(name: str = name) -> None:
                for _ in range(3):
                    self._write(name, self._next_token("relay-"))

            await self.life(WEDNESDAY.replace(hour=13), None, burst, timer=delay)
        # Everything relayed so far is out before the evening (the next life sends what is
        # left; no kill point).
        await self.life(WEDNESDAY.replace(hour=16), None)
        await settled(self.api, self.db_url, timeout=30)
        await self._stop_running()
        for index, point in enumerate(self.plan.hold):
            await self.life(WEDNESDAY.replace(hour=19) + timedelta(minutes=10 * index), point,
                            self._hold_act(point, index))
        # The digest points need held messages of every family, whatever the hold lives let
        # through: a life killed before its first poll writes nothing, and which ones are
        # depends on how far the life before got (an update handled at once is fetched again
        # by the next life when the kill came before it; a stored one is not).
        await self.life(WEDNESDAY.replace(hour=20), None, self._evening_act)
        await settled(self.api, self.db_url, timeout=30)
        await self._stop_running()
        for alias, point in self.plan.digest:
            await self.life(RELEASES[alias] - timedelta(minutes=1), point)
        for alias, point in self.plan.reminder:
            await self.life(REMINDERS_DUE[alias] - timedelta(minutes=1), point)
        # The last life: no kill, until nothing is left to do.
        await self.life(THURSDAY.replace(hour=13, minute=40), None)
        await settled(self.api, self.db_url, timeout=60)
        await self._no_held_left()
        await self._stop_running()
        await self.check()
        self.report.seconds = time.monotonic() - began
        return self.report

    async def _stop_running(self) -> None:
        for process in self.bots.running:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 20)
                assert process.returncode == 0, self.bots.output()
                self.lives.append(Life(self._running, len(self.api.calls), "stopped", False))
        self.pid = 0

    async def _appointments(self) -> None:
        """Thursday 15:00 appointments, their hours-before reminders due at REMINDERS_DUE
        (written as the bot would have planned them)."""
        assert self.line is not None
        db = Database(self.db_url)
        try:
            async with db.transaction() as session:
                for alias, due in REMINDERS_DUE.items():
                    family_id = self.line.family_ids[alias]
                    appointment = Appointment(
                        family_id=family_id, starts_at=APPOINTMENTS,
                        what="huisbezoek", status="planned", created_at=WEDNESDAY,
                        updated_at=WEDNESDAY)
                    session.add(appointment)
                    await session.flush()
                    session.add(Reminder(family_id=family_id, appointment_id=appointment.id,
                                         kind="hours_before", due_at=due, status="planned"))
        finally:
            await db.dispose()

    async def _no_held_left(self) -> None:
        [(held,)] = await query(self.db_url, select(func.count()).select_from(FamilyMessage)
                                .where(FamilyMessage.status == "held"))
        assert held == 0, f"{held} family messages still held"

    # The checks ------------------------------------------------------------------------------
    async def check(self) -> None:
        assert self.line is not None
        line = self.line
        recorded = {(int(chat), int(message)) for chat, message in await query(
            self.db_url, select(Outbox.chat_id, Outbox.sent_message_id).where(
                Outbox.status == "sent", Outbox.sent_message_id.is_not(None)))}

        def once(messages: list[ChatMessage]) -> bool:
            """Delivered, and recorded exactly once (more would be a duplicate the bot did
            record: not the send→record window but a decision taken twice)."""
            return sum((m.chat_id, m.message_id) in recorded for m in messages) == 1

        missing, twice = [], []
        for sent in self.sent:
            arrivals = self._arrivals(line.coach_of[sent.member], sent)
            if not arrivals:
                missing.append(f"{sent.token} from {sent.member}")
            elif not once(arrivals):
                twice.append(sent.token)
        assert not missing, f"family messages that never reached their coach: {missing}"
        assert not twice, f"family messages relayed twice, both recorded: {twice}"
        self.report.family_messages = len(self.sent)

        # Handled once: one stored family message per Telegram message.
        stored = Counter((int(chat), int(message)) for chat, message in await query(
            self.db_url, select(FamilyMessage.chat_id, FamilyMessage.telegram_message_id)))
        again = {key: n for key, n in stored.items() if n > 1}
        assert not again, f"family messages handled more than once: {again}"
        assert sum(stored.values()) == len(self.sent)

        statuses = [s for (s,) in await query(self.db_url, select(Reminder.status))]
        assert statuses == ["sent"] * len(REMINDERS_DUE), statuses
        for alias, _coach, names in FAMILIES:
            for name in names:
                got = [m for m in line.member(name).inbox() if REMINDER in m.text]
                assert got, f"{name} ({alias}) got no reminder"
                assert once(got), f"{name} ({alias}) got {len(got)} reminders, all recorded"
        self.report.reminders = len(MEMBERS)

        # Duplicates: deliveries the bot never recorded, each made by a bot process that was
        # killed before it could record it (the send→record window), and nothing else.
        extra = await unrecorded(self.api, self.db_url)
        index = {id(call): n for n, call in enumerate(self.api.calls)}
        own = {id(trap.call) for point, trap in self.fired  # a reaction puts no message
               if point.window and trap.call is not None and isinstance(trap.call.result, dict)}
        report, stray = [], []
        for call in extra:
            life = next(life for life in self.lives
                        if life.first_call <= index[id(call)] < life.last_call)
            if not life.killed:
                stray.append(call)
                continue
            how = "its own send" if id(call) in own else "a send in flight"
            report.append((life.ended, f"{describe([call])[0]} ({how})"))
        self.report.duplicates = report
        assert not stray, ("deliveries not recorded by a bot that was not killed: "
                           f"{describe(stray)}\n{self.report.summary()}")
        unseen = own - {id(call) for call in extra}
        assert not unseen, "a send→record kill point's delivery was recorded after all"
        self._no_contents_in_logs()

    def _arrivals(self, coach: LocalUser, sent: Sent) -> list[ChatMessage]:
        if sent.message.kind == "photo":
            return copies_of(coach, sent.message)
        return [m for m in coach.inbox() if sent.token in m.text]

    def _no_contents_in_logs(self) -> None:
        assert self.line is not None
        words = [s.token for s in self.sent] + MEMBERS + list(self.line.coaches) + [
            alias for alias, _, _ in FAMILIES] + [self.api.token]
        for log in self.bots.logs:
            text = log.read_text(errors="replace")
            leaked = [w for w in words if w in text]
            assert not leaked, f"{log.name} names {leaked}"

