"""outbox ids are never used twice (SQLite): a row is known by its id from its claim to its
record, and a row deleted meanwhile (a member who leaves has every row of her chat erased,
also one on its way to her) could pass its id to the next row written, her farewell, which
that record then marked sent instead of it (tests/storage/test_receipt_follows.py).
PostgreSQL's sequences never hand out an id twice: nothing to do there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _autoincrement(on: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite's AUTOINCREMENT is part of the table's definition: the table is built again.
    with op.batch_alter_table('outbox', recreate='always',
                              table_kwargs={'sqlite_autoincrement': on}):
        pass


def upgrade() -> None:
    _autoincrement(True)


def downgrade() -> None:
    _autoincrement(False)
