"""What a coordinator does: invite coaches (more in the coordinator's own step)."""

from __future__ import annotations

from datetime import timedelta

from bot.invites import create_invite
from bot.tokens import invite_link
from handlers.common import Who, Work


async def invite_coach(w: Work, who: Who) -> None:
    assert who.staff is not None
    tr = w.tr(who)
    token, stored = create_invite(w.session, "coach", w.now,
                                  timedelta(days=w.svc.settings.invite_days),
                                  created_by=who.staff.id)
    w.answer(who, "\n".join([
        tr.gettext("Stuur deze link naar de nieuwe coach:"),
        invite_link(w.svc.bot_username, token),
        tr.gettext("De link werkt één keer, tot {date}.").format(
            date=tr.date_short(stored.expires_at)),
    ]))
