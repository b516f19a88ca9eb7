"""Engine and unit of work. One transaction per update or per dispatcher step; repositories
never commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from storage import errors, idle_ping, sealing, sqlite_driver, sqlite_writer
from storage.keystore import KeyStore
from storage.keystore import keystore_url as default_keystore_url
from storage.write_log import WriteLog

# The session type that repositories take; callers outside storage/ name it from here, so they
# need not import SQLAlchemy.
Session = AsyncSession
# session.info: the chats this transaction wrote outbox rows for (storage/write_log.py).
OUTBOX_CHATS = "outbox_chats"
OUTBOX_NOTED = "outbox_noted"  # and that commit's number in the write log, once committed


def database_away(error: BaseException | None) -> bool:
    """The database could not be reached, or was busy: nothing wrong with the work
    (storage/errors.py tells this from a bug)."""
    return errors.transient(error)


class DatabaseUrlError(ValueError):
    pass


def async_url(url: str) -> str:
    """Accept plain URLs (`sqlite:///x.db`, `postgresql://u@h/db`) and choose the async driver."""
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseUrlError("not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseUrlError(f"unsupported database {backend!r} (use sqlite or postgresql)")


def table_of(model: type[Any]) -> Table:
    """A mapped class's table: the hot path's statements are built once on it, as Core
    statements (an ORM statement built afresh for every send cost more CPU than the
    database's work, bench/README.md)."""
    table: Table = model.__table__
    return table


def upsert_insert(dialect: str) -> Any:
    """The dialect's INSERT, the one that has ON CONFLICT (both databases support it)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None: in memory, or not SQLite)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database or ""
    if not database or ":memory:" in database or "mode=memory" in url:
        return None
    return Path(database.removeprefix("file:").split("?")[0]).resolve()


# How long a SQLite writer waits for another process's write lock (or, past
# storage/sqlite_writer.py's safety net, for this process's) before "database is locked".
BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    # Deleted content is overwritten, not just unlinked: an erased name leaves no bytes behind
    # in the file (PRODUCT.md §2.7; the write-ahead log is emptied after an erasure).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    full = async_url(url)
    if full.startswith("sqlite"):
        # One trip to the connection's thread a statement, not three or four
        # (storage/sqlite_driver.py).
        kwargs.setdefault("module", sqlite_driver.dbapi())
    # A statement that fails (the database going away mid-query) is logged with its SQL; its
    # parameters would carry aliases and first names into the log (PRODUCT.md §5).
    kwargs.setdefault("hide_parameters", True)
    if full.startswith("sqlite"):
        # Pooled: a new aiosqlite connection is a thread, the file opened and three PRAGMAs,
        # several milliseconds per transaction (bench/README.md: 4.35 new connections per
        # relayed message, relay p50 65 -> 43 ms with a pool). In-memory databases keep
        # NullPool: each connection would be a database of its own.
        if ":memory:" in full or "mode=memory" in full:
            engine = create_async_engine(full, poolclass=NullPool, **kwargs)
        else:
            kwargs.setdefault("pool_size", 8)
            kwargs.setdefault("max_overflow", 8)
            engine = create_async_engine(full, **kwargs)
            # One writer at a time, in turn (storage/sqlite_writer.py).
            sqlite_writer.install(engine.sync_engine)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Asked whether it is still there only after lying idle (storage/idle_ping.py), not
    # before every transaction.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_size", 5)
    # No JIT compilation: the outbox claim's estimated cost passes PostgreSQL's JIT
    # thresholds once thousands of rows wait, and compiling it took 50 ms to 2 s at every
    # claim for a statement that runs in 10-30 ms (bench/README.md, the busiest morning).
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("server_settings", {}).setdefault("jit", "off")
    engine = create_async_engine(full, **kwargs)
    if not kwargs["pool_pre_ping"]:
        idle_ping.install(engine.sync_engine)
    return engine


JoinedStep = Callable[[AsyncSession], Awaitable[None]]


class _Joined:
    def __init__(self, step: JoinedStep) -> None:
        self.step = step
        self.committed = False
        self.closed = False  # the block ended: a task it started that commits later stays out


_joined: ContextVar[_Joined | None] = ContextVar("gezinslijn_joined_step", default=None)


@contextmanager
def joining_first_transaction(step: JoinedStep) -> Iterator[_Joined]:
    """Within this block, the first unit of work that commits runs `step` in the same
    transaction: both happen, or neither. The intake uses it to delete a stored update together
    with what handling it wrote. `.committed` tells whether that happened. A task started in the
    block that commits after it ended does not join."""
    joined = _Joined(step)
    token = _joined.set(joined)
    try:
        yield joined
    finally:
        joined.closed = True
        _joined.reset(token)


class Shared:
    """One transaction that several units of work join, in order (the intake's fetched updates
    handled together, bot/outbox/together.py): `Database.transaction()` within `sharing`
    gives its session, and neither commits nor rolls back; a unit that raises marks it
    `failed`, and its owner rolls it back whole."""

    def __init__(self, db: Database, session: AsyncSession) -> None:
        self.db = db
        self.session = session
        self.failed = False
        self.units = 0  # units of work that joined it
        # Only units of work in the task that shares it join: a task started meanwhile would
        # use the session beside it, or after its end.
        self.task = asyncio.current_task()

    def joins(self, db: Database) -> bool:
        """A unit of work on `db`, here and now, joins this transaction."""
        return self.db is db and self.task is asyncio.current_task()


_shared: ContextVar[Shared | None] = ContextVar("gezinslijn_shared", default=None)


@contextmanager
def sharing(shared: Shared) -> Iterator[Shared]:
    """Within this block, units of work on `shared.db` join `shared`'s transaction."""
    token = _shared.set(shared)
    try:
        yield shared
    finally:
        _shared.reset(token)


def shared_transaction() -> Shared | None:
    """The transaction units of work join here, if any (`sharing`)."""
    return _shared.get()


class Database:
    def __init__(self, url: str, keystore_url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.dialect = self.engine.dialect.name
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The families' data keys, kept apart from the data (storage/keystore.py).
        self.keystore = KeyStore(keystore_url or default_keystore_url(url))
        # The chats whose outbox rows this process's transactions wrote (storage/write_log.py).
        self.outbox_writes = WriteLog()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back when it raises. Within
        `sharing`, joins that transaction instead."""
        shared = _shared.get()
        if shared is not None and shared.joins(self):
            shared.units += 1
            try:
                yield shared.session
            except BaseException:
                shared.failed = True
                raise
            return
        joined = _joined.get()
        if joined is not None and (joined.committed or joined.closed):
            joined = None
        using = sealing.use(self.keystore)
        try:
            async with self._sessions() as session, session.begin():
                yield session
                if joined is not None:
                    await joined.step(session)
        finally:
            sealing.stop_using(using)
        if joined is not None:
            joined.committed = True
        written = session.info.get(OUTBOX_CHATS)
        if written:
            session.info[OUTBOX_NOTED] = self.outbox_writes.note(written)

    async def erase_traces(self, destroyed_keys: tuple[str, ...] = ()) -> None:
        """After an erasure (committed): the family's old data key is destroyed, so every
        copy sealed with it (dead rows, PostgreSQL's table files until vacuum, a backup of the
        data) is unreadable; on SQLite the write-ahead log is moved into the database and
        emptied, so no earlier version of an erased row stays in `*.db-wal` either."""
        await self.keystore.destroy(destroyed_keys)
        if self.dialect != "sqlite":
            return
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.keystore.dispose()
