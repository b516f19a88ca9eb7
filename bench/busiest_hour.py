"""Part 4: a region's busiest hours — 2,000 coaches, 20,000 families (one member each),
100,000 pending reminders — on the simulated clock, with a steady stream of family messages.

One bot process lives through the day (`bench/bot_child.py`, the anchored clock):

1. *start-up* at 08:00: the caseload was seeded with Core inserts, so every family is given
   its data key and its rows are sealed with it (`bot/jobs/data_keys.py`), timed apart;
2. *quiet*: family messages with nothing else due: SQL statements per relayed message (the
   planners' passes counted apart), latency without load;
3. *morning*: the clock jumps to just before 09:00, when every coach's window opens: all
   agendas and the digests of the messages held overnight at once;
4. *evening*: the clock jumps to just before 18:00: the evening-before reminders of all
   20,000 families fall due in the same minute.

Through both bursts the families with policy "always" (one per coach: their coach may be
reached at any hour, so a message is relayed at once also at 18:00) write, round robin, at a
steady rate (10 a second; 1 with `--quick`), from shortly before the due moment until the
burst is sent (at most `stream_cap_s` after it). Family latency is from the update entering
the local Bot API server to the coach's copy landing there; *during* is every message written
between the due moment and the burst's last send.

Per phase: lag due → sent (p50/p99/max) per kind, from the outbox (`sent_at`, the bot's
clock) against the moment it was due (09:00, 18:00); the send rate against the server's 30 a
second (429s counted); CPU share and peak RSS of the bot, from /proc; SQL statements per stage
(bench/bot_child.py `Counts`). Exactly once: every reminder's appointment is in its callback
data, so the server's log shows how often each was sent and when (before its appointment?);
the server's successful sends per method equal the outbox rows recorded sent (one call per
row), and no two sends carry the same chat, method and contents.

On PostgreSQL the day is then reset (`dataset.reset_day`) and run again by two bot processes
sharing the database (same anchor: they read the same instant): the send rate they reach
together, each one's share, and nothing sent twice.

`--quick` scales everything down 10×: 200 coaches, 2,000 families, 10,000 pending reminders,
a burst of 2,000, 1 message a second.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from bench import send_trace
from bench.common import (
    AGENDA_AT,
    BURST_AT,
    Child,
    ProcessWatch,
    summary_ms,
    summary_s,
    tag_of,
    tagged,
)
from bench.dataset import Caseload, reset_day, seed_caseload
from bench.server import BenchBotApi, max_in_window
from bot.simulator import LocalUser
from storage.db import Database
from storage.models import Appointment, FamilyMessage, Outbox, Reminder, Staff

LIMIT = 30.0
OPENING = AGENDA_AT.replace(hour=9, minute=0)  # every coach's window opens (ma-vr 09:00)
DAY_START = AGENDA_AT.replace(hour=8, minute=0)
# Bot API methods the bot calls itself, not through the outbox.
DIRECT = frozenset({"getUpdates", "getMe", "setMyCommands", "deleteMyCommands", "deleteWebhook",
                    "getWebhookInfo", "setWebhook", "logOut", "close"})
APPOINTMENT_BUTTON = re.compile(r"rsp\|appt\|(\d+)\|")
# The stages of bench/bot_child.py that a relayed message goes through (idle passes apart).
MESSAGE_STAGES = ("intake:store", "intake:handle", "dispatch:claim", "dispatch:record",
                  "dispatch:retry", "dispatch:give_up")


@dataclass(frozen=True)
class Scale:
    coaches: int = 2_000
    families_per_coach: int = 10
    appointments_ahead: int = 5  # 20,000 × 5 = 100,000 pending reminders
    stream_rate: float = 10.0  # family messages a second
    stream_cap_s: float = 600.0  # the stream stops this long after the due moment at the latest
    lead_s: float = 10.0  # the clock jumps to this long before the due moment; the stream starts
    quiet_messages: int = 200
    quiet_rate: float = 5.0

    def caseload(self) -> Caseload:
        families = self.coaches * self.families_per_coach
        return Caseload(coaches=self.coaches, families_per_coach=self.families_per_coach,
                        appointments_ahead=self.appointments_ahead, burst=families,
                        held_every=7, hold_until=OPENING, always_families=True)


FULL = Scale()
QUICK = Scale(coaches=200, stream_rate=1.0, stream_cap_s=120.0, quiet_messages=50)


@dataclass(frozen=True)
class Burst:
    name: str
    due: datetime
    purposes: tuple[str, ...]  # the outbox rows the burst writes
    drained: Callable[[Database], Awaitable[bool]]


async def _morning_drained(db: Database) -> bool:
    """Every agenda and digest written and sent (the agenda's day claimed for every coach)."""
    today: date = OPENING.date()
    async with db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.purpose.in_(("agenda", "digest")), Outbox.status == "pending"))
        held = await session.scalar(select(func.count()).select_from(FamilyMessage).where(
            FamilyMessage.status == "held", FamilyMessage.hold_until <= OPENING))
        waiting = await session.scalar(select(func.count()).select_from(Staff).where(
            Staff.is_coach.is_(True),
            or_(Staff.agenda_sent_on.is_(None), Staff.agenda_sent_on < today)))
    return pending == 0 and held == 0 and waiting == 0


