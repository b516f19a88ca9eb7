"""What the start-up checks (`gezinslijn check`, and `run` before it starts) read from the
databases: the Alembic revision, the server's clock, and a few sealed values to try the key on.

Read only, and nothing is created: not a SQLite file that is not there, not the key store's
table. Errors come back as `DatabaseUnreachable` with a short reason (no password, no SQL).
"""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from cryptography.fernet import InvalidToken
from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import ColumnClause

from storage import crypto
from storage.db import is_sqlite, make_engine, sqlite_file
from storage.keystore import keystore_url as default_keystore_url
from storage.migrate import alembic_config, upgrade_async
from storage.rotation import MASTER_PREFIX, sealed_columns

CONNECT_TIMEOUT = 5  # seconds: an operator waits for an answer, not for TCP's own time-out


class DatabaseUnreachable(Exception):
    """The database could not be opened or read; str() is a short reason for a sentence."""


class KeyStoreUnreachable(DatabaseUnreachable):
    """The key store (GEZINSLIJN_KEYSTORE_URL, or the file next to the data) failed."""


@dataclass(frozen=True)
class DatabaseState:
    revision: str | None  # None: no Gezinslijn migration ever ran here
    tables: frozenset[str]  # its tables' names (an empty database vs. another program's)
    server_now: datetime | None  # PostgreSQL's clock (aware UTC); None for SQLite
    # PostgreSQL: whether its user may create tables (migrations need it; since PostgreSQL 15
    # not granted on the public schema by default); None: SQLite, or not known.
    may_create: bool | None = None
    schema: str = ""


@dataclass
class Samples:
    """Sealed values as stored, to try the master key on (nothing is opened here)."""

    wrapped_keys: list[str] = field(default_factory=list)  # data keys in the key store
    values: list[str] = field(default_factory=list)  # values sealed with the master key itself


def where(url: str) -> str:
    """'PostgreSQL at 127.0.0.1:5432/gezinslijn' or 'SQLite at /srv/gezinslijn.db': no user,
    no password."""
    parsed = make_url(url)
    if is_sqlite(url):
        path = sqlite_file(url)
        return f"SQLite at {path}" if path else "SQLite in memory"
    return f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/" \
           f"{parsed.database or ''}"


def missing_file(url: str) -> Path | None:
    """The SQLite file of `url` when it does not exist (opening it would create it)."""
    path = sqlite_file(url)
    return path if path is not None and not path.exists() else None


def head_revision() -> str:
    """The newest migration this version of Gezinslijn knows."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations"
    return head


def known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def _engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        return make_engine(url)
    return make_engine(url, connect_args={"timeout": CONNECT_TIMEOUT})


def reason(error: BaseException) -> str:
    """Why a database could not be used, in a few words (the driver's own message for what the
    server said; never a URL, SQL or parameters)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8 and current not in chain:
        chain.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    for each in chain:
        if isinstance(each, ConnectionRefusedError):
            return "connection refused"
        if isinstance(each, socket.gaierror):
            return "host not found"
        if isinstance(each, TimeoutError):
            return f"no answer within {CONNECT_TIMEOUT} seconds"
    driver = chain[-1]
    if isinstance(driver, sqlite3.Error) or type(driver).__module__.startswith("asyncpg") \
            or isinstance(driver, ConnectionError):
        return " ".join(str(driver).split())[:160] or type(driver).__name__
    return type(driver).__name__


async def database_state(url: str) -> DatabaseState:
    """Where the database stands. A SQLite file must exist (see missing_file)."""
    engine = _engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            revision = None
            if "alembic_version" in names:
                revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            server_now, may_create, schema = None, None, ""
            if connection.dialect.name == "postgresql":
                server_now, may_create, schema = (await connection.execute(text(
                    "SELECT now(), has_schema_privilege(current_schema(), 'CREATE'), "
                    "coalesce(current_schema(), '')"))).one()
        return DatabaseState(revision=revision, tables=frozenset(names),
                             server_now=server_now.astimezone(UTC) if server_now else None,
                             may_create=may_create, schema=schema)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseUnreachable(reason(error)) from None
    finally:
        await engine.dispose()


async def upgrade(url: str) -> None:
    """The migrations (storage/migrate.py); a database that refuses them (a user who may not
    create or alter tables, a full disk, a server gone) raises DatabaseUnreachable."""
    try:
        await upgrade_async(url)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseUnreachable(reason(error)) from None


def keystore_of(database_url: str, keystore_url: str) -> str:
    return keystore_url or default_keystore_url(database_url)


async def sealed_samples(database_url: str, keystore_url: str, limit: int = 6) -> Samples:
    """Up to `limit` wrapped data keys (oldest and newest) and `limit` master-sealed values.
    Raises KeyStoreUnreachable for the key store, DatabaseUnreachable for the data."""
    samples = Samples()
    store = keystore_of(database_url, keystore_url)
    if missing_file(store) is None:
        engine = _engine(store)
        try:
            async with engine.connect() as connection:
                samples.wrapped_keys = await _wrapped_keys(connection, limit)
        except (SQLAlchemyError, OSError) as error:
            raise KeyStoreUnreachable(reason(error)) from None
        finally:
            await engine.dispose()
    if missing_file(database_url) is not None:
        return samples
    engine = _engine(database_url)
    try:
        async with engine.connect() as connection:
            samples.values = await _master_sealed(connection, limit)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseUnreachable(reason(error)) from None
    finally:
        await engine.dispose()
    return samples


async def _columns(connection: AsyncConnection) -> dict[str, set[str]]:
    def read(sync: Any) -> dict[str, set[str]]:
        inspector = inspect(sync)
        return {name: {c["name"] for c in inspector.get_columns(name)}
                for name in inspector.get_table_names()}
    return await connection.run_sync(read)


async def _wrapped_keys(connection: AsyncConnection, limit: int) -> list[str]:
    if "data_key" not in await _columns(connection):
        return []
    keys = table("data_key", column("wrapped"), column("created_at"))
    half = max(1, limit // 2)
    found: list[str] = []
    for order in (keys.c.created_at.asc(), keys.c.created_at.desc()):
        rows = await connection.scalars(select(keys.c.wrapped).order_by(order).limit(half))
        found += [value for value in rows if value not in found]
    return found


async def _master_sealed(connection: AsyncConnection, limit: int) -> list[str]:
    """Values sealed with the master key ring (family-sealed ones open with a data key, whose
    wrapping is what tells the master key)."""
    present = await _columns(connection)
    found: list[str] = []
    for sealed_table, name in sealed_columns():
        if len(found) >= limit:
            break
        if name not in present.get(sealed_table.name, set()):
            continue  # a database before the migration that added it (run migrates first)
        value: ColumnClause[str] = column(name)
        query = select(value).select_from(table(sealed_table.name, value)) \
            .where(value.like(f"{MASTER_PREFIX}%")).limit(limit - len(found))
        found += list(await connection.scalars(query))
    return found


def opens(token: str) -> bool:
    """Whether a key of the configured ring opens a master-sealed value. crypto.rotate
    decrypts with any key of the ring and raises when none fits (crypto.unseal answers "" both
    for a wrong key and for a sealed empty text)."""
    try:
        crypto.rotate(token)
    except (InvalidToken, ValueError):  # ValueError: not even ASCII
        return False
    return True
