"""the outbox gets a partial index of the rows a person waits for (not sent in bulk), by state,
chat and family: the claims first look for the chats where a person waits, and
without it that look went through every waiting row. Among an evening's 20,000 reminders
SQLite did so for each of the main loop's claims (bench/README.md). The index holds only
people's rows, by their state first: the few waiting are found at once, however many were
sent before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage/models.py PEOPLE states it now (a migration keeps its own copy).
WHERE = "purpose NOT IN ('reminder', 'agenda', 'digest', 'nudge')"


def upgrade() -> None:
    op.create_index('ix_outbox_people', 'outbox', ['status', 'chat_id', 'link_family_id'],
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_outbox_people', table_name='outbox')
