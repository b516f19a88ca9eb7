"""digest titles name their family: a waiting digest title (an outbox row, purpose 'digest', no
family message) gets the family of the copies that follow it in its chat, as the bot now
writes them (storage/repos/outbox.py: a family's digest may go before the coach's other bulk
rows when one of the family writes meanwhile; a title naming no family would be passed by its
own copies)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Only rows still to be sent: a sent row has no payload left and takes no part in a claim.
    op.get_bind().execute(sa.text(
        "UPDATE outbox SET link_family_id = ("
        " SELECT follower.link_family_id FROM outbox AS follower"
        " WHERE follower.chat_id = outbox.chat_id AND follower.id > outbox.id"
        " AND follower.purpose = 'digest' AND follower.link_message_id IS NOT NULL"
        " ORDER BY follower.id LIMIT 1)"
        " WHERE purpose = 'digest' AND link_message_id IS NULL AND link_family_id IS NULL"
        " AND status IN ('pending', 'parked')"))


def downgrade() -> None:
    op.get_bind().execute(sa.text(
        "UPDATE outbox SET link_family_id = NULL"
        " WHERE purpose = 'digest' AND link_message_id IS NULL"))
