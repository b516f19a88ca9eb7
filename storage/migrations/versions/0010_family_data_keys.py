"""family data keys: family.key_id names the family's key in the key store; names and aliases
become sealed text (until the bot gives each family its key at start-up, with the master key)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import crypto

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = {
    'family': ('alias',),
    'member': ('first_name', 'role'),
    'invite': ('member_name', 'member_role'),
}


def upgrade() -> None:
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=24), nullable=True))
    for table, columns in NAMES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.Text(), existing_nullable=True)
    # Names were stored plain: seal them (the bot re-seals them with each family's own key
    # when it starts, storage/repos/family_keys.py).
    connection = op.get_bind()
    for table, columns in NAMES.items():
        listed = ', '.join(columns)
        rows = connection.execute(sa.text(f'SELECT id, {listed} FROM {table}')).all()
        for row in rows:
            sealed = {c: (None if v is None else crypto.seal(v))
                      for c, v in zip(columns, row[1:], strict=True)}
            assignments = ', '.join(f'{c} = :{c}' for c in columns)
            connection.execute(sa.text(f'UPDATE {table} SET {assignments} WHERE id = :id'),
                               {'id': row[0], **sealed})


def downgrade() -> None:
    connection = op.get_bind()
    for table, columns in NAMES.items():
        listed = ', '.join(columns)
        for row in connection.execute(sa.text(f'SELECT id, {listed} FROM {table}')).all():
            plain = {c: (None if v is None else crypto.unseal(v))
                     for c, v in zip(columns, row[1:], strict=True)}
            assignments = ', '.join(f'{c} = :{c}' for c in columns)
            connection.execute(sa.text(f'UPDATE {table} SET {assignments} WHERE id = :id'),
                               {'id': row[0], **plain})
    for table, columns in NAMES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                length = 32 if column.endswith('role') else 64
                batch_op.alter_column(column, type_=sa.String(length=length),
                                      existing_nullable=True)
    with op.batch_alter_table('family', schema=None) as batch_op:
        batch_op.drop_column('key_id')
