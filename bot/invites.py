"""Creating invites (from a chat command or the admin command line)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.tokens import new_token, token_hash
from storage.models import Invite


def create_invite(session: AsyncSession, kind: str, now: datetime, valid: timedelta,
                  created_by: int | None = None, family_id: int | None = None,
                  member_name: str | None = None, member_role: str | None = None
                  ) -> tuple[str, Invite]:
    """Returns the token (shown once, in the link) and the stored invite (hash only)."""
    token = new_token()
    invite = Invite(token_hash=token_hash(token), kind=kind, family_id=family_id,
                    created_by=created_by, member_name=member_name, member_role=member_role,
                    created_at=now, expires_at=now + valid, used_at=None, revoked_at=None)
    session.add(invite)
    return token, invite
