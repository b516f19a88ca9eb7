"""Shared fixtures: database URLs (SQLite always; PostgreSQL when GEZINSLIJN_TEST_POSTGRES_URL
is set), an encryption key, and the clock.

A database at the newest migration is copied from a template migrated once per session and
pytest-xdist worker (a file for SQLite, `gl_template_gw0_<pid>`, … for PostgreSQL); the
databases of one worker never meet another's, nor those of another pytest session."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage import crypto
from storage.db import Session
from storage.migrate import upgrade
from storage.models import InboundUpdate, Outbox

POSTGRES_URL = os.environ.get("GEZINSLIJN_TEST_POSTGRES_URL", "")
TEST_KEY = Fernet.generate_key().decode()
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, … under pytest-xdist

crypto.configure([TEST_KEY])


def _postgres_params() -> list[object]:
    reason = "PostgreSQL tests skipped: set GEZINSLIJN_TEST_POSTGRES_URL (CI does)"
    if POSTGRES_URL:
        return ["sqlite", "postgresql"]
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skip(reason=reason))]


async def _pg_admin(statement: str) -> None:
    """Run one statement in GEZINSLIJN_TEST_POSTGRES_URL's own database."""
    base = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(user=base.username or "postgres", host=base.host or "127.0.0.1",
                                 port=base.port or 5432, database=base.database or "postgres",
                                 password=base.password)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _create_pg_database(name: str | None = None, template: str | None = None) -> str:
    """A new PostgreSQL database (empty, or a copy of `template`); returns its URL."""
    name = name or f"gl_test_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def backlog(session: Session, due_by: datetime | None = None) -> tuple[int, int]:
    """What the bot still has to do in its database: stored updates not handled yet, and outbox
    rows to send (those due by `due_by`, or all). Counted in this order, so rows a handler
    writes as it lets its update go are seen."""
    stored = await session.scalar(select(func.count()).select_from(InboundUpdate).where(
        InboundUpdate.kept_aside_at.is_(None)))
    pending = select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
    if due_by is not None:
        pending = pending.where(Outbox.due_at <= due_by)
    return int(stored or 0), int(await session.scalar(pending) or 0)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest migration (tmp_path_factory is per xdist worker)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """With PostgreSQL: the name of a database at the newest migration, this worker's own."""
    if not POSTGRES_URL:
        yield ""
        return
    # This session's own (its pid in the name): two pytest sessions at once each had
    # gl_template_gw0, and the second one's start dropped the first one's template under it.
    name = f"gl_template_{WORKER}_{os.getpid()}"
    asyncio.run(_drop_stale_templates())
    url = asyncio.run(_create_pg_database(name))
    try:
        upgrade(url)
        yield name
    finally:
        asyncio.run(_drop_pg_database(url))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_stale_templates() -> None:
    """Templates of sessions that died on this machine (their pid is gone)."""
    base = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(user=base.username or "postgres", host=base.host or "127.0.0.1",
                                 port=base.port or 5432, database=base.database or "postgres",
                                 password=base.password)
    try:
        names = [row["datname"] for row in await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'gl\\_template\\_%'")]
    finally:
        await conn.close()
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if not pid.isdigit() or not _alive(int(pid)):
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=_postgres_params())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite in a temp folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture(params=_postgres_params())
async def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                          postgres_template: str) -> AsyncIterator[str]:
    """A fresh database at the newest migration, copied from this worker's template."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        with closing(sqlite3.connect(sqlite_template)) as source, \
                closing(sqlite3.connect(path)) as copy:
            source.backup(copy)
        yield f"sqlite:///{path}"
        return
    url = await _create_pg_database(template=postgres_template)
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database of its own (skipped without one): the tests of
    several instances and of PostgreSQL's own paths."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: set GEZINSLIJN_TEST_POSTGRES_URL (CI does)")
    url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'test.db'}"
