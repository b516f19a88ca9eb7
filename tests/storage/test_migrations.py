"""The schema comes from Alembic migrations, and they agree with the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import upgrade_async
from storage.models import Base


async def test_migrations_match_models(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as connection:
            def diff(sync_connection: Any) -> list[Any]:
                context = MigrationContext.configure(sync_connection,
                                                     opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            differences = await connection.run_sync(diff)
            tables = await connection.run_sync(
                lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"
    assert set(Base.metadata.tables) <= tables


async def test_upgrade_twice_is_harmless(db_url: str) -> None:
    await upgrade_async(db_url)
    await upgrade_async(db_url)
