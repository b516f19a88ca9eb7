"""The dispatcher: claims due outbox rows, sends them within Telegram's limits, records results.

The database is the truth. Each chat is a *lane*: its rows go first in, first out, whatever
happens (storage/repos/outbox.py claims only the first row of a lane; the next is claimed
once this one is recorded, and with it the people's rows right behind it, a *run*, which the
lane sends in order and lets go when one of them is to be tried again later), and each lane
is worked on by a task of its own, so a chat paced at
one message a second never holds up another chat. One exception: a person's row goes past the
bulk rows of its chat that are not its own family's (a coach's agenda, the digests of the
coach's other families), but never into a digest that has begun (`_place`). A lane whose row
was alone in its chat claims no next row unless one was written for the chat since (this
process's commits say so: storage/write_log.py; others' rows are found by the main loop's
pass). A relayed message's receipt, claimed with its copy by the handler, goes right after
the copy from the copy's lane and is recorded with it (`claim_written`).

A row is claimed with a lease (on PostgreSQL under `FOR UPDATE SKIP LOCKED` and timed by the
database's clock), renewed while the instance works on it; a result is recorded only by the
instance that still holds the claim. A crash between sending and recording can repeat that one
message after the lease ends: the only window where a duplicate is possible. (A time-out is
that window too: Telegram may have delivered a send whose answer never came.)

Claims of an instance that died need not wait for their lease: on SQLite there is one instance
by construction, so a starting bot releases every earlier claim; on PostgreSQL each dispatcher
holds a session-level advisory lock named after itself while it lives, and the claims of an
instance whose lock is free (its connection closed when the process died) are released. An
instance that cannot renew its claims (the database away, its liveness lost) stops sending.

Faults are paced in *real* seconds (the Bot API server lives in real time, also when the bot
runs on a fast simulated clock): 429 waits exactly `retry_after` and the same row goes again;
5xx, time-outs and refused connections are counted and retried with a growing backoff, the row
staying first in its lane (a family message must arrive; a reminder expires at its
appointment). 403 (blocked) and 400 "chat not found" park the row until the person can be
reached again, mark them and tell whoever should know; other refusals (400, 413) give up at
once. A row that does not reach its reader is handed to `on_undelivered` (the family is told,
the message goes to whoever else can read it).

Before sending, registered *planners* run: they turn due work (held messages at a window's
opening, reminders) into outbox rows, each in one transaction. A planner that can say in SQL
whether its work is there (a method `due_probe(now)`) is asked first, with the outbox's own
upkeep, in one SELECT for the pass, and is not run when its work is not there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBUserWarning

from bot.clock import Clock
from bot.metrics import Metrics
from bot.outbox.ratelimit import (
    WINDOW_SECONDS,
    Demand,
    GiveWay,
    RateLimiter,
    Share,
    fair_part,
    retry_seconds,
)
from bot.outbox.statistics import OutboxStatistics
from storage.db import OUTBOX_NOTED, Database, Session
from storage.models import Outbox
from storage.repos import outbox as outbox_rows
from storage.repos import probes, send_shares

log = logging.getLogger(__name__)
# Outbox rows name their Bot API method as data, so the generic call is the right one here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

Planner = Callable[[Session, datetime], Awaitable[int]]
Step = Callable[[Session], Awaitable[None]]
BlockedHook = Callable[[Session, int, datetime], Awaitable[None]]
RowHook = Callable[[Session, Outbox, datetime], Awaitable[None]]

LEASE_REAL_SECONDS = 60.0
# Claims are renewed this often (real seconds) while held; sending stops when they could not
# be renewed for RENEW_GRACE of the lease.
RENEW_SECONDS = LEASE_REAL_SECONDS / 4
RENEW_GRACE = 0.75
# A refusal that is neither the network nor the person (an unknown Telegram error, a bad
# token) is tried this often before the row is given up.
MAX_ODD_ATTEMPTS = 10
# 429s in a row for one row before it goes back to the queue (each waits retry_after).
MAX_429_IN_A_ROW = 20
LANES = 32  # chats worked on at once
# Of those, at most this many sending bulk rows at one time (a lane is of the kind of the row
# it sends now): enough to keep Telegram's 30 a second busy (a send and its record take tens
# of milliseconds), and a family's message waits behind at most these at the limiter (about
# half a second).
BULK_LANES = 16
# A handler's own fresh row (a family's copy, a crisis answer) may open a lane beyond LANES,
# up to this many more: at 09:00 every lane was busy with the night's held copies and the
# agendas, and a fresh copy waited for the main loop's later claim (0.35 s of the slowest
# 1 %'s 1.67 s in the busiest morning, bench/README.md). A lane is a task and a row; the
# limiter, not the lanes, bounds the sends.
HANDLER_LANES = 8
# Rows deleted once sent: nothing may stay that names the chat (PRODUCT.md §2.1, §2.7).
EPHEMERAL = frozenset({"farewell", "stranger"})
# Planners (held messages, reminders, agendas, purge) run when woken to plan, else at most
# this often: a handler's fresh outbox row is claimed without them.
PLAN_EVERY_REAL_SECONDS = 0.5
# Methods that take no chat_id: the row's chat only orders and paces them.
CHATLESS = frozenset({"setMyCommands", "deleteMyCommands"})
# How often (real seconds, at most) the main loop looks whether a person's row has come to
# wait behind a bulk send of this instance (`hurry_for_people_behind`).
HURRY_LOOK_SECONDS = 0.25
# PostgreSQL: how often (real seconds) a dispatcher renews its own liveness lock and releases
# the claims of instances that died.
LIVENESS_SECONDS = 5.0
# Awaited rows remembered (their records wake the main loop); the oldest are let go beyond.
AWAITED_KEPT = 4096
# How long a record waits for the handler's transaction open beside it (Carrier), at most:
# a handler takes milliseconds; one that takes longer does not hold up the lane.
CARRIER_WAIT_SECONDS = 0.25
# Records go along with handlers' transactions only while at most this many lanes send.
CARRIER_LANES = 2
# After records failed in a handler's transaction: none taken along for this long.
CARRIER_PAUSE_SECONDS = 60.0
# PostgreSQL: how often (real seconds) an instance counts the live instances to share the limit
# with: one that starts or stops changes every instance's pace within this time.
SHARE_SECONDS = 1.0
# A lane's record claims up to this many of its chat's next people's rows at once, with their
# receipts (a run: outbox_rows.claim_heads `run`), and claims again after the last of them:
# in a burst of one family's messages every copy's record was a claim of its own (issue 16).
# Each send is still recorded before the next goes (a crash repeats one message at most).
RUN_ROWS = 8
# session.info of a handler's transaction: the rows its claim found alone in their chat.
_ALONE_HERE = "dispatcher_alone"


def backoff(attempts: int) -> float:
    """Real seconds before the next try after `attempts` failed ones: 1, 2, 4, … 5 minutes."""
    return float(min(300, 2 ** min(max(attempts - 1, 0), 9)))


def liveness_key(instance: str) -> int | None:
    try:
        return int(instance[:8], 16) - 2**31
    except ValueError:
        return None


class RecordsNotCarried(Exception):
    """The records a handler's transaction took along failed in it: the transaction is lost
    (its handler is tried again in a moment, handlers/common.work), the records go back to
    their lanes."""


class Carrier:
    """A handler's transaction that takes the records of sends waiting at its end along to
    its commit: in a burst of family messages a handler's transaction is nearly always open,
    and every send's record was a commit of its own beside it, two commits a relayed message
    (bench/README.md). Not in a SAVEPOINT of their own: that was two statements more for
    every relayed message (10.2 instead of 8.1 in tests/e2e/test_statement_budget.py). So a
    record that fails there fails the handler's transaction: its update is tried again in a
    moment without counting an attempt, each lane writes its record as before, and no
    handler takes records along for a while (a fault that comes back costs a family one
    retry, not one at every message). A handler's transaction that fails for its own reasons
    takes the records with it, and their lanes write them."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.batch: list[tuple[Step, asyncio.Future[bool]]] = []
        self._ended = False
        dispatcher._carriers += 1

    async def ride(self, session: Session) -> None:
        """In the handler's transaction, at its end: the records waiting now."""
        dispatcher = self.dispatcher
        if not dispatcher._carrying():
            return
        batch, dispatcher._records = dispatcher._records, []
        if not batch:
            return
        self.batch = batch
        try:
            for step, _ in batch:
                await step(session)
        except Exception as error:
            log.warning("recording %s sends in a handler's transaction failed (%s); each on "
                        "its own, and the handler again in a moment", len(batch),
                        type(error).__name__)
            dispatcher._carry_again_at = time.monotonic() + CARRIER_PAUSE_SECONDS
            self.end(committed=False)
            raise RecordsNotCarried(f"{len(batch)} records") from error

    def end(self, committed: bool) -> None:
        if not self._ended:
            self._ended = True
            self.dispatcher._carrier_done(self.batch, committed)


