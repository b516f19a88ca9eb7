"""Telling a database that is away or busy (try again soon, nothing wrong with the work) from a
bug (trying again gives the same error). The intake retries the first without counting an
attempt; the second uses up attempts and is kept aside in the end (bot/outbox/intake.py)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc

# SQLite says "busy" or "locked" when another connection holds the file, and the other two
# when the file or its disk is (for now) out of reach.
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "busy",
                    "unable to open database file", "disk i/o error")
# PostgreSQL SQLSTATEs: serialization failure, deadlock, lock not available, the server
# shutting down or not yet up. Whole classes: 08 connection exception, 53 insufficient
# resources (too many connections, out of memory or disk).
PG_TRANSIENT_CODES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
PG_TRANSIENT_CLASSES = ("08", "53")
# Errors of the statement or the data: the same again gives the same error.
BUG_TYPES = (exc.IntegrityError, exc.ProgrammingError, exc.DataError)
# SQLAlchemy's own: the pool had no connection free in time, a connection found dead.
AWAY_TYPES = (exc.TimeoutError, exc.DisconnectionError, exc.InterfaceError)


def transient(error: BaseException | None) -> bool:
    """The database was away or busy: the same work may well succeed in a moment."""
    if error is None:
        return False
    chain = _chain(error)
    code = next((c for c in map(_sqlstate, chain) if c), None)
    if code is not None:
        return code in PG_TRANSIENT_CODES or code.startswith(PG_TRANSIENT_CLASSES)
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, BUG_TYPES):
        return False
    sqlite_error = next((e for e in chain if isinstance(e, sqlite3.Error)), None)
    if sqlite_error is not None:
        message = str(sqlite_error).lower()
        return any(text in message for text in SQLITE_TRANSIENT)
    if isinstance(error, AWAY_TYPES):
        return True
    # ConnectionError and TimeoutError are OSErrors: a refused or reset connection, a time-out.
    # Another exception caused by one is the program's own (say, a file it could not read).
    if isinstance(error, OSError):
        return True
    return isinstance(error, exc.SQLAlchemyError) and any(isinstance(e, OSError) for e in chain)


def _chain(error: BaseException) -> list[BaseException]:
    """The error, the driver's error it wraps (`.orig`) and their causes, nearest first."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < 8:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None, current.__cause__]
    return seen


def _sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE (asyncpg and SQLAlchemy's adapter: `sqlstate`; psycopg2:
    `pgcode`), or None."""
    for name in ("sqlstate", "pgcode"):
        value = getattr(error, name, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None