async def _evening_drained(db: Database) -> bool:
    """Every reminder due at 18:00 handled and its outbox row sent."""
    async with db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.purpose == "reminder", Outbox.status == "pending"))
        planned = await session.scalar(select(func.count()).select_from(Reminder).where(
            Reminder.status == "planned", Reminder.due_at <= BURST_AT))
    return pending == 0 and planned == 0


MORNING = Burst("morning", OPENING, ("agenda", "digest"), _morning_drained)
EVENING = Burst("evening", BURST_AT, ("reminder",), _evening_drained)


class Stream:
    """Family messages, round robin over the stream families, at a steady rate."""

    def __init__(self, members: Sequence[LocalUser], held: Sequence[bool]) -> None:
        self.members = list(members)
        self.held = list(held)  # per member: their family had messages held overnight
        self.tags = itertools.count(1)
        self.turn = itertools.count()
        self.pushed: dict[int, float] = {}  # tag -> perf_counter
        self.pushed_wall: dict[int, float] = {}  # tag -> time.time()
        self.behind_own_digest: set[int] = set()  # tags of members whose family had held ones
        self.update_of: dict[int, int] = {}  # tag -> its update's id (bench/send_trace.py)

    def push(self) -> int:
        tag = next(self.tags)
        turn = next(self.turn) % len(self.members)
        member = self.members[turn]
        if self.held[turn]:
            self.behind_own_digest.add(tag)
        self.pushed[tag] = time.perf_counter()
        self.pushed_wall[tag] = time.time()
        member.send_text(tagged(tag))
        self.update_of[tag] = member.server.last_update_id
        return tag

    async def run(self, rate: float, until_wall: float, stop: asyncio.Event,
                  count: int | None = None) -> list[int]:
        tags: list[int] = []
        interval = 1 / rate
        next_at = time.perf_counter()
        while not stop.is_set() and time.time() < until_wall:
            if count is not None and len(tags) >= count:
                break
            tags.append(self.push())
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        return tags


@dataclass
class Day:
    """What the parts of a run share: the server, the stream, the database, the bots."""

    api: BenchBotApi
    stream: Stream
    db: Database
    url: str
    children: list[Child]
    watch: ProcessWatch
    lead_s: float


def phases(busiest: dict[str, Any]) -> Iterator[tuple[bool, str, dict[str, Any]]]:
    """(two instances?, "morning"/"evening", its figures) for each phase of a results' busiest
    hour, one bot first."""
    runs = [(False, busiest)]
    if busiest.get("two_instances"):
        runs.append((True, busiest["two_instances"]))
    for two, run in runs:
        for name in ("morning", "evening"):
            if run.get(name):
                yield two, name, run[name]


