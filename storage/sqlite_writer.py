"""One writer at a time inside the process, first come first served (SQLite only).

SQLite has one write lock per database file, taken by a transaction's first write and held
until its commit. Other writers wait for it in SQLite's busy handler: each in its own thread,
sleeping and trying again (up to 100 ms between tries), so whoever tries at the right moment
wins, and a writer that keeps losing fails after the busy time-out with "database is locked".
In the bot every transaction's statements are awaits on one event loop; with that loop near
a full core, a transaction holds the lock for its statements plus every turn of the loop
between them (7-10 s in the busiest evening at 300 coaches, bench/README.md), and a family's
own message, a record of sends or a renewal of claims lost the race and failed.

Here a transaction that is about to write first takes an asyncio lock of the engine's, in the
order the writers came, and lets go of it when SQLite does: when its connection goes back to
the pool (right after the commit or rollback), or after a write that ran in no transaction.
They no longer race, the next one starts as soon as the last one ended, and nobody fails
while others take turns. Reading needs no lock (WAL: readers never wait for the writer). It
is the pattern of a single writer behind an asyncio lock (as in chia's DBWrapper2), taken at
the first write so that a transaction that only reads, or reads first, does not wait for
the writer.

A safety net: a writer that waited `WAIT` for the lock goes on without it (SQLite's own lock
and busy time-out then decide, as before), so a lock left behind by a fault cannot stop every
write of the process."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

WAIT = 30.0  # seconds; three times SQLite's busy time-out
HELD = "gezinslijn_writer_lock"  # in the connection's info: the lock it holds

_LEADING = re.compile(r"^(?:\s+|--[^\n]*\n|/\*.*?\*/)*", re.DOTALL)
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER",
                     "ANALYZE"})
_WRITE_IN_WITH = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=2048)
def writes(statement: str) -> bool:
    """The statement takes SQLite's write lock (a WITH ... UPDATE as well)."""
    rest = _LEADING.sub("", statement, count=1)
    first = rest[:7].split(None, 1)[0].upper() if rest else ""
    if first in _WRITES:
        return True
    return first == "WITH" and bool(_WRITE_IN_WITH.search(rest))


class WriterLock:
    """The engine's writers, one at a time. The lock belongs to an event loop; a test suite
    (or a restart in one process) that runs the engine on another loop gets a new one."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def before_statement(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if HELD in conn.info or not writes(statement):
            return
        lock = self.current()
        if await_only(_acquire(lock, WAIT)):
            conn.info[HELD] = lock
        else:
            log.warning("waited %.0f s for this process's SQLite writer; writing without it",
                        WAIT)

    @staticmethod
    def after_statement(conn: Connection, *_: Any) -> None:
        """A write that began no transaction (pysqlite begins one before INSERT, UPDATE,
        DELETE and REPLACE only: a WITH ... UPDATE claim commits on its own) has let go of
        SQLite's lock already, and so do we: a planner's pass that starts with such a claim
        and then reads for seconds holds up no one's message (bench/README.md)."""
        if HELD not in conn.info:
            return
        driver = conn.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            _release(conn.info)

    @staticmethod
    def ended(connection_record: Any, **_: Any) -> None:
        """The connection went back to the pool (every unit of work gives it back right after
        its commit or rollback), or was dropped: the lock goes with it."""
        if connection_record is not None:
            _release(connection_record.info)


async def _acquire(lock: asyncio.Lock, wait: float) -> bool:
    try:
        async with asyncio.timeout(wait):
            await lock.acquire()
    except TimeoutError:
        return False
    return True


def _release(info: dict[Any, Any]) -> None:
    lock = info.pop(HELD, None)
    if lock is not None and lock.locked():
        lock.release()


def install(engine: Engine) -> None:
    """Writers of `engine` (a SQLite file's) take turns."""
    writer = WriterLock()
    event.listen(engine, "before_cursor_execute", writer.before_statement)
    event.listen(engine, "after_cursor_execute", writer.after_statement)
    for ending in ("checkin", "invalidate", "close"):
        event.listen(engine.pool, ending, writer.ended, named=True)