def _settle(batch: Sequence[tuple[Step, asyncio.Future[bool]]], written: bool) -> None:
    """Tell the lanes of these records whether they were written (else each writes its own)."""
    for _, future in batch:
        if not future.done():  # (cancelled: its lane stopped meanwhile)
            future.set_result(written)


def _params(payload: dict[str, Any]) -> dict[str, Any]:
    params = dict(payload)
    for name, value in payload.items():
        if isinstance(value, dict) and "__upload__" in value:
            upload = value["__upload__"]
            params[name] = InputFile(base64.b64decode(upload["b64"]), filename=upload["name"])
    return params


class Dispatcher:
    def __init__(self, db: Database, bot: Bot, clock: Clock, limiter: RateLimiter | None = None,
                 poll_seconds: float = 0.5, concurrency: int = LANES) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.poll_seconds = poll_seconds
        self.instance = uuid.uuid4().hex[:12]
        self.planners: list[Planner] = []
        # Whether this instance takes in Telegram's updates now (the intake polls): beside
        # other instances it leaves the planners to them (`_leaves_planning`).
        self.takes_in: Callable[[], bool] = lambda: False
        self.on_blocked: BlockedHook | None = None
        # A row that will not reach its reader (parked or given up), in the transaction that
        # records it; and a copy of a family message that waited for a coach who could not be
        # reached, in the one that records that it did reach them (outbox_rows.mark_sent).
        self.on_undelivered: RowHook | None = None
        self.on_sent: RowHook | None = None
        self.capacity = concurrency
        self._wake = asyncio.Event()
        # Someone asked for a claim (a handler's row, a lane that ended, a planner's rows),
        # not merely for a pass: else the pass asks first whether a claim would find anything.
        # The scheduler's tick every second wakes the loop for the planners only; each tick
        # was a claim that found nothing and a commit, day and night (bench/README.md).
        self._claim_now = True
        self._alive: outbox_rows.LivenessLock | None = None
        self._liveness_due = 0.0
        self._share_due = 0.0
        self._sharing_now = False  # share_the_limit under way
        self._instances: int | None = None  # live instances at the last look (PostgreSQL)
        self._plan_now = True
        self._planned_at = 0.0  # time.monotonic() of the last planner pass
        self._planning: asyncio.Task[None] | None = None  # the planner pass running now
        self._lanes: dict[int, deque[Outbox]] = {}
        self._lane_tasks: dict[int, asyncio.Task[None]] = {}
        self._held: set[int] = set()  # ids of the rows this instance has claimed
        self._bulk_lane: dict[int, bool] = {}  # per lane: sending a bulk row now
        # Lanes whose last run claim found no bulk row waiting in their chat, with the write
        # log's mark from before it: the next one goes by the lighter statement first
        # (claim_heads `without_bulk`).
        self._without_bulk: dict[int, int] = {}
        self._sending: dict[int, Outbox] = {}  # per lane: the row it sends now
        self._hurry_look_due = 0.0  # monotonic: hurry_for_people_behind's next look
        self._ahead_of_people: set[int] = set()  # bulk rows a person's message waits behind
        # Held rows whose claim found nothing else waiting in their chat, with the write log's
        # mark from before that claim and the commit not to count (the handler's own, that
        # claimed it): unless a row was written for the chat since, their lane claims no
        # next row after them (it would find none: storage/write_log.py).
        self._alone: dict[int, tuple[int, int | None]] = {}
        # Held rows that go right after the row they wait for (by id), from its lane, and
        # are recorded with it (a copy's receipt: Dispatcher.claim_written).
        self._then: dict[int, list[Outbox]] = {}
        # Held rows sent by the lane of another chat (a receipt its copy's record freed,
        # with no next row to go after): the row's id, that lane's chat.
        self._carried: dict[int, int] = {}
        # Per lane: what went beside or right after its row (receipts) and is not yet
        # recorded, each with Telegram's answer: recorded with that row (_record), or when
        # the lane ends if that row was not.
        self._unrecorded: dict[int, list[tuple[Outbox, Any]]] = {}
        self._following_up: dict[int, set[asyncio.Task[None]]] = {}  # per lane: those sends
        # A chat's next rows, claimed when its lane's last send was recorded.
        self._next: dict[int, list[Outbox]] = {}
        # Rows of a run whose receipts were claimed with them (_record): no longer awaited.
        self._ran: set[int] = set()
        # One claim at a time in this process: the main loop and the lanes all claim.
        self._claiming = asyncio.Lock()
        # Whether due rows may wait that no lane took: the main loop claims again when a lane
        # ends only then (a claim that finds nothing was a commit for every send, bench).
        self._more_may_wait = True
        # The last claim took as many rows as it had room for. Only then does the main loop
        # claim again at once: after one that took fewer, a new row comes with a wake (a
        # handler's, a planner's, a lane's), and claiming again found nothing but cost a
        # commit, two for every relayed message (bench/README.md).
        self._filled = False
        # Records of sends made, waiting for their transaction: those that come while one is
        # written go together in the next (one commit for many sends in a burst, bench).
        self._records: list[tuple[Step, asyncio.Future[bool]]] = []
        self._recording = asyncio.Lock()
        # Handlers' transactions open now (Carrier): a record waiting then goes along with
        # the first of them to commit, instead of a commit of its own (issue 16).
        self._carriers = 0
        self._carrier_ended = asyncio.Event()
        # (monotonic) Records failed in a handler's transaction: none go along until then.
        self._carry_again_at = 0.0
        # Rows others wait for (a copy its receipt): recording one wakes the main loop to
        # claim them (else the poll_seconds pass would). Oldest first; bounded.
        self._awaited: dict[int, None] = {}
        # Bulk rows come from the planners (here, or another instance's) and with the clock:
        # the main loop looks for them after a pass planned some, after a look that filled
        # its room (or could not be made: no bulk lane free), and else every poll_seconds;
        # not at every handler's wake.
        self._passes_that_planned = 0
        self._bulk_seen = -1  # the passes that planned before the last look
        self._bulk_full = True  # the last look filled its room, or none could be made
        self._bulk_looked = float("-inf")  # time.monotonic() of the last look
        self._renew_due = 0.0
        self._valid_until = float("inf")  # claims may be trusted until then (monotonic)
        self._deadline: float | None = None  # stopping: no new claims after this
        self._running = False  # the main loop runs (not a pass at a time: run_once)
        self.sent = 0
        self.metrics = Metrics()  # bot/metrics.py
        self.statistics = OutboxStatistics(db)

    def wake(self, plan: bool = True, awaited: Iterable[int] = (), claim: bool = True,
             chats: Collection[int] | None = None) -> None:
        """Run a pass now. `plan=False` (a handler just wrote outbox rows): only claim and send;
        the planners run at most once a second then (bench/README.md: three planner
        transactions before every claim cost a relayed message about 7 ms). `awaited`: rows
        that rows just written wait for: once one is recorded, the main loop claims again.
        `claim=False`: nothing new to claim (the handler claimed what it wrote): no pass.
        `chats`: those of the rows to claim, committed: no pass when each has a lane here,
        whose record claims them (a row committed after that claim wakes the main loop
        then: _record); in a burst of one family's messages the main loop's claim found
        nothing for each one, a statement and a commit (bench/README.md)."""
        if plan:
            self._plan_now = True
        for row_id in awaited:
            self._awaited[row_id] = None
        while len(self._awaited) > AWAITED_KEPT:  # sent by another instance: never recorded here
            del self._awaited[next(iter(self._awaited))]
        if claim and chats is not None:
            claim = any(chat not in self._lanes for chat in chats)
        if claim:
            self._claim_now = True
        if plan or claim:
            self._wake.set()

    def _wake_to_claim(self) -> None:
        self._claim_now = True
        self._wake.set()

    async def claim_written(self, session: Session, rows: Sequence[Outbox], now: datetime
                            ) -> list[Outbox]:
        """The person's row a handler just wrote, claimed in the handler's own transaction
        (a relayed message's copy): its send needs no claim and commit of its own, one of
        the four transactions around every relayed message (issue 16). Only while the main
        loop runs, for one chat without a lane here (a lane's record claims its chat's next
        row), and only a row first in its chat (the claim's own rule); `take_claimed` starts
        it once the handler committed, or lets it go. Also when the main loop's lanes are all
        busy: up to HANDLER_LANES more."""
        if not self._running or self._stopping() or \
                len(self._lanes) >= self.capacity + HANDLER_LANES:
            return []
        # The rows are in the database already (outbox.write); the handler's other changes too,
        # so that the claim reads what the commit will leave.
        await session.flush()
        chats = {row.chat_id for row in rows
                 if row.purpose not in outbox_rows.BULK and row.waits_for is None}
        if len(chats) != 1 or next(iter(chats)) in self._lanes:
            return []
        chat = next(iter(chats))
        mark, alone = self._before_claim()
        # What waits for the copy (the family's receipt) goes right after it, from its lane,
        # and is recorded with it: one commit for both (issue 16). When first in its own
        # chat, which has no lane here (else it waits for the copy's record, as before).
        # Claimed in the same statement as the copy, on the word that the copy is the row
        # first in its chat; let go again when another row was (the claim's own rule).
        copy = next(row for row in rows if row.chat_id == chat and row.waits_for is None
                    and row.purpose not in outbox_rows.BULK)
        waiting = {row.chat_id for row in rows if row.waits_for == copy.id}
        then = copy.id if len(waiting) == 1 and not waiting & self._lanes.keys() else None
        claimed = await outbox_rows.claim_heads(
            session, self.db.dialect, now, 1, self.instance, self._until(now), chat,
            bulk=False, ahead=self._ahead_of_people, alone=alone, then=then)
        if not any(row.id == copy.id for row in claimed):
            wrong = [row for row in claimed if row.waits_for == copy.id]
            if wrong:
                await outbox_rows.release_claims(session, [row.id for row in wrong])
                claimed = [row for row in claimed if row not in wrong]
                alone.difference_update(row.id for row in wrong)
        # Alone once committed: this transaction's own rows (the copy among them) are noted
        # at its commit, after the mark, and do not count (take_claimed).
        session.info[_ALONE_HERE] = {row_id: mark for row_id in alone}
        return claimed

    async def take_claimed(self, rows: Sequence[Outbox], session: Session) -> None:
        """Rows a handler claimed in `session`, now committed: into their lanes (let go when
        the bot is stopping meanwhile)."""
        if not rows:
            return
        noted = session.info.get(OUTBOX_NOTED)
        for row_id, mark in session.info.get(_ALONE_HERE, {}).items():
            self._alone[row_id] = (mark, noted)
        if self._stopping() or not self._running:
            self._took(rows)
            await self._let_go(list(rows))
            return
        self._took(rows)
        ids = {row.id for row in rows}
        for row in rows:
            if row.waits_for in ids:
                self._then.setdefault(row.waits_for, []).append(row)
            else:
                self._add_to_lane(row)

    def clock_delta(self, real_seconds: float) -> timedelta:
        """A span of real time on this dispatcher's clock (simulated clocks run faster)."""
        return timedelta(seconds=real_seconds / self.clock.real_seconds(1.0))

    @property
    def lease(self) -> timedelta:
        return self.clock_delta(LEASE_REAL_SECONDS)

    def _until(self, now: datetime) -> Any:
        return outbox_rows.lease_until(self.db.dialect, now, LEASE_REAL_SECONDS, self.lease)

    async def release_own_claims(self) -> None:
        """At start-up on SQLite (one instance by construction) earlier claims are stale."""
        async with self.db.transaction() as session:
            await outbox_rows.release_every_claim(session)

    # Liveness (PostgreSQL) --------------------------------------------------------------------
    async def hold_liveness(self) -> None:
        """Hold (or take again, after the database was away) this instance's liveness lock."""
        if self.db.dialect != "postgresql":
            return
        if self._alive is not None:
            try:
                await self._alive.check()
                return
            except Exception:
                log.warning("the liveness connection was lost; taking the lock again")
                await self._alive.discard()
                self._alive = None
        self._alive = await outbox_rows.LivenessLock.take(self.db, liveness_key(self.instance))

    async def release_dead_claims(self) -> int:
        """Release the claims of instances that no longer hold their liveness lock (and
        forget their old shares of the limit)."""
        if self.db.dialect != "postgresql":
            return 0
        released = 0
        async with self.db.transaction() as session:
            await send_shares.forget_gone(session)
            for owner in await outbox_rows.claimants_besides(session, self.instance):
                key = liveness_key(owner or "")
                if key is None:
                    continue
                # Free means nobody holds it: that instance is gone (the lock ends at commit).
                if await outbox_rows.liveness_lock_free(session, key):
                    released += await outbox_rows.release_claims_of(session, owner)
        if released:
            log.warning("released %s outbox rows claimed by a stopped instance", released)
        return released

    async def liveness(self) -> None:
        if self.db.dialect != "postgresql":
            return
        if time.monotonic() >= self._liveness_due:
            await self.hold_liveness()
            # Due again only once the lock is held: a failure is tried again at the next pass.
            self._liveness_due = time.monotonic() + LIVENESS_SECONDS
            await self.release_dead_claims()
        await self.share_the_limit()

    async def share_the_limit(self) -> None:
        """Telegram's 30 a second are per bot: the instances alive share them. Each paced
        itself at 28 and two together made 59 in a second and hundreds of 429s (bench). They
        share by what each has to send, people's sends first, each taking its part in turn
        (ratelimit.fair_part): an even split held the polling instance's family copies at
        half the limit (bench/README.md)."""
        started = time.monotonic()
        if started < self._share_due or self._sharing_now:
            return
        self._share_due = started + SHARE_SECONDS
        # The others count this report until FRESH_SECONDS after the database's now() of
        # this transaction, which comes after `started`; the part holds a window less, so
        # that no second in which they count this instance at its floor holds more.
        until = started + send_shares.FRESH_SECONDS - WINDOW_SECONDS
        demand = self.limiter.demand()
        self._sharing_now = True
        try:
            async with self.db.transaction() as session:
                instances = await outbox_rows.live_instances(session)
                await send_shares.take_turn(session)
                others = [Share(Demand(people, bulk), part) for people, bulk, part
                          in await send_shares.others(session, self.instance)]
                part = fair_part(self.limiter.most, instances, demand, others)
                if part < self.limiter.part:  # less at once; more once the others can see it
                    self.limiter.share(max(instances, 1), part, self.limiter.part_until)
                await send_shares.report(session, self.instance, demand.people, demand.bulk,
                                         part)
        finally:
            self._sharing_now = False
        if self._instances is None and instances > 1:
            # Starting beside others: they count this one only at their next look.
            self.limiter.pause(SHARE_SECONDS)
        self.limiter.share(max(instances, 1), part, until)
        if instances != self._instances:
            log.info("%s instances send for this bot: %s sends a second for this one",
                     instances, part)
        self._instances = instances

    async def renew(self, force: bool = False) -> None:
        """Extend the lease of every row this instance holds. Rows whose claim was lost (their
        lease ran out, another instance took them) leave their lanes unsent."""
        moment = time.monotonic()
        if not force and moment < self._renew_due:
            return
        self._renew_due = moment + RENEW_SECONDS
        if not self._held:
            self._valid_until = float("inf")
            return
        await self.hold_liveness()  # a lost liveness lock means our claims may be released
        held = list(self._held)
        async with self.db.transaction() as session:
            kept = set(await outbox_rows.renew_claims(session, self.instance, held,
                                                      self._until(self.clock.now())))
            gone = set(held) - kept
            # A send recorded meanwhile (its lane lets go of it in a moment) was not lost,
            # nor one passed by while its record held it (still ours).
            lost = set(await outbox_rows.lost_claims(session, self.instance, gone)) \
                if gone else set()
        if lost:
            log.warning("%s outbox rows were claimed by another instance meanwhile", len(lost))
            self._held -= lost
            for row_id in lost:
                self._alone.pop(row_id, None)
                self._carried.pop(row_id, None)
            self._then = {first: still for first, rows in self._then.items()
                          if (still := [r for r in rows if r.id not in lost])}
            for queue in self._lanes.values():
                for row in [r for r in queue if r.id in lost]:
                    queue.remove(row)
            # What was to follow a row no longer ours waits for it in the queue again.
            await self._let_go([f for row_id in lost for f in self._then.pop(row_id, [])])
        self._valid_until = moment + LEASE_REAL_SECONDS * RENEW_GRACE

    def claims_hold(self) -> bool:
        return time.monotonic() < self._valid_until

    async def close(self) -> None:
        if self._alive is not None:
            with contextlib.suppress(Exception):  # else it is forgotten once not fresh
                async with self.db.transaction() as session:
                    await send_shares.forget(session, self.instance)
            await self._alive.release()
            self._alive = None

    # Running -----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._running = True
        sharing = asyncio.create_task(self._share_while(stop)) \
            if self.db.dialect == "postgresql" else None
        try:
            await self._run(stop)
        finally:
            self._running = False
            if sharing is not None:
                sharing.cancel()
                with contextlib.suppress(BaseException):
                    await sharing
            await self.stop_planning()

    async def _share_while(self, stop: asyncio.Event) -> None:
        """The part of the limit taken every SHARE_SECONDS by a task of its own, not only
        between the main loop's passes: a pass that waits seconds (for a claim, for a
        connection) would let the report go stale, and the part falls to the floor then
        (RateLimiter.share). In the busiest hours the reports came at most 1.9 s apart from
        the main loop (bench/README.md); from this task, 1.4 s."""
        while not stop.is_set():
            try:
                await self.share_the_limit()
            except Exception:  # the database may be away: the part falls to the floor
                log.warning("taking this instance's part of the limit failed; trying again")
            await asyncio.sleep(max(self._share_due - time.monotonic(), 0.05))

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass, not after: a wake that comes while the pass runs (a
            # handler's new row, a lane that finished) makes the next pass run at once instead
            # of after poll_seconds (it was lost: relay latency p90 580 ms, bench/README.md).
            self._wake.clear()
            # Nobody asked for a claim (the time ran out, a tick for the planners): ask
            # whether a claim would find anything before making one.
            look_first, self._claim_now = not self._claim_now, False
            try:
                await self.liveness()
                await self.renew()
                busy = await self.step(look_first)
            except Exception:  # the database may be away for a moment: keep going
                log.exception("dispatcher step failed; retrying")
                busy = 0
                await asyncio.sleep(1.0)
            if busy and self._filled:
                self._claim_now = True
                continue  # the claim took all it had room for: more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def step(self, look_first: bool = False) -> int:
        """Start a planner pass when one is due (in the background), then claim the first row
        of as many lanes as there is room for and start them; returns at once (the lanes send
        on their own). `look_first`: nothing is known to wait (no wake): ask before the
        claim whether it would find anything."""
        now = self.clock.now()
        self._start_planning(now)
        await self.hurry_for_people_behind(now)
        return await self.claim_into_lanes(now, bulk=self._bulk_may_wait(),
                                           look_first=look_first)

    async def hurry_for_people_behind(self, now: datetime) -> None:
        """A bulk send of a lane here that a person's row has come to wait behind since it
        was claimed goes with the people (`hurry`; the lane's next rows then go with them
        too): a family's digest that has begun, which their new message may not pass. The
        person's row cannot be claimed into the lane while its digest waits (it is not
        first in its chat), and when another instance wrote it, this one never heard of it:
        with two instances a family's copy waited behind its digest's bulk send for up to
        21 s, and 6 minutes with the limit split evenly (bench/README.md). Looked at most
        every HURRY_LOOK_SECONDS, only while a bulk send is under way here, and only beside
        other instances: alone, an instance claims its own person's row right behind the
        digest's send as the lane's next, and that row's digest goes with the people from
        there; hurrying the send itself as well made its other families wait longer (the
        morning's p99 0.49 → 0.88 s at 300 coaches, one run each)."""
        if time.monotonic() < self._hurry_look_due or (self._instances or 1) < 2:
            return
        sending = {chat: row for chat, row in self._sending.items() if self._goes_bulk(row)}
        if not sending:
            return
        self._hurry_look_due = time.monotonic() + HURRY_LOOK_SECONDS
        async with self.db.transaction() as session:
            waiting = await outbox_rows.people_waiting_in(session, sending.keys(), now)
        for chat, first in waiting.items():
            row = sending[chat]
            if first > row.id and self._sending.get(chat) is row:
                self._ahead_of_people.add(row.id)
                self.limiter.hurry(chat)

    def _start_planning(self, now: datetime) -> None:
        """Planners run beside the claims, one pass at a time: a pass writing 200 reminders
        took seconds on PostgreSQL, and with the claims waiting for it the lanes ran dry (8
        sends a second in the busiest evening, bench/README.md). A pass that planned something
        wakes the loop to claim it and plans again."""
        if self._planning is not None and not self._planning.done():
            return
        if not self._plan_due() or self._leaves_planning():
            return

        async def pass_() -> None:
            try:
                planned = await self._plan_pass(now)
            except Exception:  # the database may be away for a moment: the next pass tries
                log.exception("planning failed; trying again")
                return
            if planned:  # new rows to claim; a pass that planned nothing wakes nobody
                self._passes_that_planned += 1
                self._wake_to_claim()

        self._planning = asyncio.create_task(pass_())

    def _leaves_planning(self) -> bool:
        """The instance that takes in the families' messages leaves the planners (reminders,
        agendas, digests, nudges, upkeep) to the other instances while one lives: a pass
        writing the evening's 20,000 reminders shared its event loop and the database with
        the handlers, which then took 150-430 ms a message instead of 55 and fell 150
        messages behind; their copies waited up to 18 s once they came (bench/README.md). The
        others plan as before; alone (or when it stops polling) it plans again within a
        second (SHARE_SECONDS counts the instances)."""
        return (self._instances or 1) > 1 and self.takes_in()

    def _plan_due(self) -> bool:
        return self._plan_now or time.monotonic() - self._planned_at >= PLAN_EVERY_REAL_SECONDS

    async def plan(self, now: datetime) -> int:
        """A planner pass now, if one is due."""
        return await self._plan_pass(now) if self._plan_due() else 0

    async def _plan_pass(self, now: datetime) -> int:
        self._plan_now = False
        self._planned_at = time.monotonic()
        # A planner with a `due_probe(now)` (an EXISTS of its repo) says whether it has work.
        probed = [(planner, probe(now)) for planner in self.planners
                  if (probe := getattr(planner, "due_probe", None)) is not None]
        upkeep, *due = await probes.which_due(
            self.db, [outbox_rows.expiry_due(self.db.dialect, now),
                      *(probe for _, probe in probed)])
        if upkeep:
            async with self.db.transaction() as session:
                await outbox_rows.expire_and_cancel(session, self.db.dialect, now)
        idle = {id(planner) for (planner, _), found in zip(probed, due, strict=True)
                if not found}
        planned = 0
        for planner in self.planners:
            if id(planner) not in idle:
                planned += await planner_step(self.db, planner, now)
        if planned:  # more may be due at once: plan again next pass (a wake during the
            self._plan_now = True  # planners, for a later time, has set it already)
        self.statistics.changed(planned)
        await self.statistics.refresh_if_due()
        return planned

    async def stop_planning(self) -> None:
        if self._planning is not None:
            self._planning.cancel()
            with contextlib.suppress(BaseException):
                await self._planning
            self._planning = None

    async def run_once(self) -> int:
        """One whole pass, waiting until the lanes it started are done (benchmarks, tests)."""
        now = self.clock.now()
        planned = await self.plan(now)
        claimed = await self.claim_into_lanes(now)
        await self.lanes_done()
        return claimed + planned

    async def claim_and_send(self) -> int:
        claimed = await self.claim_into_lanes(self.clock.now())
        await self.lanes_done()
        return claimed

    async def drain(self, timeout: float = 5.0) -> None:
        """On a graceful stop: send what is due now, for at most `timeout` real seconds, so a
        restart does not deliver an answer the person was waiting for minutes late."""
        self._deadline = time.monotonic() + timeout
        try:
            async with asyncio.timeout(timeout):
                while await self.claim_and_send():
                    pass
        except TimeoutError:
            log.warning("stopping with due messages still queued; they go after the restart")
        except Exception:
            log.exception("draining the outbox failed; the rows stay for the restart")
        await self.stop_lanes()

    async def lanes_done(self) -> None:
        while self._lane_tasks:
            await asyncio.gather(*list(self._lane_tasks.values()), return_exceptions=True)

    async def stop_lanes(self) -> None:
        """Lanes still at work are cancelled; what they held goes back to the queue."""
        tasks = list(self._lane_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Sends made whose lanes stopped before their records were written: written now, not
        # released to go a second time.
        with contextlib.suppress(Exception):
            async with self._recording:
                await self._write_records()
        # Every claim of this instance, also a next row such a record claimed for its lane.
        with contextlib.suppress(Exception):
            async with self.db.transaction() as session:
                await outbox_rows.release_claims_of(session, self.instance)
        self._held.clear()
        self._alone.clear()
        self._then.clear()
        self._ran.clear()
        self._carried.clear()
        self._unrecorded.clear()

    def _stopping(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    # Lanes -------------------------------------------------------------------------------------
    def _bulk_may_wait(self) -> bool:
        return self._bulk_full or self._bulk_seen != self._passes_that_planned or \
            time.monotonic() - self._bulk_looked >= self.poll_seconds

    async def claim_into_lanes(self, now: datetime, bulk: bool = True,
                               look_first: bool = False) -> int:
        """People waiting first; bulk sends (reminders, agendas) in at most BULK_LANES lanes,
        so a family's message finds a free lane and few sends ahead of it at the limiter.
        `bulk=False`: look for the people's rows only (no bulk row can have come).
        `look_first`: claim only if a read (no commit) finds a row a claim would take."""
        room = self.capacity - len(self._lanes)
        self._filled = False
        if room <= 0 or self._stopping():
            self._more_may_wait = True
            return 0
        if look_first:
            seen, looked = self._passes_that_planned, time.monotonic()
            if not await outbox_rows.anything_claimable(self.db, now, self.instance):
                # As a claim of both kinds that found nothing would leave it.
                self._more_may_wait = self._bulk_full = False
                if bulk:
                    self._bulk_seen, self._bulk_looked = seen, looked
                return 0
        until = self._until(now)
        mark, alone = self._before_claim()
        async with self._claiming, self.db.transaction() as session:
            rows = await outbox_rows.claim_heads(session, self.db.dialect, now, room,
                                                 self.instance, until, bulk=False,
                                                 ahead=self._ahead_of_people, alone=alone)
            more = self._filled = len(rows) >= room
            bulk_room = min(room - len(rows), self._bulk_free())
            if bulk_room <= 0:
                self._bulk_full = True  # no bulk lane free: bulk rows may wait for one
            elif bulk:
                seen, self._bulk_looked = self._passes_that_planned, time.monotonic()
                found = await outbox_rows.claim_heads(session, self.db.dialect, now,
                                                      bulk_room, self.instance, until,
                                                      bulk=True, alone=alone)
                rows += found
                # Full: more may wait, so look again at the next pass.
                self._bulk_seen, self._bulk_full = seen, len(found) >= bulk_room
                self._filled = self._bulk_full
        self._more_may_wait = more or self._bulk_full
        self._after_claim(rows, alone, mark)
        self._took(rows)
        for row in rows:
            self._add_to_lane(row)
        return len(rows)

    async def claim(self, now: datetime, limit: int, chat_id: int | None = None,
                    continuing: bool = False) -> list[Outbox]:
        bulk = None if chat_id is None else self._next_kind(chat_id, continuing)
        if bulk is False:
            self._bulk_left()
        mark, alone = self._before_claim()
        async with self._claiming, self.db.transaction() as session:
            rows = await outbox_rows.claim_heads(session, self.db.dialect, now, limit,
                                                 self.instance, self._until(now), chat_id,
                                                 bulk=bulk, continuing=continuing,
                                                 ahead=self._ahead_of_people, alone=alone)
        self._after_claim(rows, alone, mark)
        self._took(rows)
        if chat_id is not None:
            self._next_taken(chat_id, rows)
        return list(rows)

    def _before_claim(self) -> tuple[int, set[int]]:
        """The write log's mark, taken before a claim, and the set its alone rows go in."""
        return self.db.outbox_writes.mark(), set()

    def _after_claim(self, rows: Sequence[Outbox], alone: set[int], mark: int) -> None:
        for row in rows:
            if row.id in alone:
                self._alone[row.id] = (mark, None)

    def _nothing_more(self, row: Outbox) -> tuple[int, int | None] | None:
        """When this row's claim found nothing else waiting in its chat, nothing was written
        for the chat since and this instance sends alone: its mark (the chat's next claim
        would find nothing), else None. Rows of another instance, of the admin command or
        that come with the clock are found by the main loop's pass, as ever."""
        found = self._alone.pop(row.id, None)
        if found is None:
            return None
        return None if self._may_have_written(row.chat_id, *found) else found

    def _may_have_written(self, chat_id: int, mark: int, besides: int | None = None) -> bool:
        """A row may have been written for the chat since `mark` (besides the commit
        `besides`): this instance's write log says so, or it does not send alone."""
        return not (self.db.dialect == "sqlite" or self._instances == 1) or \
            self.db.outbox_writes.written_since(chat_id, mark, besides)

    def _bulk_left(self) -> None:
        """A lane claims its chat's people's rows only: the chat's bulk rows wait for a bulk
        lane, and the main loop is to look for them."""
        self._more_may_wait = self._bulk_full = True

    def _goes_bulk(self, row: Outbox) -> bool:
        """A bulk row no person waits for: after the people at the limiter, in a bulk lane."""
        return row.purpose in outbox_rows.BULK and row.id not in self._ahead_of_people

    def _people_wait_in(self, chat_id: int) -> bool:
        """A person's row waits in this chat's lane (behind a digest that has begun): the
        lane's sends go with the people until it is sent. `hurry` lifted only the send in
        flight; the digest's next copies went at bulk pace, about 2 s each in the busiest
        morning, and a family's copy waited behind them up to 50 s (bench/README.md)."""
        return any(not self._goes_bulk(queued) for queued in self._lanes.get(chat_id) or ())

    def _may_give_way(self, sending: Outbox | None, person: Outbox) -> bool:
        """Whether the bulk row a lane sends may go after the person's row that came behind
        it, if it has not left yet: as the claim lets a person's row pass a bulk row that
        waits (outbox_rows._in_the_way): of no family or another family, and not a digest
        that has begun."""
        return sending is not None and self._goes_bulk(sending) \
            and not outbox_rows.continues_digest(sending) \
            and person.waits_for != sending.id \
            and (sending.link_family_id is None
                 or sending.link_family_id != person.link_family_id)

    def _bulk_free(self) -> int:
        return BULK_LANES - sum(self._bulk_lane.values())

    def _next_kind(self, chat_id: int, continuing: bool = False) -> bool | None:
        """What a lane may take next from its chat: any row while it sends bulk, a bulk lane
        is free or a digest that has begun goes on (`continuing`), else only what people wait
        for. A lane opened for a family's copy to a coach went on with that coach's whole
        morning of digests: at 10 family messages a second every lane was soon such a lane,
        and new copies found none free (bench/README.md). Not a mere question: a lane that
        may take a bulk row holds a free bulk lane from now on (_next_taken settles it)."""
        if continuing or self._bulk_lane.get(chat_id):
            return None
        if self._bulk_free() > 0:
            # Held for this lane from now, until its claim says what it took (_next_taken):
            # lanes whose records were written together each saw the same free bulk lane, and
            # 16-19 lanes sent bulk rows in the busiest morning (bench/README.md).
            self._bulk_lane[chat_id] = True
            return None
        return False

    def _next_taken(self, chat_id: int, rows: Sequence[Outbox], ahead: Collection[int] = ()
                    ) -> None:
        """A lane's claim of its next row decides its kind: a bulk lane only if it took a bulk
        row no person waits for (else the bulk lane it may have held is free again)."""
        if chat_id in self._lanes:
            self._bulk_lane[chat_id] = bool(rows) and self._goes_bulk(rows[0]) and \
                rows[0].id not in ahead

    def _took(self, rows: Sequence[Outbox]) -> None:
        """Rows now claimed by this instance (renewed until sent or let go)."""
        self._held.update(r.id for r in rows)
        self.statistics.changed(len(rows))
        if rows and len(self._held) == len(rows):
            self._renew_due = time.monotonic() + RENEW_SECONDS
            self._valid_until = time.monotonic() + LEASE_REAL_SECONDS * RENEW_GRACE

    def _lane_needs_next(self, chat_id: int) -> bool:
        queue = self._lanes.get(chat_id)
        return queue is not None and not queue and not self._stopping()

    def _add_to_lane(self, row: Outbox) -> None:
        queue = self._lanes.get(row.chat_id)
        if queue is not None:
            _place(queue, row)
            if row.purpose not in outbox_rows.BULK:  # the lane's send now holds up a person
                self.limiter.hurry(row.chat_id, give_way=self._may_give_way(
                    self._sending.get(row.chat_id), row))
            return
        self._lanes[row.chat_id] = deque([row])
        self._bulk_lane[row.chat_id] = self._goes_bulk(row)
        self._lane_tasks[row.chat_id] = asyncio.create_task(self._lane(row.chat_id))

    async def _lane(self, chat_id: int) -> None:
        queue = self._lanes[chat_id]
        try:
            while queue:
                row = queue.popleft()
                self._bulk_lane[chat_id] = self._goes_bulk(row)
                if not self.claims_hold():
                    log.warning("claims could not be renewed; this instance stops sending")
                    queue.appendleft(row)
                    return
                self._sending[chat_id] = row
                try:
                    finished = await self._send_safely(row)
                except GiveWay:  # a person's row came behind it before it left: that first
                    _step_back(queue, row)
                    continue
                self._held.discard(row.id)
                self._alone.pop(row.id, None)
                self._carried.pop(row.id, None)
                # Not sent after all (tried again later, or refused): what was to follow it
                # waits for it in the queue, as any row waiting for another.
                await self._let_go(self._followers_of([row]))
                if not finished and row.purpose not in outbox_rows.BULK:
                    # Its chat's people's rows claimed behind it (a run) wait for it.
                    behind = [each for each in queue if each.id > row.id
                              and each.purpose not in outbox_rows.BULK]
                    for each in behind:
                        queue.remove(each)
                    await self._let_go(behind + self._followers_of(behind))
                self._ahead_of_people.discard(row.id)
                following = self._next.pop(chat_id, None)  # claimed with the record
                if following is None and finished and not self._stopping():
                    if not queue:
                        following = await self.claim(self.clock.now(), 1, chat_id)
                    elif row.purpose == "digest" and \
                            not outbox_rows.continues_digest(queue[0]):
                        # A person's row waits here (or another digest's title, claimed
                        # beside this one: a family's digest may go first when one of the
                        # family writes, and two claims can cross), but a digest that has
                        # begun goes on to its end first.
                        following = await self.claim(self.clock.now(), 1, chat_id,
                                                     continuing=True)
                for each in following or ():
                    _place(queue, each)  # claimed for this lane: sent by it
        except Exception:
            log.exception("a lane stopped; its rows go back to the queue after their lease")
        finally:
            await self._record_followed_up(chat_id)
            del self._lanes[chat_id]
            del self._lane_tasks[chat_id]
            self._sending.pop(chat_id, None)
            self._bulk_lane.pop(chat_id, None)
            self._without_bulk.pop(chat_id, None)
            left = list(queue) + self._next.pop(chat_id, [])
            await self._let_go(left + self._followers_of(left))
            if left or self._more_may_wait:  # a lane is free for what may wait
                self._wake_to_claim()

    def _followers_of(self, rows: Sequence[Outbox]) -> list[Outbox]:
        """The rows held to go right after these (_then), taken from them: they are let go
        with them. What a run claimed to follow a row waited for it (_record): someone is to
        claim it again once that row went."""
        followers = []
        for row in rows:
            found = self._then.pop(row.id, [])
            if found and row.id in self._ran:
                self._ran.discard(row.id)
                self._awaited[row.id] = None
            followers += found
        return followers

    async def _let_go(self, rows: list[Outbox]) -> None:
        """Rows a lane will not send after all: no longer renewed, back to the queue (or, if
        the database is away, back once their lease ran out)."""
        if not rows:
            return
        self._held.difference_update(r.id for r in rows)
        for row in rows:
            self._alone.pop(row.id, None)
            self._carried.pop(row.id, None)
        self._ahead_of_people.difference_update(r.id for r in rows)
        with contextlib.suppress(Exception):
            async with self.db.transaction() as session:
                await outbox_rows.release_claims(session, [r.id for r in rows], self.instance)

    async def _send_safely(self, row: Outbox) -> bool:
        try:
            return await self.send_one(row)
        except GiveWay:
            raise
        except Exception:
            # Recording failed past the lease (the database away): the claim runs out and the
            # row goes again, from this instance or another.
            log.exception("outbox row %s: the result could not be recorded", row.id)
            return False

    async def _persist_together(self, step: Step, what: str) -> None:
        """`_persist`, in one transaction with the records that wait beside it: the first lane
        to get the turn writes every record waiting then (group commit); the others find
        theirs written. While a handler's transaction is open, the records wait for it and go
        in its commit (Carrier). Should that transaction fail, each lane writes its own, with
        `_persist`'s tries, so one record that cannot be written holds up no other."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        entry = (step, future)
        self._records.append(entry)
        if self._carriers and self._carrying():
            # One handler's turn at most (a handler that writes nothing takes no records).
            ended = self._carrier_ended
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), CARRIER_WAIT_SECONDS)
        while not future.done():
            if entry not in self._records:
                # Taken by a handler's transaction (also while this lane waited for its turn
                # below) or by a group being written: its end settles it (shielded: a lane
                # stopped meanwhile leaves its record to that transaction).
                await asyncio.shield(future)
                break
            async with self._recording:
                if entry in self._records:
                    await self._write_records()
        if not future.result():
            await self._persist(step, what)

    def carrier(self) -> Carrier | None:
        """For a handler's transaction (handlers/common.work): records of sends waiting when
        it is about to commit go in it. None while the main loop does not run."""
        return Carrier(self) if self._running else None

    def _carrying(self) -> bool:
        """Records go along with handlers' transactions only while few lanes send (a burst of
        one family's messages: nothing to group them with) and not just after they failed
        there. With more lanes open their records share commits already (_write_records), and
        a handler carrying them did their statements on the intake's one-at-a-time path: the
        busiest hour at 300 coaches (SQLite, beside a test run) sent 11-14 a second instead
        of 27 and families waited minutes (bench/README.md)."""
        return len(self._lanes) <= CARRIER_LANES and time.monotonic() >= self._carry_again_at

    def _carrier_done(self, batch: list[tuple[Step, asyncio.Future[bool]]],
                      written: bool) -> None:
        self._carriers -= 1
        _settle(batch, written)
        self._carrier_ended.set()
        self._carrier_ended = asyncio.Event()

    async def _write_records(self) -> None:
        batch, self._records = self._records, []
        if not batch:
            return
        written = False
        try:
            async with self.db.transaction() as session:
                for step, _ in batch:
                    await step(session)
            written = True
        except Exception as error:
            log.warning("recording %s sends together failed (%s); each on its own",
                        len(batch), type(error).__name__)
        finally:  # also when the lane writing them stops: the others write their own
            _settle(batch, written)

    async def _persist(self, step: Step, what: str) -> None:
        """Run `step` in a transaction; while the database is away, try again (in real time)
        for as long as the claim holds. A send that went out is then recorded when the
        database is back, instead of being sent a second time after the lease."""
        deadline = time.monotonic() + LEASE_REAL_SECONDS * 0.9
        pause = 0.2
        while True:
            try:
                async with self.db.transaction() as session:
                    await step(session)
                return
            except Exception as error:
                if not outbox_rows.error_may_pass(error) or time.monotonic() + pause > deadline:
                    raise
                log.warning("recording a send (%s) failed: %s; trying again", what,
                            type(error).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    # One send ----------------------------------------------------------------------------------
    async def send_one(self, row: Outbox) -> bool:
        """Send one row; True when it is finished (sent, parked or given up), False when it is
        to be tried again later (it stays first in its lane)."""
        payload = row.payload or {}
        if not payload:  # nothing left to send (contents already purged)
            await self._give_up(row, "no contents left")
            return True
        self._follow_up(row, self._carried.get(row.id, row.chat_id))
        for _ in range(MAX_429_IN_A_ROW):
            try:
                result = await self._attempt(row, row.method, payload.get("p", {}))
            except RetryAfter as error:
                # An order, not a hint: every send waits; this row goes first after the pause.
                seconds = retry_seconds(error)
                self.limiter.pause(seconds)
                self.metrics.throttled(row.method, seconds)
                log.warning("outbox row %s: 429, waiting %gs", row.id, seconds)
                continue
            except BadRequest as error:
                fallback = payload.get("fb")
                if fallback and "not found" in error.message.lower() \
                        and "chat not found" not in error.message.lower():
                    # The message to copy is gone (deleted): its text stands in for it.
                    payload = {"p": fallback["p"]}
                    row.method = fallback["m"]
                    continue
                return await self._refused(row, error)
            except (Forbidden, EndPointNotFound, ChatMigrated) as error:
                return await self._refused(row, error)
            except NetworkError as error:  # time-outs, 5xx, refused or dropped connections
                await self._retry(row, f"network: {type(error).__name__}")
                return False
            except (InvalidToken, TelegramError) as error:
                # An answer that was not JSON, an unknown status, a token being replaced.
                if row.attempts + 1 >= MAX_ODD_ATTEMPTS:
                    await self._give_up(row, f"telegram: {type(error).__name__}")
                    return True
                await self._retry(row, f"telegram: {type(error).__name__}")
                return False
            await self._record(row, result)
            return True
        await self._retry(row, "429 again and again", count=False)
        return False

    async def _attempt(self, row: Outbox, method: str, params: dict[str, Any]) -> Any:
        # Menus are not chat messages: only the overall limit applies to them.
        bulk = self._goes_bulk(row) and not self._people_wait_in(row.chat_id)
        await self.limiter.acquire(None if method in CHATLESS else row.chat_id, bulk=bulk)
        return await self._call(method, row.chat_id, params)

    async def _call(self, method: str, chat_id: int, params: dict[str, Any]) -> Any:
        kwargs = _params(params)
        if method not in CHATLESS:
            kwargs["chat_id"] = chat_id
        return await self.bot.do_api_request(method, api_kwargs=kwargs)

    async def _refused(self, row: Outbox, error: TelegramError) -> bool:
        """Telegram will not take this send as it is: no retry."""
        text = error.message.lower()
        if isinstance(error, Forbidden) or "chat not found" in text:
            await self._give_up(row, "forbidden" if isinstance(error, Forbidden)
                                else "bad request: chat not found", parked=True)
        elif isinstance(error, BadRequest):
            await self._give_up(row, f"bad request: {error.message[:120]}")
        else:
            await self._give_up(row, type(error).__name__)
        return True

    def _follow_up(self, row: Outbox, lane: int) -> None:
        """The rows held to go right after `row` that wait for a row recorded already (the
        receipt of the lane's previous copy, freed or passed on by its record, _pass_on):
        sent beside `row`, at the same time, and recorded with it. They went after it:
        copy, receipt and record in a row, about 5 ms of a burst's message on PostgreSQL
        (bench/README.md). What waits for `row` itself and cannot be passed on (a copy's own
        receipt with no row after it in the lane) still goes after it (_record)."""
        held = self._then.get(row.id)
        if not held:
            return
        beside = [each for each in held if each.waits_for != row.id]
        if not beside:
            return
        self._then[row.id] = [each for each in held if each.waits_for == row.id]
        if not self._then[row.id]:
            del self._then[row.id]
        task = asyncio.create_task(self._send_followers(beside, lane))
        tasks = self._following_up.setdefault(lane, set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _pass_on(self, row: Outbox, lane: int) -> list[Outbox]:
        """What waits for `row` (sent): those that can go beside the lane's next row are
        passed on to it (_follow_up); the rest are returned, to go now. Not to that row's own
        chat (two sends to one chat at once could arrive the other way round)."""
        waiting = self._then.pop(row.id, [])
        queue = self._lanes.get(lane)
        if not waiting or not queue or self._stopping():
            return waiting
        after = queue[0]
        passed = [each for each in waiting if each.chat_id != after.chat_id]
        if passed:
            self._then.setdefault(after.id, []).extend(passed)
        return [each for each in waiting if each.chat_id == after.chat_id]

    async def _followed_up(self, lane: int) -> None:
        """The sends beside the lane's row (_follow_up) are done."""
        while self._following_up.get(lane):
            await asyncio.gather(*self._following_up[lane], return_exceptions=True)

    async def _record_followed_up(self, lane: int) -> None:
        """A lane ends: what went beside a row that was not recorded (tried again later,
        refused) is recorded now. A lane stopped (the bot stops) does not wait for a send
        still at the limiter."""
        me = asyncio.current_task()
        if me is not None and me.cancelling():
            for task in self._following_up.get(lane, ()):
                task.cancel()
        sent: list[tuple[Outbox, Any]] = []
        try:
            await self._followed_up(lane)
            sent = self._unrecorded.pop(lane, [])
            if sent:
                await self._record_sent(sent)
        except Exception:
            log.exception("recording %s sends at a lane's end failed; they go again after "
                          "their lease", len(sent))
        finally:
            self._following_up.pop(lane, None)

    async def _record_sent(self, sent: list[tuple[Outbox, Any]]) -> None:
        now = self.clock.now()
        ours: list[bool] = []

        async def step(session: Session) -> None:
            ours[:] = await self._mark_sent(
                session, [(row, _message_id(result)) for row, result in sent], now)

        await self._persist_together(step, "sent")
        self._after_followers(sent, ours, now, [])

    def _after_followers(self, sent: Sequence[tuple[Outbox, Any]], ours: Sequence[bool],
                         now: datetime, freed: Sequence[Outbox]) -> None:
        for (follower, _), mine in zip(sent, ours, strict=True):
            self._held.discard(follower.id)
            self._sent_from_another_lane(follower, freed)
            self._sent(follower, now, mine)
            self._awaited_done(follower)

    async def _send_followers(self, followers: list[Outbox], lane: int) -> None:
        """`_follow_up`'s sends. One that Telegram does not take at once goes to its own
        lane, which tries it again and records what comes of it."""
        for follower in followers:
            if follower.id not in self._held:
                continue  # let go meanwhile
            params = (follower.payload or {}).get("p")
            if params is None or not self.claims_hold() or self._stopping():
                self._add_to_lane(follower)  # given up, or let go, there
                continue
            try:
                result = await self._attempt(follower, follower.method, params)
            except TelegramError as error:
                if isinstance(error, RetryAfter):
                    self.limiter.pause(retry_seconds(error))
                    self.metrics.throttled(follower.method, retry_seconds(error))
                self._add_to_lane(follower)
                continue
            self._unrecorded.setdefault(lane, []).append((follower, result))

    async def _record(self, row: Outbox, result: Any) -> None:
        now = self.clock.now()
        self._ran.discard(row.id)
        message_id = _message_id(result)
        ours = True
        # The lane will want its chat's next row: claimed in the same transaction, one
        # commit per send instead of two (bench/README.md). A row carried by another chat's
        # lane (a freed receipt) claims that lane's next row.
        lane = self._carried.get(row.id, row.chat_id)
        carried = lane != row.chat_id
        claim_next = self._lane_needs_next(lane)
        quiet = self._nothing_more(row) if claim_next and not carried else None
        claim_next = claim_next and quiet is None
        # What went beside this row (_follow_up): done, and recorded with it. What waits for
        # it (its own receipt, in a run): beside the lane's next row when one is there, in
        # that row's record, else sent now and recorded with this one.
        await self._followed_up(lane)
        await self._send_followers(self._pass_on(row, lane), lane)
        followers = self._unrecorded.pop(lane, [])
        followed: list[bool] = []  # each follower recorded by this instance
        following: list[Outbox] = []
        receipts: list[Outbox] = []  # of a run: what waits for its rows, to go right after
        ahead: set[int] = set()
        # Rows waiting for this one (a copy's receipt) may go once it is recorded: claimed in
        # the same transaction, with whatever else people wait for, instead of by the main
        # loop after a wake (a claim and a commit less for every relayed message).
        frees_others = row.id in self._awaited and row.purpose not in EPHEMERAL
        room = 0
        freed: list[Outbox] = []
        freed_with_next = False  # claimed with the chat's next row, not by a claim of their own
        freed_ahead: set[int] = set()
        alone: set[int] = set()
        bulk_seen: set[int] = set()
        mark = 0

        async def step(session: Session) -> None:
            nonlocal ours, following, receipts, freed, freed_with_next, room, mark
            following, receipts, freed, freed_with_next = [], [], [], False
            ahead.clear()  # a step tried again claims again
            freed_ahead.clear()
            alone.clear()
            bulk_seen.clear()
            mark = self.db.outbox_writes.mark()
            marked = await self._mark_sent(
                session, [(row, message_id)] + [(follower, _message_id(sent))
                                                for follower, sent in followers], now)
            ours, followed[:] = marked[0], marked[1:]
            if ours and claim_next:
                no_bulk_since = self._without_bulk.get(lane)
                # After a digest row, the digest's next copy first, if it has one.
                for continuing in (True, False) if row.purpose == "digest" else (False,):
                    kind = self._next_kind(lane, continuing)
                    if kind is False:
                        self._bulk_left()
                    # With what this row frees (a family's receipt waits for its copy):
                    # it goes right after the next row, from this lane, and is recorded
                    # with it. In a burst of one family's messages each receipt had a
                    # claim, a lane and a record of its own (issue 16).
                    with_freed = frees_others and not continuing
                    following = list(await outbox_rows.claim_heads(
                        session, self.db.dialect, now, 1, self.instance, self._until(now),
                        lane, bulk=kind, continuing=continuing, ahead=ahead,
                        alone=alone, then=row.id if with_freed else None,
                        run=0 if continuing else RUN_ROWS,
                        without_bulk=no_bulk_since is not None,
                        bulk_may_have_come=no_bulk_since is None or self._may_have_written(
                            lane, no_bulk_since),
                        bulk_seen=bulk_seen))
                    if with_freed:
                        freed = [each for each in following if each.waits_for == row.id]
                        following = [each for each in following if each not in freed]
                        freed_with_next = bool(freed)
                    ids = {each.id for each in following}
                    receipts = [each for each in following if each.waits_for in ids]
                    following = [each for each in following if each not in receipts]
                    if following:
                        break
                self._next_taken(lane, following, ahead)
            room = self.capacity - len(self._lanes)  # (this lane stays open)
            if ours and frees_others and not freed and room > 0 and not self._stopping():
                freed = list(await outbox_rows.claim_heads(
                    session, self.db.dialect, now, room, self.instance, self._until(now),
                    bulk=False, ahead=freed_ahead, alone=alone))

        # Without the claim lock: a claim is one guarded UPDATE (outbox_rows.claim_heads), so
        # when the main loop claims the same row at the same moment only one gets it; taking
        # the lock here made refilling lanes wait behind every record.
        try:
            await self._persist_together(step, "sent")
        except BaseException:
            if followers:  # not recorded: the lane's next record or its end tries again
                self._unrecorded[lane] = followers + self._unrecorded.get(lane, [])
            raise
        self._after_claim(following + freed, alone, mark)
        if claim_next:
            self._ahead_of_people |= ahead
            self._took(following + receipts)
            self._next[lane] = following
            if following and lane not in bulk_seen and \
                    not any(each.purpose in outbox_rows.BULK for each in following):
                self._without_bulk[lane] = mark
            else:
                self._without_bulk.pop(lane, None)
            if not following and self.db.outbox_writes.written_since(lane, mark):
                self._wake_to_claim()  # (as below)
        elif quiet is not None:
            self._next_taken(row.chat_id, [])
            self._next[row.chat_id] = []  # the lane ends
            if self.db.outbox_writes.written_since(row.chat_id, *quiet):
                # Written meanwhile (committed after the look, or after the claim): the main
                # loop claims it (a claim before this record's commit found this row still
                # in the way, and its writer may not have woken it: wake(chats=…)).
                self._wake_to_claim()
        if freed:
            self._ahead_of_people |= freed_ahead
            self._took(freed)
            head = following[0] if freed_with_next and following and \
                following[0].purpose not in outbox_rows.BULK else None
            # What waited for this row goes from this lane: right after the next row, or at
            # once when there is none. Also when its chat has a lane here: the claim found
            # nothing before it there (a row that lane holds would have been in its way).
            # Handed to a lane of its own chat, that lane took the next receipts too, each
            # with a claim and a record of its own (a burst's 11.4-12.2 statements and
            # 3.3-3.8 commits a message).
            queue = None if self._stopping() else self._lanes.get(lane)
            for each in freed:
                if head is not None:
                    self._then.setdefault(head.id, []).append(each)  # right after it
                elif queue is not None and each.waits_for == row.id:
                    self._carried[each.id] = lane
                    _place(queue, each)
                else:
                    self._add_to_lane(each)
        for each in receipts:
            # Right after the row of the run it waits for, from this lane (after what this
            # record freed, which went before it in its chat), and recorded with it; its
            # record need not claim it.
            copy = each.waits_for
            assert copy is not None
            self._then.setdefault(copy, []).append(each)
            self._awaited.pop(copy, None)
            self._ran.add(copy)
        # A claim that took fewer than it had room for left no person's row behind; nor did
        # the lane's claim that took what waits for this row.
        self._awaited_done(row, wake=not frees_others or not ours or (
            len(freed) >= room and not freed_with_next))
        if ours and row.purpose in EPHEMERAL:
            await self._erase_traces()
        if carried:
            self._sent_from_another_lane(row, freed)
        self._after_followers(followers, followed, now, freed)
        self._sent(row, now, ours)

    def _sent_from_another_lane(self, row: Outbox, claimed: Sequence[Outbox]) -> None:
        """A row sent by the lane of another chat (a receipt) is recorded: rows behind it in
        its own chat may go now, and the main loop is to claim them. Not when its claim
        found nothing else there, nor when this record claimed that chat's next row
        (nothing else was ready before that one), nor when a later row of that chat is to
        go right after another row here (a run's next receipt: nothing was ready before it
        either, or the run would not have it). In a run every receipt woke the main loop to
        a claim that found nothing, a commit for every relayed message (bench/README.md)."""
        if self._nothing_more(row) is None and \
                not any(each.chat_id == row.chat_id for each in claimed) and \
                not any(each.chat_id == row.chat_id and each.id > row.id
                        for waiting in self._then.values() for each in waiting):
            self._wake_to_claim()

    def _sent(self, row: Outbox, now: datetime, ours: bool) -> None:
        if ours:
            self.sent += 1
            self.metrics.sent(row, now)
        else:
            log.warning("outbox row %s was sent after its claim was lost", row.id)

    async def _mark_sent(self, session: Session, sends: Sequence[tuple[Outbox, int | None]],
                         now: datetime) -> list[bool]:
        """The sent rows' part of their record (a copy and the receipt sent right after it: in
        one UPDATE); for each, False when it was no longer this instance's."""
        marked = [(row.id, message_id) for row, message_id in sends
                  if row.purpose not in EPHEMERAL]
        found: dict[int, bool] = {}  # marked: whether its message waits for a coach
        if len(marked) == 1:
            row = next(row for row, _ in sends if row.id == marked[0][0])
            # Contents leave the outbox once delivered: minimal data.
            found = await outbox_rows.mark_sent(session, row.id, self.instance, now,
                                                marked[0][1], row.attempts + 1)
        elif marked:
            found = await outbox_rows.mark_all_sent(session, marked, self.instance, now)
        ours = []
        for row, _ in sends:
            if row.purpose in EPHEMERAL:
                # The last word to someone who left, an answer to a stranger: not even their
                # chat id stays behind.
                ours.append(await outbox_rows.delete_row(session, row.id, self.instance))
                continue
            ours.append(row.id in found)
            if row.id not in found:
                continue
            # (The message it became is linked to its family by the mark itself: a trigger,
            # migration 0014.)
            if self.on_sent is not None and found[row.id]:
                await self.on_sent(session, row, now)
        return ours

    def _awaited_done(self, row: Outbox, wake: bool = True) -> None:
        """Rows waiting for this one can go (sent) or are settled (given up): claim them
        (unless its record did)."""
        if row.id in self._awaited:
            del self._awaited[row.id]
            if wake:
                self._wake_to_claim()

    async def _erase_traces(self) -> None:
        """A deleted farewell (it may name who left) leaves no bytes in a SQLite log."""
        with contextlib.suppress(Exception):
            await self.db.erase_traces()

    async def _retry(self, row: Outbox, reason: str, count: bool = True) -> None:
        now = self.clock.now()
        attempts = row.attempts + (1 if count else 0)
        delay = self.clock_delta(backoff(attempts)) if count else timedelta(0)
        log.warning("send of outbox row %s postponed: %s", row.id, reason)
        self.metrics.failed(row.method, reason)

        async def step(session: Session) -> None:
            await outbox_rows.postpone(session, row.id, self.instance, now + delay, attempts,
                                       reason)

        await self._persist(step, "retry")

    async def _give_up(self, row: Outbox, reason: str, parked: bool = False) -> None:
        now = self.clock.now()
        log.warning("outbox row %s (%s, %s) %s: %s", row.id, row.method, row.purpose,
                    "parked" if parked else "not delivered", reason)
        self.metrics.failed(row.method, reason)

        async def step(session: Session) -> None:
            if row.purpose in EPHEMERAL and not parked:
                # Not kept for a retry either: it names their chat.
                await outbox_rows.delete_row(session, row.id, self.instance)
                return
            if not await outbox_rows.mark_failed(session, row.id, self.instance,
                                                 row.attempts + 1, reason,
                                                 "parked" if parked else "failed"):
                return
            undelivered = [row]
            if parked:
                undelivered += await outbox_rows.park_chat(session, row.chat_id, self.instance)
                await _settle_ephemeral(session, undelivered)
                if self.on_blocked is not None:
                    await self.on_blocked(session, row.chat_id, now)
            for each in undelivered:
                if self.on_undelivered is not None and each.link_message_id is not None:
                    await self.on_undelivered(session, each, now)
            await outbox_rows.expire_and_cancel(session, self.db.dialect, now)

        if not parked:
            await self._persist(step, "failed")
        else:
            # The chat's other rows this lane holds (a person's row may be queued past a bulk
            # row) were parked with it: they leave the lane unsent. Under the claim lock, so
            # no claim that the park did not see can still join the lane afterwards.
            async with self._claiming:
                await self._persist(step, "failed")
                queue = self._lanes.get(row.chat_id)
                dropped = list(queue) if queue else []
                if queue:
                    queue.clear()
            await self._let_go(dropped + self._followers_of(dropped))
        self._awaited_done(row)
        if row.purpose in EPHEMERAL:
            await self._erase_traces()


async def _settle_ephemeral(session: Session, parked: Sequence[Outbox]) -> None:
    """Parked (refused, or with their chat), a farewell waits no longer than its sender did
    (it names who left): the notice it may leave (`kept`, naming no one) waits in its place,
    or nothing does."""
    for row in parked:
        if row.purpose not in EPHEMERAL:
            continue
        kept = (row.payload or {}).get("kept")
        if kept:
            await outbox_rows.keep_instead(session, row.id, kept)
        else:
            await outbox_rows.delete_parked(session, row)


def _message_id(result: Any) -> int | None:
    """The sent message's id in a Bot API result (a reaction has none)."""
    return result.get("message_id") if isinstance(result, dict) else None


def _place(queue: deque[Outbox], row: Outbox) -> None:
    """Where a row claimed for a chat's lane waits in it: the next copy of a digest that has
    begun goes first (nothing comes in between); a person's row goes before the bulk rows
    queued (it was claimable past them, so none is its family's: outbox_rows._in_the_way),
    but after a digest's next copy; any other row at the end."""
    if outbox_rows.continues_digest(row):
        queue.appendleft(row)
        return
    if row.purpose not in outbox_rows.BULK:
        for place, queued in enumerate(queue):
            if queued.purpose in outbox_rows.BULK and not outbox_rows.continues_digest(queued):
                queue.insert(place, row)
                return
    queue.append(row)


def _step_back(queue: deque[Outbox], row: Outbox) -> None:
    """A bulk row that gave way goes right after the people's rows at the head of its lane,
    still before the bulk rows queued behind it."""
    for place, queued in enumerate(queue):
        if queued.purpose in outbox_rows.BULK:
            queue.insert(place, row)
            return
    queue.append(row)


async def planner_step(db: Database, planner: Planner, now: datetime) -> int:
    try:
        async with db.transaction() as session:
            return await planner(session, now)
    except BaseException:
        pace = getattr(planner, "pace", None)
        if pace is not None:
            pace.failed()  # a paced job whose run rolled back runs again next pass
        raise