def counter_delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Counter differences, nested dicts too."""
    found: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict):
            found[key] = counter_delta(value, before.get(key, {}))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[key] = value - before.get(key, 0)
    return found


async def ask_counts(children: Sequence[Child]) -> list[dict[str, Any]]:
    return [await child.ask("counts", timeout=120) for child in children]


def _per_stage(delta: dict[str, Any]) -> dict[str, Any]:
    """Statements per item of the planners that produced something in the window."""
    per: dict[str, Any] = {}
    for name, tally in delta.get("planners", {}).items():
        if tally.get("produced"):
            per[name] = {"produced": tally["produced"],
                         "statements_per_item": round(
                             tally["statements_productive"] / tally["produced"], 2),
                         "idle_passes": tally["passes"] - tally["productive_passes"],
                         "statements_idle": tally["statements_idle"]}
    return per


async def jump(children: Sequence[Child], start: datetime) -> float:
    anchor = time.time()
    line = "jump " + json.dumps({"start": start.isoformat(), "anchor_wall": anchor})
    for child in children:
        await child.ask(line, timeout=60)
    return anchor


async def _quiet(day: Day, messages: int, rate: float) -> dict[str, Any]:
    """Family messages with nothing else due: statements per relayed message, latency."""
    before = await ask_counts(day.children)
    since = day.watch.mark()
    tags = await day.stream.run(rate, float("inf"), asyncio.Event(), count=messages)
    arrived = await day.api.wait_arrivals(len(day.stream.pushed), timeout=120 + messages)
    await day.api.idle(quiet=1.0, timeout=60)
    after = await ask_counts(day.children)
    delta = counter_delta(after[0], before[0])
    n = len(tags)
    stages = delta.get("by_stage", {})
    commits = delta.get("commits_by_stage", {})
    return {
        "messages": n,
        "all_arrived": arrived,
        "latency": summary_ms([day.api.arrivals[t] - day.stream.pushed[t] for t in tags
                               if t in day.api.arrivals]),
        "statements_per_message": round(sum(stages.get(k, 0) for k in MESSAGE_STAGES) / n, 2),
        "commits_per_message": round(sum(commits.get(k, 0) for k in MESSAGE_STAGES) / n, 2),
        "statements_per_message_all_stages": round(delta["statements"] / n, 2),
        "commits_per_message_all_stages": round(delta["commits"] / n, 2),
        "keystore_statements": delta.get("keystore_statements", 0),
        "by_stage": stages,
        "commits_by_stage": commits,
        "bot": day.watch.window(since),
    }


async def _outbox_rows(db: Database, since: datetime) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(
            select(Outbox.purpose, Outbox.status, Outbox.created_at, Outbox.sent_at)
            .where(Outbox.created_at >= since))).all())


async def _reminder_appointments(db: Database) -> dict[int, datetime]:
    """The burst's reminders: appointment id -> when it starts."""
    async with db.transaction() as session:
        rows = (await session.execute(
            select(Appointment.id, Appointment.starts_at)
            .join(Reminder, Reminder.appointment_id == Appointment.id)
            .where(Reminder.due_at == BURST_AT))).all()
    return {int(a): starts for a, starts in rows}


