"""the outbox gets SQLAlchemy's insert sentinel, a column it fills when it writes many rows in
one INSERT … RETURNING: by it, it gives their new ids back in the order the rows were given.
PostgreSQL's ids already allowed that; on SQLite every row was an INSERT of its own (1,000
for a morning's agendas, one for every reminder of an evening, bench/README.md). A plain
nullable integer: nothing anyone wrote, and nothing to fill for the rows already there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('_sentinel', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Not in a batch: on SQLite that builds the table again, without migration 0014's trigger.
    op.drop_column('outbox', '_sentinel')
