"""Copies of the data, for `gezinslijn admin backup` and `gezinslijn admin migrate-to`.

`backup_sqlite`: SQLite's online backup of the data file and of its key store, while the bot
runs (README: Backups). `move_database`: every row of a stopped bot's database, as stored, into
an empty database elsewhere (SQLite to PostgreSQL). Neither reads a sealed value: what was
sealed stays sealed, so neither needs the encryption key.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, column, func, insert, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeDecorator

from storage import keystore
from storage.db import make_engine
from storage.migrate import alembic_config
from storage.models import Base

BATCH = 1000  # rows per insert when moving: memory stays flat whatever the size
BUSY_SECONDS = 30  # a backup waits this long for a bot's write to finish


class CopyError(Exception):
    """One sentence for the operator: why no copy was made."""


# Backup (SQLite) ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupDone:
    data: Path
    keys: Path | None  # None: the key store is not a SQLite file of its own
    key_count: int


def _open_existing(path: Path) -> sqlite3.Connection:
    """A connection to a database that must already exist (mode=rw never creates one)."""
    return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_SECONDS)


@contextmanager
def _new_file(target: Path) -> Iterator[Path]:
    """A scratch file beside `target`, removed afterwards: a copy appears under its own name
    only when complete, and never in place of a file that is there (os.link refuses)."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)


def _online_copy(source: Path, partial: Path) -> None:
    with closing(_open_existing(source)) as live, closing(sqlite3.connect(partial)) as copy:
        # One step (pages=-1): a snapshot of one moment. The bot's writers go on meanwhile
        # (write-ahead log); a copy made in steps would start over at each of their commits.
        live.backup(copy, pages=-1)


def _check(partial: Path, target: Path) -> None:
    with closing(sqlite3.connect(partial)) as copy:
        result = copy.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        raise CopyError(f"The copy {target} did not pass SQLite's integrity check; "
                        "nothing was written.")


def _key_ids(connection: sqlite3.Connection, query: str) -> set[str]:
    return {row[0] for row in connection.execute(query)}


def _top_up_keys(data: Path, keys_copy: Path, live_keys: Path) -> None:
    """The key store was copied first, the data second: a family made (or re-keyed) in
    between has a key the copied store lacks. Add those from the live store, so that every
    family in the copy can be read. (A key destroyed in between stays in the copy: as in a
    backup made a moment earlier.)"""
    with closing(sqlite3.connect(data)) as copy:
        try:
            needed = _key_ids(copy, "SELECT key_id FROM family WHERE key_id IS NOT NULL")
        except sqlite3.OperationalError:
            raise CopyError(f"The file {data.name} is not a Gezinslijn database at the latest "
                            "version: start the bot on it once first.") from None
    with closing(sqlite3.connect(keys_copy)) as store:
        missing = needed - _key_ids(store, "SELECT key_id FROM data_key")
        if not missing:
            return
        marks = ", ".join("?" * len(missing))
        with closing(_open_existing(live_keys)) as live:
            rows = live.execute("SELECT key_id, wrapped, created_at FROM data_key "
                                f"WHERE key_id IN ({marks})", sorted(missing)).fetchall()
        with store:
            store.executemany("INSERT OR IGNORE INTO data_key (key_id, wrapped, created_at) "
                              "VALUES (?, ?, ?)", rows)


def _publish(partial: Path, target: Path) -> None:
    try:
        os.link(partial, target)
    except FileExistsError:
        raise CopyError(f"The file {target} is already there: choose a new name "
                        "(a backup never overwrites a file).") from None


def backup_sqlite(data: Path, target: Path, keys: tuple[Path, Path] | None) -> BackupDone:
    """Copy the live data file `data` to `target`, and its key store, `keys` = (live file,
    copy), unless it is not a SQLite file of its own (None). Both copies pass SQLite's
    integrity check, or neither is made."""
    if not data.is_file():
        raise CopyError(f"The database {data} is not there: is GEZINSLIJN_DATABASE_URL right?")
    if keys is not None and not keys[0].is_file():
        raise CopyError(f"The key store {keys[0]} is not there; without it a backup cannot be "
                        "read. Is GEZINSLIJN_KEYSTORE_URL right?")
    for path in (target, *(keys[1:] if keys else ())):
        if path.exists() or path.is_symlink():
            raise CopyError(f"The file {path} is already there: choose a new name "
                            "(a backup never overwrites a file).")
    if not target.parent.is_dir():
        raise CopyError(f"The folder {target.parent} does not exist.")
    if keys is None:
        with _new_file(target) as partial:
            _online_copy(data, partial)
            _check(partial, target)
            _publish(partial, target)
        return BackupDone(target, None, 0)
    live_keys, keys_target = keys
    with _new_file(target) as partial, _new_file(keys_target) as partial_keys:
        _online_copy(live_keys, partial_keys)  # first: see _top_up_keys
        _online_copy(data, partial)
        _top_up_keys(partial, partial_keys, live_keys)
        _check(partial, target)
        _check(partial_keys, keys_target)
        with closing(sqlite3.connect(partial_keys)) as store:
            count = int(store.execute("SELECT count(*) FROM data_key").fetchone()[0])
        _publish(partial, target)
        try:
            _publish(partial_keys, keys_target)
        except CopyError:
            target.unlink()  # both, or neither
            raise
    return BackupDone(target, keys_target, count)


