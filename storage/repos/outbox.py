"""The outbox and its claims: the statements of the writer and the dispatcher (bot/outbox/).

A row is claimed with a lease (on PostgreSQL under `FOR UPDATE SKIP LOCKED`, so several
instances never take the same row), and its result is recorded by whoever holds the claim. On
PostgreSQL each dispatcher holds a session-level advisory lock, its *liveness lock*, on a
connection of its own; the claims of an instance whose lock is free are released. These
functions never commit, except the liveness lock's own connection (`LivenessLock`), which is
not a unit of work.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from storage import direct, sealing
from storage.db import OUTBOX_CHATS, Database, table_of
from storage.models import OUTBOX_BULK, FamilyMessage, Outbox
from storage.types import SealedJSON, UTCDateTime

# pg_advisory_lock(namespace, key): the namespace keeps these apart from any other use.
LIVENESS_NAMESPACE = 0x676C6976
LAST_ERROR_LENGTH = 200  # outbox.last_error is a String(200)


def error_may_pass(error: Exception) -> bool:
    """A database error that may pass (the connection, a lock), not one in the statement."""
    return not isinstance(error, IntegrityError | ProgrammingError | DataError)


# Writing -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewRow:
    """A row for the dispatcher, as add_pending_rows writes it. `after`: the index of an
    earlier row of the same write that it waits for (a receipt its copy); `waits_for`: the id
    of a row written before."""

    chat_id: int
    method: str
    payload: dict[str, Any]
    purpose: str
    due_at: datetime
    expires_at: datetime | None = None
    link_family_id: int | None = None
    link_member_id: int | None = None
    link_message_id: int | None = None
    after: int | None = None
    waits_for: int | None = None


async def add_pending_rows(session: AsyncSession, new: Sequence[NewRow], created_at: datetime
                           ) -> list[Outbox]:
    """New rows for the dispatcher, in the caller's transaction: one INSERT … RETURNING for
    all of them, the rows that wait for one of them too (_insert_ranked; a large write on
    SQLite goes level by level, _INSERT_ROWS). On the session's
    connection, not through its unit of work: the flush of a relayed message's copy and
    receipt was a sixth of the bot's busy time (py-spy, bench/README.md), and a morning's
    thousands of agendas flushed one by one held the event loop. The payloads are sealed
    here as a mapped row's are (storage/sealing.py). Returned as plain Outbox objects, not in
    the session, as claims return theirs."""
    if not new:
        return []
    to_text = SealedJSON().to_text
    levels = _levels(new)

    def sealed(connection: Any, sync_session: Any, row: NewRow) -> Any:
        token = sealing.seal_for_family(connection, sync_session, row.link_family_id,
                                        to_text(row.payload))
        return row.payload if token is None else token

    def insert_all(sync_session: Any) -> list[int]:
        connection = sync_session.connection()
        if len(levels) > 1 and (connection.dialect.name == "postgresql"
                                or len(new) <= _RANKED_ROWS_SQLITE):
            return _insert_ranked(connection, [sealed(connection, sync_session, row)
                                               for row in new], new, levels, created_at)
        ids: list[int | None] = [None] * len(new)
        for level in levels:
            values = []
            for n in level:
                row = new[n]
                values.append({
                    "chat_id": row.chat_id, "method": row.method,
                    "payload": sealed(connection, sync_session, row),
                    "purpose": row.purpose, "due_at": row.due_at, "created_at": created_at,
                    "status": "pending", "attempts": 0, "expires_at": row.expires_at,
                    "link_family_id": row.link_family_id,
                    "link_member_id": row.link_member_id,
                    "link_message_id": row.link_message_id,
                    "waits_for": row.waits_for if row.after is None else ids[row.after]})
            found = connection.execute(_INSERT_ROWS, values).scalars().all()
            for n, row_id in zip(level, found, strict=True):
                ids[n] = row_id
        return [row_id for row_id in ids if row_id is not None]

    ids = await session.run_sync(insert_all)
    session.info.setdefault(OUTBOX_CHATS, set()).update(row.chat_id for row in new)
    return [direct.detached(Outbox, {
        "id": row_id, "chat_id": row.chat_id, "method": row.method, "payload": row.payload,
        "purpose": row.purpose, "due_at": row.due_at, "created_at": created_at,
        "status": "pending", "attempts": 0, "expires_at": row.expires_at,
        "link_family_id": row.link_family_id, "link_member_id": row.link_member_id,
        "link_message_id": row.link_message_id,
        "waits_for": row.waits_for if row.after is None else ids[row.after]})
        for row_id, row in zip(ids, new, strict=True)]


def _levels(new: Sequence[NewRow]) -> list[list[int]]:
    """The rows in the order they get their ids: first those that wait for no row of this
    write, in the order given, then those that wait for one of them, and so on. (So a row
    that waits never stands before a later row of its chat that does not: a crisis answer
    after a receipt in the family's chat does not wait for the coach's copy.)"""
    done: set[int] = set()
    levels: list[list[int]] = []
    while len(done) < len(new):
        level = [n for n, row in enumerate(new)
                 if n not in done and (row.after is None or row.after in done)]
        if not level:
            raise ValueError("a row waits for one after it")
        done.update(level)
        levels.append(level)
    return levels


# Ids in the order the rows were given: a lane goes by id. SQLAlchemy (insertmanyvalues)
# writes the rows in that order, many in one statement, and sorts RETURNING's ids back into
# it by the outbox's insert sentinel (Outbox._sentinel); without one, on SQLite it ran one row
# a statement (tests/storage/test_outbox_write.py holds both databases to the order).
_INSERT_ROWS = insert(table_of(Outbox)).returning(table_of(Outbox).c.id,
                                                  sort_by_parameter_order=True)

# PostgreSQL: the rows of every level in one statement (a relayed message's copy and the
# receipt that waits for it were two round trips, issue 16). The ids are drawn first, one
# per rank (a row's place in _levels' order) in the order of the ranks, so they rise as
# they did level by level; a waiting row finds its id by the rank it waits for. (SQLite
# has no sequence to draw from: _insert_ranked_sqlite.)
_INSERT_RANKED = text("""
WITH ids AS MATERIALIZED (
    SELECT ranks.rank, nextval(pg_get_serial_sequence('outbox', 'id')) AS id
    FROM generate_series(0, cardinality(CAST(:rank AS INTEGER[])) - 1) AS ranks(rank)
)
INSERT INTO outbox (id, chat_id, method, payload, purpose, due_at, created_at, status,
                    attempts, expires_at, link_family_id, link_member_id, link_message_id,
                    waits_for)
SELECT ids.id, given.chat_id, given.method, given.payload, given.purpose, given.due_at,
       CAST(:created_at AS TIMESTAMP), 'pending', 0, given.expires_at, given.link_family_id,
       given.link_member_id, given.link_message_id, COALESCE(given.waits_for, awaited.id)
FROM unnest(CAST(:rank AS INTEGER[]), CAST(:after_rank AS INTEGER[]),
            CAST(:chat_id AS BIGINT[]), CAST(:method AS VARCHAR[]),
            CAST(:payload AS TEXT[]), CAST(:purpose AS VARCHAR[]),
            CAST(:due_at AS TIMESTAMP[]), CAST(:expires_at AS TIMESTAMP[]),
            CAST(:link_family_id AS INTEGER[]), CAST(:link_member_id AS INTEGER[]),
            CAST(:link_message_id AS INTEGER[]), CAST(:waits_for AS INTEGER[]))
     AS given(rank, after_rank, chat_id, method, payload, purpose, due_at, expires_at,
              link_family_id, link_member_id, link_message_id, waits_for)
