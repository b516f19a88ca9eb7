"""outbox lanes: retry time, expiry, receipts that wait for their copy; updates kept aside

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('waits_for', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_outbox_waits_for_outbox'), 'outbox',
                                    ['waits_for'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_outbox_lane', ['chat_id', 'status', 'id'], unique=False)
    with op.batch_alter_table('inbound_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('kept_aside_at', storage.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_update', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('kept_aside_at')
        batch_op.drop_column('chat_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_lane')
        batch_op.drop_constraint(op.f('fk_outbox_waits_for_outbox'), type_='foreignkey')
        batch_op.drop_column('waits_for')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('not_before')
