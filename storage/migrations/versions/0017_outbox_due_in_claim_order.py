"""the outbox's index by state and due time ends with the id: the claims take rows in the order
(due, id), and with the id in the index PostgreSQL reads them in that order and stops at the
claim's limit. Without it, it read every waiting row, ran the claim's checks on each, and
sorted: a bulk claim of 16 among an evening's 20,000 reminders took 34-41 ms of the server's
time, 7-15 ms now (bench/README.md). SQLite's indexes end with the rowid already; the index
is the same there, written out.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _due_index(columns: list[str]) -> None:
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index('ix_outbox_due', 'outbox', columns)


def upgrade() -> None:
    _due_index(['status', 'due_at', 'id'])


def downgrade() -> None:
    _due_index(['status', 'due_at'])
