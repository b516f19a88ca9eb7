"""The key store: one data key per family, each wrapped by the master key (envelope encryption).

It lives apart from the data on purpose. A family's names and contents are sealed with its data
key; erasing destroys the key here, so every copy of those rows — a dead row, the write-ahead
log, a backup of the data database — can no longer be read (PRODUCT.md §5). For that to hold for
backups, the store is its own database: next to a SQLite data file by default
(`gezinslijn-keys.db`), and `GEZINSLIJN_KEYSTORE_URL` for PostgreSQL (docs/privacy.md).

One small table, created here when missing; it needs no migrations of its own.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable, Iterable

from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from storage import crypto

metadata = MetaData()
data_key = Table(
    "data_key", metadata,
    Column("key_id", String(24), primary_key=True),
    Column("wrapped", Text, nullable=False),  # the data key, sealed with the master key ring
    # The database's own clock (a simulated demo clock must not make a new key look old):
    # only used to leave young keys alone when collecting orphans.
    Column("created_at", DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
)
# An orphan is at least this old: the family it was made for would have committed by then.
ORPHAN_AGE = {"sqlite": "datetime('now', '-1 hour')", "postgresql": "now() - interval '1 hour'"}

# Unwrapped data keys, by id, for every store in this process (ids are random, never reused).
_keys: dict[str, Fernet] = {}
# Every key store of this process (storage/sealing.py looks in them for a session that was not
# opened by Database; forget_cached resets each).
_stores: weakref.WeakSet[KeyStore] = weakref.WeakSet()
# Told whenever keys leave the cache (destroyed, or forgotten): what was opened with them in
# this process goes too (storage/sealing.py's memo of plain values).
_on_forget: list[Callable[[], None]] = []


def on_forget(callback: Callable[[], None]) -> None:
    _on_forget.append(callback)


def _forgotten() -> None:
    for callback in _on_forget:
        callback()


def keystore_url(database_url: str) -> str:
    """Where the keys live when no URL is given: next to a SQLite file; else the same
    database (PostgreSQL: set GEZINSLIJN_KEYSTORE_URL so backups of the data forget erased
    families, docs/privacy.md)."""
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or ":memory:" in database \
            or "mode=memory" in database_url:
        return database_url
    path = database.removeprefix("file:").split("?")[0]
    stem = path[:-3] if path.endswith(".db") else path
    return url.set(database=f"{stem}-keys.db").render_as_string(hide_password=False)


class KeyStore:
    def __init__(self, url: str) -> None:
        from storage.db import make_engine  # storage.db builds key stores: import when used

        self.url = url
        self.engine = make_engine(url)
        self._ready = False
        self._gone: set[str] = set()
        self._all_loaded = False
        _stores.add(self)

    async def _prepare(self) -> None:
        if not self._ready:
            async with self.engine.begin() as connection:
                await connection.run_sync(metadata.create_all, checkfirst=True)
            self._ready = True

    async def create(self) -> str:
        """A new data key, stored (committed) before anything is sealed with it: a key whose
        family never committed is an orphan, collected later (collect_orphans)."""
        return (await self.create_many(1))[0]

    async def create_many(self, count: int) -> list[str]:
        """`count` new data keys in one transaction (start-up gives many families theirs)."""
        await self._prepare()
        made = {secrets.token_hex(12): Fernet.generate_key() for _ in range(count)}
        async with self.engine.begin() as connection:
            await connection.execute(insert(data_key), [
                {"key_id": key_id, "wrapped": crypto.seal(key.decode("ascii"))}
                for key_id, key in made.items()])
        for key_id, key in made.items():
            _keys[key_id] = Fernet(key)
        return list(made)

    async def fetch(self, key_id: str) -> Fernet | None:
        """The data key, or None when it was destroyed (or never existed)."""
        if key_id in _keys:
            return _keys[key_id]
        if key_id in self._gone:
            return None
        await self._prepare()
        if not self._all_loaded:
            # The first miss loads every key at once: a morning agenda reads 10,000 families
            # right after a start (one query, not 10,000: bench/README.md).
            await self._load_all()
            if key_id in _keys:
                return _keys[key_id]
        async with self.engine.connect() as connection:
            wrapped = await connection.scalar(
                select(data_key.c.wrapped).where(data_key.c.key_id == key_id))
        if wrapped is None:
            # Destroyed (a key is stored before anything is sealed with it, so one that is
            # missing now never comes back): no second look for each value it sealed.
            self._gone.add(key_id)
            return None
        plain = crypto.unseal(wrapped)
        if not plain:
            return None  # wrapped with a master key no longer configured
        _keys[key_id] = Fernet(plain.encode("ascii"))
        return _keys[key_id]

    async def _load_all(self) -> None:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(
                select(data_key.c.key_id, data_key.c.wrapped))).all()
        for key_id, wrapped in rows:
            if key_id not in _keys:
                plain = crypto.unseal(wrapped)
                if plain:
                    _keys[key_id] = Fernet(plain.encode("ascii"))
        self._all_loaded = True

    async def destroy(self, key_ids: Iterable[str]) -> None:
        """Gone for good: the rows go, their bytes are overwritten (secure_delete) and the
        SQLite write-ahead log is emptied."""
        ids = [k for k in key_ids if k]
        if not ids:
            return
        await self._prepare()
        async with self.engine.begin() as connection:
            await connection.execute(delete(data_key).where(data_key.c.key_id.in_(ids)))
        for key_id in ids:
            _keys.pop(key_id, None)
        _forgotten()
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def key_ids(self) -> set[str]:
        await self._prepare()
        async with self.engine.connect() as connection:
            return set((await connection.scalars(select(data_key.c.key_id))).all())

    async def collect_orphans(self, live: set[str]) -> int:
        """Keys no family uses: a family whose creation rolled back, or an erasure whose
        process ended between its commit and the key's destruction. Only older keys: a
        family being created right now is not yet visible."""
        await self._prepare()
        async with self.engine.connect() as connection:
            rows = (await connection.execute(select(data_key.c.key_id).where(
                data_key.c.created_at < text(ORPHAN_AGE[self.engine.dialect.name])))).all()
        orphans = [key_id for (key_id,) in rows if key_id not in live]
        await self.destroy(orphans)
        return len(orphans)

    async def rewrap(self, batch: int = 500) -> int:
        """Every data key re-wrapped with the first master key (`admin rotate-key`); the data
        itself is untouched. Safe while the bot runs: a key reads the same before and after."""
        await self._prepare()
        done = 0
        last = ""
        while True:
            async with self.engine.begin() as connection:
                rows = (await connection.execute(
                    select(data_key.c.key_id, data_key.c.wrapped)
                    .where(data_key.c.key_id > last).order_by(data_key.c.key_id)
                    .limit(batch))).all()
                for key_id, wrapped in rows:
                    await connection.execute(update(data_key).where(
                        data_key.c.key_id == key_id).values(wrapped=crypto.rotate(wrapped)))
            if not rows:
                return done
            done += len(rows)
            last = rows[-1][0]

    async def dispose(self) -> None:
        await self.engine.dispose()


def stores() -> list[KeyStore]:
    """The key stores of this process that are still in use."""
    return list(_stores)


def forget_cached() -> None:
    """Tests and the bench: behave like a fresh process (every key read from its store
    again, all at the first miss: with the stores' own memory left, they fetched 10,000
    keys one by one in the bench's agenda part)."""
    _keys.clear()
    _forgotten()
    for store in stores():
        store._gone.clear()
        store._all_loaded = False
