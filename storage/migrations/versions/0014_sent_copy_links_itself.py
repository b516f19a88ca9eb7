"""an outbox row linked to a family (a copy of a family member's message for their coach, a
coach's answer for a member) links the message it became to that family itself: a trigger on
the UPDATE that marks it sent inserts its `relay_link` (chat, message, family, member, family
message), so a *reply* to it finds who it stands for. The dispatcher wrote it with an INSERT
of its own after the mark, one of the statements of every relayed message (issue 16). Not
for a digest's title (it names its family, but no reply to it can be answered), nor for a row
sent without a message id (a reaction).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00
"""

from collections.abc import Sequence

from storage.migrations import triggers

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "sent_copy_links_itself"

WHEN = """NEW.status = 'sent' AND OLD.status <> 'sent' AND NEW.sent_message_id IS NOT NULL
    AND NEW.link_family_id IS NOT NULL
    AND NOT (NEW.purpose = 'digest' AND NEW.link_message_id IS NULL)"""

INSERT = """INSERT INTO relay_link (chat_id, message_id, family_id, member_id,
                            family_message_id, created_at)
    VALUES (NEW.chat_id, NEW.sent_message_id, NEW.link_family_id, NEW.link_member_id,
            NEW.link_message_id, NEW.sent_at);"""

SQLITE = f"""
CREATE TRIGGER {NAME} AFTER UPDATE OF status ON outbox
WHEN {WHEN}
BEGIN
    {INSERT}
END
"""

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERT}
    RETURN NULL;
END
$$
"""

POSTGRESQL_TRIGGER = f"""
CREATE TRIGGER {NAME} AFTER UPDATE OF status ON outbox
FOR EACH ROW WHEN ({WHEN}) EXECUTE FUNCTION {NAME}()
"""


def upgrade() -> None:
    triggers.create(SQLITE, POSTGRESQL_FUNCTION, POSTGRESQL_TRIGGER)


def downgrade() -> None:
    triggers.drop(NAME, "outbox")
