"""Shared fixtures: database URLs (SQLite always; PostgreSQL when GEZINSLIJN_TEST_POSTGRES_URL
is set), an encryption key, and the clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from storage import crypto

POSTGRES_URL = os.environ.get("GEZINSLIJN_TEST_POSTGRES_URL", "")
TEST_KEY = Fernet.generate_key().decode()

crypto.configure([TEST_KEY])


def _postgres_params() -> list[object]:
    reason = "PostgreSQL tests skipped: set GEZINSLIJN_TEST_POSTGRES_URL (CI does)"
    if POSTGRES_URL:
        return ["sqlite", "postgresql"]
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skip(reason=reason))]


async def _create_pg_database() -> str:
    import asyncpg

    base = make_url(POSTGRES_URL)
    name = f"gl_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(user=base.username or "postgres", host=base.host or "127.0.0.1",
                                 port=base.port or 5432, database=base.database or "postgres",
                                 password=base.password)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    import asyncpg

    base = make_url(POSTGRES_URL)
    name = make_url(url).database
    conn = await asyncpg.connect(user=base.username or "postgres", host=base.host or "127.0.0.1",
                                 port=base.port or 5432, database=base.database or "postgres",
                                 password=base.password)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'test.db'}"
