"""What a family member does: write to the coach, ask for help, choose a language."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Message

from bot import wording
from bot.domain.relay import COPYABLE, UNCOPYABLE, message_kind, receipt_due, silent_copy
from bot.i18n import Translator
from handlers import crisis_text, routing_glue, texts
from handlers.common import Who, Work
from handlers.relay import copy_to_coach
from storage import repo
from storage.models import Family, FamilyMessage, Staff


async def from_member(w: Work, who: Who, message: Message, edited: bool = False) -> None:
    """A family member's message (or an edit of one: the coach gets the new version, marked,
    since a copy already in the coach's chat cannot change with it)."""
    member, family = who.member, who.family
    assert member is not None and family is not None
    tr = w.tr(who)
    raw = message.to_dict()
    kind = message_kind(raw)
    if kind == "text" and (message.text or "").strip() == texts.help_button(tr):
        await help_now(w, who, tr)
        return
    if kind in UNCOPYABLE or kind == "other":
        w.answer(who, tr.gettext(
            "Dit soort bericht kan ik niet doorsturen. Typ je vraag, of stuur een foto of "
            "spraakbericht."))
        return
    if edited and kind != "text" and not COPYABLE.get(kind, False):
        return  # no words changed: a live location moving on, say; the first copy stands
    body = message.text if kind == "text" else message.caption
    if edited:
        body = "✏️ " + (body or "")
    stored = FamilyMessage(
        family_id=family.id, member_id=member.id, chat_id=who.chat_id,
        telegram_message_id=message.message_id, kind=kind, body=body, urgent=False,
        received_at=w.now, status="delivered")
    w.session.add(stored)
    await w.session.flush()
    coaches = await repo.coaches_of(w.session, family.id)
    decision = await routing_glue.decide(w, family, coaches, stored, language=member.language)
    silent = silent_copy(member.last_relay_at, w.now)
    member.last_relay_at = w.now
    member.blocked_at = None  # writing again means the bot is no longer blocked
    family.last_contact_at = w.now
    if decision.recipients:
        stored.delivered_at = w.now
        flag = "🆘 " if stored.urgent else ""
        for recipient in decision.recipients:
            copy_to_coach(w.out, recipient, family, member, stored,
                          silent=silent and not stored.urgent, flag=flag)
    else:
        stored.status = "held"
        stored.hold_until = decision.hold_until
        if stored.urgent:
            await alert_coordinators(w, family, coaches, stored)
    if decision.decision.to_oncall:
        # Policy oncall, and the family agreed: the on-duty team reads it now as well.
        for team in await routing_glue.oncall_staff(w.session):
            copy_to_coach(w.out, team, family, member, stored, silent=False, flag="🚨 ")
    routing_glue.answer_family(w, who, tr, family, decision, stored, coaches)
    if decision.recipients and not decision.told_family:
        if receipt_due(member.last_receipt_at, w.now):
            member.last_receipt_at = w.now
            w.answer(who, tr.gettext("Doorgestuurd naar {names} ✓").format(
                names=wording.names(tr, [c.display_name for c in decision.recipients])))
        else:
            w.out.react(who.chat_id, message.message_id)


async def alert_coordinators(w: Work, family: Family, coaches: Sequence[Staff],
                             stored: FamilyMessage) -> None:
    """An urgent message held out of hours: coordinators who asked for it hear of it, with the
    family's alias and the time only, never the content (PRODUCT.md §1 principle 2)."""
    assert stored.hold_until is not None
    for coordinator in await repo.coordinators(w.session):
        if not coordinator.urgent_alerts or coordinator.chat_id is None:
            continue
        ctr = w.tr_for(staff=coordinator)
        w.out.text(coordinator.chat_id, "\n".join([
            ctr.gettext("🆘 {alias} stuurde om {time} een bericht met een teken van nood.").format(
                alias=family.alias, time=ctr.time(stored.received_at)),
            ctr.gettext("Het wacht op {coach} tot {when}. De inhoud zie je niet.").format(
                coach=wording.coach_names(ctr, coaches), when=ctr.when(stored.hold_until, w.now)),
        ]), purpose="notice")


async def help_now(w: Work, who: Who, tr: Translator) -> None:
    """🆘 Nu hulp nodig: 112 and whoever answers right now, the family's own services too."""
    region = who.family.region if who.family else w.svc.settings.region
    local = await crisis_text.family_services(w.session, who.family) if who.family else ()
    w.answer(who, "\n".join([
        tr.gettext("Hulp nodig? Dit kun je nu doen:"),
        "",
        crisis_text.lines(tr, region, w.now, local),
    ]))
