"""A claimed row's contents are sealed with its family's key: the claim opens them even when
the key is not cached yet (a fresh process after a restart), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import keystore
from storage.db import Database
from storage.models import Family
from storage.repos import outbox as rows

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_a_claim_opens_a_family_sealed_payload_with_a_key_not_yet_cached(
        db: Database) -> None:
    async with db.transaction() as session:
        family = Family(alias="Gezin Sleutel", created_at=NOW)
        session.add(family)
        await session.flush()
        rows.add_pending(session, chat_id=501, method="sendMessage",
                         payload={"p": {"text": "ik bel je morgen"}}, purpose="relay",
                         due_at=NOW, created_at=NOW, link_family_id=family.id,
                         link_member_id=None, link_message_id=None, expires_at=None)
    keystore.forget_cached()  # as a fresh process
    async with db.transaction() as session:
        until = rows.lease_until(db.dialect, NOW, 60, timedelta(minutes=1))
        [claimed] = await rows.claim_heads(session, db.dialect, NOW, 5, "me", until)
    assert claimed.payload == {"p": {"text": "ik bel je morgen"}}
    assert (claimed.chat_id, claimed.claimed_by) == (501, "me")
