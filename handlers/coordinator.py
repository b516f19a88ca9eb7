"""What a coordinator does: invite coaches (more in the coordinator's own step)."""

from __future__ import annotations

from datetime import timedelta

from bot import outbox
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


ON_WORDS = frozenset({"aan", "ja", "on", "yes", "oui", "activer"})
OFF_WORDS = frozenset({"uit", "nee", "off", "no", "non", "désactiver"})


async def urgent_alerts(w: Work, who: Who, args: str) -> None:
    """/spoedmelding: whether this coordinator hears of urgent family messages held out of
    hours (the family's alias and the time, never the content). Asks with buttons."""
    word = args.strip().casefold()
    if word in ON_WORDS or word in OFF_WORDS:
        await set_urgent_alerts(w, who, word in ON_WORDS)
        return
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    state = (tr.gettext("Je krijgt nu een melding bij spoedberichten buiten de tijden.")
             if staff.urgent_alerts else
             tr.gettext("Je krijgt nu geen melding bij spoedberichten buiten de tijden."))
    w.answer(who, "\n".join([
        state,
        tr.gettext("Je ziet dan alleen welk gezin en hoe laat, nooit wat er staat."),
    ]), keyboard=outbox.keyboard([
        [(tr.gettext("✅ Wel een melding"), w.sign(who.chat_id, "urgalert", "on"))],
        [(tr.gettext("Geen melding"), w.sign(who.chat_id, "urgalert", "off"))]]))


async def set_urgent_alerts(w: Work, who: Who, on: bool) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    staff.urgent_alerts = on
    w.answer(who, tr.gettext("Goed. Bij een spoedbericht buiten de tijden krijg je een melding.")
             if on else tr.gettext("Goed. Je krijgt geen meldingen bij spoedberichten."))