JOIN ids ON ids.rank = given.rank
LEFT JOIN ids AS awaited ON awaited.rank = given.after_rank
RETURNING outbox.id
""")


# SQLite: the same in one statement for up to this many rows (a relayed message's copy and
# receipt were two statements, each a trip to SQLite's thread and SQLAlchemy's fixed cost, about
# 0.15 ms of CPU; issue 16); a larger write goes level by level (twelve parameters a row).
_RANKED_ROWS_SQLITE = 64
_RANKED_COLUMNS = ("rank", "after_rank", "chat_id", "method", "payload", "purpose", "due_at",
                   "expires_at", "link_family_id", "link_member_id", "link_message_id",
                   "waits_for")
_RANKED_INSTANTS = ("due_at", "expires_at")


@functools.lru_cache(maxsize=_RANKED_ROWS_SQLITE)  # one for every count: storage/direct.py
def _insert_ranked_sqlite(count: int) -> Any:  # compiles a statement once, kept by identity
    """_INSERT_RANKED for SQLite and `count` rows. SQLite has no sequence to draw from: the ids
    are the ones after the largest the outbox ever gave (its AUTOINCREMENT counter, so no id
    is used twice), in the order of the ranks. No one takes them meanwhile: this statement
    writes, so it holds SQLite's one write lock, and the counter moves up to the last id it
    gives. It begins with INSERT, so pysqlite opens the transaction for it as for any write
    (a statement that begins with WITH it leaves to commit on its own)."""
    c = table_of(Outbox).c
    typed = {name: c[name].type for name in _RANKED_INSTANTS}
    rows = ",\n    ".join("(" + ", ".join(f":{name}_{n}" for name in _RANKED_COLUMNS) + ")"
                           for n in range(count))
    statement = text(f"""
INSERT INTO outbox (id, chat_id, method, payload, purpose, due_at, created_at, status,
                    attempts, expires_at, link_family_id, link_member_id, link_message_id,
                    waits_for)
WITH last AS (
    SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'),
                    (SELECT max(id) FROM outbox), 0) AS id
), given({", ".join(_RANKED_COLUMNS)}) AS (VALUES
    {rows})
SELECT last.id + 1 + given.rank, given.chat_id, given.method, given.payload, given.purpose,
       given.due_at, :created_at, 'pending', 0, given.expires_at, given.link_family_id,
       given.link_member_id, given.link_message_id,
       COALESCE(given.waits_for, last.id + 1 + given.after_rank)