async def _burst(day: Day, burst: Burst, cap_s: float, rate: float) -> dict[str, Any]:
    api, db = day.api, day.db
    start = burst.due - timedelta(seconds=day.lead_s)
    calls_before = len(api.calls)
    refused_before = api.refused_429
    before = await ask_counts(day.children)
    since = day.watch.mark()
    anchor = await jump(day.children, start)
    due_wall = anchor + day.lead_s

    def wall(moment: datetime) -> float:
        return anchor + (moment - start).total_seconds()

    stop = asyncio.Event()
    streaming = asyncio.create_task(day.stream.run(rate, due_wall + cap_s, stop))
    await asyncio.sleep(day.lead_s)
    expected = 60 * 60.0  # an hour at most: a burst that does not drain is reported so
    drained = False
    deadline = due_wall + expected
    while time.time() < deadline:
        if await burst.drained(db):
            drained = True
            break
        await asyncio.sleep(1.0)
    drained_wall = time.time()
    stop.set()
    tags = await streaming
    copies = await api.wait_arrivals(len(day.stream.pushed), timeout=600)
    await api.idle(quiet=1.0, timeout=120)
    after = await ask_counts(day.children)
    bots = day.watch.window(since)
    rows = await _outbox_rows(db, start)

    lags: dict[str, list[float]] = {}
    statuses: dict[str, Counter[str]] = {}
    outbox_wait: list[float] = []
    last_burst_send: datetime | None = None
    for purpose, status, created, sent in rows:
        statuses.setdefault(purpose, Counter())[status] += 1
        if sent is None:
            continue
        if purpose in burst.purposes:
            lags.setdefault(purpose, []).append((sent - burst.due).total_seconds())
            last_burst_send = sent if last_burst_send is None else max(last_burst_send, sent)
        elif purpose == "relay":
            outbox_wait.append((sent - created).total_seconds())
    end_wall = wall(last_burst_send) if last_burst_send is not None else drained_wall

    calls = api.calls[calls_before:]
    sends = [c.at for c in calls if c.ok and c.method not in DIRECT
             and c.method.startswith(("send", "copy", "forward"))]
    in_burst = [at for at in sends if due_wall <= at <= end_wall]
    burst_sent = sum(len(v) for v in lags.values())
    span = end_wall - due_wall

    def latencies(chosen: list[int]) -> dict[str, float]:
        return summary_ms([api.arrivals[t] - day.stream.pushed[t] for t in chosen
                           if t in api.arrivals])

    pushed = day.stream.pushed_wall
    family = {
        "messages": len(tags),
        "before": latencies([t for t in tags if pushed[t] < due_wall]),
        "during": latencies([t for t in tags if due_wall <= pushed[t] <= end_wall]),
        "after": latencies([t for t in tags if pushed[t] > end_wall]),
        "missing": sum(1 for t in tags if t not in api.arrivals),
        "outbox_wait": summary_s(outbox_wait),
    }
    trace = os.environ.get(send_trace.ENV)
    if trace:
        family["trace_during"] = send_trace.breakdown(
            Path(trace), [t for t in tags if due_wall <= pushed[t] <= end_wall],
            day.stream.pushed, day.stream.update_of, api.arrivals)
    if "digest" in burst.purposes:
        # A family whose overnight messages are in the morning's digest: its new message
        # comes after them (a family's order), at the pace of the coach's chat. Apart:
        during = [t for t in tags if due_wall <= pushed[t] <= end_wall]
        behind = day.stream.behind_own_digest
        family["during_nothing_held"] = latencies([t for t in during if t not in behind])
        family["during_behind_own_digest"] = latencies([t for t in during if t in behind])
    deltas = [counter_delta(a, b) for a, b in zip(after, before, strict=True)]
    result: dict[str, Any] = {
        "due": burst.due.isoformat(),
        "drained": drained,
        "all_copies_arrived": copies,
        "seconds_to_last_send": round(span, 2),
        "burst_rows_sent": burst_sent,
        "burst_send_rate_per_s": round(burst_sent / span, 2) if span > 0 else None,
        "all_sends_in_burst": len(in_burst),
        "send_rate_per_s": round(len(in_burst) / span, 2) if span > 0 else None,
        "share_of_30": round(len(in_burst) / span / LIMIT, 3) if span > 0 else None,
        "server_429": api.refused_429 - refused_before,
        "max_sends_in_any_1s": max_in_window(sends),
        "lag": {purpose: summary_s(values) for purpose, values in sorted(lags.items())},
        "outbox": {purpose: dict(counter) for purpose, counter in sorted(statuses.items())},
        "family": family,
        "bots": [{**bot, "sent": delta.get("sent", 0), "statements": delta.get("statements", 0),
                  "commits": delta.get("commits", 0),
                  "keystore_statements": delta.get("keystore_statements", 0),
                  "by_stage": delta.get("by_stage", {}), "planners": _per_stage(delta),
                  "rss_mb_at_end": round(int(a.get("rss_kb") or 0) / 1024, 1),
                  "polling_at_end": a.get("polling")}
                 for bot, delta, a in zip(bots, deltas, after, strict=True)],
    }
    if burst is EVENING:
        result["reminders"] = await _reminders_once(day, calls, start, anchor)
    return result


async def _reminders_once(day: Day, calls: Sequence[Any], start: datetime,
                          anchor: float) -> dict[str, Any]:
    """From the server's log: how often each due reminder was sent, and when."""
    starts = await _reminder_appointments(day.db)
    seen: Counter[int] = Counter()
    late = 0
    for call in calls:
        if not call.ok or call.method != "sendMessage":
            continue
        markup = call.params.get("reply_markup")
        text = markup if isinstance(markup, str) else json.dumps(markup)
        found = APPOINTMENT_BUTTON.search(text or "")
        if found is None:
            continue
        appointment = int(found.group(1))
        seen[appointment] += 1
        sent = start + timedelta(seconds=call.at - anchor)
        if appointment in starts and sent >= starts[appointment]:
            late += 1
    return {
        "due": len(starts),
        "sent_once": sum(1 for a in starts if seen[a] == 1),
        "sent_twice_or_more": sum(1 for a in starts if seen[a] > 1),
        "not_sent": sum(1 for a in starts if seen[a] == 0),
        "other_reminders_sent": sum(n for a, n in seen.items() if a not in starts),
        "sent_after_appointment_start": late,
    }


