"""What a coordinator does: invite coaches (more in the coordinator's own step)."""

from __future__ import annotations

from datetime import timedelta

from bot.invites import create_invite
from bot.tokens import invite_link
from handlers.common import Who, Work


async def invite_oncall(w: Work, who: Who) -> None:
    """A link for the on-duty crisis team's Telegram account (PRODUCT.md §2.3, policy oncall)."""
    await invite_coach(w, who, kind="oncall")


async def invite_coach(w: Work, who: Who, kind: str = "coach") -> None:
    assert who.staff is not None
    tr = w.tr(who)
    token, stored = create_invite(w.session, kind, w.now,
                                  timedelta(days=w.svc.settings.invite_days),
                                  created_by=who.staff.id)
    w.answer(who, "\n".join([
        tr.gettext("Stuur deze link naar de nieuwe coach:") if kind == "coach" else
        tr.gettext("Open deze link op de telefoon van de crisisdienst:"),
        invite_link(w.svc.bot_username, token),
        tr.gettext("De link werkt één keer, tot {date}.").format(
            date=tr.date_short(stored.expires_at)),
    ]))
