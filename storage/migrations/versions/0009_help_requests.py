"""help requests: a coach's /coordinator request is kept (family, coach, when) for the overview

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'help_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('family_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('asked_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('handled_at', storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['family_id'], ['family.id'],
                                name=op.f('fk_help_request_family_id_family')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_help_request_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_help_request')),
    )
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_request_family_id'), ['family_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_request_family_id'))
    op.drop_table('help_request')