async def _exactly_once(day: Day, calls_before: int) -> dict[str, Any]:
    """The server's successful sends per method against the outbox rows recorded sent (one
    call per row), and per kind that must arrive once: each family message's copy (its tag),
    each coach's agenda (📋), each digest's title (📬, per coach and family)."""
    calls = [c for c in day.api.calls[calls_before:] if c.ok and c.method not in DIRECT]
    server = Counter(c.method for c in calls)
    async with day.db.transaction() as session:
        recorded = {method: int(n) for method, n in (await session.execute(
            select(Outbox.method, func.count()).where(Outbox.status == "sent")
            .group_by(Outbox.method))).all()}
    copies: Counter[int] = Counter()
    agendas: Counter[int] = Counter()
    titles: Counter[tuple[int, str]] = Counter()
    for call in calls:
        chat = call.params.get("chat_id")
        text = call.params.get("text")
        if call.method != "sendMessage" or chat not in day.api.watched \
                or not isinstance(text, str):
            continue
        tag = tag_of(text)
        if tag is not None:
            copies[tag] += 1
        elif text.startswith("📋"):
            agendas[int(chat)] += 1
        elif text.startswith("📬"):
            titles[(int(chat), text)] += 1
    return {
        "server_calls_by_method": dict(sorted(server.items())),
        "outbox_rows_sent_by_method": dict(sorted(recorded.items())),
        "calls_beyond_rows": sum(max(0, server[m] - recorded.get(m, 0)) for m in server),
        "rows_beyond_calls": sum(max(0, n - server[m]) for m, n in recorded.items()),
        "family_copies": len(copies),
        "family_copies_twice": sum(1 for n in copies.values() if n > 1),
        "agendas": sum(agendas.values()),
        "coaches_with_two_agendas": sum(1 for n in agendas.values() if n > 1),
        "digests": len(titles),
        "digests_twice": sum(1 for n in titles.values() if n > 1),
    }


def bot_config(api: BenchBotApi, url: str, key: str, start: datetime, anchor: float,
               **extra: Any) -> dict[str, Any]:
    return {"api_url": api.base_url, "token": api.token, "database_url": url,
            "encryption_key": key, "clock_start": start.isoformat(),
            "clock_anchor_wall": anchor, "trace": False, **extra}


async def spawn_bots(api: BenchBotApi, url: str, key: str, start: datetime, log_dir: Path,
                     names: Sequence[str], timeout: float, **extra: Any
                     ) -> tuple[list[Child], list[dict[str, Any]]]:
    """Bot processes on one anchored clock (`start` now), each ready (started, first pass)."""
    anchor = time.time()
    children = [await Child.spawn("bench.bot_child",
                                  bot_config(api, url, key, start, anchor, **extra),
                                  log_dir, name) for name in names]
    try:
        ready = [await child.event(timeout=timeout) for child in children]
    except BaseException:
        for child in children:
            await child.stop()
        raise
    return children, ready


def startup_figures(ready: dict[str, Any]) -> dict[str, Any]:
    keys = ("imports_s", "construct_s", "start_s", "keep_family_keys_s", "first_pass_s",
            "total_s")
    found = {k: round(float(ready[k]), 3) for k in keys if k in ready}
    found["rss_mb"] = round(int(ready.get("rss_kb") or 0) / 1024, 1)
    return found


