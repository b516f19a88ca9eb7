"""urgent messages at any hour (agreement), urgent alerts for coordinators

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_anytime', sa.Boolean(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('urgent_alerts', sa.Boolean(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_anytime', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.drop_column('urgent_anytime')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('urgent_alerts')
        batch_op.drop_column('urgent_anytime')