FROM given, last
ORDER BY given.rank
RETURNING id
""")
    return statement.bindparams(
        bindparam("created_at", type_=c.created_at.type),
        *(bindparam(f"{name}_{n}", type_=type_) for n in range(count)
          for name, type_ in typed.items()))


def _insert_ranked(connection: Any, payloads: Sequence[Any], new: Sequence[NewRow],
                   levels: Sequence[Sequence[int]], created_at: datetime) -> list[int]:
    """_INSERT_RANKED (PostgreSQL) or _insert_ranked_sqlite for `new` (payloads already
    sealed for a family, or not: the column type seals those with the master key ring); the
    ids in the order of `new`."""
    rank = {n: r for r, n in enumerate(n for level in levels for n in level)}
    dialect = connection.dialect
    seal = SealedJSON().process_bind_param  # the columns' own types, as the INSERT's binds
    given: list[dict[str, Any]] = [dict(zip(_RANKED_COLUMNS, (
        rank[n], None if row.after is None else rank[row.after], row.chat_id, row.method,
        seal(payloads[n], dialect), row.purpose, row.due_at, row.expires_at,
        row.link_family_id, row.link_member_id, row.link_message_id,
        row.waits_for if row.after is None else None), strict=True))
        for n, row in enumerate(new)]
    values: dict[str, Any]
    if dialect.name == "postgresql":  # a column an array; the instants naive UTC, as bound
        utc = UTCDateTime().process_bind_param
        values = {name: [utc(row[name], dialect) if name in _RANKED_INSTANTS else row[name]
                         for row in given] for name in _RANKED_COLUMNS}
        values["created_at"] = utc(created_at, dialect)
        statement = _INSERT_RANKED
    else:  # a row's values, each a parameter of its own (typed: _insert_ranked_sqlite)
        values = {f"{name}_{n}": value for n, row in enumerate(given)
                  for name, value in row.items()}
        values["created_at"] = created_at
        statement = _insert_ranked_sqlite(len(new))
    found = direct.run(connection, statement, values).scalars()
    by_rank = sorted(found)  # given in the order of the ranks
    return [by_rank[rank[n]] for n in range(len(new))]


def add_pending(session: AsyncSession, *, chat_id: int, method: str, payload: dict[str, Any],
                purpose: str, due_at: datetime, created_at: datetime,
                link_family_id: int | None, link_member_id: int | None,
                link_message_id: int | None, expires_at: datetime | None = None,
                awaited: Outbox | None = None) -> Outbox:
    """A new row for the dispatcher, in the caller's transaction; sent only once `awaited`
    was (written in the same transaction: the flush orders and links them)."""
    row = Outbox(
        chat_id=chat_id,
        method=method,
        payload=payload,
        purpose=purpose,
        due_at=due_at,
        created_at=created_at,
        status="pending",
        attempts=0,
        link_family_id=link_family_id,
        link_member_id=link_member_id,
        link_message_id=link_message_id,
        expires_at=expires_at,
    )
    if awaited is not None:
        row.awaited = awaited
    session.add(row)
    session.info.setdefault(OUTBOX_CHATS, set()).add(chat_id)
    return row


# Lanes and claims --------------------------------------------------------------------------------
# Each chat is a lane: its rows go out first in, first out. A row may be claimed only when no
# earlier row of its chat still stands in the way: one that is pending and due (also one
# waiting for a retry, or claimed by any instance), or one parked because the person blocked
# the bot. A receipt waiting for its copy stands in nobody's way: the family's lane goes on.
# The claim takes each lane's first row only; the next is claimed once this one is recorded,
# so the order holds across retries, 429s, restarts and instances.
# One exception keeps a person from waiting behind a coach's morning: a person's row (not
# BULK) goes past bulk rows of its chat that belong to no family or to another family (the
# coach's agenda, the digests of the coach's other families), never past its own family's. A
# family's messages still reach the coach in the order they were written (PRODUCT.md §2.2).
# And its own family's digest, which it must wait for, goes first too: a family's bulk rows
# with a person of the family waiting behind them pass the bulk rows before them that belong
# to no family or to another family and have not begun (the agenda, the digests not begun);
# so does the rest of a digest that has begun that way. Nothing goes into a digest that has
# begun: while one waits to go on, no other bulk row of its chat starts (_passed_by_later).
# Without this, a copy behind its own digest made the coach's whole morning before it go with
# the people, one a second, and the other families' copies waited for a free lane
# (bench/README.md, the busiest morning).
WAITING = ("pending", "parked")
UNDELIVERED = ("failed", "expired", "cancelled")
# Sends planned in bulk (an evening's reminders, a morning's agendas and digests, nudges):
# claimed after what a person is waiting for now (a relayed message, an answer with the crisis
# lines), which would otherwise queue behind thousands of them (bench/README.md, busiest hour).
BULK = OUTBOX_BULK
# The same, written into the statements rather than bound: a bound list is an "expanding"
# parameter, which SQLAlchemy renders into the statement's text again at every execution (a
# third of the claim's CPU, py-spy of a relay burst, bench/README.md). Constants of this file.
_BULK_SQL = tuple(literal_column(f"'{purpose}'", String) for purpose in BULK)
_WAITING_SQL = tuple(literal_column(f"'{status}'", String) for status in WAITING)


# The claims' aliases, made once: a new alias per claim made SQLAlchemy set up its columns
# again each time, and building the claim statement was 45 % of the bot's CPU in the relay
# burst (bench/README.md, `--profile`). One alias per role, so that no subquery correlates to
# another's table by accident.
_AWAITED = aliased(Outbox, name="awaited")
_EARLIER = aliased(Outbox, name="earlier")
_EARLIER_AWAITED = aliased(Outbox, name="earlier_awaited")
_BEHIND = aliased(Outbox, name="behind")
_OWN = aliased(Outbox, name="own")
_PERSON = aliased(Outbox, name="person")
_TITLE = aliased(Outbox, name="title")
_EARLIER_PERSON = aliased(Outbox, name="earlier_person")
_EARLIER_TITLE = aliased(Outbox, name="earlier_title")
_LATER = aliased(Outbox, name="later")
_LATER_PERSON = aliased(Outbox, name="later_person")
_LATER_TITLE = aliased(Outbox, name="later_title")
_BEGUN_LATER = aliased(Outbox, name="begun_later")
_WAITING_PERSON = aliased(Outbox, name="waiting_person")
_PASSED = aliased(Outbox, name="passed")
_PASSED_AWAITED = aliased(Outbox, name="passed_awaited")
_OTHER = aliased(Outbox, name="other")
_RUN_AWAITED = aliased(Outbox, name="run_awaited")
_RUN_EARLIER = aliased(Outbox, name="run_earlier")
_RUN_EARLIER_AWAITED = aliased(Outbox, name="run_earlier_awaited")
_RUN_GUARD = aliased(Outbox, name="run_guard")
_RUN_GUARD_AWAITED = aliased(Outbox, name="run_guard_awaited")
_PEOPLES_CHAT = aliased(Outbox, name="peoples_chat")
_LONE_BULK = aliased(Outbox, name="lone_bulk")


def _ready(row: type[Outbox] | Any, awaited: Any = _AWAITED) -> Any:
    """The row waits for nothing, or what it waits for was sent."""
    return or_(row.waits_for.is_(None), exists().where(awaited.id == row.waits_for,
                                                       awaited.status == "sent"))


def _first_in_lane(now: datetime | Any, continuing: bool = False, few_rows: bool = False
                   ) -> Any:
    """No earlier row of its chat stands in its way; or it is a family's bulk row that may
    pass (_may_pass, looked at only where a family's person waits, _a_family_waits), and
    nothing it may not pass stands in its way. `continuing`: the next copy of a digest that
    has begun, looked for in one chat (few rows: without _a_family_waits, so the digest ends
    first also when the person it went first for is gone meanwhile). Whether a row may pass
    is asked of the row, once, not of every pair of rows in its chat."""
    where = true() if continuing else _a_family_waits(few_rows)
    return and_(
        or_(~_earlier_in_the_way(now, _in_the_way(_EARLIER)),
            and_(Outbox.purpose.in_(_BULK_SQL), where, _may_pass(Outbox, _PERSON, _TITLE),
                 ~_earlier_in_the_way(now, _in_the_way_of_passing(_PASSED), _PASSED,
                                      _PASSED_AWAITED))),
        ~_passed_by_later(now, few_rows))


def _earlier_in_the_way(now: datetime | Any, in_the_way: Any, earlier: Any = _EARLIER,
                        awaited: Any = _EARLIER_AWAITED) -> Any:
    return exists().where(
        earlier.chat_id == Outbox.chat_id, earlier.id < Outbox.id,
        or_(earlier.status == "parked",
            and_(earlier.status == "pending", earlier.due_at <= now,
                 _ready(earlier, awaited), in_the_way))).correlate_except(earlier)


def _persons_waiting(row: Any) -> Any:
    """A person's row (not BULK) still to be sent. Its purpose written as the outbox's index
    of people's rows states it (storage/models.py PEOPLE): SQLite uses a partial index only
    for a WHERE that names its condition."""
    return and_(row.status == "pending", row.purpose.not_in(_BULK_SQL))


def _a_family_waits(few_rows: bool = False) -> Any:
    """A person's row of a family waits in the row's chat: only there may a family's bulk
    rows pass others (_may_pass). Over the whole outbox asked once per statement (the chats
    where one waits), not for every row; of `few_rows` (one chat's, the rows just claimed)
    asked of each row's chat, not of the whole outbox."""
    person = _WAITING_PERSON
    waits = and_(_persons_waiting(person), person.link_family_id.is_not(None))
    if few_rows:
        return exists().where(person.chat_id == Outbox.chat_id, waits) \
            .correlate_except(person)
    return Outbox.chat_id.in_(select(person.chat_id).where(waits).scalar_subquery())


def _in_the_way(earlier: Any) -> Any:
    """An earlier waiting row keeps this one back, unless this is a person's row and that one
    a bulk row for no family or another family."""
    return or_(Outbox.purpose.in_(_BULK_SQL), earlier.purpose.not_in(_BULK_SQL),
               earlier.link_family_id == Outbox.link_family_id)


def _in_the_way_of_passing(earlier: Any) -> Any:
    """An earlier waiting row keeps back a bulk row that may pass unless it may pass it: a
    bulk row of no family or another family that does not go first itself (unless this one
    continues a digest that has begun: it goes on whatever came meanwhile)."""
    return ~and_(_passable(earlier),
                 or_(_begun_copy(Outbox, _TITLE),
                     ~_may_pass(earlier, _EARLIER_PERSON, _EARLIER_TITLE)))


def _passable(earlier: Any) -> Any:
    """What a family's bulk row that may pass goes past: a waiting bulk row of no family or
    another family that is not claimed (in flight). (Asked only of pending rows: a parked
    one stands in the way whatever it is, _earlier_in_the_way.)"""
    return and_(earlier.purpose.in_(_BULK_SQL),
                earlier.claimed_by.is_(None),
                or_(earlier.link_family_id.is_(None),
                    earlier.link_family_id != Outbox.link_family_id))


def _may_pass(row: Any, person: Any, title: Any) -> Any:
    """A family's bulk row that goes past the bulk rows before it that it may pass: a person
    of its family waits behind it in its chat, or it continues a digest that has begun."""
    return and_(row.purpose.in_(_BULK_SQL), row.link_family_id.is_not(None),
                or_(_person_behind(row, person), _begun_copy(row, title)))


def _person_behind(row: Any, person: Any) -> Any:
    """A person's row of the row's family waits behind it in its chat."""
    return exists().where(
        person.chat_id == row.chat_id, person.id > row.id, _persons_waiting(person),
        person.link_family_id == row.link_family_id).correlate_except(person)


def _begun_copy(row: Any, title: Any) -> Any:
    """A digest's copy whose title went (or is going) out: the digest has begun. (An earlier
    title of its family that is still waiting and not claimed is its own: one chat's digests
    of a family go in order.)"""
    return and_(row.purpose == "digest", row.link_message_id.is_not(None), ~exists().where(
        title.chat_id == row.chat_id, title.id < row.id, title.status == "pending",
        title.claimed_by.is_(None), title.purpose == "digest",
        title.link_message_id.is_(None), title.link_family_id == row.link_family_id)
        .correlate_except(title))


def _passed_by_later(now: datetime | Any, few_rows: bool = False) -> Any:
    """A bulk row that later bulk rows of another family have passed or may pass: it waits
    for them (and does not start in the middle of their digest; nor is it claimed beside
    them, by this instance or another). Not a row that keeps its place whatever comes (one in
    flight, a digest that has begun), nor one that may pass itself for a later row that may
    pass only because a person waits behind it (the earlier of two such goes first). Only
    where a family's person waits (_a_family_waits): should that person's row go meanwhile
    (the member left), the lane that began the digest still ends it first (its claims of
    the next copy look everywhere, and Dispatcher._lane claims that copy before a title
    queued beside it)."""
    later, begun_later = _LATER, _BEGUN_LATER

    def other_family(row: Any) -> Any:
        return and_(row.chat_id == Outbox.chat_id, row.id > Outbox.id,
                    row.status == "pending", row.due_at <= now, row.purpose.in_(_BULK_SQL),
                    row.link_family_id.is_not(None),
                    or_(Outbox.link_family_id.is_(None),
                        row.link_family_id != Outbox.link_family_id))

    return and_(
        Outbox.purpose.in_(_BULK_SQL), Outbox.claimed_by.is_(None),
        _a_family_waits(few_rows), ~_begun_copy(Outbox, _TITLE),
        or_(exists().where(other_family(begun_later),
                           _begun_copy(begun_later, _LATER_TITLE))
            .correlate_except(begun_later),
            and_(~_person_behind(Outbox, _PERSON),
                 exists().where(other_family(later), _person_behind(later, _LATER_PERSON))
                 .correlate_except(later))))


def lease_now(dialect: str, now: datetime | Any) -> Any:
    """The clock leases are read by: the database's own on PostgreSQL (instances on several
    machines never compare their wall clocks); the bot's on SQLite (one instance)."""
    if dialect == "postgresql":
        return func.timezone("UTC", func.now())
    return now


@dataclass(frozen=True)
class ServerLease:
    """A lease that ends `seconds` after the statement runs, by the database's clock."""

    seconds: float

    def sql(self) -> Any:
        return func.timezone("UTC", func.now()) + func.make_interval(0, 0, 0, 0, 0, 0,
                                                                        self.seconds)


def lease_until(dialect: str, now: datetime, seconds: float, clock_lease: Any
                ) -> datetime | ServerLease:
    if dialect == "postgresql":
        return ServerLease(seconds)
    return now + clock_lease  # type: ignore[no-any-return]


def _until_sql(until: datetime | ServerLease) -> Any:
    return until.sql() if isinstance(until, ServerLease) else until


def _free_person_row(row: Any, now: Any, dialect: str, instance: Any) -> Any:
    """A person's row (not BULK), due, not waiting for a retry, that no other instance
    holds: what a lane's run may take (readiness is asked apart). Never NULL: it is negated
    (_run_rows), and a NULL there would let a row pass."""
    return and_(row.status == "pending", row.due_at <= now,
                or_(row.not_before.is_(None), row.not_before <= now),
                or_(row.claimed_by.is_(None),
                    and_(row.claimed_by != instance, row.claimed_until.is_not(None),
                         row.claimed_until < lease_now(dialect, now))),
                row.purpose.not_in(_BULK_SQL))


def _waiting_before(earlier: Any, now: Any, awaited: Any) -> Any:
    """An earlier row of the row's chat that waits, as _earlier_in_the_way counts them."""
    return and_(earlier.chat_id == Outbox.chat_id, earlier.id < Outbox.id,
                or_(earlier.status == "parked",
                    and_(earlier.status == "pending", earlier.due_at <= now,
                         _ready(earlier, awaited))))


def _in_own_lane(row: Any, instance: Any) -> Any:
    """Held by this instance in its chat's own lane: a person's row that waits for no other
    (one that does, a receipt, may go from another chat's lane: Dispatcher._then)."""
    # (Not NULL for a row nobody holds: negated, NULL let every such row pass.)
    return and_(row.claimed_by.is_not(None), row.claimed_by == instance,
                row.waits_for.is_(None), row.purpose.not_in(_BULK_SQL))


def claimable(now: datetime | Any, dialect: str, instance: str | Any,
              continuing: bool = False, few_rows: bool = False, after: Any = None) -> Any:
    """Free to claim for `instance`. Never a row it holds itself, whatever its lease says: a
    clock jump must not make a send in flight look abandoned. `after`: a row of `instance`'s
    that the rows wait for, not sent yet (it goes first: Dispatcher.claim_written)."""
    return and_(
        _unclaimed_due(Outbox, now, dialect, instance),
        _ready(Outbox) if after is None else Outbox.waits_for == after,
        _first_in_lane(now, continuing, few_rows))



async def anything_claimable(db: Database, now: datetime, instance: str) -> bool:
    """Whether a claim now would find a row (either kind, any chat): the claim's own
    condition, read on a connection of its own and not committed. The main loop asks this
    before the claim it makes every poll_seconds when nothing woke it: an idle bot made a
    claim that found nothing, an UPDATE and a commit, twice a second, day and night (and
    through a burst, beside the lanes: issue 16)."""
    async with db.engine.connect() as connection:
        found = await connection.scalar(_claimable_statement(db.dialect),
                                        {"c_now": now, "c_instance": instance})
    return found is not None


@functools.lru_cache(maxsize=4)
def _claimable_statement(dialect: str) -> Any:
    now = bindparam("c_now", type_=table_of(Outbox).c.due_at.type)
    instance = bindparam("c_instance", type_=table_of(Outbox).c.claimed_by.type)
    return select(Outbox.id).where(claimable(now, dialect, instance)).limit(1)


def continues_digest(row: Outbox) -> bool:
    """A copy in a digest of held messages (its title links no family message, its copies
    do): one that can be claimed follows its title or another copy, so its digest has begun,
    and nothing goes in between (PRODUCT.md §2.3: one digest per family)."""
    return row.purpose == "digest" and row.link_message_id is not None


async def claim_heads(session: AsyncSession, dialect: str, now: datetime, limit: int,
                      instance: str, until: datetime | ServerLease, chat_id: int | None = None,
                      bulk: bool | None = None, continuing: bool = False,
                      ahead: set[int] | None = None, alone: set[int] | None = None,
                      after: int | None = None, then: int | None = None, run: int = 0,
                      without_bulk: bool = False, bulk_may_have_come: bool = True,
                      bulk_seen: set[int] | None = None) -> list[Outbox]:
    """Claim the first row of up to `limit` lanes (of one chat's lane, when given), people
    waiting first, then most overdue first, for `instance` (`bulk`: only bulk rows, or none;
    `continuing`: only the next copy of a digest that has begun, see continues_digest):
    one UPDATE … RETURNING over the rows a SELECT … FOR UPDATE SKIP LOCKED picks (one
    statement per claim, not two: issue 16). The ids of the bulk rows claimed that a person
    waits for (they go with the people) are added to `ahead`; those of the rows with nothing
    else waiting in their chat, to `alone`. `after`: only rows that wait for that row, held
    by `instance` and not sent yet (they go once it went). `then` (a row's id): in the same
    statement, also the people's rows that wait for that row, each if first in its chat, as
    `after` claims them: for a row claimed in the same statement (the caller lets them go if
    that row was not claimed), or for one just marked sent (a lane's record claims its
    chat's next row with them). One statement where two were, for every relayed message's
    copy and receipt (issue 16). `run` (with `chat_id`): also up to that many of
    the chat's people's rows that follow its first one with nothing between them but rows
    this instance holds in the chat's lane, and the receipts waiting for them (each first in
    its chat but for the receipts this claim takes): a lane sends them one after another and
    claims again after the last (_run_rows). The chats of a run's rows where a bulk row
    waits are added to `bulk_seen`. `without_bulk` (a run whose chat held no bulk row at its
    last claim): first by a lighter statement that holds only where none waits now, and takes
    nothing of the chat where one does; then, if it took nothing there, by the whole one
    (_claim_statement `lone`), unless no bulk row can have come since (`bulk_may_have_come`:
    nothing was written for the chat, the caller knows): then there is nothing to take."""
    lone = without_bulk and bool(run) and chat_id is not None and bulk is not True \
        and not continuing and after is None
    rows = await _claim(session, dialect, now, limit, instance, until, chat_id, bulk,
                        continuing, alone, after, then, run, lone, bulk_seen)
    if lone and bulk_may_have_come and not any(
            row.chat_id == chat_id and (then is None or row.waits_for != then) for row in rows):
        rows += await _claim(session, dialect, now, limit, instance, until, chat_id, bulk,
                             continuing, alone, after, then, run, False, bulk_seen)
    claimed_bulk = [row.id for row in rows if row.purpose in BULK]
    if ahead is not None and claimed_bulk and bulk is not True:
        # Asked for with the people only, every bulk row claimed is one a person waits for;
        # asked for both kinds, look. (Not in the claim's RETURNING: SQLAlchemy writes its
        # columns there without their tables on SQLite, and the look-up compared each
        # column with itself.)
        ahead.update(claimed_bulk if bulk is False else await session.scalars(
            _WAITED_FOR, {"c_ids": claimed_bulk}))
    # A run goes by id: its chat's order (and a receipt after what it waits for).
    rows.sort(key=(lambda row: row.id) if run and chat_id is not None else
              (lambda row: (row.due_at, row.id)))
    return rows


async def _claim(session: AsyncSession, dialect: str, now: datetime, limit: int,
                 instance: str, until: datetime | ServerLease, chat_id: int | None,
                 bulk: bool | None, continuing: bool, alone: set[int] | None,
                 after: int | None, then: int | None, run: int, lone: bool,
                 bulk_seen: set[int] | None) -> list[Outbox]:
    """One claim statement (claim_heads), its rows as plain Outbox objects."""
    lease = until if isinstance(until, ServerLease) else None
    # Named apart from the columns: an UPDATE reserves those names for its SET clause.
    params: dict[str, Any] = {"c_now": now, "c_instance": instance, "c_limit": limit}
    if chat_id is not None:
        params["c_chat"] = chat_id
    if after is not None:
        params["c_after"] = after
    if then is not None:
        params["c_then_after"] = then
    if run:
        params["c_run"] = run
    if lease is None:
        params["c_until"] = until
    # On the connection, not through the session's ORM UPDATE: that path (identity map,
    # synchronize, loading) was 15 % of the bot's busy time in a relay burst (py-spy,
    # bench/README.md). The rows come back as plain Outbox objects, not in the session: the
    # caller only reads them (the payload is opened by its column type either way). Read
    # in the session's greenlet: opening a payload may fetch its family's key.
    statement = _claim_statement(dialect, chat_id is not None, bulk, lease, continuing,
                                 after is not None, then is not None,
                                 bool(run) and chat_id is not None, lone)

    def claim(sync_session: Any) -> list[Outbox]:
        rows = []
        for columns in direct.run(sync_session.connection(), statement, params).mappings():
            if columns.pop(_ALONE) and alone is not None:
                alone.add(columns["id"])
            if columns.pop(_BULK_NEAR, False) and bulk_seen is not None:
                bulk_seen.add(columns["chat_id"])
            rows.append(direct.detached(Outbox, columns))
        return rows

    return await session.run_sync(claim)


def _bulk_only(few_rows: bool = False) -> Any:
    """A bulk row that no person's row waits for. A person's row waits for its own family's
    bulk rows in its chat (its digest, which goes past the rest: _may_pass), and for the
    rows before them that its digest cannot pass (a digest that has begun). With
    every coach's morning counted as people (a family had written to each coach within
    minutes at 10 messages a second) the people-first order was lost: family copies waited
    206 s at the median in the full-scale busiest morning (bench/README.md)."""
    behind, own = _BEHIND, _OWN
    before_own = exists().where(
        behind.chat_id == Outbox.chat_id, behind.id > Outbox.id, _persons_waiting(behind),
        # Correlated by hand two levels up: left to itself SQLAlchemy put a second `outbox`
        # in this subquery's FROM, and any family's bulk row in any chat counted.
        exists().where(own.chat_id == Outbox.chat_id, own.id >= Outbox.id,
                       own.id < behind.id, own.status == "pending", own.purpose.in_(_BULK_SQL),
                       own.link_family_id == behind.link_family_id).correlate(Outbox, behind))
    return and_(Outbox.purpose.in_(_BULK_SQL),
                or_(~_a_family_waits(few_rows),
                    and_(~_person_behind(Outbox, behind),
                         ~and_(_begun_copy(Outbox, _TITLE), before_own))))


# Of the bulk rows just claimed (`c_ids`), those a person waits for.
_WAITED_FOR = select(Outbox.id).where(
    Outbox.id.in_(bindparam("c_ids", expanding=True)), ~_bulk_only(few_rows=True))


@functools.lru_cache(maxsize=64)
def _claim_statement(dialect: str, by_chat: bool, bulk: bool | None,
                     lease: ServerLease | None, continuing: bool = False,
                     after: bool = False, then: bool = False, run: bool = False,
                     lone: bool = False) -> Any:
    """The claim, built once per kind with its values as parameters: built afresh for every
    claim it was, after the aliases, still a fifth of the bot's CPU in a reminder burst.
    `lone` (a run of one chat, bulk rows not only): the claim as it reads where no bulk row
    waits in the chat, taking none of the chat's rows where one does (_no_bulk_waits). All
    that lets a bulk row pass others or go with the people is then moot, and PostgreSQL
    planned it for every claim: a lane's run claim took 1.4 ms to plan and 1.2 to run on a
    probe, the lighter one 0.6 and 0.7 (bench/README.md)."""
    now = bindparam("c_now", type_=table_of(Outbox).c.due_at.type)
    instance = bindparam("c_instance", type_=table_of(Outbox).c.claimed_by.type)
    guard = _no_bulk_waits() if lone else None
    if guard is not None:
        heads = select(Outbox.id).where(
            guard, Outbox.chat_id == bindparam("c_chat"),
            _unclaimed_due(Outbox, now, dialect, instance), _ready(Outbox),
            ~exists().where(_waiting_before(_EARLIER, now, _EARLIER_AWAITED))
            .correlate_except(_EARLIER))
    else:
        # A bulk row that a person's row waits for goes with the people waiting (_bulk_only).
        bulk_only = _bulk_only(by_chat)
        heads = select(Outbox.id).where(claimable(
            now, dialect, instance, continuing, by_chat,
            after=bindparam("c_after", type_=Integer) if after else None))
        if by_chat:
            heads = heads.where(Outbox.chat_id == bindparam("c_chat"))
        if continuing:
            heads = heads.where(Outbox.purpose == "digest", Outbox.link_message_id.is_not(None))
        if bulk is None:  # both kinds: the people first
            heads = heads.order_by(case((bulk_only, 1), else_=0))
        else:  # one kind: sorting by it again would only evaluate bulk_only twice per row
            heads = heads.where(bulk_only if bulk else ~bulk_only)
        if bulk is False and not by_chat:
            heads = heads.where(Outbox.chat_id.in_(_chats_where_people_wait()))
    heads = heads.order_by(Outbox.due_at, Outbox.id) \
        .limit(bindparam("c_limit", type_=Integer)).with_for_update(skip_locked=True)
    until = lease.sql() if lease is not None else bindparam(
        "c_until", type_=table_of(Outbox).c.claimed_until.type)
    # Picked once, in a CTE PostgreSQL materializes: as `id IN (subquery)` a plan made while
    # the outbox was empty ran the subquery again for every row, and each run picked `limit`
    # more (one claim of 16 took 984 rows; tests/storage/test_outbox_statistics.py).
    picked = heads.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    chosen: Any = Outbox.id.in_(select(picked.c.id))
    following: Any = None
    if then:
        following = select(Outbox.id).where(
            claimable(now, dialect, instance, few_rows=True,
                      after=bindparam("c_then_after", type_=Integer)),
            Outbox.purpose.not_in(_BULK_SQL)) \
            .with_for_update(skip_locked=True) \
            .cte("following").prefix_with("MATERIALIZED", dialect="postgresql")
        chosen = or_(chosen, Outbox.id.in_(select(following.c.id)))
    returned = [*table_of(Outbox).c, _nothing_else_waits().label(_ALONE)]
    if run:
        chosen = or_(chosen, *_run_rows(now, dialect, instance, picked, following, guard))
        if guard is None:  # (a lone claim's own rows say none waits: they were taken)
            returned.append(_bulk_waits_here().label(_BULK_NEAR))
    # Taken only where still free: without FOR UPDATE (SQLite) two claims that read the same
    # row cannot both have it.
    return (update(Outbox).where(chosen,
                                 or_(Outbox.claimed_by.is_(None),
                                     and_(Outbox.claimed_by != instance,
                                          Outbox.claimed_until < lease_now(dialect, now))))
            .values(claimed_by=instance, claimed_until=until)
            .returning(*returned))


_ALONE = "c_alone"
_BULK_NEAR = "c_bulk_near"


def _unclaimed_due(row: Any, now: Any, dialect: str, instance: Any) -> Any:
    """Pending, due, not waiting for a retry, free to claim for `instance` (claimable)."""
    return and_(row.status == "pending", row.due_at <= now,
                or_(row.not_before.is_(None), row.not_before <= now),
                or_(row.claimed_by.is_(None),
                    and_(row.claimed_by != instance,
                         row.claimed_until < lease_now(dialect, now))))


def _no_bulk_waits() -> Any:
    """No bulk row waits (pending, also claimed, or parked) in the claim's chat, `c_chat`.
    Asked once per statement."""
    bulk = _LONE_BULK
    return select(~exists().where(bulk.chat_id == bindparam("c_chat"),
                                  bulk.status.in_(_WAITING_SQL),
                                  bulk.purpose.in_(_BULK_SQL))).scalar_subquery()


def _bulk_waits_here() -> Any:
    """In a run claim's RETURNING: a bulk row waits in the claimed row's chat (its lane's
    next claim is then the whole one: claim_heads `without_bulk`). Named by hand, as in
    _nothing_else_waits."""
    bulk = _LONE_BULK
    return exists().where(bulk.chat_id == literal_column("outbox.chat_id"),
                          bulk.status.in_(_WAITING_SQL), bulk.purpose.in_(_BULK_SQL))


def _run_rows(now: Any, dialect: str, instance: Any, picked: Any, following: Any | None,
              guard: Any | None = None) -> tuple[Any, Any]:
    """A lane's run (claim_heads `run`): up to `c_run` of the chat's people's rows after its
    first (`picked`) with nothing waiting before them but people's rows this instance holds
    in the lane or that this claim takes (in order by id: the lane sends them so), and the
    receipts that wait for them or for the first.

    Taken only where every row waiting before it in its chat is this instance's or taken
    now: on PostgreSQL another instance may hold the run's first row locked (SKIP LOCKED
    passes it by) while this claim reads it as free, and the rows after it must then stay.
    A receipt passes only the receipts this claim takes (`following`), not a row this
    instance holds in its chat's lane: that lane may not have sent it yet. `guard`: only if
    it holds (a lone claim's, _claim_statement)."""
    earlier, earlier_awaited = _RUN_EARLIER, _RUN_EARLIER_AWAITED
    run = select(Outbox.id).where(
        true() if guard is None else guard,
        Outbox.chat_id == bindparam("c_chat"), Outbox.id.not_in(select(picked.c.id)),
        _free_person_row(Outbox, now, dialect, instance),
        _ready(Outbox, _RUN_AWAITED),
        ~exists().where(_waiting_before(earlier, now, earlier_awaited),
                        ~or_(_in_own_lane(earlier, instance),
                             _free_person_row(earlier, now, dialect, instance)))
        .correlate_except(earlier)) \
        .order_by(Outbox.id).limit(bindparam("c_run", type_=Integer)) \
        .with_for_update(skip_locked=True) \
        .cte("run").prefix_with("MATERIALIZED", dialect="postgresql")
    guard, guard_awaited = _RUN_GUARD, _RUN_GUARD_AWAITED
    taken = select(Outbox.id).where(
        Outbox.id.in_(select(run.c.id)),
        ~exists().where(_waiting_before(guard, now, guard_awaited),
                        ~_in_own_lane(guard, instance),
                        guard.id.not_in(select(picked.c.id)),
                        guard.id.not_in(select(run.c.id))).correlate_except(guard)) \
        .cte("run_taken")
    # A receipt only with the row it waits for.
    in_the_way = _waiting_before(earlier, now, earlier_awaited)
    if following is not None:
        in_the_way = and_(in_the_way, earlier.id.not_in(select(following.c.id)))
    receipts = select(Outbox.id).where(
        or_(Outbox.waits_for.in_(select(taken.c.id)),
            Outbox.waits_for.in_(select(picked.c.id))),
        _free_person_row(Outbox, now, dialect, instance),
        ~exists().where(in_the_way).correlate_except(earlier)) \
        .with_for_update(skip_locked=True) \
        .cte("run_receipts").prefix_with("MATERIALIZED", dialect="postgresql")
    return Outbox.id.in_(select(taken.c.id)), Outbox.id.in_(select(receipts.c.id))


def _chats_where_people_wait() -> Any:
    """The chats where a person's row waits: the people's claim takes its rows there only
    (a person's row, or a bulk row a person waits for, _bulk_only). Said apart so the claim
    goes by these chats' lanes, not through every waiting row: among an evening's 20,000
    reminders SQLite looked at each of them, for every pass of the main loop
    (bench/README.md)."""
    waiting = _PEOPLES_CHAT
    return select(waiting.chat_id).where(_persons_waiting(waiting))


def _nothing_else_waits() -> Any:
    """In a claim's RETURNING: no other row of the claimed row's chat waits (pending, also
    claimed, or parked). Its columns named with their table by hand: SQLAlchemy writes them
    without it in SQLite's RETURNING, where they would be the subquery's own."""
    other = _OTHER
    return ~exists().where(other.chat_id == literal_column("outbox.chat_id"),
                           other.id != literal_column("outbox.id"),
                           other.status.in_(_WAITING_SQL))


async def people_waiting_in(session: AsyncSession, chats: Collection[int], now: datetime
                            ) -> dict[int, int]:
    """Of these chats, those where a person's row due by `now` waits and nobody has claimed
    it: the chat and the id of its first such row (by the partial index of people's rows)."""
    if not chats:
        return {}
    rows = await session.execute(
        select(Outbox.chat_id, func.min(Outbox.id))
        .where(_persons_waiting(Outbox), Outbox.claimed_by.is_(None),
               Outbox.chat_id.in_(bindparam("c_chats", expanding=True)),
               Outbox.due_at <= now,
               or_(Outbox.not_before.is_(None), Outbox.not_before <= now))
        .group_by(Outbox.chat_id), {"c_chats": sorted(chats)})
    return {chat: first for chat, first in rows}


async def renew_claims(session: AsyncSession, instance: str, row_ids: Sequence[int],
                       until: Any) -> Sequence[int]:
    """Extend the lease of the rows this instance still holds; their ids. A row locked by
    a transaction at work on it (its record, most often) is passed by, not waited for: the
    renewal and the records lock their rows in no common order, and waiting deadlocked
    (PostgreSQL, bench/README.md); it is renewed next time, or is sent by then."""
    if not row_ids:
        return []
    mine = (select(Outbox.id).where(Outbox.id.in_(row_ids), Outbox.claimed_by == instance,
                                    Outbox.status == "pending")
            .with_for_update(skip_locked=True))
    return (await session.scalars(
        update(Outbox).where(Outbox.id.in_(mine.scalar_subquery()))
        .values(claimed_until=_until_sql(until)).returning(Outbox.id)
        .execution_options(synchronize_session=False))).all()


async def lost_claims(session: AsyncSession, instance: str, row_ids: Collection[int]
                      ) -> Sequence[int]:
    """Those of these rows that still wait to be sent but are no longer this instance's
    (not sent, given up or deleted meanwhile, nor still claimed by it)."""
    return (await session.scalars(select(Outbox.id).where(
        Outbox.id.in_(row_ids), Outbox.status == "pending",
        or_(Outbox.claimed_by.is_(None), Outbox.claimed_by != instance)))).all()


async def release_claims(session: AsyncSession, row_ids: Sequence[int],
                         instance: str | None = None) -> None:
    """These rows go back to the queue as they are (not tried, nothing counted)."""
    query = update(Outbox).where(Outbox.id.in_(row_ids))
    if instance is not None:
        query = query.where(Outbox.claimed_by == instance)
    await session.execute(query.values(claimed_by=None, claimed_until=None)
                          .execution_options(synchronize_session=False))


async def release_every_claim(session: AsyncSession) -> None:
    """Every pending row goes back to the queue, whoever claimed it."""
    await session.execute(
        update(Outbox).where(Outbox.status == "pending", Outbox.claimed_by.is_not(None))
        .values(claimed_by=None, claimed_until=None))


async def claimants_besides(session: AsyncSession, instance: str) -> Sequence[str | None]:
    """The other instances that hold claims on pending rows."""
    return (await session.scalars(
        select(Outbox.claimed_by).where(Outbox.status == "pending",
                                        Outbox.claimed_by.is_not(None),
                                        Outbox.claimed_by != instance)
        .distinct())).all()


async def release_claims_of(session: AsyncSession, instance: str | None) -> int:
    """The pending rows `instance` claimed go back to the queue; how many."""
    result = await session.execute(
        update(Outbox).where(Outbox.status == "pending", Outbox.claimed_by == instance)
        .values(claimed_by=None, claimed_until=None))
    return int(getattr(result, "rowcount", 0) or 0)


def _expirable(dialect: str, now: datetime) -> Any:
    """Past its use, and nobody holds it."""
    return and_(Outbox.status == "pending", Outbox.expires_at.is_not(None),
                Outbox.expires_at <= now,
                or_(Outbox.claimed_until.is_(None),
                    Outbox.claimed_until < lease_now(dialect, now)))


def _cancellable() -> Any:
    """A receipt whose copy will not arrive."""
    awaited = _AWAITED
    return and_(Outbox.status == "pending", Outbox.waits_for.is_not(None),
                exists().where(awaited.id == Outbox.waits_for,
                               awaited.status.in_(UNDELIVERED)))


def expiry_due(dialect: str, now: datetime) -> Any:
    """For probes.which_due: a row would expire or be cancelled (expire_and_cancel)."""
    return or_(exists().where(_expirable(dialect, now)), exists().where(_cancellable()))


async def expire_and_cancel(session: AsyncSession, dialect: str, now: datetime) -> int:
    """Rows past their use expire (unless someone holds them); receipts whose copy will not
    arrive are cancelled. How many rows changed."""
    expired = await session.execute(
        update(Outbox).where(_expirable(dialect, now))
        .values(status="expired", claimed_by=None, claimed_until=None,
                last_error="expired before it could be sent")
        .execution_options(synchronize_session=False))
    cancelled = await session.execute(
        update(Outbox).where(_cancellable())
        .values(status="cancelled", payload=None, claimed_by=None, claimed_until=None,
                last_error="what it confirms was not delivered")
        .execution_options(synchronize_session=False))
    return int(getattr(expired, "rowcount", 0) or 0) + int(
        getattr(cancelled, "rowcount", 0) or 0)


async def park_chat(session: AsyncSession, chat_id: int, instance: str) -> Sequence[Outbox]:
    """The person cannot be reached: what else waits for them is parked with the refused row
    (each row a person would read; not a receipt still waiting for its copy). The rows."""
    awaited = aliased(Outbox)
    return (await session.scalars(
        update(Outbox).where(
            Outbox.chat_id == chat_id, Outbox.status == "pending",
            or_(Outbox.claimed_by.is_(None), Outbox.claimed_by == instance),
            or_(Outbox.waits_for.is_(None),
                exists().where(awaited.id == Outbox.waits_for, awaited.status == "sent")))
        .values(status="parked", claimed_by=None, claimed_until=None)
        .returning(Outbox).execution_options(synchronize_session=False))).all()


async def park_strays(session: AsyncSession, limit: int) -> Sequence[Outbox]:
    """Copies of family messages that stand behind a parked row without being parked
    themselves: a family's message handled while its coach's 403 was being recorded (each saw
    the other's work only after both committed). Parked now, so the family can be told; the
    rows. Starts from the parked rows, usually none."""
    earlier = aliased(Outbox)
    parked_chats = select(earlier.chat_id).where(earlier.status == "parked").distinct()
    strays = (select(Outbox.id).where(
        Outbox.chat_id.in_(parked_chats), Outbox.status == "pending",
        Outbox.claimed_by.is_(None), Outbox.link_message_id.is_not(None),
        exists().where(earlier.chat_id == Outbox.chat_id, earlier.status == "parked",
                       earlier.id < Outbox.id))
        .order_by(Outbox.id).limit(limit).with_for_update(skip_locked=True))
    return (await session.scalars(
        update(Outbox).where(Outbox.id.in_(strays.scalar_subquery()))
        .values(status="parked", claimed_by=None, claimed_until=None)
        .returning(Outbox).execution_options(synchronize_session=False))).all()


async def unpark(session: AsyncSession, chat_id: int) -> int:
    """The person can be reached again: what waited for them goes, in its order."""
    result = await session.execute(
        update(Outbox).where(Outbox.chat_id == chat_id, Outbox.status == "parked")
        .values(status="pending", not_before=None, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _copies_waiting_for(chat_id: int) -> Any:
    """Family copies that wait for this chat (parked, or queued behind a parked one)."""
    return and_(Outbox.chat_id == chat_id, Outbox.status.in_(WAITING),
                Outbox.purpose.in_(("relay", "digest")), Outbox.link_message_id.is_not(None))


async def waiting_for(session: AsyncSession, chat_id: int, family_id: int) -> int:
    """A family's copies that wait for this chat."""
    return int(await session.scalar(select(func.count()).select_from(Outbox).where(
        _copies_waiting_for(chat_id), Outbox.link_family_id == family_id)) or 0)


async def families_waiting_for(session: AsyncSession, chat_id: int) -> list[int]:
    """The families with copies that wait for this chat."""
    found = await session.scalars(select(Outbox.link_family_id).where(
        _copies_waiting_for(chat_id), Outbox.link_family_id.is_not(None)).distinct())
    return [family_id for family_id in found.all() if family_id is not None]


async def copies_of_message(session: AsyncSession, message_id: int) -> dict[int, Outbox]:
    """The latest row of each chat that got (or will get) a copy of this family message."""
    found = (await session.scalars(select(Outbox).where(
        Outbox.link_message_id == message_id, Outbox.status.in_(("pending", "sent", "parked")),
        Outbox.purpose.in_(("relay", "digest"))).order_by(Outbox.id))).all()
    return {row.chat_id: row for row in found}


# Results -----------------------------------------------------------------------------------------
# Each is recorded only by the instance that holds the claim: False when it had lost it (its
# lease ran out and another instance took the row), and then nothing else is written.
def _held(row_id: int, instance: str) -> Any:
    return and_(Outbox.id == row_id, Outbox.claimed_by == instance, Outbox.status == "pending")


def _changed(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0))


async def keep_instead(session: AsyncSession, row_id: int, payload: dict[str, Any]) -> None:
    """A farewell that cannot reach its reader now becomes the notice that may wait for them
    (it names no one)."""
    await session.execute(update(Outbox).where(Outbox.id == row_id)
                          .values(payload=payload, purpose="notice")
                          .execution_options(synchronize_session=False))


async def delete_parked(session: AsyncSession, row: Outbox) -> None:
    await session.execute(delete(Outbox).where(Outbox.id == row.id, Outbox.status == "parked")
                          .execution_options(synchronize_session=False))
    if row in session:  # (SQLite may give its id to the next row this session adds)
        session.expunge(row)


async def parked_in(session: AsyncSession, chat_id: int) -> bool:
    """Rows wait for this chat because its reader could not be reached."""
    return await session.scalar(select(exists().where(
        Outbox.chat_id == chat_id, Outbox.status == "parked"))) or False


async def delete_row(session: AsyncSession, row_id: int, instance: str) -> bool:
    return _changed(await session.execute(delete(Outbox).where(_held(row_id, instance))
                                          .execution_options(synchronize_session=False)))


async def mark_sent(session: AsyncSession, row_id: int, instance: str, now: datetime,
                    message_id: int | None, attempts: int) -> dict[int, bool]:
    """Sent: the contents leave the outbox (minimal data), the claim ends. Marked (empty when
    the row was no longer this instance's): its id, and whether the family message it is a
    copy of waits for a coach who could not be reached (only then is that message's state
    written: messages.mark_arrived; read in the same statement, one less for every copy)."""
    found = await direct.execute(session, _mark_sent_statement(), {
        "m_id": row_id, "m_instance": instance, "m_now": now, "m_message": message_id,
        "m_attempts": attempts})
    return {marked: bool(waits) for marked, waits in found.rows}


async def mark_all_sent(session: AsyncSession, sends: Sequence[tuple[int, int | None]],
                        instance: str, now: datetime) -> dict[int, bool]:
    """Several rows sent (a copy and its receipt, recorded together), marked in one UPDATE
    as mark_sent marks one (each row's attempts counted up in SQL: while it is held, the
    column is the claimed row's), told as mark_sent tells them. (One statement less for
    every relayed message, issue 16.)"""
    params: dict[str, Any] = {"m_instance": instance, "m_now": now}
    for n, (row_id, message_id) in enumerate(sends):
        params[f"m_id_{n}"] = row_id
        params[f"m_message_{n}"] = message_id
    found = await direct.execute(session, _mark_all_sent_statement(len(sends)), params)
    return {marked: bool(waits) for marked, waits in found.rows}


def _message_waits() -> Any:
    """In a mark's RETURNING: the row is a copy of a family message that waits for a coach
    who could not be reached. Its column named with its table by hand (_nothing_else_waits)."""
    m = table_of(FamilyMessage).c
    return exists().where(m.id == literal_column("outbox.link_message_id"),
                          m.status == "waiting")


@functools.lru_cache(maxsize=8)
def _mark_all_sent_statement(count: int) -> Any:
    c = table_of(Outbox).c
    ids = [bindparam(f"m_id_{n}", type_=Integer) for n in range(count)]
    message = case(*[(c.id == ids[n], bindparam(f"m_message_{n}",
                                                 type_=c.sent_message_id.type))
                     for n in range(count)])
    return (update(table_of(Outbox))
            .where(c.id.in_(ids),  # each id a parameter: storage/direct.py runs it
                   c.claimed_by == bindparam("m_instance"), c.status == "pending")
            .values(status="sent", sent_at=bindparam("m_now", type_=c.sent_at.type),
                    sent_message_id=message, payload=None, claimed_by=None,
                    claimed_until=None, attempts=c.attempts + 1)
            .returning(c.id, _message_waits()))


@functools.cache
def _mark_sent_statement() -> Any:
    """Built once, on the table (not the mapped class): every send runs it, and an ORM
    UPDATE built afresh each time cost 1.7 ms of CPU more than this (bench/README.md)."""
    c = table_of(Outbox).c
    return (update(table_of(Outbox))
            .where(c.id == bindparam("m_id"), c.claimed_by == bindparam("m_instance"),
                   c.status == "pending")
            .values(status="sent", sent_at=bindparam("m_now", type_=c.sent_at.type),
                    sent_message_id=bindparam("m_message", type_=c.sent_message_id.type),
                    payload=None, claimed_by=None, claimed_until=None,
                    attempts=bindparam("m_attempts", type_=c.attempts.type))
            .returning(c.id, _message_waits()))


async def postpone(session: AsyncSession, row_id: int, instance: str, not_before: datetime,
                   attempts: int, reason: str) -> bool:
    """Not sent this time: tried again from `not_before`, still first in its lane."""
    return _changed(await session.execute(
        update(Outbox).where(_held(row_id, instance))
        .values(not_before=not_before, claimed_by=None, claimed_until=None,
                attempts=attempts, last_error=reason[:LAST_ERROR_LENGTH])
        .execution_options(synchronize_session=False)))


async def mark_failed(session: AsyncSession, row_id: int, instance: str, attempts: int,
                      reason: str, status: str = "failed") -> bool:
    """Given up (`failed`), or `parked` until the person can be reached again. The sealed
    contents stay until retention, so an operator can send them again."""
    return _changed(await session.execute(
        update(Outbox).where(_held(row_id, instance))
        .values(status=status, claimed_by=None, claimed_until=None, attempts=attempts,
                last_error=reason[:LAST_ERROR_LENGTH])
        .execution_options(synchronize_session=False)))


# Liveness (PostgreSQL) ---------------------------------------------------------------------------
async def liveness_lock_free(session: AsyncSession, key: int) -> bool:
    """Nobody holds this liveness lock: its instance is gone. (Taken for this transaction, to
    look: it ends at commit.)"""
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(
        LIVENESS_NAMESPACE, key))))


