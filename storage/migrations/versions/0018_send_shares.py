"""the instances of one bot share Telegram's limit by what each has to send: each reports its
part and its demand here, and takes its part in turn (bot/outbox/ratelimit.fair_part). An even
split held the polling instance's family copies at half the limit while the other's half went
to reminders: family messages waited 1.4-1.8 s with two instances (bench/README.md).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'send_share',
        sa.Column('instance', sa.String(length=40), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('bulk', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('seen', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('instance', name=op.f('pk_send_share')))


def downgrade() -> None:
    op.drop_table('send_share')