async def _day(day: Day, scale: Scale, quiet: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    calls_before = len(day.api.calls)
    day.watch.start()
    try:
        if quiet:
            found["quiet"] = await _quiet(day, scale.quiet_messages, scale.quiet_rate)
        for burst in (MORNING, EVENING):
            found[burst.name] = await _burst(day, burst, scale.stream_cap_s, scale.stream_rate)
    finally:
        await day.watch.stop()
    found["exactly_once"] = await _exactly_once(day, calls_before)
    return found


async def _two_instances_day(api: BenchBotApi, stream: Stream, db: Database, url: str,
                             key: str, scale: Scale, log_dir: Path, label: str, timeout: float
                             ) -> tuple[list[Child], dict[str, Any]]:
    """The day again with two bot processes on one database (PostgreSQL): their children (for
    the caller to stop) and the day's figures with both start-ups."""
    children, ready = await spawn_bots(
        api, url, key, DAY_START, log_dir,
        [f"busiest-two-a-{label}", f"busiest-two-b-{label}"], timeout=timeout)
    day = Day(api, stream, db, url, children, ProcessWatch([c.pid for c in children]),
              scale.lead_s)
    two = await _day(day, scale, quiet=False)
    two["startup"] = [startup_figures(r) for r in ready]
    return children, two


async def run_busiest(url: str, key: str, scale: Scale, log_dir: Path, label: str,
                      two_instances: bool = False, only_two: bool = False) -> dict[str, Any]:
    load = scale.caseload()
    api = BenchBotApi(limit=LIMIT, limit_burst=LIMIT)
    await api.start()
    db = Database(url)
    result: dict[str, Any] = {"scale": asdict(scale), "families": load.families,
                              "pending_reminders": load.pending_reminders,
                              "stream_families": len(load.stream_families())}
    children: list[Child] = []
    try:
        members = [api.started_user(f"Lid {n}") for n in range(load.families)]
        coaches = [api.started_user(f"Coach {n}") for n in range(load.coaches)]
        for coach in coaches:
            api.watch(coach)
        stream = Stream([members[f] for f in load.stream_families()],
                        [bool(load.held_every) and f % load.held_every == 0
                         for f in load.stream_families()])
        result["seed"] = await seed_caseload(url, load, [c.chat_id for c in coaches],
                                             [m.chat_id for m in members])
        if only_two:  # the two instances' day alone (trying a change out)
            children, result["two_instances"] = await _two_instances_day(
                api, stream, db, url, key, scale, log_dir, label, timeout=3600)
            return result
        # Start-up: every family gets its data key (the seed has none), timed apart.
        children, ready = await spawn_bots(api, url, key, DAY_START, log_dir,
                                       [f"busiest-{label}"], timeout=3600)
        result["startup"] = startup_figures(ready[0])
        day = Day(api, stream, db, url, children, ProcessWatch([c.pid for c in children]),
                  scale.lead_s)
        result.update(await _day(day, scale, quiet=True))
        final = await children[0].stop()
        children = []
        result["peak_rss_mb"] = round(int(final.get("peak_rss_kb") or 0) / 1024, 1)
        # A restart the same evening: the keys exist now.
        children, ready = await spawn_bots(api, url, key, BURST_AT + timedelta(hours=1), log_dir,
                                       [f"busiest-restart-{label}"], timeout=600)
        result["restart"] = startup_figures(ready[0])
        await children[0].stop()
        children = []
        if two_instances:
            await reset_day(url, load)
            children, result["two_instances"] = await _two_instances_day(
                api, stream, db, url, key, scale, log_dir, label, timeout=600)
    finally:
        for child in children:
            await child.stop()
        await db.dispose()
        await api.stop()
    return result


async def _main(args: argparse.Namespace) -> None:
    from bench.common import bench_key, database

    key = bench_key()
    scale = QUICK if args.quick else FULL
    if args.coaches:
        scale = Scale(**{**asdict(scale), "coaches": args.coaches})
    async with database(args.db, "busiest") as found:
        result = await run_busiest(found.url, key, scale, Path(args.log_dir), args.db,
                                   two_instances=args.two, only_two=args.only_two)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    from bench.common import one_part_parser

    parser = one_part_parser("python -m bench.busiest_hour")
    parser.add_argument("--two", action="store_true", help="also two instances (PostgreSQL)")
    parser.add_argument("--only-two", action="store_true",
                        help="only the two instances' day (PostgreSQL; trying a change out)")
    parser.add_argument("--coaches", type=int, default=0, help="override the scale (testing)")
    parser.add_argument("--trace", metavar="DIR", default="",
                        help="trace every family message's steps into DIR (bench/send_trace.py)")
    arguments = parser.parse_args()
    if arguments.trace:  # read by the bot children (bench/send_trace.py)
        os.environ[send_trace.ENV] = os.path.abspath(arguments.trace)
    asyncio.run(_main(arguments))