async def live_instances(session: AsyncSession) -> int:
    """How many dispatchers of this database hold their liveness lock now (at least one: the
    one asking, if it holds its lock)."""
    return int(await session.scalar(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns "
        "AND objsubid = 2 AND granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"ns": LIVENESS_NAMESPACE}) or 0)


class LivenessLock:
    """An instance's liveness lock: a session-level advisory lock on a connection of its own,
    held for as long as the process lives (the server frees it when the connection ends)."""

    def __init__(self, connection: AsyncConnection, key: int | None = None) -> None:
        self._connection = connection
        self._key = key

    @classmethod
    async def take(cls, db: Database, key: int | None) -> LivenessLock:
        connection = await db.engine.connect()
        try:
            await connection.execute(select(func.pg_advisory_lock(LIVENESS_NAMESPACE, key)))
            await connection.commit()  # a session lock: it stays after the commit
        except Exception:
            await connection.close()
            raise
        return cls(connection, key)

    async def check(self) -> None:
        """Raises when the connection (and with it the lock) was lost."""
        await self._connection.exec_driver_sql("SELECT 1")
        await self._connection.commit()

    async def discard(self) -> None:
        """A connection found lost: throw it away, without waiting for the database."""
        with contextlib.suppress(Exception):
            await self._connection.invalidate()

    async def release(self) -> None:
        """Let go of the lock, then of its connection: back in the pool, the connection
        would hold the lock (a session's) for as long as it lives there."""
        with contextlib.suppress(Exception):
            await self._connection.execute(select(func.pg_advisory_unlock(
                LIVENESS_NAMESPACE, self._key)))
            await self._connection.commit()
        with contextlib.suppress(Exception):
            await self._connection.close()


async def send_in_flight(session: AsyncSession, chat_id: int) -> bool:
    """A send to this chat is claimed and not recorded yet (it may already have arrived)."""
    return bool(await session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.status == "pending", Outbox.claimed_by.is_not(None))))


# Planner statistics (PostgreSQL) -----------------------------------------------------------------
async def refresh_statistics(session: AsyncSession) -> float:
    """ANALYZE the outbox; the rows PostgreSQL now counts in it. The claim's lane checks are
    planned from these statistics: counted while the outbox was nearly empty, a burst of 2,000
    rows made every claim a nested loop over the whole table (1.4 s a claim). ANALYZE takes no
    lock that stops writers. (SQLite's are fixed: storage/sqlite_statistics.py.)"""
    await session.execute(text("ANALYZE outbox"))
    return float(await session.scalar(text(
        "SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass")) or 0.0)
