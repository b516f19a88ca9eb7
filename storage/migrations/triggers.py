"""Creating and dropping a trigger in a migration, on SQLite (the trigger's own body) and on
PostgreSQL (a plpgsql function and the trigger that runs it), named alike."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create(sqlite: str, postgresql_function: str, postgresql_trigger: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.execute(sa.text(sqlite))
    else:
        bind.execute(sa.text(postgresql_function))
        bind.execute(sa.text(postgresql_trigger))


def drop(name: str, table: str) -> None:
    bind = op.get_bind()
    bind.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}" if bind.dialect.name == "sqlite"
                         else f"DROP TRIGGER IF EXISTS {name} ON {table}"))
    if bind.dialect.name != "sqlite":
        bind.execute(sa.text(f"DROP FUNCTION IF EXISTS {name}()"))