async def backup(data: Path, target: Path, keys: tuple[Path, Path] | None) -> BackupDone:
    """backup_sqlite in a worker thread: the bot's event loop (the tests' too) goes on."""
    try:
        return await asyncio.to_thread(backup_sqlite, data, target, keys)
    except sqlite3.Error as error:
        raise CopyError(f"SQLite could not make the copy ({error}); nothing was written.") \
            from None


# Moving to another database ----------------------------------------------------------------------
@dataclass
class Moved:
    rows: dict[str, int] = field(default_factory=dict)  # per table, in the order copied
    keys: int = 0


def raw_table(model_table: Table) -> TableClause:
    """The table with each column's stored type: a sealed column is plain text here, so its
    value moves as it is, sealed (the models' types would open and seal it again)."""
    columns = []
    for col in model_table.columns:
        kind = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
        columns.append(column(col.name, kind))
    return table(model_table.name, *columns)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def check_source(url: str) -> None:
    """The database to move is the bot's, at the latest revision (the target is migrated to
    that revision, and the rows must fit it)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()
    if current != ScriptDirectory.from_config(alembic_config(url)).get_current_head():
        raise CopyError("The database to move is not at the latest version: start the bot on "
                        "it once (it upgrades at start-up), stop it, and try again.")


async def filled_tables(url: str, keys_url: str) -> dict[str, int]:
    """Tables of the bot (and the key store's) that hold rows: an empty dict for an empty
    target."""
    found: dict[str, int] = {}
    engine = make_engine(url)
    keys_engine = make_engine(keys_url)
    try:
        async with engine.connect() as connection:
            for model_table in Base.metadata.sorted_tables:
                count = await connection.scalar(select(func.count()).select_from(model_table))
                if count:
                    found[model_table.name] = int(count)
        async with keys_engine.begin() as connection:
            await connection.run_sync(keystore.metadata.create_all, checkfirst=True)
            count = await connection.scalar(select(func.count()).select_from(keystore.data_key))
            if count:
                found[keystore.data_key.name] = int(count)
    finally:
        await engine.dispose()
        await keys_engine.dispose()
    return found


async def _copy(source: AsyncConnection, target: AsyncConnection, from_table: TableClause,
                to_table: TableClause, order: list[Any]) -> int:
    done = 0
    result = await source.stream(select(from_table).order_by(*order))
    async for rows in result.partitions(BATCH):
        await target.execute(insert(to_table), [dict(row._mapping) for row in rows])
        done += len(rows)
    return done


async def _fix_sequences(target: AsyncConnection) -> None:
    """Ids moved as they were do not move PostgreSQL's sequences: set each past its table's
    highest id (an empty table's starts at 1)."""
    if target.dialect.name != "postgresql":
        return
    for model_table in Base.metadata.sorted_tables:
        if [c.name for c in model_table.primary_key.columns] != ["id"]:
            continue
        name = model_table.name
        await target.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 1), "
            f"MAX(id) IS NOT NULL) FROM {name}"))


async def _copy_keys(source: AsyncEngine, target: AsyncConnection) -> int:
    await target.run_sync(keystore.metadata.create_all, checkfirst=True)
    async with source.connect() as connection:
        return await _copy(connection, target, keystore.data_key, keystore.data_key,
                           [keystore.data_key.c.key_id])


async def _remove_keys(source: AsyncEngine, target: AsyncEngine) -> None:
    async with source.connect() as connection:
        ids = list((await connection.scalars(select(keystore.data_key.c.key_id))).all())
    async with target.begin() as connection:
        for start in range(0, len(ids), BATCH):
            await connection.execute(keystore.data_key.delete().where(
                keystore.data_key.c.key_id.in_(ids[start:start + BATCH])))


async def move_database(source_url: str, source_keys_url: str, target_url: str,
                        target_keys_url: str) -> Moved:
    """Every table, parents before children, in batches, as stored; then the key store. The
    target must be at the latest revision and empty (the caller checks both). The data go in
    one transaction: a failure leaves the target as empty as it was."""
    moved = Moved()
    source = make_engine(source_url)
    target = make_engine(target_url)
    source_keys = make_engine(source_keys_url)
    target_keys = None if target_keys_url == target_url else make_engine(target_keys_url)
    keys_committed = False
    try:
        async with source.connect() as reading, target.begin() as writing:
            for model_table in Base.metadata.sorted_tables:
                raw = raw_table(model_table)
                order = [raw.c[c.name] for c in model_table.primary_key.columns]
                moved.rows[model_table.name] = await _copy(reading, writing, raw, raw, order)
            await _fix_sequences(writing)
            if target_keys is None:  # the key store is the target database itself
                moved.keys = await _copy_keys(source_keys, writing)
            else:  # committed just before the data: a key is there before what it seals
                async with target_keys.begin() as keys_writing:
                    moved.keys = await _copy_keys(source_keys, keys_writing)
                keys_committed = True
    except BaseException:
        if keys_committed and target_keys is not None:  # the data did not arrive: nor the keys
            await _remove_keys(source_keys, target_keys)
        raise
    finally:
        for engine in (source, target, source_keys, target_keys):
            if engine is not None:
                await engine.dispose()
    return moved


async def count_rows(url: str) -> dict[str, int]:
    """Rows per table of the bot's database (the tests compare source and target)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return {t.name: int(await connection.scalar(select(func.count()).select_from(t))
                                or 0)
                    for t in Base.metadata.sorted_tables}
    finally:
        await engine.dispose()
