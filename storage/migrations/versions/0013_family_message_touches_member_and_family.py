"""a family member's message keeps `member.last_relay_at` and `family.last_contact_at` itself:
a trigger on the INSERT of a family message written in a chat (not an answer to a reminder,
which has no chat) moves both to its `received_at`, never back. The relay wrote them with two
UPDATEs of its own, two of the statements of every relayed message (issue 16); the database
does the same work now, without the bot's two round trips.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:05:00
"""

from collections.abc import Sequence

from storage.migrations import triggers

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "family_message_touches_member_and_family"

SQLITE = f"""
CREATE TRIGGER {NAME} AFTER INSERT ON family_message
WHEN NEW.chat_id IS NOT NULL
BEGIN
    UPDATE member SET last_relay_at = max(coalesce(last_relay_at, NEW.received_at),
                                          NEW.received_at)
    WHERE id = NEW.member_id;
    UPDATE family SET last_contact_at = max(coalesce(last_contact_at, NEW.received_at),
                                            NEW.received_at)
    WHERE id = NEW.family_id;
END
"""

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE member SET last_relay_at = greatest(last_relay_at, NEW.received_at)
    WHERE id = NEW.member_id;
    UPDATE family SET last_contact_at = greatest(last_contact_at, NEW.received_at)
    WHERE id = NEW.family_id;
    RETURN NULL;
END
$$
"""

POSTGRESQL_TRIGGER = f"""
CREATE TRIGGER {NAME} AFTER INSERT ON family_message
FOR EACH ROW WHEN (NEW.chat_id IS NOT NULL) EXECUTE FUNCTION {NAME}()
"""


def upgrade() -> None:
    triggers.create(SQLITE, POSTGRESQL_FUNCTION, POSTGRESQL_TRIGGER)


def downgrade() -> None:
    triggers.drop(NAME, "family_message")
